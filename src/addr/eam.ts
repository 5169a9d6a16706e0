// RFC 7757 Explicit Address Mapping Table: IPv4 prefix <-> IPv6 prefix pairs, looked up
// by longest prefix in either direction. The IPv4 suffix (the bits after the IPv4
// prefix) is copied to the bits right after the IPv6 prefix, and back.
//
// Lookups probe one small open-addressing hash table per prefix length present, from the
// longest length down: a handful of probes for tables of 1..10,000 entries, no
// allocation per lookup. Tables of up to SCAN_MAX entries (the common handful) are
// scanned instead, longest prefix first: a few mask-and-compares cost less than a hash
// and a probe.
import { AddressError, formatPrefix4, formatPrefix6, mask4 } from "./ip.ts";
// murmur3 finalizer: spreads key bits over the low bits used as the slot index.
import { fmix32 as mix } from "./hash.ts";
import type { EamEntry } from "../xlat/options.ts";

export type { EamEntry };

export interface EamTableOptions {
  /**
   * Reject entries whose IPv4 or IPv6 prefix nests inside another entry's. RFC 7757
   * section 5 allows such overlaps (the longest prefix wins, in both directions), so this
   * is off by default; Jool turns it on by default (`eamt add --force` overrides)
   * because overlaps make the mapping asymmetric: A's IPv6 address can translate to an
   * IPv4 address that translates back to B's IPv6 address. Identical prefixes are
   * always rejected.
   */
  readonly rejectOverlap?: boolean;
}

/** Largest table scanned linearly rather than through the hash index. */
const SCAN_MAX = 8;

/** MASK6[4 * len + j]: word j (big-endian 32-bit) of the IPv6 netmask of length len. */
const MASK6 = new Uint32Array(129 * 4);
for (let len = 0; len <= 128; len++) {
  for (let j = 0; j < 4; j++) {
    const bits = Math.max(0, Math.min(32, len - 32 * j));
    MASK6[4 * len + j] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  }
}

/** MASK4[len]: the IPv4 netmask of length len, as int32 (lookups compare int32 words). */
const MASK4 = Int32Array.from({ length: 33 }, (_, len) => mask4(len));
/** MASK6 as int32. */
const MASK6S = new Int32Array(MASK6.buffer);

/** The words are multiplied independently (no serial chain of finalizers: this runs per
 *  packet) and the combination goes through one finalizer. */
const hash6 = (w0: number, w1: number, w2: number, w3: number): number =>
  mix(
    Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca77) ^ Math.imul(w2, 0xc2b2ae3d) ^
      Math.imul(w3, 0x27d4eb2f),
  );

const readWord = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** A big-endian 32-bit word as int32 (the same bits as readWord). */
const readInt = (b: Uint8Array, o: number): number =>
  (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

const lowMask = (k: number): number => (k >= 32 ? 0xffffffff : ((1 << k) - 1) >>> 0);

/** Per-length hash tables packed into one Int32Array (entry index, or -1 for empty). */
interface LengthIndex {
  /** Distinct prefix lengths present, longest first. */
  lens: Uint8Array;
  /** Start of each length's table in `slots`, and its slot mask (capacity - 1). */
  offs: Uint32Array;
  masks: Uint32Array;
  slots: Int32Array;
}

function buildIndex(
  n: number,
  lenOf: (i: number) => number,
  hashOf: (i: number) => number,
): LengthIndex {
  const byLen = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = lenOf(i);
    let list = byLen.get(l);
    if (!list) byLen.set(l, list = []);
    list.push(i);
  }
  const lens = Uint8Array.from([...byLen.keys()].sort((a, b) => b - a));
  const offs = new Uint32Array(lens.length), masks = new Uint32Array(lens.length);
  let total = 0;
  const caps = [...lens].map((l) => {
    let cap = 4;
    while (cap < 2 * byLen.get(l)!.length) cap <<= 1; // load factor <= 1/2
    return cap;
  });
  lens.forEach((_, j) => {
    offs[j] = total;
    masks[j] = caps[j] - 1;
    total += caps[j];
  });
  const slots = new Int32Array(total).fill(-1);
  lens.forEach((l, j) => {
    for (const i of byLen.get(l)!) {
      let s = hashOf(i) & masks[j];
      while (slots[offs[j] + s] !== -1) s = (s + 1) & masks[j];
      slots[offs[j] + s] = i;
    }
  });
  return { lens, offs, masks, slots };
}

/**
 * A 65536-entry map, non-zero for every top-16-bit value that some prefix (given as its
 * first 32-bit word and a length, at most 32, in that word) covers. Built from a
 * difference array: linear in entries, whatever their lengths.
 */
function near16(
  n: number,
  wordOf: (i: number) => number,
  lenOf: (i: number) => number,
): Uint8Array {
  const diff = new Int32Array(65537);
  for (let i = 0; i < n; i++) {
    const w = wordOf(i) >>> 0;
    diff[w >>> 16]++;
    diff[((w | ~mask4(lenOf(i))) >>> 0 >>> 16) + 1]--;
  }
  const near = new Uint8Array(65536);
  let run = 0;
  for (let k = 0; k < 65536; k++) {
    run += diff[k];
    near[k] = run > 0 ? 1 : 0;
  }
  return near;
}

const show = (e: EamEntry) => `${formatPrefix4(e.ipv4)} <-> ${formatPrefix6(e.ipv6)}`;

const start6 = (e: EamEntry): bigint =>
  e.ipv6.addr.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);

/**
 * Reject what RFC 7757 forbids, with the entry named: an IPv4 suffix longer than the IPv6
 * suffix (the IPv4 suffix bits must all fit after the IPv6 prefix, or two IPv4
 * addresses would share one IPv6 address), two entries with the same IPv4 prefix or the
 * same IPv6 prefix (one address, two translations, RFC 7757 section 5), and, if asked,
 * nested prefixes.
 */
function validate(entries: readonly EamEntry[], rejectOverlap: boolean): void {
  entries.forEach((e, i) => {
    const s4 = 32 - e.ipv4.len, s6 = 128 - e.ipv6.len;
    if (s4 > s6) {
      throw new AddressError(
        `EAM #${i + 1} (${show(e)}): the IPv4 suffix (${s4} bits) is longer than the IPv6 ` +
          `suffix (${s6} bits); RFC 7757 needs 32 - IPv4 length <= 128 - IPv6 length`,
      );
    }
  });
  // Prefixes nest or are disjoint, so after sorting by (start, length) identical prefixes
  // are neighbours, and an entry overlaps an earlier one exactly when it starts before
  // the furthest end seen so far.
  const check = (family: string, key: (e: EamEntry) => [bigint, bigint, number]) => {
    const keyed = entries.map((e, i) => ({ i, k: key(e) }));
    keyed.sort((a, b) => a.k[0] < b.k[0] ? -1 : a.k[0] > b.k[0] ? 1 : a.k[2] - b.k[2] || a.i - b.i);
    let far = -1n, farAt = -1;
    keyed.forEach(({ i, k: [start, end, len] }, n) => {
      const e = entries[i];
      const prev = n > 0 ? keyed[n - 1] : undefined;
      if (prev && prev.k[0] === start && prev.k[2] === len) {
        const [a, b] = [prev.i, i].sort((x, y) => x - y);
        const same = family === "IPv4" ? entries[b].ipv6 : entries[b].ipv4;
        const other = family === "IPv4" ? entries[a].ipv6 : entries[a].ipv4;
        const dup = same.len === other.len &&
          (family === "IPv4"
            ? start6(entries[a]) === start6(entries[b])
            : entries[a].ipv4.addr === entries[b].ipv4.addr);
        throw new AddressError(
          `EAM #${b + 1} (${show(entries[b])}) ` +
            (dup
              ? `is a duplicate of EAM #${a + 1}`
              : `has the same ${family} prefix as EAM #${a + 1} (${show(entries[a])}); ` +
                `one address cannot have two translations (RFC 7757)`),
        );
      }
      if (farAt >= 0 && start <= far && rejectOverlap) {
        const o = entries[farAt];
        const fmt = (x: EamEntry) =>
          family === "IPv4" ? formatPrefix4(x.ipv4) : formatPrefix6(x.ipv6);
        throw new AddressError(
          `EAM #${i + 1} (${show(e)}): ${family} prefix ${fmt(e)} overlaps ${fmt(o)} of ` +
            `EAM #${farAt + 1} (${show(o)}); overlapping EAMs translate asymmetrically ` +
            `(RFC 7757 allows it, the longest prefix wins, but overlap is rejected here)`,
        );
      }
      if (farAt < 0 || end > far) [far, farAt] = [end, i];
    });
  };
  check("IPv4", (e) => {
    const s = BigInt(e.ipv4.addr);
    return [s, s | BigInt((~mask4(e.ipv4.len)) >>> 0), e.ipv4.len];
  });
  check("IPv6", (e) => {
    const s = start6(e);
    return [s, s | ((1n << BigInt(128 - e.ipv6.len)) - 1n), e.ipv6.len];
  });
}

export class EamTable {
  readonly size: number;
  readonly #entries: readonly EamEntry[];
  readonly #p4: Uint32Array;
  readonly #len4: Uint8Array;
  readonly #p6: Uint32Array; // 4 words per entry
  readonly #len6: Uint8Array;
  // The two indexes, unpacked into fields, with signed copies of the prefixes: the
  // lookups then run on int32 values only (no object loads, no uint32 doubles).
  readonly #lens4: Uint8Array;
  readonly #offs4: Int32Array;
  readonly #masks4: Int32Array;
  readonly #slots4: Int32Array;
  readonly #p4s: Int32Array;
  readonly #lens6: Uint8Array;
  readonly #offs6: Int32Array;
  readonly #masks6: Int32Array;
  readonly #slots6: Int32Array;
  readonly #p6s: Int32Array;
  // Non-zero where some entry's IPv4 (IPv6) prefix overlaps the /16 named by the
  // address's top 16 bits: most misses (the RFC 6052 traffic) cost one load.
  readonly #near4: Uint8Array;
  readonly #near6: Uint8Array;
  // Small tables: [key, mask, entry] per IPv4 prefix and [key0..3, mask0..3, entry] per
  // IPv6 prefix, longest prefix first (the first match is the longest). Null otherwise.
  readonly #scan4: Int32Array | null = null;
  readonly #scan6: Int32Array | null = null;

  /** Throws AddressError naming the offending entries (1-based, in the given order). */
  constructor(entries: readonly EamEntry[] = [], opts: EamTableOptions = {}) {
    validate(entries, opts.rejectOverlap ?? false);
    const n = entries.length;
    this.size = n;
    this.#entries = Object.freeze([...entries]);
    this.#p4 = Uint32Array.from(entries, (e) => e.ipv4.addr);
    this.#len4 = Uint8Array.from(entries, (e) => e.ipv4.len);
    this.#len6 = Uint8Array.from(entries, (e) => e.ipv6.len);
    this.#p6 = new Uint32Array(4 * n);
    entries.forEach((e, i) => {
      for (let j = 0; j < 4; j++) this.#p6[4 * i + j] = readWord(e.ipv6.addr, 4 * j);
    });
    const p4 = this.#p4, p6 = this.#p6;
    const idx4 = buildIndex(n, (i) => this.#len4[i], (i) => mix(p4[i]));
    const idx6 = buildIndex(
      n,
      (i) => this.#len6[i],
      (i) => hash6(p6[4 * i], p6[4 * i + 1], p6[4 * i + 2], p6[4 * i + 3]),
    );
    this.#lens4 = idx4.lens;
    this.#offs4 = Int32Array.from(idx4.offs);
    this.#masks4 = Int32Array.from(idx4.masks);
    this.#slots4 = idx4.slots;
    this.#p4s = new Int32Array(p4.buffer, p4.byteOffset, p4.length);
    this.#lens6 = idx6.lens;
    this.#offs6 = Int32Array.from(idx6.offs);
    this.#masks6 = Int32Array.from(idx6.masks);
    this.#slots6 = idx6.slots;
    this.#p6s = new Int32Array(p6.buffer, p6.byteOffset, p6.length);
    this.#near4 = near16(n, (i) => p4[i], (i) => this.#len4[i]);
    this.#near6 = near16(n, (i) => p6[4 * i], (i) => Math.min(32, this.#len6[i]));
    if (n <= SCAN_MAX) {
      const order = (len: Uint8Array) =>
        Array.from({ length: n }, (_, i) => i).sort((a, b) => len[b] - len[a] || a - b);
      const s4 = new Int32Array(3 * n), s6 = new Int32Array(9 * n);
      order(this.#len4).forEach((i, r) => {
        s4.set([this.#p4s[i], MASK4[this.#len4[i]], i], 3 * r);
      });
      order(this.#len6).forEach((i, r) => {
        const m = 4 * this.#len6[i];
        s6.set(this.#p6s.subarray(4 * i, 4 * i + 4), 9 * r);
        s6.set(MASK6S.subarray(m, m + 4), 9 * r + 4);
        s6[9 * r + 8] = i;
      });
      this.#scan4 = s4;
      this.#scan6 = s6;
    }
  }

  /** The entries as configured, for /status. */
  entries(): readonly EamEntry[] {
    return this.#entries;
  }

  /** Index of the entry whose IPv4 prefix is the longest match for v4, or -1. */
  find4(v4: number): number {
    const sc = this.#scan4;
    if (sc !== null) {
      const a = v4 | 0;
      for (let q = 0; q < sc.length; q += 3) if ((a & sc[q + 1]) === sc[q]) return sc[q + 2];
      return -1;
    }
    const lens = this.#lens4;
    const n = lens.length;
    if (n === 0) return -1;
    if (this.#near4[v4 >>> 16] === 0) return -1;
    const offs = this.#offs4, masks = this.#masks4, slots = this.#slots4, p4 = this.#p4s;
    const a = v4 | 0;
    for (let j = 0; j < n; j++) {
      const key = a & MASK4[lens[j]];
      const base = offs[j], m = masks[j];
      let s = mix(key) & m;
      for (let i = slots[base + s]; i !== -1; i = slots[base + s]) {
        if (p4[i] === key) return i;
        s = (s + 1) & m;
      }
    }
    return -1;
  }

  /** Index of the entry whose IPv6 prefix is the longest match for b[off..off+16], or -1. */
  find6(b: Uint8Array, off: number): number {
    return this.find6w(
      readInt(b, off),
      readInt(b, off + 4),
      readInt(b, off + 8),
      readInt(b, off + 12),
    );
  }

  /** find6 over the address as four big-endian int32 words (read once by the caller). */
  find6w(a0: number, a1: number, a2: number, a3: number): number {
    const sc = this.#scan6;
    if (sc !== null) {
      for (let q = 0; q < sc.length; q += 9) {
        if (
          (a0 & sc[q + 4]) === sc[q] && (a1 & sc[q + 5]) === sc[q + 1] &&
          (a2 & sc[q + 6]) === sc[q + 2] && (a3 & sc[q + 7]) === sc[q + 3]
        ) return sc[q + 8];
      }
      return -1;
    }
    const lens = this.#lens6;
    const n = lens.length;
    if (n === 0) return -1;
    if (this.#near6[a0 >>> 16] === 0) return -1;
    const offs = this.#offs6, masks = this.#masks6, slots = this.#slots6, p6 = this.#p6s;
    for (let j = 0; j < n; j++) {
      const mo = 4 * lens[j];
      const w0 = a0 & MASK6S[mo], w1 = a1 & MASK6S[mo + 1];
      const w2 = a2 & MASK6S[mo + 2], w3 = a3 & MASK6S[mo + 3];
      const base = offs[j], m = masks[j];
      let s = hash6(w0, w1, w2, w3) & m;
      for (let i = slots[base + s]; i !== -1; i = slots[base + s]) {
        const q = 4 * i;
        if (p6[q] === w0 && p6[q + 1] === w1 && p6[q + 2] === w2 && p6[q + 3] === w3) return i;
        s = (s + 1) & m;
      }
    }
    return -1;
  }

  /** Might an entry's IPv4 prefix cover v4? False is certain (one load, inlinable). */
  near4(v4: number): boolean {
    return this.#near4[v4 >>> 16] !== 0;
  }

  /** Might an entry's IPv6 prefix cover an address whose first word is a0? */
  near6(a0: number): boolean {
    return this.#near6[a0 >>> 16] !== 0;
  }

  contains4(v4: number): boolean {
    return this.find4(v4) >= 0;
  }

  contains6(b: Uint8Array, off: number): boolean {
    return this.find6(b, off) >= 0;
  }

  /**
   * RFC 7757 3.2, IPv4 to IPv6: if an entry matches v4, write its IPv6 prefix with the
   * IPv4 suffix bits placed right after it into out[off..off+16] and return true. IPv6
   * suffix bits beyond the IPv4 suffix are zero. Returns false (out untouched) otherwise.
   */
  lookup4(v4: number, out: Uint8Array, off: number): boolean {
    const i = this.find4(v4);
    if (i < 0) return false;
    const k = 32 - this.#len4[i];
    // int32 words throughout (the same bits; no uint32 doubles on the packet path).
    const p6 = this.#p6s, q = 4 * i;
    let w0 = p6[q], w1 = p6[q + 1], w2 = p6[q + 2], w3 = p6[q + 3];
    if (k > 0) {
      const s = v4 & lowMask(k);
      const pos = this.#len6[i], w = pos >>> 5, e = (pos & 31) + k;
      // The k suffix bits start at bit `pos`; they cover word w and maybe word w + 1.
      let hi, lo = 0;
      if (e <= 32) hi = s << (32 - e);
      else {
        hi = s >>> (e - 32);
        lo = s << (64 - e);
      }
      if (w === 0) (w0 |= hi), (w1 |= lo);
      else if (w === 1) (w1 |= hi), (w2 |= lo);
      else if (w === 2) (w2 |= hi), (w3 |= lo);
      else w3 |= hi;
    }
    writeWord(out, off, w0);
    writeWord(out, off + 4, w1);
    writeWord(out, off + 8, w2);
    writeWord(out, off + 12, w3);
    return true;
  }

  /**
   * RFC 7757 3.2, IPv6 to IPv4: the IPv4 address (uint32) for b[off..off+16], or -1 when
   * no entry matches. IPv6 suffix bits beyond the IPv4 suffix are ignored.
   */
  lookup6(b: Uint8Array, off: number): number {
    return this.lookup6w(
      readInt(b, off),
      readInt(b, off + 4),
      readInt(b, off + 8),
      readInt(b, off + 12),
    );
  }

  /** lookup6 over the address as four big-endian int32 words. */
  lookup6w(a0: number, a1: number, a2: number, a3: number): number {
    const i = this.find6w(a0, a1, a2, a3);
    return i < 0 ? -1 : this.ipv4Bits(i, a0, a1, a2, a3) >>> 0;
  }

  /**
   * RFC 7757 3.2: the IPv4 address entry `i` (from find6w) maps the IPv6 address to, as
   * int32 bits: a small integer in V8, never boxed when returned from an uninlined call.
   */
  ipv4Bits(i: number, a0: number, a1: number, a2: number, a3: number): number {
    const k = 32 - this.#len4[i];
    const p4 = this.#p4s[i];
    if (k === 0) return p4;
    const pos = this.#len6[i], e = (pos & 31) + k;
    const w = pos >>> 5;
    const hi = (w === 0 ? a0 : w === 1 ? a1 : w === 2 ? a2 : a3) >>> 0;
    const s = e <= 32
      ? hi >>> (32 - e)
      : (hi << (e - 32)) | ((w === 0 ? a1 : w === 1 ? a2 : a3) >>> (64 - e));
    return p4 | (s & lowMask(k));
  }
}

function writeWord(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}
