// DNS counters and the upstream latency histogram, exported as Prometheus metric families
// for src/status (the supervisor registers `families` with MetricsRegistry.provide).
import { LATENCY_BUCKETS, type MetricFamily, type Sample } from "../status/metrics.ts";

export const UPSTREAM_FAILURES = [
  "timeout",
  "network",
  "mismatch",
  "malformed",
  "truncated_tcp",
  "servfail",
  "no_upstream",
] as const;
export type UpstreamFailure = typeof UPSTREAM_FAILURES[number];

export const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "A",
  2: "NS",
  5: "CNAME",
  6: "SOA",
  12: "PTR",
  15: "MX",
  16: "TXT",
  28: "AAAA",
  33: "SRV",
  43: "DS",
  48: "DNSKEY",
  64: "SVCB",
  65: "HTTPS",
  255: "ANY",
};

export const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

const SCALARS = [
  "synthesized",
  "synthesizedPtr",
  "aFromAaaa",
  "aFromAaaaFallbacks",
  "cacheHits",
  "cacheMisses",
  "refused",
  "rateLimited",
  "formerr",
  "dropped",
  "truncated",
  "fastPathAnswers",
  "cacheEntries",
  "latencySum",
  "latencyCount",
] as const;
type Scalar = typeof SCALARS[number];

export type DnsMetricsSnapshot = { [K in Scalar]: number } & {
  queries: number[];
  responses: number[];
  failures: [string, number][];
  latencyCounts: number[];
};

/** Query types counted by name; everything else is "other". */
const COUNTED_TYPES = Object.keys(TYPE_NAMES).map(Number);
const TYPE_SLOT = new Uint8Array(65536).fill(COUNTED_TYPES.length);
COUNTED_TYPES.forEach((t, i) => TYPE_SLOT[t] = i);
const TYPE_SLOTS = COUNTED_TYPES.length + 1;

export class DnsMetrics {
  /** [udp slots..., tcp slots...] by query type slot (arrays: no work per query beyond +1). */
  readonly queries = new Float64Array(TYPE_SLOTS * 2);
  /** By RCODE (0-15; extended RCODEs count under their low 4 bits). */
  readonly responses = new Float64Array(16);
  readonly failures = new Map<string, number>();
  synthesized = 0;
  synthesizedPtr = 0;
  /** A queries answered from the upstream DNS64's synthesized AAAA (RFC 8683 3.1.2). */
  aFromAaaa = 0;
  /** ... and those that went upstream as A after all. */
  aFromAaaaFallbacks = 0;
  cacheHits = 0;
  cacheMisses = 0;
  refused = 0;
  rateLimited = 0;
  formerr = 0;
  dropped = 0;
  truncated = 0;
  fastPathAnswers = 0;
  cacheEntries = 0;
  readonly latencyCounts = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  latencyCount = 0;

  /** Plain data for postMessage (the fast-path worker reports its counters this way). */
  snapshot(): DnsMetricsSnapshot {
    const { queries, responses, failures, latencyCounts, ...scalars } = this;
    return {
      ...scalars,
      queries: [...queries],
      responses: [...responses],
      failures: [...failures],
      latencyCounts: [...latencyCounts],
    };
  }

  /** Add another set of counters (a worker's snapshot) into this one. */
  add(s: DnsMetricsSnapshot): void {
    const sum = (m: Map<string, number>, kv: [string, number][]) => {
      for (const [k, v] of kv) m.set(k, (m.get(k) ?? 0) + v);
    };
    s.queries.forEach((v, i) => this.queries[i] += v);
    s.responses.forEach((v, i) => this.responses[i] += v);
    sum(this.failures, s.failures);
    s.latencyCounts.forEach((v, i) => this.latencyCounts[i] += v);
    for (const k of SCALARS) this[k] += s[k];
  }

  query(type: number, transport: "udp" | "tcp"): void {
    this.queries[TYPE_SLOT[type & 0xffff] + (transport === "tcp" ? TYPE_SLOTS : 0)]++;
  }
  response(rcode: number): void {
    this.responses[rcode & 0xf]++;
  }
  failure(reason: UpstreamFailure): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }
  upstreamLatency(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.latencyCounts[i]++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  families(): MetricFamily[] {
    const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({
      name,
      help,
      type: "counter",
      samples,
    });
    const one = (v: number): Sample[] => [{ labels: {}, value: v }];
    const hist: Sample[] = [];
    let cum = 0;
    for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
      cum += this.latencyCounts[i];
      const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : "+Inf";
      hist.push({ labels: { le }, value: cum, suffix: "_bucket" });
    }
    hist.push({ labels: {}, value: this.latencySum, suffix: "_sum" });
    hist.push({ labels: {}, value: this.latencyCount, suffix: "_count" });
    return [
      counter(
        "xlat64_dns_queries_total",
        "DNS queries received, by query type and transport.",
        [...this.queries].flatMap((v, i) => {
          if (v === 0) return [];
          const slot = i % TYPE_SLOTS;
          const type = slot < COUNTED_TYPES.length ? TYPE_NAMES[COUNTED_TYPES[slot]] : "other";
          return [{ labels: { type, transport: i < TYPE_SLOTS ? "udp" : "tcp" }, value: v }];
        }),
      ),
      counter(
        "xlat64_dns_responses_total",
        "DNS responses sent, by RCODE.",
        [...this.responses].flatMap((v, i) =>
          v === 0 ? [] : [{ labels: { rcode: RCODE_NAMES[i] ?? `RCODE${i}` }, value: v }]
        ),
      ),
      counter(
        "xlat64_dns64_synthesized_total",
        "Responses with synthesized AAAA records (RFC 6147).",
        one(this.synthesized),
      ),
      counter(
        "xlat64_dns64_ptr_synthesized_total",
        "PTR queries answered with a CNAME to in-addr.arpa (RFC 6147 5.3.1).",
        one(this.synthesizedPtr),
      ),
      counter(
        "xlat64_dns_a_from_aaaa_total",
        "A queries answered from the upstream DNS64's synthesized AAAA (RFC 8683 3.1.2).",
        one(this.aFromAaaa),
      ),
      counter(
        "xlat64_dns_a_from_aaaa_fallbacks_total",
        "A queries sent upstream as A: the AAAA answer held no synthesized address.",
        one(this.aFromAaaaFallbacks),
      ),
      counter("xlat64_dns_cache_hits_total", "Answers served from the cache.", one(this.cacheHits)),
      counter(
        "xlat64_dns_cache_misses_total",
        "Lookups not found in the cache.",
        one(this.cacheMisses),
      ),
      {
        name: "xlat64_dns_cache_entries",
        help: "Messages held in the caches.",
        type: "gauge",
        samples: one(this.cacheEntries),
      },
      counter(
        "xlat64_dns_refused_total",
        "Queries refused because the client is outside [dns] allow.",
        one(this.refused),
      ),
      counter(
        "xlat64_dns_rate_limited_total",
        "Queries dropped by the per-client rate limit.",
        one(this.rateLimited),
      ),
      counter(
        "xlat64_dns_formerr_total",
        "Malformed queries answered with FORMERR.",
        one(this.formerr),
      ),
      counter(
        "xlat64_dns_dropped_total",
        "Datagrams dropped without an answer (too short, or responses).",
        one(this.dropped),
      ),
      counter(
        "xlat64_dns_truncated_total",
        "UDP responses sent with TC=1 because they did not fit.",
        one(this.truncated),
      ),
      counter(
        "xlat64_dns_fast_path_answers_total",
        "Cache hits answered by the recvmmsg/sendmmsg worker.",
        one(this.fastPathAnswers),
      ),
      counter(
        "xlat64_dns_upstream_failures_total",
        "Upstream query attempts that failed, by reason.",
        [...this.failures].map(([reason, v]) => ({ labels: { reason }, value: v })),
      ),
      {
        name: "xlat64_dns_upstream_latency_seconds",
        help: "Time from sending an upstream query to its matching answer.",
        type: "histogram",
        samples: hist,
      },
    ];
  }
}
