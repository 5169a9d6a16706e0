// IPv6 header and extension-header chain parsing (RFC 8200 3, 4) into a caller-owned
// info object: no allocation.
import { DROP } from "../xlat/stats.ts";
import { FRAG6_HDR, IPPROTO, IPV6_HDR } from "./proto.ts";

/** Ceiling on extension headers walked; a legal chain (RFC 8200 4.1) has at most 8. */
export const MAX_EXT_HEADERS = 16;

/** What parseIpv6 learned about one packet. Offsets are absolute indexes into the buffer. */
export class Ipv6Info {
  /** Where the IPv6 header starts; source is at off+8, destination at off+24. */
  off = 0;
  payloadLen = 0;
  tc = 0;
  flowLabel = 0;
  hopLimit = 0;
  /** Next Header of the fixed header. */
  nextHdr = 0;
  /** Upper-layer protocol (or the first header not walked: ESP, AH, unknown, 59). */
  proto = 0;
  /** Offset of the byte holding `proto` (a Next Header field), for rewriting the chain. */
  protoFieldOff = 0;
  /** Start of the upper-layer header (or of the fragment data for a non-first fragment). */
  l4Off = 0;
  /** Bytes from l4Off to the end of the payload present. */
  l4Len = 0;
  /** Offset of the Fragment header, -1 if none. */
  fragOff = -1;
  /** Fragment offset in bytes. */
  fragOffset = 0;
  mf = false;
  fragId = 0;
  /** Fragment header present (atomic fragments included). */
  isFragment = false;
  /** Offset of the Routing header, -1 if none. */
  routingOff = -1;
  segmentsLeft = 0;
  /** Bytes of extension headers between the fixed header and l4Off. */
  extLen = 0;
  hasHopByHop = false;
  /** Inner-packet parse only: the packet was cut short of its Payload Length. */
  truncated = false;

  get srcOff(): number {
    return this.off + 8;
  }
  get dstOff(): number {
    return this.off + 24;
  }
  /** Non-first fragment: the upper-layer header is in another fragment. */
  get isLaterFragment(): boolean {
    return this.fragOffset !== 0;
  }
}

/**
 * Parses the IPv6 header at b[off..off+len) and walks the extension header chain
 * (RFC 8200 4): Hop-by-Hop (only first, 4.3), Routing, Destination Options, Fragment.
 * The walk stops at the first other header (upper layer, ESP, AH, Mobility, unknown, 59)
 * or at the data of a non-first fragment. Returns 0 or a DROP reason.
 *
 * Payload Length must fit in len; trailing bytes are ignored. Jumbograms (Payload
 * Length 0 with a Jumbo option, RFC 2675) are not supported: they parse as truncated.
 *
 * `inner`: parse the copy inside an ICMPv6 error, which may be cut short (RFC 4443 3):
 * Payload Length may exceed len (then `truncated` is set); the chain must still be present.
 */
export function parseIpv6(
  b: Uint8Array,
  len: number,
  o: Ipv6Info,
  off = 0,
  inner = false,
): number {
  if (len < IPV6_HDR || off + len > b.length) return DROP.truncated;
  if (b[off] >> 4 !== 6) return DROP.bad_version;
  const payloadLen = (b[off + 4] << 8) | b[off + 5];
  let end = off + IPV6_HDR + payloadLen;
  let truncated = false;
  if (IPV6_HDR + payloadLen > len) {
    if (!inner) return DROP.truncated;
    truncated = true;
    end = off + len;
  }
  o.off = off;
  o.payloadLen = payloadLen;
  o.tc = ((b[off] & 15) << 4) | (b[off + 1] >> 4);
  o.flowLabel = ((b[off + 1] & 15) << 16) | (b[off + 2] << 8) | b[off + 3];
  o.hopLimit = b[off + 7];
  o.truncated = truncated;
  o.fragOff = -1;
  o.fragOffset = 0;
  o.mf = false;
  o.fragId = 0;
  o.isFragment = false;
  o.routingOff = -1;
  o.segmentsLeft = 0;
  o.hasHopByHop = false;

  let nh = b[off + 6];
  o.nextHdr = nh;
  let nhField = off + 6;
  let p = off + IPV6_HDR;
  let count = 0;
  let dstOpts = 0;
  for (;;) {
    if (
      nh !== IPPROTO.HOPOPTS && nh !== IPPROTO.ROUTING && nh !== IPPROTO.DSTOPTS &&
      nh !== IPPROTO.FRAGMENT
    ) break;
    if (++count > MAX_EXT_HEADERS) return DROP.bad_header;
    if (p + 8 > end) return DROP.truncated;
    if (nh === IPPROTO.FRAGMENT) {
      // RFC 8200 4.5: one Fragment header, fixed 8 bytes.
      if (o.fragOff >= 0) return DROP.bad_header;
      const w = (b[p + 2] << 8) | b[p + 3];
      o.fragOff = p;
      o.fragOffset = w & 0xfff8;
      o.mf = (w & 1) !== 0;
      o.fragId = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
      o.isFragment = true;
      nhField = p;
      nh = b[p];
      p += FRAG6_HDR;
      // Later fragments carry data, not headers: the chain stops here.
      if (o.fragOffset !== 0) break;
      continue;
    }
    const hl = (b[p + 1] + 1) << 3;
    if (p + hl > end) return DROP.truncated;
    if (nh === IPPROTO.HOPOPTS) {
      // RFC 8200 4.3: Hop-by-Hop Options must immediately follow the IPv6 header.
      if (p !== off + IPV6_HDR) return DROP.bad_header;
      o.hasHopByHop = true;
    } else if (nh === IPPROTO.ROUTING) {
      if (o.routingOff >= 0) return DROP.bad_header;
      o.routingOff = p;
      o.segmentsLeft = b[p + 3];
    } else if (++dstOpts > 2) {
      // RFC 8200 4.1: Destination Options at most twice (before Routing, before upper layer).
      return DROP.bad_header;
    }
    nhField = p;
    nh = b[p];
    p += hl;
  }
  o.proto = nh;
  o.protoFieldOff = nhField;
  o.l4Off = p;
  o.l4Len = end - p;
  o.extLen = p - off - IPV6_HDR;
  return 0;
}
