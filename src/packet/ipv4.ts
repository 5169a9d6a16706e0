// IPv4 header parsing (RFC 791 3.1) into a caller-owned info object: no allocation.
import { DROP } from "../xlat/stats.ts";
import { sum16 } from "./checksum.ts";
import { IPV4_HDR } from "./proto.ts";

/** What parseIpv4 learned about one packet. Offsets are absolute indexes into the buffer. */
export class Ipv4Info {
  /** Where the IPv4 header starts. */
  off = 0;
  ihl = 0;
  /** ihl * 4: header including options. */
  hdrLen = 0;
  /** Total Length field. */
  totalLen = 0;
  tos = 0;
  id = 0;
  df = false;
  mf = false;
  /** Fragment offset in bytes (the field times 8). */
  fragOffset = 0;
  ttl = 0;
  proto = 0;
  /** Header checksum field as received. */
  checksum = 0;
  src = 0;
  dst = 0;
  /** Start of the payload (after options). */
  l4Off = 0;
  /** Payload bytes present: totalLen - hdrLen, or fewer for a truncated inner packet. */
  l4Len = 0;
  /** MF set or offset non-zero. */
  isFragment = false;
  /** Inner-packet parse only: the packet was cut short of its Total Length. */
  truncated = false;
}

/**
 * Parses the IPv4 header at b[off..off+len). Returns 0 or a DROP reason.
 *
 * Checks version, IHL >= 5, Total Length <= len (bytes after Total Length are ignored,
 * e.g. Ethernet padding) and the header checksum (RFC 791 3.1, RFC 1071).
 *
 * `inner`: parse the copy of a packet inside an ICMP error, which may be cut short
 * (RFC 792, RFC 1812 4.3.2.3): Total Length may exceed len (then `truncated` is set and
 * l4Len counts what is there) and the header checksum is not checked.
 * `callerSums`: the caller checks the header checksum itself, right after a 0 result
 * (the translator sums native words over a view it already holds).
 */
export function parseIpv4(
  b: Uint8Array,
  len: number,
  o: Ipv4Info,
  off = 0,
  inner = false,
  callerSums = false,
): number {
  if (len < IPV4_HDR || off + len > b.length) return DROP.truncated;
  const vihl = b[off];
  if (vihl >> 4 !== 4) return DROP.bad_version;
  const ihl = vihl & 15;
  if (ihl < 5) return DROP.bad_header;
  const hdrLen = ihl << 2;
  if (hdrLen > len) return DROP.truncated;
  const totalLen = (b[off + 2] << 8) | b[off + 3];
  if (totalLen < hdrLen) return DROP.bad_header;
  let truncated = false;
  if (totalLen > len) {
    if (!inner) return DROP.truncated;
    truncated = true;
  }
  if (!inner && !callerSums && headerSum(b, off, hdrLen) !== 0xffff) return DROP.bad_checksum;
  const frag = (b[off + 6] << 8) | b[off + 7];
  o.off = off;
  o.ihl = ihl;
  o.hdrLen = hdrLen;
  o.totalLen = totalLen;
  o.tos = b[off + 1];
  o.id = (b[off + 4] << 8) | b[off + 5];
  o.df = (frag & 0x4000) !== 0;
  o.mf = (frag & 0x2000) !== 0;
  o.fragOffset = (frag & 0x1fff) << 3;
  o.ttl = b[off + 8];
  o.proto = b[off + 9];
  o.checksum = (b[off + 10] << 8) | b[off + 11];
  o.src = ((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0;
  o.dst = ((b[off + 16] << 24) | (b[off + 17] << 16) | (b[off + 18] << 8) | b[off + 19]) >>> 0;
  o.l4Off = off + hdrLen;
  o.l4Len = (truncated ? len : totalLen) - hdrLen;
  o.isFragment = o.mf || o.fragOffset !== 0;
  o.truncated = truncated;
  return 0;
}

/**
 * One's-complement sum of an IPv4 header, folded to 16 bits. The common option-less
 * header (every packet) is summed as ten unrolled words.
 */
function headerSum(b: Uint8Array, off: number, hdrLen: number): number {
  if (hdrLen !== 20) return sum16(b, off, hdrLen);
  let s = ((b[off] << 8) | b[off + 1]) + ((b[off + 2] << 8) | b[off + 3]) +
    ((b[off + 4] << 8) | b[off + 5]) + ((b[off + 6] << 8) | b[off + 7]) +
    ((b[off + 8] << 8) | b[off + 9]) + ((b[off + 10] << 8) | b[off + 11]) +
    ((b[off + 12] << 8) | b[off + 13]) + ((b[off + 14] << 8) | b[off + 15]) +
    ((b[off + 16] << 8) | b[off + 17]) + ((b[off + 18] << 8) | b[off + 19]);
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/** Does the IPv4 header at b[off..off+hdrLen) carry a valid checksum? */
export function ipv4HeaderChecksumOk(b: Uint8Array, off: number, hdrLen: number): boolean {
  return headerSum(b, off, hdrLen) === 0xffff;
}

/** Recomputes and stores the header checksum of the IPv4 header at `off`. */
export function setIpv4HeaderChecksum(b: Uint8Array, off: number, hdrLen: number): void {
  b[off + 10] = 0;
  b[off + 11] = 0;
  const c = ~headerSum(b, off, hdrLen) & 0xffff;
  b[off + 10] = c >> 8;
  b[off + 11] = c & 255;
}
