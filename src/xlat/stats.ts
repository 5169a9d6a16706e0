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
  drops(reason: DropReason, v6in: boolean): number {
    return this.v[FIXED + (v6in ? DROP_REASONS.length : 0) + DROP[reason] - 1];
  }
  /** Add another worker's counters (for aggregation on the main thread). */
  addFrom(o: Stats): void {
    for (let i = 0; i < STATS_LEN; i++) this.v[i] += o.v[i];
  }
}
