// A NAT64 engine on a virtual clock for the pipeline tests, and readers for what it emits.
import assert from "node:assert/strict";
import { formatIPv4, formatIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import { verifyL4Checksum4, verifyL4Checksum6 } from "../../src/packet/l4.ts";
import { Nat64, type Nat64Extras } from "../../src/nat64/engine.ts";
import type { Nat64EngineOptions, Nat64Options } from "../../src/nat64/options.ts";
import { type DropReason, Stats } from "../../src/xlat/stats.ts";
import { nat64Section } from "../fixtures/options.ts";
import { options } from "./xlat_helpers.ts";
import { pool4 } from "./nat64_helpers.ts";

export const POOL6 = "2001:db8:64::";
/** The IPv6 form of an IPv4 address under the test pool6 (RFC 6052 /96). */
export const p6 = (v4: string): string => `${POOL6}${v4}`;

export function nat64Options(o: Partial<Nat64Options> = {}): Nat64EngineOptions {
  return {
    ...options({ pool6: parsePrefix6(`${POOL6}/96`), rfc6791v4: null }),
    nat64: nat64Section({
      pool4: [pool4("198.51.100.1/32", 61001, 65535)],
      maxHeldSyns: 16,
      ...o,
    }),
  };
}

export class Nat64Harness {
  readonly stats = new Stats();
  readonly e: Nat64;
  readonly out = new PacketBatch(32, 65536);
  now = 0;
  constructor(o: Partial<Nat64Options> = {}, extras: Nat64Extras = {}) {
    this.e = new Nat64(nat64Options(o), this.stats, {
      seed: 42,
      icmpRate: { perSecond: 1e9, burst: 1e9 },
      ...extras,
    });
  }
  run(pkt: Uint8Array, at = this.now): Uint8Array[] {
    this.now = at;
    this.out.clear();
    this.e.translate(pkt, pkt.length, this.out, at);
    return this.out.packets();
  }
  /** Runs and expects exactly one packet out. */
  one(pkt: Uint8Array, at = this.now): Uint8Array {
    const r = this.run(pkt, at);
    assert.equal(r.length, 1, `one packet out, got ${r.length}; drops: ${this.dropNames()}`);
    return r[0];
  }
  drops(r: DropReason, v6in: boolean): number {
    return this.stats.drops(r, v6in);
  }
  dropNames(): string {
    const names: string[] = [];
    for (const v6 of [false, true]) {
      for (
        const r of [
          "no_bib",
          "no_session",
          "pool4_exhausted",
          "port_limit",
          "session_limit",
          "filtered",
          "syn_timeout",
          "syn_hold_full",
          "nat64_fragment",
          "untranslatable_dst",
          "untranslatable_src",
          "wkp_non_global",
          "bad_checksum",
          "truncated",
          "internal_error",
        ] as DropReason[]
      ) {
        if (this.stats.drops(r, v6) > 0) names.push(`${v6 ? "6" : "4"}:${r}`);
      }
    }
    return names.join(",");
  }
}

/** The addresses (as text), protocol, ports and L4 offset of an emitted packet. */
export interface Seen<I> {
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  l4: number;
  info: I;
}
export type Seen4 = Seen<Ipv4Info>;
export type Seen6 = Seen<Ipv6Info>;

function seen<I extends { proto: number; l4Off: number }>(
  b: Uint8Array,
  i: I,
  src: string,
  dst: string,
): Seen<I> {
  const l4 = i.l4Off;
  return { src, dst, proto: i.proto, sport: u16(b, l4), dport: u16(b, l4 + 2), l4, info: i };
}

/** Parses an emitted IPv4 packet, asserting its header and L4 checksums. */
export function read4(b: Uint8Array): Seen4 {
  const i = new Ipv4Info();
  assert.equal(parseIpv4(b, b.length, i), 0, "valid IPv4");
  assert.equal(verifyL4Checksum4(b, i), 0, "L4 checksum");
  return seen(b, i, formatIPv4(i.src), formatIPv4(i.dst));
}

/** Parses an emitted IPv6 packet, asserting its header and L4 checksums. */
export function read6(b: Uint8Array): Seen6 {
  const i = new Ipv6Info();
  assert.equal(parseIpv6(b, b.length, i), 0, "valid IPv6");
  assert.equal(verifyL4Checksum6(b, i), 0, "L4 checksum");
  return seen(b, i, formatIPv6(b, 8), formatIPv6(b, 24));
}

export const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
