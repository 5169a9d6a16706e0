// The control-plane side of the PLAT prefix: in clat mode, discovery (RFC 7050, RFC 7225,
// RFC 8781) whose answer is pushed to the running data path in place; on a PLAT,
// announcing pool6 in RAs with PREF64 (RFC 8781) on the configured LAN interfaces.
import type { Prefix6 } from "../addr/ip.ts";
import type { Config } from "../config/types.ts";
import type { DiscoveryStatus, RunningDiscovery } from "../discovery/discovery.ts";
import { startPref64Announcers } from "../discovery/ra_listener.ts";
import type { KernelRoute } from "../io/netconf.ts";
import type { XlatOptions } from "../xlat/options.ts";
import {
  discoveryResolvers,
  hostFacts,
  prefixText,
  startPrefixDiscovery,
  upstreamQuery,
} from "./discovery_run.ts";
import { DynamicEam } from "./dynamic_eam.ts";
import { discoveryFamilies } from "./discovery_metrics.ts";
import type { MetricFamily } from "../status/metrics.ts";
import { lanPrefixes, toClatEngineOptions } from "./options.ts";
import { prefix4, prefix6 } from "../addr/ip.ts";

export interface PrefixControlLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface PrefixControlStatus {
  readonly discovery?: DiscoveryStatus;
  readonly dynamicEam?: readonly { name: string; ipv4: string; ipv6: string; expiresInS: number }[];
  readonly announcing?: {
    readonly interfaces: readonly string[];
    readonly prefix: string;
    readonly lifetimeS: number;
  };
}

export interface PrefixControl {
  /** The PLAT prefix in use (clat mode), or null. */
  current(): Prefix6 | null;
  /** Every prefix of the winning discovery source, the one in use first ([dns] aaaa-only-upstream). */
  known(): readonly Prefix6[];
  status(): PrefixControlStatus;
  /** Discovery in /metrics (clat mode; [] otherwise). */
  families(): MetricFamily[];
  /** Engine options for `cfg` with the discovered prefix (config reloads). */
  optionsFor(cfg: Config): XlatOptions;
  /**
   * A reloaded config: a new pool6, lifetime or interface list restarts the announcers;
   * the old prefix is withdrawn first (an RA with lifetime 0, RFC 8781 5).
   */
  reload(cfg: Config): Promise<void>;
  /**
   * A response the DNS proxy is about to send: clat.dynamic-eam learns from A answers and
   * resolves once a new mapping is in the data path (bounded wait).
   */
  observeDns(resp: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

export interface PrefixControlDeps {
  /** Push new engine options to the workers (in place: NAT44 state survives). */
  apply(options: XlatOptions): Promise<void>;
  /** Current config (reloads change it). */
  config(): Config;
  readRoutes(): Promise<KernelRoute[]>;
  log: PrefixControlLog;
}

/** Whether `cfg` needs a PrefixControl at all. */
export const needsPrefixControl = (cfg: Config): boolean =>
  cfg.mode === "clat" || (cfg.discovery.announcePref64.length > 0 && cfg.translator.pool6 !== null);

export async function startPrefixControl(
  cfg: Config,
  deps: PrefixControlDeps,
): Promise<PrefixControl> {
  const log = deps.log;
  let discovery: RunningDiscovery | null = null;
  let current: Prefix6 | null = null;
  let known: readonly Prefix6[] = [];
  let changes = 0;
  let chain: Promise<void> = Promise.resolve();
  let dyn: DynamicEam | null = null;
  // The engine options for a config: the PLAT prefix in use plus any dynamic mappings.
  const build = (c: Config): XlatOptions => {
    const o = toClatEngineOptions(c, current);
    return dyn ? { ...o, eam: [...o.eam, ...dyn.table.entries()] } : o;
  };
  const push = (why: string): Promise<void> => {
    const opts = build(deps.config());
    chain = chain.then(() => deps.apply(opts)).catch((e) =>
      log.error(`could not apply ${why}: ${(e as Error).message}`)
    );
    return chain;
  };
  if (cfg.mode === "clat") {
    const host = await hostFacts(deps.readRoutes);
    if (cfg.clat.dynamicEam) {
      const resolvers = discoveryResolvers(cfg, host.resolvConf);
      dyn = new DynamicEam(
        upstreamQuery(resolvers),
        () => {
          const c = deps.config();
          const cc = c.clat;
          return {
            // Never map over the CLAT's own addresses or configured mappings.
            reserved: [
              prefix4(cc.ipv4Address, 32),
              ...(cc.translationPrefix ? lanPrefixes(c) : []),
              ...c.translator.eam.map((e) => e.ipv4),
            ],
            synthesized: [
              ...(current ? [current] : []),
              ...c.translator.eam.map((e) => e.ipv6),
              ...(cc.translationPrefix ? [cc.translationPrefix] : []),
              ...(cc.ipv6Address ? [prefix6(cc.ipv6Address, 128)] : []),
            ],
          };
        },
        () => push("dynamic EAM"),
        { maxTtlS: cfg.clat.dynamicEamTtl, now: () => performance.now() / 1000 },
      );
      log.info(`dynamic EAM on: A answers with real AAAA map for up to ${cfg.clat.dynamicEamTtl}s`);
    }
    discovery = startPrefixDiscovery(
      cfg,
      host,
      (p, all, source) => {
        current = p;
        known = all;
        changes++;
        const extra = all.length > 1
          ? ` (also known: ${all.slice(1).map(prefixText).join(", ")})`
          : "";
        log.info(`PLAT prefix now ${prefixText(p)}${source ? ` from ${source}` : ""}${extra}`);
        // In order, one at a time: a burst of changes ends in the last one.
        void push(`PLAT prefix ${prefixText(p)}`);
      },
      (m, e) => log.warn(`discovery (${m}): ${e instanceof Error ? e.message : String(e)}`),
    );
  }
  let announcer: { stop(): Promise<void> } | null = null;
  let announced: Config = cfg;
  const annKey = (c: Config) =>
    JSON.stringify([
      c.discovery.announcePref64,
      prefixText(c.translator.pool6),
      c.discovery.pref64Lifetime,
    ]);
  const announce = (c: Config) => {
    announced = c;
    const pool6 = c.translator.pool6;
    const ann = c.discovery.announcePref64;
    if (ann.length === 0 || !pool6) return;
    announcer = startPref64Announcers({
      interfaces: ann,
      pref64: [{ prefix: pool6, lifetimeS: c.discovery.pref64Lifetime }],
      onError: (ifname, e) => log.error(`PREF64 announcer on ${ifname}: ${(e as Error).message}`),
    });
    log.info(`announcing ${prefixText(pool6)} in RAs (PREF64, RFC 8781) on ${ann.join(", ")}`);
  };
  announce(cfg);
  return {
    current: () => current,
    known: () => known,
    status: () => ({
      ...(discovery ? { discovery: discovery.status() } : {}),
      ...(dyn ? { dynamicEam: dyn.table.status() } : {}),
      ...(announcer
        ? {
          announcing: {
            interfaces: [...announced.discovery.announcePref64],
            prefix: prefixText(announced.translator.pool6),
            lifetimeS: announced.discovery.pref64Lifetime,
          },
        }
        : {}),
    }),
    families: () => discovery ? discoveryFamilies(discovery.status(), changes) : [],
    optionsFor: build,
    observeDns: (resp) => dyn ? dyn.observe(resp) : Promise.resolve(),
    async reload(c) {
      if (annKey(c) === annKey(announced)) return;
      const old: { stop(): Promise<void> } | null = announcer;
      announcer = null;
      await old?.stop();
      announce(c);
    },
    async stop() {
      dyn?.stop();
      await discovery?.stop();
      await announcer?.stop(); // sends the withdrawing RA (lifetime 0)
      await chain;
    },
  };
}
