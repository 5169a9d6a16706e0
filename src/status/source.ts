// What the status endpoint reads from the running appliance. The supervisor implements
// this; everything is read at request time so values are always current.
import type { Prefix6 } from "../addr/ip.ts";
import type { Stats } from "../xlat/stats.ts";
import type { EamEntry } from "../xlat/options.ts";
import type { MetricsRegistry } from "./metrics.ts";

export type Mode = "siit" | "nat64" | "clat" | "none";
export type WorkerState = "starting" | "running" | "stopping" | "stopped" | "failed";

export interface WorkerInfo {
  readonly id: number;
  readonly state: WorkerState;
  /** TUN queue index the worker drains, when it has one. */
  readonly queue?: number;
  /** Why a worker failed or stopped, for people reading /status. */
  readonly detail?: string;
}

/** A row of a table the appliance keeps (NAT64 sessions, BIB); shown by `status --sessions`. */
export type SessionRow = Readonly<Record<string, string | number>>;

export interface StatusSource {
  readonly version: string;
  readonly startedAt: Date;
  readonly mode: Mode;
  /** Translation prefixes in use (pool6, or the discovered PLAT prefix). */
  prefixes(): readonly Prefix6[];
  eam(): readonly EamEntry[];
  workers(): readonly WorkerInfo[];
  /** Counters summed over all workers. */
  stats(): Stats;
  /** Metrics other parts register (DNS latency, NAT64 tables). */
  readonly metrics?: MetricsRegistry;
  /** Up to `limit` session rows; absent (or undefined) when the mode has no sessions. */
  sessions?(
    limit: number,
  ): readonly SessionRow[] | Promise<readonly SessionRow[]> | undefined;
  /** NAT64 tables (BIB, sessions, pool4 use, allocation failures); null outside nat64. */
  nat64Status?(): unknown;
  /** The single-address CLAT's NAT44 tables; null otherwise. */
  nat44Status?(): unknown;
  /** Prefix discovery and PREF64 announcing (null or absent: not running). */
  discovery?(): unknown;
  /** Overrides the default health rule (every worker running). */
  healthy?(): boolean;
}

/** Healthy when every worker runs; a mode with a translator needs at least one. */
export function isHealthy(src: StatusSource): boolean {
  if (src.healthy) return src.healthy();
  const ws = src.workers();
  if (ws.length === 0) return src.mode === "none";
  return ws.every((w) => w.state === "running");
}
