// The DNS proxy's sockets (RFC 5625): UDP and TCP listeners on Deno sockets feeding the
// sans-I/O QueryHandler. TCP: several queries in flight per connection, answers in any
// order (RFC 7766 6.2.1.1), idle connections closed (RFC 7766 6.2.3). Nothing a client
// sends can stop a listener: every failure is counted and the loop goes on.
import { type IpAddr, parseIp } from "./acl.ts";
import type { AnswerValidator } from "./dns64.ts";
import type { QueryHandler, Transport } from "./handler.ts";
import { DnsMetrics, type DnsMetricsSnapshot } from "./metrics.ts";
import type { Dns64Options, DnsOptions, HostPort } from "./options.ts";
import { readExact, writeAll } from "./upstream.ts";
import { buildCore } from "./core.ts";
import type { FromWorker, ToWorker } from "./fastpath_worker.ts";
import type { MetricFamily } from "../status/metrics.ts";
import { formatPrefix6, type Prefix6 } from "../addr/ip.ts";
import type { ValidationSetup } from "./validator/lookup.ts";

/** The logging calls we make; a @logtape/logtape Logger fits. */
export interface DnsLog {
  debug(message: string, props?: Record<string, unknown>): void;
  info(message: string, props?: Record<string, unknown>): void;
  warn(message: string, props?: Record<string, unknown>): void;
  error(message: string, props?: Record<string, unknown>): void;
}

export interface DnsServerOptions {
  readonly dns: DnsOptions;
  readonly dns64: Dns64Options;
  readonly validator?: AnswerValidator;
  /** [validator] enabled: validate upstream answers here (RFC 8683 4.1.3). */
  readonly validation?: ValidationSetup;
  /**
   * Sees each response of the slow path before it is sent, and may hold it (the CLAT's
   * dynamic EAM installs its mapping first, so the client's first packet uses it).
   */
  readonly onAnswer?: (response: Uint8Array) => void | Promise<void>;
  /** The PLAT prefixes in use (clat mode; [dns] aaaa-only-upstream extracts A from them). */
  readonly platPrefixes?: () => readonly Prefix6[];
}

export interface DnsStatus {
  readonly listen: readonly string[];
  readonly upstream: readonly string[];
  readonly dns64Prefixes: readonly string[];
  readonly cacheEntries: number;
  readonly tcpConnections: number;
  /** UDP served by the recvmmsg/sendmmsg worker. */
  readonly fastPath: boolean;
}

export interface DnsServerHandle {
  /** Where we actually listen (port 0 in the config becomes the bound port). */
  readonly addresses: readonly HostPort[];
  /** Counters of the main thread (TCP, and UDP without the fast path). */
  readonly metricsState: DnsMetrics;
  readonly handler: QueryHandler;
  metrics(): MetricFamily[];
  status(): DnsStatus;
  close(): Promise<void>;
}

const hp = (
  a: HostPort,
) => (a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
const MAX_TCP_CONNECTIONS = 256;

export async function startDnsServer(
  opts: DnsServerOptions,
  log: DnsLog,
): Promise<DnsServerHandle> {
  // An upstream that is one of our own listeners would forward queries to ourselves.
  const self = (u: HostPort) => opts.dns.listen.some((l) => l.port === u.port && l.host === u.host);
  for (const u of opts.dns.upstream.filter(self)) {
    log.warn("DNS upstream {upstream} is our own listener; ignoring it", { upstream: hp(u) });
  }
  const dns: DnsOptions = { ...opts.dns, upstream: opts.dns.upstream.filter((u) => !self(u)) };
  const core = buildCore(dns, opts.dns64, opts.validator, opts.validation, opts.platPrefixes);
  const { handler, metrics, messages: msgCache, responses } = core;
  let worker: FastPath | null = null;
  // The fast path answers cache hits without the main thread, so an answer observer
  // (the CLAT's dynamic EAM) would not see them: such servers stay on the slow path.
  if (dns.fastPath && opts.onAnswer) {
    log.info("DNS fast path off: answers must pass the dynamic EAM observer");
  }
  if (dns.fastPath && !opts.onAnswer && dns.listen.length > 0) {
    try {
      worker = await startFastPath(dns, opts.dns64, handler, log);
      const w = worker;
      core.deps.onStore = (shape, resp, ttl) =>
        w.store({ hash: shape.hash, bits: shape.bits, qEnd: shape.qEnd, resp, ttl });
    } catch (e) {
      log.warn("DNS fast path unavailable, serving UDP with Deno sockets: {error}", {
        error: String(e),
      });
    }
  }

  const udps: Deno.DatagramConn[] = [];
  const tcps: Deno.Listener[] = [];
  const conns = new Set<Deno.Conn>();
  const loops: Promise<void>[] = [];
  const addresses: HostPort[] = [];
  let closing = false;

  const clientOf = (addr: Deno.Addr): [IpAddr | null, string] => {
    const a = addr as Deno.NetAddr;
    return [parseIp(a.hostname), a.hostname];
  };

  async function safeHandle(
    q: Uint8Array,
    addr: Deno.Addr,
    t: Transport,
  ): Promise<Uint8Array | null> {
    const [ip, key] = clientOf(addr);
    try {
      const r = await handler.handle(q, ip, key, t);
      if (r && opts.onAnswer) await opts.onAnswer(r);
      return r;
    } catch (e) {
      // A bug must cost one answer, not the server: SERVFAIL and log it.
      log.error("DNS query handling failed: {error}", { error: String(e) });
      if (q.length < 12) return null;
      const out = q.slice(0, 12);
      out[2] = 0x80 | (q[2] & 0x79);
      out[3] = 0x80 | 2;
      out.fill(0, 4);
      return out;
    }
  }

  async function udpLoop(sock: Deno.DatagramConn): Promise<void> {
    while (!closing) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await sock.receive();
      } catch (e) {
        if (closing) return;
        log.warn("DNS UDP receive failed: {error}", { error: String(e) });
        continue;
      }
      safeHandle(data, from, "udp").then((out) => {
        if (out && !closing) {
          return sock.send(out, from).then(() => {}, () => {});
        }
      });
    }
  }

  async function tcpConn(conn: Deno.Conn): Promise<void> {
    conns.add(conn);
    let idle: ReturnType<typeof setTimeout> | undefined;
    let pending = 0;
    let writing = Promise.resolve();
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (pending === 0) {
          try {
            conn.close();
          } catch { /* already closed */ }
        } else arm();
      }, dns.tcpIdleMs);
    };
    try {
      arm();
      for (;;) {
        const len = await readExact(conn, 2);
        const q = await readExact(conn, (len[0] << 8) | len[1]);
        arm();
        pending++;
        safeHandle(q, conn.remoteAddr, "tcp").then((out) => {
          if (!out) return;
          const framed = new Uint8Array(out.length + 2);
          framed[0] = out.length >> 8;
          framed[1] = out.length & 255;
          framed.set(out, 2);
          // Serialize writes so pipelined answers never interleave.
          writing = writing.then(() => writeAll(conn, framed)).catch(() => {});
          return writing;
        }).finally(() => {
          pending--;
          arm();
        });
      }
    } catch {
      // Closed by the peer, by the idle timer, or at shutdown.
    } finally {
      clearTimeout(idle);
      await writing;
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  async function tcpLoop(l: Deno.Listener): Promise<void> {
    while (!closing) {
      let c: Deno.Conn;
      try {
        c = await l.accept();
      } catch (e) {
        if (closing) return;
        log.warn("DNS TCP accept failed: {error}", { error: String(e) });
        continue;
      }
      if (conns.size >= MAX_TCP_CONNECTIONS) {
        c.close();
        continue;
      }
      tcpConn(c);
    }
  }

  try {
    for (const [i, a] of dns.listen.entries()) {
      let port: number;
      if (worker) {
        port = worker.addresses[i].port;
      } else {
        const u = Deno.listenDatagram({ transport: "udp", hostname: a.host, port: a.port });
        udps.push(u);
        port = (u.addr as Deno.NetAddr).port;
        loops.push(udpLoop(u));
      }
      const t = Deno.listen({ transport: "tcp", hostname: a.host, port });
      tcps.push(t);
      addresses.push({ host: a.host, port });
      loops.push(tcpLoop(t));
    }
  } catch (e) {
    for (const u of udps) u.close();
    for (const t of tcps) t.close();
    await worker?.stop();
    throw e;
  }
  log.info(
    "DNS listening on {listen} (UDP {udp}), upstream {upstream}, DNS64 prefixes {prefixes}",
    {
      udp: worker ? "recvmmsg fast path" : "Deno sockets",
      listen: addresses.map(hp).join(" "),
      upstream: dns.upstream.map(hp).join(" ") || "(none)",
      prefixes: opts.dns64.prefixes.map(formatPrefix6).join(" ") || "(off)",
    },
  );

  return {
    addresses,
    metricsState: metrics,
    handler,
    metrics() {
      metrics.cacheEntries = msgCache.lru.size + responses.size;
      const dnssec = core.validator?.metrics.families() ?? [];
      if (!worker?.snapshot) return [...metrics.families(), ...dnssec];
      const all = new DnsMetrics();
      all.add(metrics.snapshot());
      all.add(worker.snapshot);
      return [...all.families(), ...dnssec];
    },
    status() {
      return {
        listen: addresses.map(hp),
        upstream: dns.upstream.map(hp),
        dns64Prefixes: opts.dns64.prefixes.map(formatPrefix6),
        cacheEntries: msgCache.lru.size + responses.size +
          (worker?.snapshot?.cacheEntries ?? 0),
        fastPath: worker !== null,
        tcpConnections: conns.size,
      };
    },
    async close() {
      closing = true;
      for (const u of udps) u.close();
      for (const t of tcps) t.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await Promise.allSettled(loops);
      await worker?.stop();
    },
  };
}

interface FastPath {
  readonly addresses: HostPort[];
  /** The worker's latest counters. */
  snapshot: DnsMetricsSnapshot | null;
  store(m: Omit<Extract<ToWorker, { kind: "store" }>, "kind">): void;
  stop(): Promise<void>;
}

/** Start the fast-path worker; resolves once its sockets are bound. */
function startFastPath(
  dns: DnsOptions,
  dns64: Dns64Options,
  handler: QueryHandler,
  log: DnsLog,
): Promise<FastPath> {
  const w = new Worker(new URL("./fastpath_worker.ts", import.meta.url), { type: "module" });
  let stopped: () => void = () => {};
  const done = new Promise<void>((r) => stopped = r);
  return new Promise((resolve, reject) => {
    const fp: FastPath = {
      addresses: [],
      snapshot: null,
      store(m) {
        w.postMessage({ kind: "store", ...m } satisfies ToWorker);
      },
      async stop() {
        w.postMessage({ kind: "stop" } satisfies ToWorker);
        const timer = setTimeout(stopped, 2000);
        await done;
        clearTimeout(timer);
        w.terminate();
      },
    };
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.kind === "ready") {
        fp.addresses.push(...m.addresses);
        resolve(fp);
      } else if (m.kind === "error") {
        w.terminate();
        stopped();
        reject(new Error(m.message));
      } else if (m.kind === "query") {
        handler.handle(m.q, m.client, m.clientKey, "udp").catch((err) => {
          log.error("DNS query handling failed: {error}", { error: String(err) });
          return null;
        }).then((resp) => w.postMessage({ kind: "answer", seq: m.seq, resp } satisfies ToWorker));
      } else if (m.kind === "metrics") fp.snapshot = m.snapshot;
      else if (m.kind === "stopped") stopped();
    };
    w.onerror = (e) => {
      e.preventDefault();
      w.terminate();
      stopped();
      reject(new Error(e.message));
    };
    w.postMessage({ kind: "start", dns, dns64 } satisfies ToWorker);
  });
}
