// Shared setup for the translator tests: options, a translator, and one-packet runs.
import assert from "node:assert/strict";
import { PacketBatch } from "../../src/packet/batch.ts";
import { Translator, type TranslatorExtras } from "../../src/xlat/translator.ts";
import type { XlatOptions } from "../../src/xlat/options.ts";
import { DROP_REASONS, type DropReason, Stats } from "../../src/xlat/stats.ts";
import { xlatOptions } from "../fixtures/options.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import { verifyL4Checksum4, verifyL4Checksum6 } from "../../src/packet/l4.ts";

export { xlatOptions as options };

export class Harness {
  readonly stats = new Stats();
  readonly t: Translator;
  readonly out = new PacketBatch(64, 65536);
  constructor(o: Partial<XlatOptions> = {}, extras: TranslatorExtras = {}) {
    this.t = new Translator(xlatOptions(o), this.stats, {
      icmpRate: { perSecond: 1e9, burst: 1e9 },
      ...extras,
    });
  }
  /** Translate one packet; returns copies of what was emitted. */
  run(pkt: Uint8Array, now = 0): Uint8Array[] {
    this.out.clear();
    this.t.translate(pkt, pkt.length, this.out, now);
    return this.out.packets();
  }
  drops(r: DropReason, v6in: boolean): number {
    return this.stats.drops(r, v6in);
  }
  /** Names of all non-zero drop counters. */
  dropNames(): string[] {
    const names: string[] = [];
    for (const v6 of [false, true]) {
      for (const r of DROP_REASONS) {
        if (this.stats.drops(r, v6) > 0) names.push(`${v6 ? "6" : "4"}:${r}`);
      }
    }
    return names;
  }
}

/** Reference one's-complement sum (independent of src/packet/checksum.ts). */
export function refSum(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  for (let k = 0; k + 1 < len; k += 2) s += (b[off + k] << 8) | b[off + k + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function refPseudo4(p: Uint8Array, proto: number, len: number): number {
  return refSum(p, 12, 8, proto + len);
}

function refPseudo6(p: Uint8Array, proto: number, len: number): number {
  return refSum(p, 8, 32, proto + (len >>> 16) + (len & 0xffff));
}

const pi4 = new Ipv4Info();
const pi6 = new Ipv6Info();

/**
 * Checks an emitted packet twice: with the packet parsers and checksum verifiers of
 * src/packet, and independently (reference sums here): lengths agree with the bytes, the
 * IPv4 header checksum, and the L4 checksum of every unfragmented TCP/UDP/ICMP packet.
 * Returns a description of the first problem, or null.
 */
/** The one packet `h` emits for `pkt`, asserted valid (lengths, checksums). */
export function one(h: Harness, pkt: Uint8Array): Uint8Array {
  const out = h.run(pkt);
  assert.equal(out.length, 1, `expected one packet, drops: ${h.dropNames()}`);
  assert.equal(checkPacket(out[0]), null);
  return out[0];
}

export function checkPacket(p: Uint8Array): string | null {
  const v4 = p.length > 0 && p[0] >> 4 === 4;
  const r = v4 ? parseIpv4(p, p.length, pi4) : parseIpv6(p, p.length, pi6);
  if (r !== 0) return `parser rejects the packet: ${DROP_REASONS[r - 1]}`;
  const c = v4 ? verifyL4Checksum4(p, pi4) : verifyL4Checksum6(p, pi6);
  if (c !== 0) return `L4 checksum verifier rejects the packet: ${DROP_REASONS[c - 1]}`;
  return checkIndependently(p);
}

function checkIndependently(p: Uint8Array): string | null {
  const v = p[0] >> 4;
  if (v === 4) {
    const hl = (p[0] & 15) * 4;
    if (hl !== 20) return "IPv4 options emitted";
    const total = (p[2] << 8) | p[3];
    if (total !== p.length) return `IPv4 total length ${total} != ${p.length}`;
    if (refSum(p, 0, 20) !== 0xffff) return "IPv4 header checksum";
    const frag = ((p[6] << 8) | p[7]) & 0x3fff;
    if (frag !== 0) return null;
    const proto = p[9];
    const n = total - 20;
    if (proto === 6 || proto === 17) {
      if (proto === 17 && p[26] === 0 && p[27] === 0) return null;
      if (proto === 17 && ((p[24] << 8) | p[25]) !== n) return "UDP length";
      if (refSum(p, 20, n, refPseudo4(p, proto, n)) !== 0xffff) {
        return `L4 checksum (proto ${proto})`;
      }
    } else if (proto === 1) {
      if (refSum(p, 20, n) !== 0xffff) return "ICMPv4 checksum";
      if (p[20] === 3 || p[20] === 11 || p[20] === 12) {
        if (n < 28) return "ICMPv4 error without inner header";
        if ((p[28] >> 4) !== 4) return "ICMPv4 error with non-IPv4 inner packet";
        if (refSum(p, 28, (p[28] & 15) * 4) !== 0xffff) return "inner IPv4 header checksum";
      }
    }
    return null;
  }
  if (v === 6) {
    const plen = (p[4] << 8) | p[5];
    if (40 + plen !== p.length) return `IPv6 payload length ${plen} + 40 != ${p.length}`;
    if ((p[1] & 15) !== 0 || p[2] !== 0 || p[3] !== 0) return "flow label not zero";
    let nh = p[6];
    let off = 40;
    if (nh === 44) {
      const w = (p[42] << 8) | p[43];
      if ((w & 0xfff8) !== 0 || (w & 1) !== 0) {
        if ((w & 1) && (plen - 8) % 8 !== 0) return "non-last fragment not a multiple of 8";
        return null;
      }
      nh = p[40];
      off = 48;
    }
    const n = p.length - off;
    if (nh === 6 || nh === 17 || nh === 58) {
      if (nh === 17 && ((p[off + 4] << 8) | p[off + 5]) !== n) return "UDP length";
      const sub = new Uint8Array(p.buffer, p.byteOffset, p.length);
      if (refSum(sub, off, n, refPseudo6(p, nh, n)) !== 0xffff) return `L4 checksum (nh ${nh})`;
      if (nh === 17 && p[off + 6] === 0 && p[off + 7] === 0) return "zero UDP checksum in IPv6";
      if (nh === 58 && p[off] < 128) {
        if (p.length > 1280) return "ICMPv6 error over 1280 bytes";
        if (n < 48) return "ICMPv6 error without inner header";
        if ((p[off + 8] >> 4) !== 6) return "ICMPv6 error with non-IPv6 inner packet";
      }
    }
    return null;
  }
  return `bad version ${v}`;
}
