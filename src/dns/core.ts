// Wiring of the sans-I/O parts into one query handler: upstream client -> message cache
// -> DNS64 -> handler with its response cache. The main thread and the fast-path worker
// each build one (their caches are separate).
import type { Prefix6 } from "../addr/ip.ts";
import { MessageCache, ResponseCache } from "./cache.ts";
import { type AnswerValidator, Dns64 } from "./dns64.ts";
import { type HandlerDeps, QueryHandler } from "./handler.ts";
import { DnsMetrics } from "./metrics.ts";
import type { Dns64Options, DnsOptions } from "./options.ts";
import { CachingResolver } from "./resolver.ts";
import { UpstreamClient } from "./upstream.ts";
import { createValidation, type ValidationSetup } from "./validator/lookup.ts";
import type { Validator } from "./validator/validator.ts";

export interface DnsCore {
  readonly handler: QueryHandler;
  readonly deps: HandlerDeps;
  readonly metrics: DnsMetrics;
  readonly messages: MessageCache;
  readonly responses: ResponseCache;
  /** The stub validator ([validator] enabled), RFC 8683 4.1.3. */
  readonly validator?: Validator;
}

export function buildCore(
  dns: DnsOptions,
  dns64Opts: Dns64Options,
  validator?: AnswerValidator,
  validation?: ValidationSetup,
  platPrefixes?: () => readonly Prefix6[],
): DnsCore {
  const metrics = new DnsMetrics();
  const now = () => Date.now();
  const upstream = new UpstreamClient({
    servers: dns.upstream,
    timeoutMs: dns.upstreamTimeoutMs,
    attempts: dns.upstreamAttempts,
    udpSize: dns.ednsUdpSize,
  }, metrics);
  const messages = new MessageCache(dns.cacheMaxEntries, dns.cacheMaxBytes / 2, dns.cacheMaxTtl);
  const resolver = new CachingResolver(upstream, messages, metrics, now);
  // With validation on, DNS64 and forwarding see only validated data (RFC 8683 4.1.3).
  const v = validation ? createValidation(resolver.lookup, validation, now) : null;
  const lookup = v?.lookup ?? resolver.lookup;
  const dns64 = new Dns64(dns64Opts, lookup, v?.validator ?? validator ?? null);
  const responses = new ResponseCache(dns.cacheMaxEntries, dns.cacheMaxBytes / 2);
  const deps: HandlerDeps = { dns, dns64, lookup, metrics, responses, now, platPrefixes };
  const handler = new QueryHandler(deps);
  return { handler, deps, metrics, messages, responses, validator: v?.validator };
}
