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
  const pool6 = cfg.translator.pool6;
  const ann = cfg.discovery.announcePref64;
  if (ann.length > 0 && pool6) {
    announcer = startPref64Announcers({
      interfaces: ann,
      pref64: [{ prefix: pool6, lifetimeS: cfg.discovery.pref64Lifetime }],
      onError: (ifname, e) => log.error(`PREF64 announcer on ${ifname}: ${(e as Error).message}`),
    });
    log.info(`announcing ${prefixText(pool6)} in RAs (PREF64, RFC 8781) on ${ann.join(", ")}`);
  }
  return {
    current: () => current,
    status: () => ({
      ...(discovery ? { discovery: discovery.status() } : {}),
      ...(announcer && pool6
        ? {
          announcing: {
            interfaces: [...ann],
            prefix: prefixText(pool6),
            lifetimeS: cfg.discovery.pref64Lifetime,
          },
        }
        : {}),
    }),
    optionsFor: (c) => toClatEngineOptions(c, current),
    async stop() {
      await discovery?.stop();
      await announcer?.stop(); // sends the withdrawing RA (lifetime 0)
      await chain;
    },
  };
}
