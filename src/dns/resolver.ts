// Lookup through the message cache to the upstream client, with in-flight coalescing:
// concurrent identical lookups share one upstream query.
import type { MessageCache } from "./cache.ts";
import type { Lookup, LookupFlags } from "./dns64.ts";
import type { DnsMetrics } from "./metrics.ts";
import type { UpstreamClient } from "./upstream.ts";
import { canonicalName, type Message } from "./wire.ts";

export class CachingResolver {
  private readonly inflight = new Map<string, Promise<Message | null>>();

  constructor(
    private readonly upstream: Pick<UpstreamClient, "query">,
    readonly cache: MessageCache,
    private readonly metrics: DnsMetrics,
    private readonly now: () => number,
  ) {}

  readonly lookup: Lookup = (name: string, type: number, flags: LookupFlags) => {
    const key = `${canonicalName(name)}/${type}/${flags.dnssecOk ? 1 : 0}${
      flags.checkingDisabled ? 1 : 0
    }`;
    const hit = this.cache.get(key, this.now());
    if (hit) {
      this.metrics.cacheHits++;
      return Promise.resolve(hit);
    }
    this.metrics.cacheMisses++;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.upstream.query({ name, type, ...flags }).then((m) => {
      if (m) this.cache.put(key, m, this.now());
      return m;
    }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  };
}
