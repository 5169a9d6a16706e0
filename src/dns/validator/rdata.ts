// RDATA of the DNSSEC record types (RFC 4034 2-4, RFC 5155 3-4). Parsers are strict and
// total: malformed input gives null, never an exception (fuzzed in
// test/property/validator_rdata_test.ts), because every byte here comes off the network.
import { readName } from "../wire.ts";

export interface Dnskey {
  readonly flags: number;
  readonly protocol: number;
  readonly algorithm: number;
  readonly publicKey: Uint8Array;
  /** The whole RDATA (key tag and DS digests are computed over it). */
  readonly rdata: Uint8Array;
}

export interface Ds {
  readonly keyTag: number;
  readonly algorithm: number;
  readonly digestType: number;
  readonly digest: Uint8Array;
}

export interface Rrsig {
  readonly typeCovered: number;
  readonly algorithm: number;
  readonly labels: number;
  readonly originalTtl: number;
  /** Seconds since the epoch, serial-number arithmetic (RFC 4034 3.1.5) left to the caller. */
  readonly expiration: number;
  readonly inception: number;
  readonly keyTag: number;
  readonly signerName: string;
  readonly signature: Uint8Array;
  /** RDATA up to the signature: the first part of the signed data (RFC 4034 3.1.8.1). */
  readonly signedPart: Uint8Array;
  /** The whole RDATA, as received (identity keys the verification memo). */
  readonly rdata: Uint8Array;
}

export interface Nsec {
  readonly next: string;
  readonly types: TypeSet;
}

export interface Nsec3 {
  readonly hashAlgorithm: number;
  readonly flags: number;
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly nextHashed: Uint8Array;
  readonly types: TypeSet;
}

export interface Nsec3Param {
  readonly hashAlgorithm: number;
  readonly flags: number;
  readonly iterations: number;
  readonly salt: Uint8Array;
}

/** RFC 4034 2.1.1: the Zone Key flag (bit 7) and the Secure Entry Point flag (bit 15). */
export const DNSKEY_ZONE = 0x0100;
export const DNSKEY_SEP = 0x0001;
/** RFC 5011 7: the REVOKE flag (bit 8). */
export const DNSKEY_REVOKE = 0x0080;
/** RFC 5155 3.1.2.1: the Opt-Out flag. */
export const NSEC3_OPT_OUT = 0x01;

/** The set of types in an NSEC/NSEC3 Type Bit Maps field (RFC 4034 4.1.2). */
export class TypeSet {
  constructor(private readonly bits: ReadonlyMap<number, Uint8Array>) {}
  has(type: number): boolean {
    const w = this.bits.get(type >> 8);
    if (!w) return false;
    const i = (type & 0xff) >> 3;
    return i < w.length && (w[i] & (0x80 >> (type & 7))) !== 0;
  }
  list(): number[] {
    const out: number[] = [];
    for (const [win, w] of this.bits) {
      for (let i = 0; i < w.length * 8; i++) {
        if (w[i >> 3] & (0x80 >> (i & 7))) out.push(win * 256 + i);
      }
    }
    return out;
  }
}

/** RFC 4034 4.1.2: windows in increasing order, each 1-32 octets. */
export function parseTypeBitmap(b: Uint8Array, off: number): TypeSet | null {
  const m = new Map<number, Uint8Array>();
  let last = -1;
  while (off < b.length) {
    if (off + 2 > b.length) return null;
    const win = b[off], len = b[off + 1];
    if (win <= last || len < 1 || len > 32 || off + 2 + len > b.length) return null;
    m.set(win, b.subarray(off + 2, off + 2 + len));
    last = win;
    off += 2 + len;
  }
  return new TypeSet(m);
}

/** Encode a type list as Type Bit Maps (for tests and fixtures). */
export function typeBitmap(types: readonly number[]): Uint8Array {
  const wins = new Map<number, number[]>();
  for (const t of [...new Set(types)].sort((a, b) => a - b)) {
    const w = wins.get(t >> 8) ?? [];
    w.push(t & 0xff);
    wins.set(t >> 8, w);
  }
  const out: number[] = [];
  for (const [win, ts] of wins) {
    const len = (Math.max(...ts) >> 3) + 1;
    const bytes = new Array(len).fill(0);
    for (const t of ts) bytes[t >> 3] |= 0x80 >> (t & 7);
    out.push(win, len, ...bytes);
  }
  return Uint8Array.from(out);
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/**
 * An uncompressed name inside RDATA (RFC 4034 3.1.7, 4.1.1: no compression) and the
 * offset after it; null when malformed.
 */
export function readRdataName(b: Uint8Array, off: number): [string, number] | null {
  let pos = off;
  let total = 1;
  for (;;) {
    if (pos >= b.length) return null;
    const l = b[pos];
    if (l === 0) break;
    if (l > 63) return null;
    total += l + 1;
    if (total > 255 || pos + 1 + l > b.length) return null;
    pos += l + 1;
  }
  return [readName(b, off)[0], pos + 1];
}

export function parseDnskey(b: Uint8Array): Dnskey | null {
  if (b.length < 5) return null;
  return {
    flags: u16(b, 0),
    protocol: b[2],
    algorithm: b[3],
    publicKey: b.subarray(4),
    rdata: b,
  };
}

export function parseDs(b: Uint8Array): Ds | null {
  if (b.length < 5) return null;
  return { keyTag: u16(b, 0), algorithm: b[2], digestType: b[3], digest: b.subarray(4) };
}

export function parseRrsig(b: Uint8Array): Rrsig | null {
  if (b.length < 19) return null;
  const n = readRdataName(b, 18);
  if (!n || n[1] >= b.length) return null;
  return {
    typeCovered: u16(b, 0),
    algorithm: b[2],
    labels: b[3],
    originalTtl: u32(b, 4),
    expiration: u32(b, 8),
    inception: u32(b, 12),
    keyTag: u16(b, 16),
    signerName: n[0],
    signature: b.subarray(n[1]),
    signedPart: b.subarray(0, n[1]),
    rdata: b,
  };
}

export function parseNsec(b: Uint8Array): Nsec | null {
  const n = readRdataName(b, 0);
  if (!n) return null;
  const types = parseTypeBitmap(b, n[1]);
  return types ? { next: n[0], types } : null;
}

export function parseNsec3(b: Uint8Array): Nsec3 | null {
  if (b.length < 6) return null;
  const saltLen = b[4];
  let off = 5 + saltLen;
  if (off >= b.length) return null;
  const hashLen = b[off];
  off++;
  if (hashLen === 0 || off + hashLen > b.length) return null;
  const types = parseTypeBitmap(b, off + hashLen);
  if (!types) return null;
  return {
    hashAlgorithm: b[0],
    flags: b[1],
    iterations: u16(b, 2),
    salt: b.subarray(5, 5 + saltLen),
    nextHashed: b.subarray(off, off + hashLen),
    types,
  };
}

export function parseNsec3Param(b: Uint8Array): Nsec3Param | null {
  if (b.length < 5 || b.length !== 5 + b[4]) return null;
  return { hashAlgorithm: b[0], flags: b[1], iterations: u16(b, 2), salt: b.subarray(5) };
}
