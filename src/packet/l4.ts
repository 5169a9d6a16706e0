// TCP (RFC 793), UDP (RFC 768), ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) header access and
// checksum verification over packet bytes, for both IP families. No allocation.
import { DROP } from "../xlat/stats.ts";
import { checksum, pseudo4, pseudo6, sum16 } from "./checksum.ts";
import type { Ipv4Info } from "./ipv4.ts";
import type { Ipv6Info } from "./ipv6.ts";
import { ICMP_HDR, IPPROTO, TCP_HDR, UDP_HDR } from "./proto.ts";

export const read16 = (b: Uint8Array, off: number): number => (b[off] << 8) | b[off + 1];

export function write16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 255;
  b[off + 1] = v & 255;
}

const read32 = (b: Uint8Array, off: number): number =>
  ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;

// TCP and UDP share the port layout.
export const srcPort = (b: Uint8Array, l4Off: number): number => read16(b, l4Off);
export const dstPort = (b: Uint8Array, l4Off: number): number => read16(b, l4Off + 2);
export const udpLength = (b: Uint8Array, l4Off: number): number => read16(b, l4Off + 4);
export const tcpSeq = (b: Uint8Array, l4Off: number): number => read32(b, l4Off + 4);
export const tcpAck = (b: Uint8Array, l4Off: number): number => read32(b, l4Off + 8);
/** TCP header length in bytes (Data Offset * 4). */
export const tcpHdrLen = (b: Uint8Array, l4Off: number): number => (b[l4Off + 12] >> 4) << 2;
/** The 8 flag bits CWR..FIN. */
export const tcpFlags = (b: Uint8Array, l4Off: number): number => b[l4Off + 13];
export const tcpWindow = (b: Uint8Array, l4Off: number): number => read16(b, l4Off + 14);
export const icmpType = (b: Uint8Array, l4Off: number): number => b[l4Off];
export const icmpCode = (b: Uint8Array, l4Off: number): number => b[l4Off + 1];
/** Echo Identifier (ICMPv4 types 0/8, ICMPv6 128/129). */
export const icmpEchoId = (b: Uint8Array, l4Off: number): number => read16(b, l4Off + 4);
export const icmpEchoSeq = (b: Uint8Array, l4Off: number): number => read16(b, l4Off + 6);
/** Bytes 4-7 of an ICMP header (MTU, pointer, unused). */
export const icmpRest = (b: Uint8Array, l4Off: number): number => read32(b, l4Off + 4);

export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Offset of the checksum field within the L4 header, -1 for protocols without one. */
export function l4ChecksumOffset(proto: number): number {
  switch (proto) {
    case IPPROTO.TCP:
      return 16;
    case IPPROTO.UDP:
      return 6;
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      return 2;
    default:
      return -1;
  }
}

/** Smallest valid header for the protocol (0 for protocols this layer does not know). */
export function l4MinHeader(proto: number): number {
  switch (proto) {
    case IPPROTO.TCP:
      return TCP_HDR;
    case IPPROTO.UDP:
      return UDP_HDR;
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      return ICMP_HDR;
    default:
      return 0;
  }
}

/**
 * Checks that the L4 header at b[l4Off..l4Off+l4Len) is present and self-consistent.
 * `whole`: l4Len is the entire segment (unfragmented packet), so the UDP Length must
 * equal it (RFC 768); otherwise (a first fragment) only the header must fit.
 * Do not call for non-first fragments. Returns 0 or a DROP reason.
 */
export function validateL4(
  b: Uint8Array,
  l4Off: number,
  l4Len: number,
  proto: number,
  whole: boolean,
): number {
  const min = l4MinHeader(proto);
  if (l4Len < min) return DROP.truncated;
  if (proto === IPPROTO.TCP) {
    const hl = tcpHdrLen(b, l4Off);
    if (hl < TCP_HDR) return DROP.bad_header;
    if (hl > l4Len) return DROP.truncated;
  } else if (proto === IPPROTO.UDP) {
    const ul = udpLength(b, l4Off);
    if (ul < UDP_HDR) return DROP.bad_header;
    if (whole) {
      if (ul > l4Len) return DROP.truncated;
      if (ul < l4Len) return DROP.bad_header;
    }
  }
  return 0;
}

/** Final destination for the IPv6 pseudo-header: RFC 8200 8.1, the last Routing hop. */
export function finalDst6Off(b: Uint8Array, o: Ipv6Info): number {
  const r = o.routingOff;
  if (r < 0 || o.segmentsLeft === 0) return o.off + 24;
  const type = b[r + 2];
  const n = b[r + 1] >> 1; // 16-byte addresses in the header
  if ((type === 0 || type === 2) && n > 0) return r + 8 + 16 * (n - 1);
  if (type === 4 && n > 0) return r + 8; // RFC 8754 4.1: Segment List[0] is the last segment
  return o.off + 24;
}

/**
 * Verifies the TCP/UDP/ICMP checksum of an IPv4 packet parsed into `o`.
 * Returns 0 (valid, or not checkable: a fragment, an unknown protocol, or UDP with a zero
 * checksum, which RFC 768 defines as "no checksum"), DROP.bad_checksum or DROP.truncated.
 */
export function verifyL4Checksum4(b: Uint8Array, o: Ipv4Info): number {
  if (o.isFragment || o.truncated) return 0;
  const proto = o.proto;
  const co = l4ChecksumOffset(proto);
  if (co < 0) return 0;
  if (o.l4Len < co + 2) return DROP.truncated;
  if (proto === IPPROTO.UDP && b[o.l4Off + 6] === 0 && b[o.l4Off + 7] === 0) return 0;
  const init = proto === IPPROTO.ICMP ? 0 : pseudo4(b, o.off + 12, o.off + 16, proto, o.l4Len);
  return sum16(b, o.l4Off, o.l4Len, init) === 0xffff ? 0 : DROP.bad_checksum;
}

/**
 * Verifies the TCP/UDP/ICMPv6 checksum of an IPv6 packet parsed into `o` (RFC 8200 8.1
 * pseudo-header, final destination). Returns 0 (valid, or not checkable: a fragment or
 * an unknown protocol), DROP.bad_checksum, DROP.udp_zero_checksum (RFC 8200 8.1: IPv6
 * receivers must discard UDP packets with a zero checksum) or DROP.truncated.
 */
export function verifyL4Checksum6(b: Uint8Array, o: Ipv6Info): number {
  if (o.isFragment && (o.mf || o.fragOffset !== 0)) return 0;
  if (o.truncated) return 0;
  const proto = o.proto;
  if (proto === IPPROTO.ICMP) return 0; // ICMPv4 inside IPv6 is not a thing we can check
  const co = l4ChecksumOffset(proto);
  if (co < 0) return 0;
  if (o.l4Len < co + 2) return DROP.truncated;
  if (proto === IPPROTO.UDP && b[o.l4Off + 6] === 0 && b[o.l4Off + 7] === 0) {
    return DROP.udp_zero_checksum;
  }
  const init = pseudo6(b, o.off + 8, finalDst6Off(b, o), proto, o.l4Len);
  return sum16(b, o.l4Off, o.l4Len, init) === 0xffff ? 0 : DROP.bad_checksum;
}

/** Computes and stores the L4 checksum of an unfragmented IPv4 packet parsed into `o`. */
export function setL4Checksum4(b: Uint8Array, o: Ipv4Info): void {
  const co = l4ChecksumOffset(o.proto);
  if (co < 0 || o.l4Len < co + 2) return;
  write16(b, o.l4Off + co, 0);
  const init = o.proto === IPPROTO.ICMP ? 0 : pseudo4(b, o.off + 12, o.off + 16, o.proto, o.l4Len);
  let c = checksum(b, o.l4Off, o.l4Len, init);
  if (c === 0 && o.proto === IPPROTO.UDP) c = 0xffff; // RFC 768: zero means "none"
  write16(b, o.l4Off + co, c);
}

/** Computes and stores the L4 checksum of an unfragmented IPv6 packet parsed into `o`. */
export function setL4Checksum6(b: Uint8Array, o: Ipv6Info): void {
  const co = l4ChecksumOffset(o.proto);
  if (co < 0 || o.l4Len < co + 2) return;
  write16(b, o.l4Off + co, 0);
  const init = o.proto === IPPROTO.ICMP
    ? 0
    : pseudo6(b, o.off + 8, finalDst6Off(b, o), o.proto, o.l4Len);
  let c = checksum(b, o.l4Off, o.l4Len, init);
  if (c === 0 && o.proto === IPPROTO.UDP) c = 0xffff; // RFC 8200 8.1
  write16(b, o.l4Off + co, c);
}
