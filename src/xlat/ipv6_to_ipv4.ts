// RFC 7915 section 5: translating an IPv6 packet into IPv4, one function per step.
import type { PacketBatch } from "../packet/batch.ts";
import { adjust, checksum, fold, pseudo6, sum16 } from "../packet/checksum.ts";
import { type Ipv6Info, parseIpv6 } from "../packet/ipv6.ts";
import { validateL4 } from "../packet/l4.ts";
import { ICMP4, ICMP6, ICMP6_PARAM, IPPROTO, isIcmp6Error } from "../packet/proto.ts";
import { AX_ICMP_ERROR } from "./addr_xlat.ts";
import { VIA_RFC6052 } from "../addr/mapper.ts";
import {
  copyBytes,
  copyRun,
  get16,
  get32,
  halves,
  put16,
  put32,
  sumView,
  zeroBytes,
} from "./bytes.ts";
import type { XlatContext } from "./context.ts";
import { ICMP4_ERROR_MAX, putIcmpHeader, sendIcmp6Error } from "./icmp_error.ts";
import { icmpErr6to4, icmpInfo6to4, paramPtr6to4, UNMAPPED } from "./icmp_map.ts";
import { fail, innerV6toV4 } from "./inner.ts";
import { mtu4FromPtb, packetTooBigMtu } from "./mtu.ts";
import { DROP, SLOT } from "./stats.ts";

function drop(x: XlatContext, reason: number): void {
  x.stats.drop(reason, true);
}

/**
 * Translates the IPv6 packet b[0..len) and emits the IPv4 result into `out`. Returns
 * true when the emitted packet must be hairpinned (RFC 7757 4.2.2): it is the last one
 * committed and its destination is an IPv6 node of ours behind an EAM.
 */
export function translate64(
  x: XlatContext,
  b: Uint8Array,
  len: number,
  out: PacketBatch,
  now: number,
): boolean {
  const i = x.in6;
  const r = parseIpv6(b, len, i);
  if (r !== 0) return drop(x, r), false;
  const slot = out.reserve();
  if (slot < 0) return drop(x, DROP.no_output_space), false;
  const o = out.slots[slot];
  x.bindViews(b, out.views[slot]);

  const icmpError = i.proto === IPPROTO.ICMPV6 && i.fragOffset === 0 && i.l4Len >= 1 &&
    isIcmp6Error(b[i.l4Off]);
  let reason = checkProtocol64(b, i);
  if (reason === 0) reason = translateAddresses64(x, b, i, o, icmpError);
  if (reason === 0) reason = checkForwarding64(x, b, i, out, now, icmpError);
  if (reason !== 0) return drop(x, reason), false;

  let l4Out: number;
  if (i.proto === IPPROTO.ICMPV6) {
    l4Out = icmpError ? translateIcmpError64(x, b, i, o) : translateIcmpInfo64(b, i, o);
  } else if ((i.proto === IPPROTO.TCP || i.proto === IPPROTO.UDP) && i.fragOffset === 0) {
    l4Out = translateTcpUdp64(x, b, i, o);
  } else {
    copyBytes(o, 20, b, i.l4Off, i.l4Len);
    l4Out = i.l4Len;
  }
  if (l4Out < 0) return drop(x, -1 - l4Out), false;

  const total = 20 + l4Out;
  writeIpv4Header64(x, i, o, total);
  out.commit(total);
  x.stats.v[SLOT.out64Packets]++;
  x.stats.v[SLOT.out64Bytes] += total;
  if (!x.addr.intrinsicHairpin) return false;
  if (icmpError) return x.addr.isHairpin64(b, x.inner6.off + 8);
  // The destination went through RFC 6052 (not EAM) to an address an EAM maps back.
  return x.dstViaRfc6052 && x.addr.eam.size > 0 && x.addr.isEam4(get32(o, 16) | 0);
}

/** RFC 7915 5.2: fragmented ICMPv6 cannot be translated (its checksum covers it all). */
function checkProtocol64(b: Uint8Array, i: Ipv6Info): number {
  if (i.fragOff >= 0) {
    // RFC 8200 4.5: non-last fragments carry multiples of 8 bytes, none ends past 64 KiB.
    const data = i.off + 40 + i.payloadLen - (i.fragOff + 8);
    if ((i.mf && (data & 7) !== 0) || i.fragOffset + data > 0xffff) return DROP.bad_header;
  }
  if (i.proto === IPPROTO.ICMPV6) {
    if (i.mf || i.fragOffset !== 0) return DROP.fragmented_icmp;
    if (i.l4Len < 8) return DROP.truncated;
  } else if (i.proto === IPPROTO.ICMP) {
    return DROP.unsupported_protocol; // ICMPv4 inside IPv6 is not a thing
  } else if (i.fragOffset === 0 && (i.proto === IPPROTO.TCP || i.proto === IPPROTO.UDP)) {
    return validateL4(b, i.l4Off, i.l4Len, i.proto, !i.mf);
  }
  return 0;
}

/**
 * RFC 7915 5.1 Source/Destination Address via the mapper. An ICMPv6 error from a router
 * without an IPv4 form gets a source from the RFC 6791 pool (RFC 7915 5.1: "the
 * translator SHOULD use the RFC 6791 pool"), or the translator's own IPv4 address.
 */
function translateAddresses64(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv6Info,
  o: Uint8Array,
  icmpError: boolean,
): number {
  const f = icmpError ? AX_ICMP_ERROR : 0;
  // Addresses are kept as int32 bits: a uint32 from 2^31 up merged with a tagged value
  // would be boxed (one heap number per packet).
  const r = x.addr.v6to4(b, i.off + 8, true, f);
  let s = r | 0;
  if (r < 0) {
    if (!icmpError) return -1 - s;
    s = (x.pool4 !== null ? x.pool4.pick(b, i.off + 8) : x.icmpSrc4) | 0;
  }
  const d = x.addr.v6to4(b, i.off + 24, false, f);
  if (d < 0) return -1 - (d | 0);
  x.dstViaRfc6052 = x.addr.via === VIA_RFC6052;
  put32(o, 12, s);
  put32(o, 16, d | 0);
  x.addrSum4 = halves(s) + halves(d);
  return 0;
}

/** What a router checks before forwarding; a refused packet is answered with an error. */
function checkForwarding64(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv6Info,
  out: PacketBatch,
  now: number,
  icmpError: boolean,
): number {
  // RFC 7915 5.1 TTL: Hop Limit minus one; zero means ICMPv6 Time Exceeded (code 0).
  if (i.hopLimit <= 1) {
    sendIcmp6Error(x, b, i, ICMP6.TIME_EXCEEDED, 0, 0, out, now);
    return DROP.ttl_exceeded;
  }
  // RFC 7915 5.1: "If a Routing header with a non-zero Segments Left field is present,
  // then the packet MUST NOT be translated, and an ICMPv6 'parameter problem/erroneous
  // header field encountered' (Type 4, Code 0) error message, with the Pointer field
  // indicating the first byte of the Segments Left field, SHOULD be returned".
  // Hop-by-Hop, Destination Options and spent Routing headers are skipped (not translated).
  if (i.routingOff >= 0 && i.segmentsLeft !== 0) {
    const ptr = i.routingOff + 3 - i.off;
    sendIcmp6Error(x, b, i, ICMP6.PARAM_PROBLEM, ICMP6_PARAM.HEADER_FIELD, ptr, out, now);
    return DROP.routing_header;
  }
  // A packet whose IPv4 form exceeds the IPv4 next-hop MTU cannot be fragmented on the
  // way (IPv6 routers never fragment): answer Packet Too Big with the MTU it would need on
  // the IPv6 side (first fragments and whole packets only). ICMPv6 errors are cut instead.
  if (icmpError || 20 + i.l4Len <= x.opts.ipv4Mtu) return 0;
  if (i.fragOffset === 0) {
    const mtu = packetTooBigMtu(x.opts.ipv4Mtu + (i.fragOff >= 0 ? 8 : 0), x.opts.ipv6Mtu);
    sendIcmp6Error(x, b, i, ICMP6.PACKET_TOO_BIG, 0, mtu, out, now);
  }
  return DROP.too_big;
}

/**
 * RFC 7915 5.1 / 5.1.1: the IPv4 header. With a Fragment Header: Identification from
 * its low 16 bits, MF from M, DF clear, offset copied. Without: DF set when the packet
 * exceeds 1260 bytes, Identification generated. Options: none.
 */
function writeIpv4Header64(x: XlatContext, i: Ipv6Info, o: Uint8Array, total: number): void {
  o[0] = 0x45;
  o[1] = x.opts.resetTos ? x.opts.newTos : i.tc;
  put16(o, 2, total);
  if (i.fragOff >= 0) {
    put16(o, 4, i.fragId & 0xffff);
    put16(o, 6, (i.mf ? 0x2000 : 0) | (i.fragOffset >> 3));
  } else {
    put16(o, 4, x.nextIpId());
    put16(o, 6, total > 1260 ? 0x4000 : 0);
  }
  o[8] = i.hopLimit - 1;
  o[9] = i.proto === IPPROTO.ICMPV6 ? IPPROTO.ICMP : i.proto;
  // RFC 791 header checksum from the fields just written (addresses: their known sum),
  // not re-read from the buffer.
  const sum = ((o[0] << 8) | o[1]) + total + ((o[4] << 8) | o[5]) + ((o[6] << 8) | o[7]) +
    ((o[8] << 8) | o[9]) + x.addrSum4;
  const c = ~fold(sum) & 0xffff;
  o[10] = c >> 8;
  o[11] = c & 255;
}

/** RFC 7915 5.5: TCP/UDP checksums updated incrementally for the new pseudo-header. */
function translateTcpUdp64(x: XlatContext, b: Uint8Array, i: Ipv6Info, o: Uint8Array): number {
  const n = i.l4Len;
  copyRun(o, 20, x.ow, x.ob + 20, b, x.iw, x.ib + i.l4Off, n);
  const udp = i.proto === IPPROTO.UDP;
  const co = 20 + (udp ? 6 : 16);
  const old = get16(o, co);
  if (udp && old === 0) return n; // illegal in IPv6, "no checksum" in IPv4
  let c = adjust(old, sumView(x.iv, x.ib + i.off + 8, 8), fold(x.addrSum4));
  if (udp && c === 0) c = 0xffff;
  put16(o, co, c);
  return n;
}

/** RFC 7915 5.2: Echo Request/Reply become types 8/0; MLD, ND and others are dropped. */
function translateIcmpInfo64(b: Uint8Array, i: Ipv6Info, o: Uint8Array): number {
  const tc = icmpInfo6to4(b[i.l4Off]);
  if (tc === UNMAPPED) return fail(DROP.unsupported_icmp);
  const n = i.l4Len;
  copyBytes(o, 20, b, i.l4Off, n);
  const oldTc = get16(o, 20);
  put16(o, 20, tc);
  // ICMPv4 has no pseudo-header: take the ICMPv6 one out (RFC 4443 2.3).
  const oldSum = fold(oldTc + pseudo6(b, i.off + 8, i.off + 24, IPPROTO.ICMPV6, n));
  const c = adjust(get16(o, 22), oldSum, tc);
  // RFC 1624 eqn. 3 yields 0x0000 where an all-zero message needs 0xffff: recompute then.
  put16(o, 22, c !== 0 ? c : (put16(o, 22, 0), checksum(o, 20, n)));
  return n;
}

/**
 * RFC 7915 5.2/5.3: an ICMPv6 error becomes an ICMPv4 error: type/code mapped, MTU and
 * pointer adjusted, the quoted packet translated, RFC 4884 length attribute kept, the
 * result cut to 576 bytes, checksum recomputed (ICMPv4: no pseudo-header).
 */
function translateIcmpError64(x: XlatContext, b: Uint8Array, i: Ipv6Info, o: Uint8Array): number {
  const s = i.l4Off;
  const n = i.l4Len;
  if (sum16(b, s, n, pseudo6(b, i.off + 8, i.off + 24, IPPROTO.ICMPV6, n)) !== 0xffff) {
    return fail(DROP.bad_checksum);
  }
  const type = b[s], code = b[s + 1];
  const tc = icmpErr6to4(type, code);
  if (tc === UNMAPPED) return fail(DROP.unsupported_icmp);
  const t4 = tc >> 8;

  // RFC 4884 4.5: ICMPv6 Destination Unreachable and Time Exceeded carry the original
  // datagram length in 64-bit words in byte 4; extensions follow it.
  let quoteLen = n - 8;
  let extLen = 0;
  if (type === ICMP6.DEST_UNREACH || type === ICMP6.TIME_EXCEEDED) {
    const l = b[s + 4];
    if (l !== 0 && l * 8 <= n - 8) {
      quoteLen = l * 8;
      extLen = n - 8 - quoteLen;
    }
  }
  // RFC 1812 4.3.2.3: an ICMPv4 error should not exceed 576 bytes (Jool cuts translated
  // errors there too); the quoted IPv6 packet may have filled 1280.
  const max = ICMP4_ERROR_MAX - 28;
  const q = innerV6toV4(x, b, s + 8, quoteLen, o, 28, max);
  if (q < 0) return q;
  let body = q;

  let rest = 0;
  if (type === ICMP6.PACKET_TOO_BIG) {
    const m = mtu4FromPtb(get32(b, s + 4), x.inner6.fragOff >= 0, x.opts.ipv4Mtu, x.opts.ipv6Mtu);
    rest = m; // bytes 6-7: Next-Hop MTU (RFC 1191)
  } else if (t4 === ICMP4.PARAM_PROBLEM) {
    const ptr = paramPtr6to4(get32(b, s + 4));
    if (ptr === UNMAPPED) return fail(DROP.unsupported_icmp);
    rest = ptr << 24;
  }
  if (extLen > 0 && (t4 === ICMP4.DEST_UNREACH || t4 === ICMP4.TIME_EXCEEDED)) {
    // RFC 4884 4.5: ICMPv4 counts 32-bit words, padded to 128 bytes at least.
    const padded = Math.max(128, (q + 3) & ~3);
    if (padded + extLen <= max) {
      zeroBytes(o, 28 + q, padded - q);
      copyBytes(o, 28 + padded, b, s + 8 + quoteLen, extLen);
      body = padded + extLen;
      rest = (rest & 0xff00ffff) | ((padded >> 2) << 16);
    }
  }
  putIcmpHeader(o, 20, t4, tc & 255, rest);
  const plen = 8 + body;
  put16(o, 22, checksum(o, 20, plen));
  return plen;
}
