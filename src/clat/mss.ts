// TCP MSS clamping on translated SYNs (RFC 6877 6.5 leaves the MTU problem to the CLAT;
// RFC 8683 4.8: an IPv4 packet grows by 20 bytes, so an MSS the IPv4 side chose for its
// own MTU can overrun the IPv6 path). Only SYN segments carry the option.
import { adjust } from "../packet/checksum.ts";

const TCP = 6;
const SYN = 0x02;

/** The TCP header offset of an unfragmented TCP packet, or -1. */
function tcpOffset(b: Uint8Array, len: number): number {
  const v = b[0] >> 4;
  if (v === 4) {
    if (len < 20 || b[9] !== TCP) return -1;
    if (((b[6] & 0x3f) | b[7]) !== 0) return -1; // a fragment
    return (b[0] & 15) << 2;
  }
  if (v === 6) return len >= 40 && b[6] === TCP ? 40 : -1;
  return -1;
}

/**
 * Lowers the MSS option of a SYN to `max` (RFC 1624 checksum update). Returns whether it
 * changed anything. Packets that are not SYNs, or whose options run past `len`, are left.
 */
export function clampMss(b: Uint8Array, len: number, max: number): boolean {
  const t = tcpOffset(b, len);
  if (t < 0 || t + 20 > len || (b[t + 13] & SYN) === 0) return false;
  const end = t + ((b[t + 12] >> 4) << 2);
  if (end > len) return false;
  let o = t + 20;
  while (o < end) {
    const kind = b[o];
    if (kind === 0) break;
    if (kind === 1) {
      o++;
      continue;
    }
    if (o + 1 >= end) break;
    const l = b[o + 1];
    if (l < 2 || o + l > end) break;
    if (kind === 2 && l === 4) {
      const mss = (b[o + 2] << 8) | b[o + 3];
      if (mss <= max) return false;
      const ck = (b[t + 16] << 8) | b[t + 17];
      const c = adjust(ck, mss, max);
      b[o + 2] = max >> 8;
      b[o + 3] = max & 255;
      b[t + 16] = c >> 8;
      b[t + 17] = c & 255;
      return true;
    }
    o += l;
  }
  return false;
}
