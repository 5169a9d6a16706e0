// RFC 6052 section 2.2: IPv4 addresses embedded in IPv6 under a translation prefix of
// length 32, 40, 48, 56, 64 or 96. Bits 64-71 (the "u" octet) are always zero; the IPv4
// bytes skip over it. Hot path: no allocation.
import { AddressError, formatPrefix6, type Prefix6 } from "./ip.ts";

/** RFC 6052 2.2: "the prefix length MUST be one of 32, 40, 48, 56, 64, or 96". */
export function isValidPrefixLength(len: number): boolean {
  return len === 32 || len === 40 || len === 48 || len === 56 || len === 64 || len === 96;
}

/** Throw a clear AddressError unless `p` can be used as an RFC 6052 translation prefix. */
export function assertPool6(p: Prefix6): void {
  if (!isValidPrefixLength(p.len)) {
    throw new AddressError(
      `${formatPrefix6(p)}: RFC 6052 2.2 allows only prefix lengths 32, 40, 48, 56, 64 or 96`,
    );
  }
  // Only a /96 covers bits 64-71; shorter prefixes end before them.
  if (p.len === 96 && p.addr[8] !== 0) {
    throw new AddressError(
      `${formatPrefix6(p)}: bits 64-71 (the u-octet) must be zero (RFC 6052 2.2)`,
    );
  }
}

/**
 * Write the IPv4-embedded IPv6 address of `v4` under `p` into out[off..off+16].
 * The suffix (bits after the IPv4 bits) is written as zero, as RFC 6052 2.2 says it
 * "SHOULD be set to zero". `p` must have passed assertPool6.
 */
export function embed4(p: Prefix6, v4: number, out: Uint8Array, off: number): void {
  const a = p.addr;
  const b0 = v4 >>> 24, b1 = (v4 >>> 16) & 255, b2 = (v4 >>> 8) & 255, b3 = v4 & 255;
  if (p.len === 96) {
    // The usual prefix (64:ff9b::/96 and most NSPs), unrolled: no loops, no switch.
    out[off] = a[0], out[off + 1] = a[1], out[off + 2] = a[2], out[off + 3] = a[3];
    out[off + 4] = a[4], out[off + 5] = a[5], out[off + 6] = a[6], out[off + 7] = a[7];
    out[off + 8] = a[8], out[off + 9] = a[9], out[off + 10] = a[10], out[off + 11] = a[11];
    out[off + 12] = b0, out[off + 13] = b1, out[off + 14] = b2, out[off + 15] = b3;
    return;
  }
  const n = p.len >> 3;
  for (let i = 0; i < n; i++) out[off + i] = a[i];
  for (let i = n; i < 16; i++) out[off + i] = 0;
  switch (p.len) {
    case 32:
      out[off + 4] = b0, out[off + 5] = b1, out[off + 6] = b2, out[off + 7] = b3;
      break;
    case 40:
      out[off + 5] = b0, out[off + 6] = b1, out[off + 7] = b2, out[off + 9] = b3;
      break;
    case 48:
      out[off + 6] = b0, out[off + 7] = b1, out[off + 9] = b2, out[off + 10] = b3;
      break;
    case 56:
      out[off + 7] = b0, out[off + 9] = b1, out[off + 10] = b2, out[off + 11] = b3;
      break;
    case 64:
      out[off + 9] = b0, out[off + 10] = b1, out[off + 11] = b2, out[off + 12] = b3;
      break;
    default: // 96
      out[off + 12] = b0, out[off + 13] = b1, out[off + 14] = b2, out[off + 15] = b3;
  }
}

/**
 * The IPv4 address (uint32) embedded in b[off..off+16] under `p`, or -1 when the address
 * is not under `p` or its u-octet (bits 64-71) is non-zero.
 *
 * A non-zero u-octet is rejected rather than ignored: RFC 6052 2.2 says these bits "MUST
 * be set to zero", so such an address was not produced by the RFC 6052 algorithm (it is
 * more likely an ordinary RFC 4291 interface identifier under a prefix shorter than /96)
 * and translating it would map two IPv6 addresses onto one IPv4 address. The suffix bits
 * are ignored: RFC 6052 2.2 only says they "SHOULD" be zero and reserves them for
 * future extensions, so a decoder accepts any value there.
 */
export function extract4(p: Prefix6, b: Uint8Array, off: number): number {
  const a = p.addr;
  if (p.len === 96) {
    // Unrolled for the usual /96 (bits 64-71 are a[8], zero by assertPool6).
    if (
      b[off] !== a[0] || b[off + 1] !== a[1] || b[off + 2] !== a[2] || b[off + 3] !== a[3] ||
      b[off + 4] !== a[4] || b[off + 5] !== a[5] || b[off + 6] !== a[6] ||
      b[off + 7] !== a[7] || b[off + 8] !== 0 || b[off + 9] !== a[9] ||
      b[off + 10] !== a[10] || b[off + 11] !== a[11]
    ) return -1;
    return ((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0;
  }
  const n = p.len >> 3;
  for (let i = 0; i < n; i++) if (b[off + i] !== a[i]) return -1;
  if (b[off + 8] !== 0) return -1;
  let b0, b1, b2, b3;
  switch (p.len) {
    case 32:
      b0 = b[off + 4], b1 = b[off + 5], b2 = b[off + 6], b3 = b[off + 7];
      break;
    case 40:
      b0 = b[off + 5], b1 = b[off + 6], b2 = b[off + 7], b3 = b[off + 9];
      break;
    case 48:
      b0 = b[off + 6], b1 = b[off + 7], b2 = b[off + 9], b3 = b[off + 10];
      break;
    case 56:
      b0 = b[off + 7], b1 = b[off + 9], b2 = b[off + 10], b3 = b[off + 11];
      break;
    case 64:
      b0 = b[off + 9], b1 = b[off + 10], b2 = b[off + 11], b3 = b[off + 12];
      break;
    default: // 96
      b0 = b[off + 12], b1 = b[off + 13], b2 = b[off + 14], b3 = b[off + 15];
  }
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}
