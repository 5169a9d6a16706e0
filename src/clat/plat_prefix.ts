// The control-plane side of the PLAT prefix: in clat mode, discovery (RFC 7050, RFC 7225,
// RFC 8781) whose answer is pushed to the running data path in place; on a PLAT,
// announcing pool6 in RAs with PREF64 (RFC 8781) on the configured LAN interfaces.
import type { Prefix6 } from "../addr/ip.ts";
import type { Config } from "../config/types.ts";
import type { DiscoveryStatus, RunningDiscovery } from "../discovery/discovery.ts";
import { startPref64Announcers } from "../discovery/ra_listener.ts";
import type { KernelRoute } from "../io/netconf.ts";
import type { XlatOptions } from "../xlat/options.ts";
import { hostFacts, prefixText, startPrefixDiscovery } from "./discovery_run.ts";
import { toClatEngineOptions } from "./options.ts";

export interface PrefixControlLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface PrefixControlStatus {
  readonly discovery?: DiscoveryStatus;
  readonly announcing?: {
    readonly interfaces: readonly string[];
    readonly prefix: string;
    readonly lifetimeS: number;
  };
}

export interface PrefixControl {
  /** The PLAT prefix in use (clat mode), or null. */
  current(): Prefix6 | null;
  status(): PrefixControlStatus;
  /** Engine options for `cfg` with the discovered prefix (config reloads). */
  optionsFor(cfg: Config): XlatOptions;
  /**
   * A reloaded config: a new pool6, lifetime or interface list restarts the announcers;
   * the old prefix is withdrawn first (an RA with lifetime 0, RFC 8781 5).
   */
  reload(cfg: Config): Promise<void>;
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
  let chain: Promise<void> = Promise.resolve();
  if (cfg.mode === "clat") {
    const host = await hostFacts(deps.readRoutes);
    discovery = startPrefixDiscovery(
      cfg,
      host,
      (p, all, source) => {
        current = p;
        const extra = all.length > 1
          ? ` (also known: ${all.slice(1).map(prefixText).join(", ")})`
          : "";
        log.info(`PLAT prefix now ${prefixText(p)}${source ? ` from ${source}` : ""}${extra}`);
        // In order, one at a time: a burst of changes ends in the last one.
        const opts = toClatEngineOptions(deps.config(), p);
        chain = chain.then(() => deps.apply(opts)).catch((e) =>
          log.error(`could not apply PLAT prefix ${prefixText(p)}: ${(e as Error).message}`)
        );
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
    status: () => ({
      ...(discovery ? { discovery: discovery.status() } : {}),
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
    optionsFor: (c) => toClatEngineOptions(c, current),
    async reload(c) {
      if (annKey(c) === annKey(announced)) return;
      const old: { stop(): Promise<void> } | null = announcer;
      announcer = null;
      await old?.stop();
      announce(c);
    },
    async stop() {
      await discovery?.stop();
      await announcer?.stop(); // sends the withdrawing RA (lifetime 0)
      await chain;
    },
  };
}
