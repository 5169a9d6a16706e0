// MTU arithmetic for Packet Too Big / Fragmentation Needed (RFC 7915 4.2, 5.2, 6;
// RFC 1191 7.1 plateaus). IPv6 headers are 20 bytes longer than IPv4 headers; a Fragment
// Header adds 8 more.

export const IPV6_MIN_MTU = 1280;
export const IPV4_MIN_MTU = 68;

/** RFC 1191 7.1 table of MTU plateaus, largest first. */
export const RFC1191_PLATEAUS: readonly number[] = [
  65535,
  32000,
  17914,
  8166,
  4352,
  2002,
  1492,
  1006,
  508,
  296,
  68,
];

/**
 * RFC 1191 5: a router that does not implement RFC 1191 sends MTU 0; guess the path MTU
 * as the greatest plateau below the Total Length of the packet that did not fit.
 */
export function plateauBelow(plateaus: readonly number[], totalLength: number): number {
  let best = 0;
  for (let i = 0; i < plateaus.length; i++) {
    const p = plateaus[i];
    if (p < totalLength && p > best) best = p;
  }
  return best;
}

/**
 * RFC 7915 4.2 (Fragmentation Needed -> Packet Too Big): "minimum(advertised MTU+20,
 * MTU_of_IPv6_nexthop, (MTU_of_IPv4_nexthop)+20)", with plateaus for MTU 0, and never
 * below 1280 (RFC 7915 6: IPv6 nodes need not accept a smaller MTU).
 */
export function mtu6FromFragNeeded(
  advertised: number,
  innerTotalLength: number,
  ipv6Mtu: number,
  ipv4Mtu: number,
  plateaus: readonly number[],
): number {
  let mtu = advertised;
  if (mtu === 0) mtu = plateauBelow(plateaus, innerTotalLength);
  if (mtu === 0) mtu = IPV6_MIN_MTU - 20;
  const r = Math.min(mtu + 20, ipv6Mtu, ipv4Mtu + 20);
  return r < IPV6_MIN_MTU ? IPV6_MIN_MTU : r;
}

/**
 * RFC 7915 5.2 (Packet Too Big -> Fragmentation Needed): "minimum(advertised MTU-20,
 * MTU_of_IPv4_nexthop, (MTU_of_IPv6_nexthop)-20)", taking into account whether the packet
 * in error carried a Fragment Header (then its IPv4 form is 28 bytes shorter, not 20).
 */
export function mtu4FromPtb(
  advertised: number,
  innerHadFragHeader: boolean,
  ipv4Mtu: number,
  ipv6Mtu: number,
): number {
  const d = innerHadFragHeader ? 28 : 20;
  const r = Math.min(advertised - d, ipv4Mtu, ipv6Mtu - d);
  if (r < IPV4_MIN_MTU) return IPV4_MIN_MTU;
  return r > 0xffff ? 0xffff : r;
}

/** MTU to advertise in a Fragmentation Needed the translator itself sends (4->6 too big). */
export function fragNeededMtu(ipv6Mtu: number, ipv4Mtu: number, addsFragHeader: boolean): number {
  const r = Math.min(ipv6Mtu - (addsFragHeader ? 28 : 20), ipv4Mtu);
  return r < IPV4_MIN_MTU ? IPV4_MIN_MTU : r > 0xffff ? 0xffff : r;
}

/** MTU to advertise in a Packet Too Big the translator itself sends (6->4 too big). */
export function packetTooBigMtu(ipv4Mtu: number, ipv6Mtu: number): number {
  const r = Math.min(ipv4Mtu + 20, ipv6Mtu);
  return r < IPV6_MIN_MTU ? IPV6_MIN_MTU : r;
}

/**
 * RFC 7915 4.1: largest IPv6 fragment payload (a multiple of 8) so that each fragment
 * (40-byte header + 8-byte Fragment Header + payload) fits `mtu`.
 */
export function fragmentPayloadSize(mtu: number): number {
  return (mtu - 48) & ~7;
}
