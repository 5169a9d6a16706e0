// The control-plane side of the stateful NAT64: state across restarts (a snapshot loaded
// before the first packet, written every snapshot-interval and on shutdown, atomically),
// the PCP server (RFC 6887/7225; datagrams are answered by the worker that holds the
// BIB), and the NAT64 tables for /status, /metrics and `status --sessions`.
import { dirname } from "node:path";
import type { Config } from "../config/types.ts";
import { type RunningPcpServer, startPcpServer } from "../discovery/pcp_udp.ts";
import type { Logger } from "../log.ts";
import type { Nat64Gauges, PerProto } from "../nat64/engine.ts";
import type { SessionRow } from "../nat64/session_rows.ts";
import type { MetricFamily, MetricsRegistry } from "../status/metrics.ts";
import { readSnapshotFile, writeSnapshotFile } from "./nat64_snapshot_file.ts";
import type { WorkerPool } from "./worker_pool.ts";

const PROTOS = ["tcp", "udp", "icmp"] as const;
/** How often the tables' sizes are fetched from the worker for /metrics and /status. */
export const GAUGE_INTERVAL_MS = 1000;

export interface Nat64Status {
  readonly bibEntries: PerProto;
  readonly sessions: PerProto;
  readonly pool4: { readonly [P in keyof PerProto]: { used: number; total: number } };
  /** Packets refused for want of a binding (RFC 6146 3.5.1; RFC 6888 REQ-3/4 limits). */
  readonly allocationFailures?: {
    readonly pool4Exhausted: number;
    readonly portLimit: number;
    readonly sessionLimit: number;
  };
  readonly hosts: number;
  readonly heldSyns: number;
  readonly pcpMappings: number;
  readonly snapshot: {
    readonly file: string | null;
    readonly writes: number;
    readonly failures: number;
    readonly lastWrite: string | null;
    readonly restored: unknown;
  };
  readonly pcp: { readonly listen: readonly string[]; readonly requests: number };
}

/** Reads the snapshot to restore, if one is configured and present; never throws. */
export async function loadNat64Snapshot(cfg: Config, log: Logger): Promise<Uint8Array | undefined> {
  const path = cfg.mode === "nat64" ? cfg.nat64.snapshotFile : null;
  if (path === null) return undefined;
  try {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (e) {
    log.warn(`nat64 snapshot: cannot create ${dirname(path)}: ${(e as Error).message}`);
  }
  try {
    const bytes = await readSnapshotFile(path);
    if (bytes === null) log.info(`nat64 snapshot: ${path} does not exist yet; starting empty`);
    return bytes ?? undefined;
  } catch (e) {
    log.warn(`nat64 snapshot: cannot read ${path}: ${(e as Error).message}; starting empty`);
    return undefined;
  }
}

/**
 * The NAT tables of the first data-path worker (NAT64, or the single-address CLAT's
 * NAT44): sizes fetched every GAUGE_INTERVAL_MS for /metrics and /status, session rows
 * on demand. Both engines answer the same "gauges" and "sessions" requests.
 */
export class NatTables {
  #gauges: Nat64Gauges | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly pool: () => WorkerPool | null) {}

  /** The last sizes fetched; null before the first answer. */
  get gauges(): Nat64Gauges | null {
    return this.#gauges;
  }

  async start(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.refresh(), GAUGE_INTERVAL_MS);
    await this.refresh();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async refresh(): Promise<void> {
    const w = this.pool()?.first();
    if (!w) return;
    try {
      this.#gauges = await w.request({ op: "gauges" }, 2000) as Nat64Gauges;
    } catch {
      // The worker is stopping or busy; keep the last values.
    }
  }

  /** Up to `limit` session rows from the worker. */
  async sessions(limit: number): Promise<readonly SessionRow[]> {
    const w = this.pool()?.first();
    if (!w) return [];
    return await w.request({ op: "sessions", limit }) as SessionRow[];
  }
}

/** Metric names and help texts for one NAT's tables. */
export interface NatTableNames {
  readonly bindings: readonly [string, string];
  readonly sessions: readonly [string, string];
  readonly ports: readonly [string, string];
  readonly hosts: readonly [string, string];
}

/** Per-protocol bindings, sessions and port use, and the host count, as gauges. */
export function natTableFamilies(g: Nat64Gauges, n: NatTableNames): MetricFamily[] {
  const perProto = ([name, help]: readonly [string, string], v: PerProto): MetricFamily => ({
    name,
    help,
    type: "gauge",
    samples: PROTOS.map((p) => ({ labels: { protocol: p }, value: v[p] })),
  });
  return [
    perProto(n.bindings, g.bibs),
    perProto(n.sessions, g.sessions),
    {
      name: n.ports[0],
      help: n.ports[1],
      type: "gauge",
      samples: PROTOS.flatMap((p) => [
        { labels: { protocol: p, state: "used" }, value: g.pool4Used[p] },
        { labels: { protocol: p, state: "total" }, value: g.pool4Capacity[p] },
      ]),
    },
    one(n.hosts[0], n.hosts[1], "gauge", g.hosts),
  ];
}

const NAT64_TABLES: NatTableNames = {
  bindings: ["xlat64_nat64_bib_entries", "NAT64 BIB entries (RFC 6146)"],
  sessions: ["xlat64_nat64_sessions", "NAT64 sessions (RFC 6146)"],
  ports: [
    "xlat64_nat64_pool4_ports",
    "pool4 transport addresses (ports, ICMP identifiers): used (bound) and total",
  ],
  hosts: ["xlat64_nat64_hosts", "IPv6 hosts holding NAT64 state"],
};

export class Nat64Service {
  #cfg: Config;
  readonly #tables: NatTables;
  #snapTimer: ReturnType<typeof setInterval> | undefined;
  #writing: Promise<void> | null = null;
  #pcp: RunningPcpServer | null = null;
  #pcpKey = "";
  #writes = 0;
  #failures = 0;
  #lastWrite: Date | null = null;
  #pcpRequests = 0;
  #closed = false;

  constructor(
    cfg: Config,
    readonly pool: () => WorkerPool | null,
    readonly log: Logger,
    metrics: MetricsRegistry,
  ) {
    this.#cfg = cfg;
    this.#tables = new NatTables(pool);
    metrics.provide(() => this.#families());
  }

  /** Starts the timers and the PCP server; call once the workers run. */
  async start(): Promise<void> {
    const w = this.pool()?.first();
    const r = w?.restored;
    if (r) {
      if (r.ok) this.log.info(`nat64 snapshot restored: ${JSON.stringify(r.detail)}`);
      else this.log.warn(`nat64 snapshot not restored (starting empty): ${r.detail}`);
    }
    await this.#tables.start();
    this.#schedule();
    await this.#startPcp();
  }

  /** SIGHUP: snapshot file/interval and PCP listeners follow the new config. */
  async reconfigure(cfg: Config): Promise<void> {
    this.#cfg = cfg;
    this.#schedule();
    await this.#startPcp();
  }

  /** Shutdown: stop PCP, write a last snapshot while the worker still runs. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tables.stop();
    clearInterval(this.#snapTimer);
    await this.#pcp?.close();
    this.#pcp = null;
    await this.#writing;
    if (this.#cfg.nat64.snapshotFile !== null) await this.writeSnapshot();
  }

  #schedule(): void {
    clearInterval(this.#snapTimer);
    this.#snapTimer = undefined;
    if (this.#cfg.nat64.snapshotFile === null) return;
    this.#snapTimer = setInterval(() => {
      if (this.#writing === null) this.writeSnapshot();
    }, this.#cfg.nat64.snapshotInterval * 1000);
  }

  /** Asks the worker for its state and writes it atomically; failures are logged. */
  writeSnapshot(): Promise<void> {
    const path = this.#cfg.nat64.snapshotFile;
    const w = this.pool()?.first();
    if (path === null || !w) return Promise.resolve();
    const run = (async () => {
      const t0 = performance.now();
      try {
        const bytes = await w.request({ op: "snapshot" }) as Uint8Array;
        await writeSnapshotFile(path, bytes);
        this.#writes++;
        this.#lastWrite = new Date();
        this.log.debug(
          `nat64 snapshot: ${bytes.length} bytes to ${path} in ${
            (performance.now() - t0).toFixed(1)
          } ms`,
        );
      } catch (e) {
        this.#failures++;
        this.log.warn(`nat64 snapshot: cannot write ${path}: ${(e as Error).message}`);
      }
    })();
    this.#writing = run.finally(() => this.#writing = null);
    return this.#writing;
  }

  async #startPcp(): Promise<void> {
    const listen = this.#cfg.pcp.listen;
    const key = JSON.stringify(listen);
    if (key === this.#pcpKey && (this.#pcp !== null || listen.length === 0)) return;
    await this.#pcp?.close();
    this.#pcp = null;
    this.#pcpKey = key;
    if (listen.length === 0 || this.#closed) return;
    if (this.#cfg.pcp.allow.length === 0) {
      this.log.warn("PCP: pcp.allow is empty, so every request gets NOT_AUTHORIZED");
    }
    try {
      this.#pcp = startPcpServer(
        { handle: (datagram, src) => this.#relay(datagram, src) },
        listen,
        { onError: (e) => this.log.warn(`PCP: ${(e as Error).message}`) },
      );
      const at = this.#pcp.addrs.map((a) =>
        a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`
      );
      this.log.info(`PCP server on ${at.join(", ")} (RFC 6887 MAP/ANNOUNCE, RFC 7225 PREFIX64)`);
    } catch (e) {
      this.log.error(`PCP server did not start: ${(e as Error).message}`);
    }
  }

  async #relay(datagram: Uint8Array, src: Uint8Array): Promise<Uint8Array | null> {
    this.#pcpRequests++;
    const w = this.pool()?.first();
    if (!w) return null;
    return await w.request({ op: "pcp", datagram, src }, 2000) as Uint8Array | null;
  }

  /** Up to `limit` session rows from the worker. */
  sessions(limit: number): Promise<readonly SessionRow[]> {
    return this.#tables.sessions(limit);
  }

  status(): Nat64Status | null {
    const g = this.#tables.gauges;
    if (g === null) return null;
    const use = (p: keyof PerProto) => ({ used: g.pool4Used[p], total: g.pool4Capacity[p] });
    const pool4 = { tcp: use("tcp"), udp: use("udp"), icmp: use("icmp") };
    return {
      bibEntries: g.bibs,
      sessions: g.sessions,
      pool4,
      hosts: g.hosts,
      heldSyns: g.heldSyns,
      pcpMappings: g.pcpMappings,
      snapshot: {
        file: this.#cfg.nat64.snapshotFile,
        writes: this.#writes,
        failures: this.#failures,
        lastWrite: this.#lastWrite?.toISOString() ?? null,
        restored: this.pool()?.first()?.restored ?? null,
      },
      pcp: {
        listen: this.#pcp?.addrs.map((a) => `${a.hostname}#${a.port}`) ?? [],
        requests: this.#pcpRequests,
      },
    };
  }

  *#families(): Iterable<MetricFamily> {
    const g = this.#tables.gauges;
    if (g !== null) {
      yield* natTableFamilies(g, NAT64_TABLES);
      yield one(
        "xlat64_nat64_held_syns",
        "unsolicited IPv4 SYNs waiting (RFC 6146 3.5.2.2)",
        "gauge",
        g.heldSyns,
      );
      yield one(
        "xlat64_nat64_pcp_mappings",
        "BIB entries held by PCP MAP (RFC 6887)",
        "gauge",
        g.pcpMappings,
      );
    }
    yield one(
      "xlat64_nat64_snapshot_writes_total",
      "NAT64 state snapshots written",
      "counter",
      this.#writes,
    );
    yield one(
      "xlat64_nat64_snapshot_failures_total",
      "NAT64 state snapshots that could not be written",
      "counter",
      this.#failures,
    );
    yield one("xlat64_pcp_requests_total", "PCP datagrams received", "counter", this.#pcpRequests);
  }
}

function one(
  name: string,
  help: string,
  type: "gauge" | "counter",
  value: number,
): MetricFamily {
  return { name, help, type, samples: [{ labels: {}, value }] };
}
