// RFC 6146 3.4 Determining the Incoming Tuple: the 5-tuple (TCP, UDP) or 3-tuple (ICMP
// query) of a packet, seen as (host side, remote side). For an ICMP error it is the tuple
// of the packet inside, reversed; an ICMP error inside an ICMP error is dropped.
import { type Ipv4Info, parseIpv4 } from "../packet/ipv4.ts";
import { type Ipv6Info, parseIpv6 } from "../packet/ipv6.ts";
import { ICMP4, ICMP6, IPPROTO, isIcmp4Error, isIcmp6Error } from "../packet/proto.ts";
import { DROP } from "../xlat/stats.ts";
import type { AddressMapper } from "../addr/mapper.ts";
import { P_ICMP, P_TCP, P_UDP } from "./pool4.ts";

const rd16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const rd32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

export class Tuple {
  /** P_TCP, P_UDP or P_ICMP. */
  proto = 0;
  /** The packet is an ICMP error; the tuple is its inner packet's. */
  error = false;
  /** 6->4: offset of the IPv6 host's address in the packet. */
  hostOff = 0;
  /** The host side's port / identifier: IPv6 side (6->4) or pool4 side (4->6). */
  hostPort = 0;
  /** 4->6: the pool4 address (T). */
  local4 = 0;
  /** Remote IPv4 address (Z) and port (z); 0 for ICMP queries. */
  remote4 = 0;
  rport = 0;
  /** TCP flags of the outer packet (0 otherwise). */
  flags = 0;
}

/** A fragment proper (not an atomic fragment). */
export function fragmented6(i: Ipv6Info): boolean {
  return i.fragOff >= 0 && (i.mf || i.fragOffset !== 0);
}

function l4Proto(p: number): number {
  return p === IPPROTO.TCP ? P_TCP : p === IPPROTO.UDP ? P_UDP : -1;
}

/**
 * The tuple of the IPv6 packet parsed into `i` (b[0..]). Returns 0 or a DROP reason.
 * `inner` is scratch for an ICMPv6 error's inner packet; `map` gives the remote IPv4
 * address from the pool6 address (RFC 6052, with its checks).
 */
export function tuple6(
  b: Uint8Array,
  i: Ipv6Info,
  inner: Ipv6Info,
  map: AddressMapper,
  t: Tuple,
): number {
  // Later fragments are mapped by the engine's fragment table, not here.
  if (i.fragOffset !== 0) return DROP.nat64_fragment;
  if (fragmented6(i) && i.proto === IPPROTO.ICMPV6) return DROP.fragmented_icmp;
  const l4 = i.l4Off;
  t.flags = 0;
  t.error = false;
  const p = l4Proto(i.proto);
  if (p >= 0) {
    if (i.l4Len < (p === P_TCP ? 20 : 8)) return DROP.truncated;
    t.proto = p;
    t.hostOff = i.off + 8;
    t.hostPort = rd16(b, l4);
    t.rport = rd16(b, l4 + 2);
    if (p === P_TCP) t.flags = b[l4 + 13];
    return remote6(b, i.off + 24, map, t);
  }
  if (i.proto !== IPPROTO.ICMPV6) return DROP.unsupported_protocol;
  if (i.l4Len < 8) return DROP.truncated;
  const type = b[l4];
  t.proto = P_ICMP;
  if (type === ICMP6.ECHO_REQUEST || type === ICMP6.ECHO_REPLY) {
    t.hostOff = i.off + 8;
    t.hostPort = rd16(b, l4 + 4);
    t.rport = 0;
    return remote6(b, i.off + 24, map, t);
  }
  if (!isIcmp6Error(type)) return DROP.unsupported_icmp;
  t.error = true;
  const r = parseIpv6(b, i.l4Len - 8, inner, l4 + 8, true);
  if (r !== 0) return r;
  if (fragmented6(inner)) return DROP.nat64_fragment;
  const il4 = inner.l4Off;
  const ip = l4Proto(inner.proto);
  if (ip >= 0) {
    if (inner.l4Len < 4) return DROP.truncated;
    t.proto = ip;
    t.hostOff = inner.off + 24;
    t.hostPort = rd16(b, il4 + 2);
    t.rport = rd16(b, il4);
  } else if (inner.proto === IPPROTO.ICMPV6 && inner.l4Len >= 8) {
    const it = b[il4];
    if (it !== ICMP6.ECHO_REQUEST && it !== ICMP6.ECHO_REPLY) return DROP.unsupported_icmp;
    t.hostOff = inner.off + 24;
    t.hostPort = rd16(b, il4 + 4);
    t.rport = 0;
  } else {
    return inner.proto === IPPROTO.ICMPV6 ? DROP.truncated : DROP.unsupported_protocol;
  }
  return remote6(b, inner.off + 8, map, t);
}

function remote6(b: Uint8Array, off: number, map: AddressMapper, t: Tuple): number {
  const z = map.map6to4(b, off, false);
  if (z < 0) return -1 - z;
  t.remote4 = z;
  return 0;
}

/** The tuple of the IPv4 packet parsed into `i`. Returns 0 or a DROP reason. */
export function tuple4(b: Uint8Array, i: Ipv4Info, inner: Ipv4Info, t: Tuple): number {
  if (i.fragOffset !== 0) return DROP.nat64_fragment;
  if (i.isFragment && i.proto === IPPROTO.ICMP) return DROP.fragmented_icmp;
  const l4 = i.l4Off;
  t.flags = 0;
  t.error = false;
  const p = l4Proto(i.proto);
  if (p >= 0) {
    if (i.l4Len < (p === P_TCP ? 20 : 8)) return DROP.truncated;
    t.proto = p;
    t.local4 = i.dst;
    t.hostPort = rd16(b, l4 + 2);
    t.remote4 = i.src;
    t.rport = rd16(b, l4);
    if (p === P_TCP) t.flags = b[l4 + 13];
    return 0;
  }
  if (i.proto !== IPPROTO.ICMP) return DROP.unsupported_protocol;
  if (i.l4Len < 8) return DROP.truncated;
  const type = b[l4];
  t.proto = P_ICMP;
  if (type === ICMP4.ECHO_REQUEST || type === ICMP4.ECHO_REPLY) {
    t.local4 = i.dst;
    t.hostPort = rd16(b, l4 + 4);
    t.remote4 = i.src;
    t.rport = 0;
    return 0;
  }
  if (!isIcmp4Error(type)) return DROP.unsupported_icmp;
  t.error = true;
  const r = parseIpv4(b, i.l4Len - 8, inner, l4 + 8, true);
  if (r !== 0) return r;
  if (inner.isFragment && inner.fragOffset !== 0) return DROP.nat64_fragment;
  const il4 = inner.l4Off;
  t.local4 = inner.src;
  t.remote4 = inner.dst;
  const ip = l4Proto(inner.proto);
  if (ip >= 0) {
    if (inner.l4Len < 4) return DROP.truncated;
    t.proto = ip;
    t.hostPort = rd16(b, il4);
    t.rport = rd16(b, il4 + 2);
    return 0;
  }
  if (inner.proto === IPPROTO.ICMP && inner.l4Len >= 8) {
    const it = b[il4];
    if (it !== ICMP4.ECHO_REQUEST && it !== ICMP4.ECHO_REPLY) return DROP.unsupported_icmp;
    t.hostPort = rd16(b, il4 + 4);
    t.rport = 0;
    return 0;
  }
  return inner.proto === IPPROTO.ICMP ? DROP.truncated : DROP.unsupported_protocol;
}

export { rd32 };
