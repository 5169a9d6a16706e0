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
  queries: [string, number][];
  responses: [string, number][];
  failures: [string, number][];
  latencyCounts: number[];
};

export class DnsMetrics {
  /** key: "type\0transport" */
  readonly queries = new Map<string, number>();
  readonly responses = new Map<string, number>();
  readonly failures = new Map<string, number>();
  synthesized = 0;
  synthesizedPtr = 0;
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
    sum(this.queries, s.queries);
    sum(this.responses, s.responses);
    sum(this.failures, s.failures);
    s.latencyCounts.forEach((v, i) => this.latencyCounts[i] += v);
    for (const k of SCALARS) this[k] += s[k];
  }

  query(type: number, transport: "udp" | "tcp"): void {
    const k = `${TYPE_NAMES[type] ?? "other"}\0${transport}`;
    this.queries.set(k, (this.queries.get(k) ?? 0) + 1);
  }
  response(rcode: number): void {
    const k = RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
    this.responses.set(k, (this.responses.get(k) ?? 0) + 1);
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
        [...this.queries].map(([k, v]) => {
          const [type, transport] = k.split("\0");
          return { labels: { type, transport }, value: v };
        }),
      ),
      counter(
        "xlat64_dns_responses_total",
        "DNS responses sent, by RCODE.",
        [...this.responses].map(([rcode, v]) => ({ labels: { rcode }, value: v })),
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
