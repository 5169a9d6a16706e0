// Internet checksum (RFC 1071) and incremental update (RFC 1624).

/** One's-complement sum of b[off..off+len) folded to 16 bits, starting from `init`. */
export function sum16(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  const end = off + (len & ~1);
  let i = off;
  // Unrolled by 8 bytes; 32-bit accumulators cannot overflow before the fold for
  // packets up to 64 KiB plus pseudo-header.
  for (; i + 8 <= end; i += 8) {
    s += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]) +
      ((b[i + 4] << 8) | b[i + 5]) + ((b[i + 6] << 8) | b[i + 7]);
  }
  for (; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  return fold(s);
}

export function fold(s: number): number {
  if (s <= 0xffffffff) {
    // Two shift-and-add rounds fold any 32-bit sum (hot path: no division).
    s = (s & 0xffff) + (s >>> 16);
    return (s & 0xffff) + (s >>> 16);
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** Final checksum field value for a region (pass the pseudo-header sum as init). */
export function checksum(b: Uint8Array, off: number, len: number, init = 0): number {
  return ~sum16(b, off, len, init) & 0xffff;
}

/** Sum of the IPv4 pseudo-header (RFC 768/793) for an upper-layer length and protocol. */
export function pseudo4(b: Uint8Array, srcOff: number, dstOff: number, proto: number, len: number) {
  return fold(sum16(b, srcOff, 4, sum16(b, dstOff, 4)) + proto + len);
}

/** Sum of the IPv6 pseudo-header (RFC 8200 8.1). */
export function pseudo6(b: Uint8Array, srcOff: number, dstOff: number, proto: number, len: number) {
  return fold(sum16(b, srcOff, 16, sum16(b, dstOff, 16)) + proto + (len >>> 16) + (len & 0xffff));
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with `oldSum`/`newSum` the folded sums of the
 * replaced and replacing fields.
 */
export function adjust(hc: number, oldSum: number, newSum: number): number {
  return ~fold((~hc & 0xffff) + (~oldSum & 0xffff) + newSum) & 0xffff;
}

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The folded one's-complement sum of `words` 32-bit words at byte offset `abs` (4-aligned)
 * of the buffer `w` views, in network order. The words are read natively: RFC 1071 2(B),
 * the sum is byte-order independent, so on a little-endian host it comes out
 * byte-swapped and is swapped back once.
 */
export function sumWords(w: Int32Array, abs: number, words: number): number {
  const base = abs >> 2;
  let s = 0;
  for (let k = 0; k < words; k++) {
    const x = w[base + k];
    s += (x >>> 16) + (x & 0xffff);
  }
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return LITTLE ? ((s & 0xff) << 8) | (s >>> 8) : s;
}
