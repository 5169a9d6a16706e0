// ICMP <-> ICMPv6 type/code and Parameter Problem pointer mapping (RFC 7915 4.2, 5.2).
// Results are packed as (type << 8) | code so the packet path allocates nothing; UNMAPPED
// means "silently drop" (the RFC's wording for every message without a counterpart).
import { ICMP4, ICMP4_UNREACH, ICMP6, ICMP6_PARAM, ICMP6_UNREACH } from "../packet/proto.ts";

export const UNMAPPED = -1;

/** RFC 7915 4.2: ICMPv4 query messages. Only Echo has an ICMPv6 counterpart. */
export function icmpInfo4to6(type: number): number {
  if (type === ICMP4.ECHO_REQUEST) return ICMP6.ECHO_REQUEST << 8;
  if (type === ICMP4.ECHO_REPLY) return ICMP6.ECHO_REPLY << 8;
  return UNMAPPED;
}

/** RFC 7915 5.2: ICMPv6 informational messages. MLD and ND are single-hop: dropped. */
export function icmpInfo6to4(type: number): number {
  if (type === ICMP6.ECHO_REQUEST) return ICMP4.ECHO_REQUEST << 8;
  if (type === ICMP6.ECHO_REPLY) return ICMP4.ECHO_REPLY << 8;
  return UNMAPPED;
}

// RFC 7915 4.2 "Destination Unreachable (Type 3)": ICMPv4 code -> packed ICMPv6 type/code.
const PTB = ICMP6.PACKET_TOO_BIG << 8;
const PARAM_NH = (ICMP6.PARAM_PROBLEM << 8) | ICMP6_PARAM.NEXT_HEADER;
const U6_NOROUTE = (ICMP6.DEST_UNREACH << 8) | ICMP6_UNREACH.NO_ROUTE;
const U6_ADMIN = (ICMP6.DEST_UNREACH << 8) | ICMP6_UNREACH.ADMIN_PROHIBITED;
const U6_PORT = (ICMP6.DEST_UNREACH << 8) | ICMP6_UNREACH.PORT;
const UNREACH4TO6: readonly number[] = [
  U6_NOROUTE, // 0 net unreachable
  U6_NOROUTE, // 1 host unreachable
  PARAM_NH, // 2 protocol unreachable: Parameter Problem code 1, pointer 6
  U6_PORT, // 3 port unreachable
  PTB, // 4 fragmentation needed and DF set
  U6_NOROUTE, // 5 source route failed
  U6_NOROUTE, // 6
  U6_NOROUTE, // 7
  U6_NOROUTE, // 8 source host isolated
  U6_ADMIN, // 9
  U6_ADMIN, // 10
  U6_NOROUTE, // 11
  U6_NOROUTE, // 12
  U6_ADMIN, // 13 communication administratively prohibited
  UNMAPPED, // 14 host precedence violation
  U6_ADMIN, // 15 precedence cutoff in effect
];

/** RFC 7915 4.2: ICMPv4 error messages -> packed ICMPv6 type/code, or UNMAPPED. */
export function icmpErr4to6(type: number, code: number): number {
  switch (type) {
    case ICMP4.DEST_UNREACH:
      return code < UNREACH4TO6.length ? UNREACH4TO6[code] : UNMAPPED;
    case ICMP4.TIME_EXCEEDED: // "Set the Type to 3, and copy the Code field"
      return (ICMP6.TIME_EXCEEDED << 8) | code;
    case ICMP4.PARAM_PROBLEM: // codes 0 and 2 map (pointer updated); code 1 and others drop
      return code === 0 || code === 2
        ? (ICMP6.PARAM_PROBLEM << 8) | ICMP6_PARAM.HEADER_FIELD
        : UNMAPPED;
    default: // Source Quench, Redirect, Alternative Host Address, unknown: drop
      return UNMAPPED;
  }
}

function unreach6to4(code: number): number {
  const U4 = ICMP4.DEST_UNREACH << 8;
  switch (code) {
    case ICMP6_UNREACH.NO_ROUTE:
    case ICMP6_UNREACH.BEYOND_SCOPE:
    case ICMP6_UNREACH.ADDRESS:
      return U4 | ICMP4_UNREACH.HOST;
    case ICMP6_UNREACH.ADMIN_PROHIBITED:
      return U4 | ICMP4_UNREACH.HOST_PROHIBITED;
    case ICMP6_UNREACH.PORT:
      return U4 | ICMP4_UNREACH.PORT;
    default: // 5 source policy, 6 reject route, unknown
      return UNMAPPED;
  }
}

/** RFC 7915 5.2: ICMPv6 error messages -> packed ICMPv4 type/code, or UNMAPPED. */
export function icmpErr6to4(type: number, code: number): number {
  const U4 = ICMP4.DEST_UNREACH << 8;
  switch (type) {
    case ICMP6.DEST_UNREACH:
      return unreach6to4(code);
    case ICMP6.PACKET_TOO_BIG:
      return U4 | ICMP4_UNREACH.FRAG_NEEDED;
    case ICMP6.TIME_EXCEEDED:
      return (ICMP4.TIME_EXCEEDED << 8) | code;
    case ICMP6.PARAM_PROBLEM:
      if (code === ICMP6_PARAM.HEADER_FIELD) return ICMP4.PARAM_PROBLEM << 8;
      if (code === ICMP6_PARAM.NEXT_HEADER) return U4 | ICMP4_UNREACH.PROTOCOL;
      return UNMAPPED; // code 2 (unrecognized option) and unknown codes
    default:
      return UNMAPPED;
  }
}

/** RFC 7915 4.2 Figure 3: ICMPv4 Parameter Problem pointer -> ICMPv6 pointer, or UNMAPPED. */
const PTR4TO6: readonly number[] = [
  0, // Version/IHL
  1, // Type Of Service
  4, // Total Length
  4,
  UNMAPPED, // Identification
  UNMAPPED,
  UNMAPPED, // Flags/Fragment Offset
  UNMAPPED,
  7, // Time to Live
  6, // Protocol
  UNMAPPED, // Header Checksum
  UNMAPPED,
  8, // Source Address
  8,
  8,
  8,
  24, // Destination Address
  24,
  24,
  24,
];
export function paramPtr4to6(ptr: number): number {
  return ptr < PTR4TO6.length ? PTR4TO6[ptr] : UNMAPPED;
}

/** RFC 7915 5.2 Figure 6: ICMPv6 Parameter Problem pointer -> ICMPv4 pointer, or UNMAPPED. */
export function paramPtr6to4(ptr: number): number {
  if (ptr === 0) return 0; // Version/Traffic Class
  if (ptr === 1) return 1; // Traffic Class/Flow Label
  if (ptr === 2 || ptr === 3) return UNMAPPED; // Flow Label
  if (ptr === 4 || ptr === 5) return 2; // Payload Length
  if (ptr === 6) return 9; // Next Header
  if (ptr === 7) return 8; // Hop Limit
  if (ptr < 24) return 12; // Source Address
  if (ptr < 40) return 16; // Destination Address
  return UNMAPPED;
}
