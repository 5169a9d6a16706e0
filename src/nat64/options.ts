// What the NAT64 engine needs beyond the translator's options, from [nat64].
import type { Prefix6 } from "../addr/ip.ts";
import type {
  Config,
  Nat64Config,
  PcpConfig,
  Pool4Entry,
  StaticBibEntry,
} from "../config/types.ts";
import { toXlatOptions } from "../config/xlat.ts";
import type { XlatOptions } from "../xlat/options.ts";
import { toClatEngineOptions } from "../clat/options.ts";
import { type Nat64Timeouts, timeoutsFromConfig } from "./timeouts.ts";

export interface Nat64Options {
  readonly pool4: readonly Pool4Entry[];
  readonly staticBib: readonly StaticBibEntry[];
  readonly timeouts: Nat64Timeouts;
  /** RFC 6888 REQ-4; 0: no limit. */
  readonly maxSessionsPerHost: number;
  /** RFC 6888 REQ-3 (dynamic BIB entries per IPv6 host); 0: no limit. */
  readonly maxPortsPerHost: number;
  readonly addressDependentFiltering: boolean;
  /** RFC 6146 3.5.2.2: drop unsolicited IPv4 SYNs at once instead of holding them 6 s. */
  readonly dropExternallyInitiatedTcp: boolean;
  /** Unsolicited IPv4 SYNs held at once (a bound on memory under a SYN flood). */
  readonly maxHeldSyns: number;
  /** Log one line per BIB/session creation and deletion (RFC 6888 REQ-12). */
  readonly logSessions: boolean;
  /** The PCP server's policy (RFC 6887), answered by the engine; null: no PCP server. */
  readonly pcp?: Nat64PcpOptions | null;
}

export interface Nat64PcpOptions {
  /** Client prefixes served; others get NOT_AUTHORIZED. */
  readonly allow: readonly Prefix6[];
  /** Seconds: bounds on granted MAP lifetimes. */
  readonly minLifetime: number;
  readonly maxLifetime: number;
}

/** The engine's options: the translator's plus [nat64]; structured-clonable for workers. */
export type Nat64EngineOptions = XlatOptions & { readonly nat64: Nat64Options };

export function nat64Options(c: Nat64Config, pcp: PcpConfig | null = null): Nat64Options {
  return {
    pool4: c.pool4,
    staticBib: c.bib,
    timeouts: timeoutsFromConfig(c),
    maxSessionsPerHost: c.maxSessionsPerHost,
    maxPortsPerHost: c.maxPortsPerHost,
    addressDependentFiltering: c.addressDependentFiltering,
    dropExternallyInitiatedTcp: c.dropExternallyInitiatedTcp,
    maxHeldSyns: 1024,
    logSessions: c.logSessions,
    pcp: pcp && pcp.listen.length > 0
      ? { allow: pcp.allow, minLifetime: pcp.minLifetime, maxLifetime: pcp.maxLifetime }
      : null,
  };
}

/** Options for createEngine("nat64", ...) from a whole config. */
export function toNat64EngineOptions(cfg: Config): Nat64EngineOptions {
  return { ...toXlatOptions(cfg), nat64: nat64Options(cfg.nat64, cfg.pcp) };
}

/** The options createEngine(cfg.mode, ...) needs for any mode (nat64/clat add a section). */
export function engineOptions(cfg: Config): XlatOptions | Nat64EngineOptions {
  if (cfg.mode === "clat") return toClatEngineOptions(cfg);
  return cfg.mode === "nat64" ? toNat64EngineOptions(cfg) : toXlatOptions(cfg);
}
