// Validator counters for /metrics: verdicts by state, bogus and insecure verdicts by
// reason, and the work done (upstream queries for DS/DNSKEY, cache hits).
import type { MetricFamily, Sample } from "../../status/metrics.ts";
import {
  BOGUS_REASONS,
  type BogusReason,
  INSECURE_REASONS,
  type InsecureReason,
} from "./reasons.ts";

const STATES = ["secure", "insecure", "bogus", "indeterminate"] as const;

export class ValidatorMetrics {
  readonly states: Record<typeof STATES[number], number> = {
    secure: 0,
    insecure: 0,
    bogus: 0,
    indeterminate: 0,
  };
  readonly bogus = new Map<BogusReason, number>(BOGUS_REASONS.map((r) => [r, 0]));
  readonly insecure = new Map<InsecureReason, number>(INSECURE_REASONS.map((r) => [r, 0]));
  queries = 0;
  keyCacheHits = 0;
  cachedVerdicts = 0;

  count(v: { state: typeof STATES[number]; reason?: string }): void {
    this.states[v.state]++;
    if (v.state === "bogus" && v.reason) {
      const r = v.reason as BogusReason;
      this.bogus.set(r, (this.bogus.get(r) ?? 0) + 1);
    } else if (v.state === "insecure" && v.reason) {
      const r = v.reason as InsecureReason;
      this.insecure.set(r, (this.insecure.get(r) ?? 0) + 1);
    }
  }

  families(): MetricFamily[] {
    const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({
      name,
      help,
      type: "counter",
      samples,
    });
    return [
      counter(
        "xlat64_dnssec_validations_total",
        "DNSSEC verdicts of the stub validator, by state (RFC 4035 4.3).",
        STATES.map((s) => ({ labels: { state: s }, value: this.states[s] })),
      ),
      counter(
        "xlat64_dnssec_bogus_total",
        "Bogus DNSSEC verdicts, by reason.",
        [...this.bogus].map(([reason, value]) => ({ labels: { reason }, value })),
      ),
      counter(
        "xlat64_dnssec_insecure_total",
        "Insecure DNSSEC verdicts with a known cause, by reason.",
        [...this.insecure].map(([reason, value]) => ({ labels: { reason }, value })),
      ),
      counter(
        "xlat64_dnssec_upstream_queries_total",
        "DS and DNSKEY queries the validator sent for the chain of trust.",
        [{ labels: {}, value: this.queries }],
      ),
      counter(
        "xlat64_dnssec_key_cache_hits_total",
        "Chain-of-trust steps answered from the validator's cache.",
        [{ labels: {}, value: this.keyCacheHits }],
      ),
    ];
  }
}
