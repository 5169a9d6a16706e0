// Protocol numbers, ICMP types and ethertypes the packet path names.

/** IANA "Assigned Internet Protocol Numbers" used by IPv4 Protocol / IPv6 Next Header. */
export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
} as const;

/** ICMPv4 types (RFC 792, RFC 1191, RFC 950). */
export const ICMP4 = {
  ECHO_REPLY: 0,
  DEST_UNREACH: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ALT_HOST_ADDR: 6,
  ECHO_REQUEST: 8,
  ROUTER_ADVERT: 9,
  ROUTER_SOLICIT: 10,
  TIME_EXCEEDED: 11,
  PARAM_PROBLEM: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
  INFO_REQUEST: 15,
  INFO_REPLY: 16,
  ADDR_MASK_REQUEST: 17,
  ADDR_MASK_REPLY: 18,
} as const;

/** ICMPv4 Destination Unreachable codes (RFC 792, RFC 1122, RFC 1812). */
export const ICMP4_UNREACH = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  SOURCE_ROUTE_FAILED: 5,
  NET_UNKNOWN: 6,
  HOST_UNKNOWN: 7,
  HOST_ISOLATED: 8,
  NET_PROHIBITED: 9,
  HOST_PROHIBITED: 10,
  NET_TOS: 11,
  HOST_TOS: 12,
  ADMIN_PROHIBITED: 13,
  PRECEDENCE_VIOLATION: 14,
  PRECEDENCE_CUTOFF: 15,
} as const;

/** ICMPv6 types (RFC 4443, RFC 4861, RFC 2710). */
export const ICMP6 = {
  DEST_UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAM_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  MLD_DONE: 132,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
} as const;

/** ICMPv6 Destination Unreachable codes (RFC 4443 3.1). */
export const ICMP6_UNREACH = {
  NO_ROUTE: 0,
  ADMIN_PROHIBITED: 1,
  BEYOND_SCOPE: 2,
  ADDRESS: 3,
  PORT: 4,
  SOURCE_POLICY: 5,
  REJECT_ROUTE: 6,
} as const;

/** ICMPv6 Parameter Problem codes (RFC 4443 3.4). */
export const ICMP6_PARAM = {
  HEADER_FIELD: 0,
  NEXT_HEADER: 1,
  OPTION: 2,
} as const;

/** Is this ICMPv4 type an error message (one that carries an inner packet)? */
export function isIcmp4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** RFC 4443 2.1: types 0-127 are errors. */
export function isIcmp6Error(type: number): boolean {
  return type < 128;
}

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100, // 802.1Q
  QINQ: 0x88a8, // 802.1ad
  QINQ_OLD: 0x9100,
  IPV6: 0x86dd,
} as const;

/** Header sizes without options/extensions. */
export const IPV4_HDR = 20;
export const IPV6_HDR = 40;
export const UDP_HDR = 8;
export const TCP_HDR = 20;
export const ICMP_HDR = 8;
export const FRAG6_HDR = 8;

/** IPv4 flag bits in the 16-bit flags/fragment-offset word (RFC 791 3.1). */
export const IPV4_DF = 0x4000;
export const IPV4_MF = 0x2000;
