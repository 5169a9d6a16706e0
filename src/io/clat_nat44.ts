// The single-address CLAT's NAT44 (RFC 8683 4.8: the NAT64 engine between two stateless
// hops) as /status, /metrics and `status --sessions` see it: the same polling as NAT64's
// tables (NatTables), under its own names.
import type { PerProto } from "../nat64/engine.ts";
import type { MetricFamily } from "../status/metrics.ts";
import type { SessionRow } from "../status/source.ts";
import { natTableFamilies, type NatTableNames, NatTables } from "./nat64_service.ts";
import type { WorkerPool } from "./worker_pool.ts";

export interface Nat44Status {
  /** Client address:port -> CLAT IPv4 address:port, per protocol. */
  readonly bindings: PerProto;
  readonly sessions: PerProto;
  /** Ports (ICMP identifiers) of the CLAT IPv4 address: bound and offered. */
  readonly ports: { readonly [P in keyof PerProto]: { used: number; total: number } };
  /** IPv4 clients holding a binding. */
  readonly clients: number;
  /** Packets refused for want of a binding (filled in by the supervisor from the drops). */
  readonly allocationFailures?: {
    readonly pool4Exhausted: number;
    readonly portLimit: number;
    readonly sessionLimit: number;
  };
}

export const NAT44_TABLES: NatTableNames = {
  bindings: [
    "xlat64_clat_nat44_bindings",
    "CLAT NAT44 bindings: client address:port -> CLAT IPv4 address:port (RFC 8683 4.8)",
  ],
  sessions: ["xlat64_clat_nat44_sessions", "CLAT NAT44 sessions"],
  ports: [
    "xlat64_clat_nat44_ports",
    "ports (ICMP identifiers) of the CLAT IPv4 address: used (bound) and total",
  ],
  hosts: ["xlat64_clat_nat44_clients", "IPv4 clients holding CLAT NAT44 state"],
};

export class ClatNat44 {
  readonly #tables: NatTables;

  constructor(pool: () => WorkerPool | null) {
    this.#tables = new NatTables(pool);
  }

  start(): Promise<void> {
    return this.#tables.start();
  }

  close(): void {
    this.#tables.stop();
  }

  sessions(limit: number): Promise<readonly SessionRow[]> {
    return this.#tables.sessions(limit);
  }

  /** For /metrics (the owner provides them: a reload may replace this object). */
  families(): MetricFamily[] {
    const g = this.#tables.gauges;
    return g ? natTableFamilies(g, NAT44_TABLES) : [];
  }

  /** Null until the worker has answered once. */
  status(): Nat44Status | null {
    const g = this.#tables.gauges;
    if (g === null) return null;
    const use = (p: keyof PerProto) => ({ used: g.pool4Used[p], total: g.pool4Capacity[p] });
    return {
      bindings: g.bibs,
      sessions: g.sessions,
      ports: { tcp: use("tcp"), udp: use("udp"), icmp: use("icmp") },
      clients: g.hosts,
    };
  }
}
