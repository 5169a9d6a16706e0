// Data-path counters in one Float64Array (exact to 2^53), so a worker can count into a
// SharedArrayBuffer that the main thread reads without stopping the data path.

/** Every reason a packet can be dropped. Names are the `reason` label in /metrics. */
export const DROP_REASONS = [
  "truncated",
  "bad_version",
  "bad_header",
  "bad_checksum",
  "ttl_exceeded",
  "untranslatable_src",
  "untranslatable_dst",
  "denylisted",
  "wkp_non_global",
  "unsupported_protocol",
  "unsupported_icmp",
  "fragmented_icmp",
  "udp_zero_checksum",
  "routing_header",
  "source_route",
  "too_big",
  "icmp_error_rate",
  "no_output_space",
  "internal_error",
  // Stateful NAT64 (src/nat64, RFC 6146 / RFC 6888).
  "no_bib", // IPv4 packet (or ICMP error) to a transport address with no BIB entry
  "no_session", // TCP non-SYN or ICMP error without a session
  "pool4_exhausted", // no free IPv4 transport address (RFC 6146 3.5.1)
  "port_limit", // the IPv6 host holds its maximum of ports (RFC 6888 REQ-3)
  "session_limit", // the IPv6 host holds its maximum of sessions (RFC 6888 REQ-4)
  "filtered", // address-dependent filtering (RFC 6146 3.5.1, RFC 4787)
  "syn_timeout", // an unsolicited IPv4 SYN held 6 s without an IPv6 SYN (RFC 6146 3.5.2.2)
  "syn_hold_full", // no room to hold another unsolicited IPv4 SYN
  "nat64_fragment", // fragmented TCP/UDP: no reassembly in the NAT64
] as const;
export type DropReason = typeof DROP_REASONS[number];
/** Reason codes start at 1 so that checks can return `0 | DROP.x` with 0 meaning "pass". */
export const DROP: { readonly [K in DropReason]: number } = Object.fromEntries(
  DROP_REASONS.map((r, i) => [r, i + 1]),
) as { [K in DropReason]: number };

/** Fixed slots before the per-reason drop counters. */
export const SLOT = {
  in46Packets: 0, // IPv4 packets received for 4->6
  in46Bytes: 1,
  out46Packets: 2, // IPv6 packets emitted by 4->6
  out46Bytes: 3,
  in64Packets: 4,
  in64Bytes: 5,
  out64Packets: 6,
  out64Bytes: 7,
  icmpErrorsSent: 8, // ICMP errors the translator generated itself
  drops46: 9, // totals per direction
  drops64: 10,
} as const;
const FIXED = 11;
export const STATS_LEN = FIXED + 2 * DROP_REASONS.length;

export class Stats {
  readonly v: Float64Array;
  constructor(buf: ArrayBufferLike = new ArrayBuffer(STATS_LEN * 8)) {
    this.v = new Float64Array(buf, 0, STATS_LEN);
  }
  /** Count a drop (`reason` is a DROP code, >= 1); `v6in`: the dropped packet was IPv6. */
  drop(reason: number, v6in: boolean): void {
    this.v[v6in ? SLOT.drops64 : SLOT.drops46]++;
    this.v[FIXED + (v6in ? DROP_REASONS.length : 0) + reason - 1]++;
  }
  /**
   * Count under a drop reason without adding to the direction total: for something that
   * is not a received packet, e.g. an ICMP error the rate limiter suppressed (the packet
   * that caused it is already counted under its own reason).
   */
  suppressed(reason: number, v6in: boolean): void {
    this.v[FIXED + (v6in ? DROP_REASONS.length : 0) + reason - 1]++;
  }
  drops(reason: DropReason, v6in: boolean): number {
    return this.v[FIXED + (v6in ? DROP_REASONS.length : 0) + DROP[reason] - 1];
  }
  /** Add another worker's counters (for aggregation on the main thread). */
  addFrom(o: Stats): void {
    for (let i = 0; i < STATS_LEN; i++) this.v[i] += o.v[i];
  }
}
