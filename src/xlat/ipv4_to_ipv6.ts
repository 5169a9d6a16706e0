// RFC 7915 section 4: translating an IPv4 packet into IPv6, one function per step.
import type { PacketBatch } from "../packet/batch.ts";
import { adjust, checksum, fold, pseudo6, sum16, sumWords } from "../packet/checksum.ts";
import { ipv4HeaderChecksumOk, type Ipv4Info, parseIpv4 } from "../packet/ipv4.ts";
import { validateL4 } from "../packet/l4.ts";
import { ICMP4, ICMP4_UNREACH, ICMP6, IPPROTO, isIcmp4Error } from "../packet/proto.ts";
import { AX_ICMP_ERROR, AX_NO_EAM } from "./addr_xlat.ts";
import { copyBytes, copyRun, get16, get32, halves, put16, sumView, zeroBytes } from "./bytes.ts";
import type { XlatContext } from "./context.ts";
import { emitFragments6 } from "./fragment.ts";
import { ICMP6_ERROR_MAX, putIcmpHeader, sendIcmp4Error } from "./icmp_error.ts";
import { icmpErr4to6, icmpInfo4to6, paramPtr4to6, UNMAPPED } from "./icmp_map.ts";
import { fail, innerV4toV6 } from "./inner.ts";
import { fragNeededMtu, mtu6FromFragNeeded } from "./mtu.ts";
import { DROP, SLOT } from "./stats.ts";

const IGMP = 2;

function drop(x: XlatContext, reason: number): void {
  x.stats.drop(reason, false);
}

/**
 * Translates the IPv4 packet b[0..len) and emits the result into `out`. `intrinsic`: the
 * packet is the IPv4 form of an intrinsically hairpinned IPv6 packet (RFC 7757 4.2.2),
 * already decremented on its way through 6->4.
 */
export function translate46(
  x: XlatContext,
  b: Uint8Array,
  len: number,
  out: PacketBatch,
  now: number,
  intrinsic = false,
): void {
  const i = x.in4;
  x.bindIn(b);
  const r = parseIpv4(b, len, i, 0, false, true);
  if (r !== 0) return drop(x, r);
  if (!headerChecksumOk(x, b, i)) return drop(x, DROP.bad_checksum);
  const slot = out.reserve();
  if (slot < 0) return drop(x, DROP.no_output_space);
  const o = out.slots[slot];
  x.bindOut(out.views[slot]);

  const icmpError = i.proto === IPPROTO.ICMP && i.l4Len >= 1 && i.fragOffset === 0 &&
    isIcmp4Error(b[i.l4Off]);
  let reason = checkProtocol46(b, i);
  x.hairpin = x.addr.isHairpin46(intrinsic);
  if (reason === 0) reason = translateAddresses46(x, b, i, o, icmpError);
  if (reason === 0) reason = checkForwarding46(x, b, i, out, now, !intrinsic);
  if (reason !== 0) return refuse46(x, b, i, reason, out, now);

  // RFC 7915 4.1: a Fragment Header when the packet is a fragment, or when DF is clear
  // and the IPv6 packet would exceed the lowest IPv6 MTU (then it is fragmented).
  const plain = 40 + i.l4Len;
  const mtu = x.lowestIpv6Mtu;
  const splitLater = !i.df && !icmpError && plain > mtu;
  const fragHdr = i.isFragment || splitLater;
  const hl = fragHdr ? 48 : 40;
  if (i.df && !i.isFragment && !icmpError && plain > x.opts.ipv6Mtu) {
    const m = fragNeededMtu(x.opts.ipv6Mtu, x.opts.ipv4Mtu, false);
    sendIcmp4Error(x, b, i, ICMP4.DEST_UNREACH, ICMP4_UNREACH.FRAG_NEEDED, m, out, now);
    return drop(x, DROP.too_big);
  }

  let l4Out: number;
  if (i.proto === IPPROTO.ICMP) {
    l4Out = icmpError ? translateIcmpError46(x, b, i, o, hl) : translateIcmpInfo46(x, b, i, o, hl);
  } else if ((i.proto === IPPROTO.TCP || i.proto === IPPROTO.UDP) && i.fragOffset === 0) {
    l4Out = translateTcpUdp46(x, b, i, o, hl);
  } else {
    copyBytes(o, hl, b, i.l4Off, i.l4Len);
    l4Out = i.l4Len;
  }
  if (l4Out < 0) return refuse46(x, b, i, -1 - l4Out, out, now);

  writeIpv6Header46(x, i, o, hl - 40 + l4Out, fragHdr, intrinsic ? i.ttl : i.ttl - 1);
  if (fragHdr) writeFragmentHeader46(i, o);
  const total = hl + l4Out;
  if (splitLater) {
    const n = emitFragments6(out, slot, total, mtu);
    if (n < 0) return drop(x, DROP.no_output_space);
    x.stats.v[SLOT.out46Packets] += n;
    x.stats.v[SLOT.out46Bytes] += total + (n - 1) * 48;
    return;
  }
  out.commit(total);
  x.stats.v[SLOT.out46Packets]++;
  x.stats.v[SLOT.out46Bytes] += total;
}

/** RFC 791 3.1 header checksum: an option-less header at a 4-aligned offset as five
 *  native words through the bound view, others through the parser's byte sum. */
function headerChecksumOk(x: XlatContext, b: Uint8Array, i: Ipv4Info): boolean {
  const abs = x.ib + i.off;
  if (i.hdrLen === 20 && (abs & 3) === 0) return sumWords(x.iw, abs, 5) === 0xffff;
  return ipv4HeaderChecksumOk(b, i.off, i.hdrLen);
}

/**
 * Drops a packet. RFC 7915 4.4: "the translator SHOULD be able to send back an ICMPv4
 * error message ... Type of 3 (Destination Unreachable) and a Code of 13 (Communication
 * Administratively Prohibited)"; done, as Jool does, for zero-checksum UDP the
 * translator cannot fix (its sender can), and for nothing else: other drops are
 * malformed or unroutable packets, or already answered with a specific error.
 */
function refuse46(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv4Info,
  reason: number,
  out: PacketBatch,
  now: number,
): void {
  if (reason === DROP.udp_zero_checksum) {
    sendIcmp4Error(x, b, i, ICMP4.DEST_UNREACH, ICMP4_UNREACH.ADMIN_PROHIBITED, 0, out, now);
  }
  drop(x, reason);
}

/** RFC 7915 4.2: fragmented ICMP cannot be translated (its checksum covers all of it);
 *  "IGMP messages ... SHOULD be silently dropped". Malformed fragments and L4 headers
 *  are dropped rather than passed on. */
function checkProtocol46(b: Uint8Array, i: Ipv4Info): number {
  // RFC 791: all fragments but the last carry multiples of 8 bytes; none ends past 64 KiB.
  if (i.isFragment && ((i.mf && (i.l4Len & 7) !== 0) || i.fragOffset + i.l4Len > 0xffff)) {
    return DROP.bad_header;
  }
  if (i.proto === IPPROTO.ICMP) {
    if (i.isFragment) return DROP.fragmented_icmp;
    if (i.l4Len < 8) return DROP.truncated;
  } else if (i.proto === IGMP || isIpv6Only(i.proto)) {
    return DROP.unsupported_protocol;
  } else if (i.fragOffset === 0 && (i.proto === IPPROTO.TCP || i.proto === IPPROTO.UDP)) {
    const r = validateL4(b, i.l4Off, i.l4Len, i.proto, !i.isFragment);
    if (r !== 0) return r;
    // RFC 7915 4.5: a stateless translator cannot checksum a fragmented datagram.
    if (i.proto === IPPROTO.UDP && b[i.l4Off + 6] === 0 && b[i.l4Off + 7] === 0 && i.isFragment) {
      return DROP.udp_zero_checksum;
    }
  }
  return 0;
}

/**
 * IPv6 extension headers and ICMPv6 carried in IPv4 would turn into a bogus header chain
 * (or an ICMPv6 message without its pseudo-header checksum) on the IPv6 side.
 */
function isIpv6Only(proto: number): boolean {
  return proto === IPPROTO.HOPOPTS || proto === IPPROTO.ROUTING || proto === IPPROTO.FRAGMENT ||
    proto === IPPROTO.DSTOPTS || proto === IPPROTO.ICMPV6;
}

/**
 * RFC 7915 4.1 Source/Destination Address via the mapper (EAM, RFC 6052). A translated
 * ICMP error whose source (a router) has no IPv6 form takes one from the RFC 6791 pool,
 * or the translator's own address. Hairpinning (RFC 7757 4.2): the source skips EAM
 * (for an error, only when it is the quoted packet's destination).
 */
function translateAddresses46(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv4Info,
  o: Uint8Array,
  icmpError: boolean,
): number {
  // Addresses go to the mapper as int32 bits (`| 0`): no heap number per packet.
  let f = icmpError ? AX_ICMP_ERROR : 0;
  if (x.hairpin && (!icmpError || (i.l4Len >= 28 && get32(b, i.l4Off + 24) === i.src))) {
    f |= AX_NO_EAM;
  }
  const r = x.addr.v4to6(i.src | 0, o, 8, true, f);
  if (r !== 0) {
    if (!icmpError) return r;
    if (x.pool6 !== null) x.pool6.pickInto(i.src, o, 8);
    else copyBytes(o, 8, x.icmpSrc6, 0, 16);
  }
  return x.addr.v4to6(i.dst | 0, o, 24, false, icmpError ? AX_ICMP_ERROR : 0);
}

/** What a router checks before forwarding; a refused packet is answered with an error. */
function checkForwarding46(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv4Info,
  out: PacketBatch,
  now: number,
  decrement: boolean,
): number {
  // RFC 7915 4.1 Hop Limit: TTL reaching zero is Time Exceeded (`decrement` false: the
  // packet was already decremented on its way through 6->4).
  if (decrement && i.ttl <= 1) {
    sendIcmp4Error(x, b, i, ICMP4.TIME_EXCEEDED, 0, 0, out, now);
    return DROP.ttl_exceeded;
  }
  // RFC 7915 4.1: "if an unexpired source route option is present then the packet MUST
  // instead be discarded, and an ICMPv4 'Destination Unreachable, Source Route Failed'
  // (Type 3, Code 5) error message SHOULD be returned to the sender."
  if (i.ihl === 5 || !hasUnexpiredSourceRoute(b, i.off + 20, i.off + i.hdrLen)) return 0;
  sendIcmp4Error(x, b, i, ICMP4.DEST_UNREACH, ICMP4_UNREACH.SOURCE_ROUTE_FAILED, 0, out, now);
  return DROP.source_route;
}

/** LSRR (131) or SSRR (137) whose pointer has not passed its last address (RFC 791 3.1). */
export function hasUnexpiredSourceRoute(b: Uint8Array, p: number, end: number): boolean {
  while (p < end) {
    const t = b[p];
    if (t === 0) return false; // End of Option List
    if (t === 1) { // No Operation
      p++;
      continue;
    }
    if (p + 1 >= end) return false;
    const l = b[p + 1];
    if (l < 2) return false;
    if ((t === 131 || t === 137) && p + 2 < end) return b[p + 2] <= l;
    p += l;
  }
  return false;
}

/** RFC 7915 4.1: the IPv6 header. Payload Length counts a Fragment Header if present. */
function writeIpv6Header46(
  x: XlatContext,
  i: Ipv4Info,
  o: Uint8Array,
  payloadLen: number,
  fragHdr: boolean,
  hopLimit: number,
): void {
  const tc = x.opts.resetTrafficClass ? 0 : i.tos;
  o[0] = 0x60 | (tc >> 4);
  o[1] = (tc & 15) << 4; // Flow Label: all zero
  o[2] = 0;
  o[3] = 0;
  put16(o, 4, payloadLen);
  const nh = i.proto === IPPROTO.ICMP ? IPPROTO.ICMPV6 : i.proto;
  o[6] = fragHdr ? IPPROTO.FRAGMENT : nh;
  o[7] = hopLimit;
}

/**
 * RFC 7915 4.1 Fragment Header: Next Header from Protocol, Fragment Offset and M from the
 * IPv4 fields, Identification "low-order 16 bits set from the Identification field in
 * the IPv4 header" and "high-order 16 bits set to zero".
 */
function writeFragmentHeader46(i: Ipv4Info, o: Uint8Array): void {
  o[40] = i.proto === IPPROTO.ICMP ? IPPROTO.ICMPV6 : i.proto;
  o[41] = 0;
  put16(o, 42, i.fragOffset | (i.mf ? 1 : 0));
  o[44] = 0;
  o[45] = 0;
  put16(o, 46, i.id);
}

/**
 * RFC 7915 4.5: TCP and UDP checksums are updated for the new pseudo-header
 * incrementally (RFC 1624); only the addresses differ. A zero IPv4 UDP checksum is
 * computed when amend-udp-checksum-zero is on (unfragmented only), else dropped.
 */
function translateTcpUdp46(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv4Info,
  o: Uint8Array,
  p: number,
): number {
  const n = i.l4Len;
  copyRun(o, p, x.ow, x.ob + p, b, x.iw, x.ib + i.l4Off, n);
  const udp = i.proto === IPPROTO.UDP;
  const co = p + (udp ? 6 : 16);
  const old = get16(o, co);
  if (udp && old === 0) {
    if (!x.opts.amendUdpChecksumZero) return fail(DROP.udp_zero_checksum);
    const c = checksum(o, p, n, pseudo6(o, 8, 24, IPPROTO.UDP, n));
    put16(o, co, c === 0 ? 0xffff : c);
    return n;
  }
  // The old pseudo-header addresses are the parser's (no re-read of the input).
  let c = adjust(old, fold(halves(i.src) + halves(i.dst)), sumView(x.ov, 8, 8));
  if (udp && c === 0) c = 0xffff;
  put16(o, co, c);
  return n;
}

/** RFC 7915 4.2: Echo Request/Reply become types 128/129; other queries are dropped. */
function translateIcmpInfo46(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv4Info,
  o: Uint8Array,
  p: number,
): number {
  const tc = icmpInfo4to6(b[i.l4Off]);
  if (tc === UNMAPPED) return fail(DROP.unsupported_icmp);
  const n = i.l4Len;
  copyBytes(o, p, b, i.l4Off, n);
  const oldTc = get16(o, p);
  put16(o, p, tc);
  // ICMPv6 adds a pseudo-header to the checksum (RFC 4443 2.3); ICMPv4 has none.
  const newSum = fold(tc + pseudo6(o, 8, 24, IPPROTO.ICMPV6, n));
  put16(o, p + 2, adjust(get16(o, p + 2), oldTc, newSum));
  void x;
  return n;
}

/**
 * RFC 7915 4.2/4.3: an ICMPv4 error becomes an ICMPv6 error: type/code mapped, MTU and
 * pointer adjusted, the quoted packet translated, RFC 4884 length attribute kept, the
 * result cut to 1280 bytes, checksum recomputed over the new message.
 */
function translateIcmpError46(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv4Info,
  o: Uint8Array,
  p: number,
): number {
  const s = i.l4Off;
  const n = i.l4Len;
  // The checksum is recomputed from scratch: do not launder a corrupt message.
  if (sum16(b, s, n) !== 0xffff) return fail(DROP.bad_checksum);
  const type = b[s], code = b[s + 1];
  const tc = icmpErr4to6(type, code);
  if (tc === UNMAPPED) return fail(DROP.unsupported_icmp);
  const t6 = tc >> 8;

  // RFC 4884 5: Destination Unreachable, Time Exceeded and Parameter Problem carry the
  // original datagram length in 32-bit words in byte 5; extensions follow it.
  const lenAttr = b[s + 5];
  let quoteLen = n - 8;
  let extLen = 0;
  if (lenAttr !== 0 && lenAttr * 4 <= n - 8) {
    quoteLen = lenAttr * 4;
    extLen = n - 8 - quoteLen;
  }
  const max = ICMP6_ERROR_MAX - p - 8;
  const q = innerV4toV6(x, b, s + 8, quoteLen, o, p + 8, max);
  if (q < 0) return q;
  let body = q;

  let rest = 0;
  if (t6 === ICMP6.PACKET_TOO_BIG) {
    rest = mtu6FromFragNeeded(
      get16(b, s + 6),
      x.inner4.totalLen,
      x.opts.ipv6Mtu,
      x.opts.ipv4Mtu,
      x.opts.mtuPlateaus,
    );
  } else if (t6 === ICMP6.PARAM_PROBLEM) {
    if (type === ICMP4.DEST_UNREACH) {
      rest = 6; // Protocol Unreachable: "Pointer to the Next Header field (6)"
    } else {
      const ptr = paramPtr4to6(b[s + 4]);
      if (ptr === UNMAPPED) return fail(DROP.unsupported_icmp);
      rest = ptr;
    }
  } else if (extLen > 0 && (t6 === ICMP6.DEST_UNREACH || t6 === ICMP6.TIME_EXCEEDED)) {
    // RFC 4884 4.5: ICMPv6 counts the original datagram in 64-bit words, padded to 128
    // bytes at least; the extension structure follows when it still fits in 1280.
    const padded = Math.max(128, (q + 7) & ~7);
    if (padded + extLen <= max) {
      zeroBytes(o, p + 8 + q, padded - q);
      copyBytes(o, p + 8 + padded, b, s + 8 + quoteLen, extLen);
      body = padded + extLen;
      rest = (padded >> 3) << 24;
    }
  }
  putIcmpHeader(o, p, t6, tc & 255, rest);
  const plen = 8 + body;
  // The IPv6 header is written after us; the pseudo-header needs only the addresses.
  put16(o, p + 2, checksum(o, p, plen, pseudo6(o, 8, 24, IPPROTO.ICMPV6, plen)));
  return plen;
}
