// The DNS proxy's sockets (RFC 5625): UDP and TCP listeners on Deno sockets feeding the
// sans-I/O QueryHandler. TCP: several queries in flight per connection, answers in any
// order (RFC 7766 6.2.1.1), idle connections closed (RFC 7766 6.2.3). Nothing a client
// sends can stop a listener: every failure is counted and the loop goes on.
import { type IpAddr, parseIp } from "./acl.ts";
import { MessageCache, ResponseCache } from "./cache.ts";
import { type AnswerValidator, Dns64 } from "./dns64.ts";
import { QueryHandler, type Transport } from "./handler.ts";
import { DnsMetrics } from "./metrics.ts";
import type { Dns64Options, DnsOptions, HostPort } from "./options.ts";
import { CachingResolver } from "./resolver.ts";
import { readExact, UpstreamClient, writeAll } from "./upstream.ts";
import type { MetricFamily } from "../status/metrics.ts";
import { formatPrefix6 } from "../addr/ip.ts";

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
}

export interface DnsStatus {
  readonly listen: readonly string[];
  readonly upstream: readonly string[];
  readonly dns64Prefixes: readonly string[];
  readonly cacheEntries: number;
  readonly tcpConnections: number;
}

export interface DnsServerHandle {
  /** Where we actually listen (port 0 in the config becomes the bound port). */
  readonly addresses: readonly HostPort[];
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

// deno-lint-ignore require-await -- the fast-path worker start awaits here
export async function startDnsServer(
  opts: DnsServerOptions,
  log: DnsLog,
): Promise<DnsServerHandle> {
  const { dns } = opts;
  const metrics = new DnsMetrics();
  const now = () => Date.now();
  const upstream = new UpstreamClient({
    servers: dns.upstream,
    timeoutMs: dns.upstreamTimeoutMs,
    attempts: dns.upstreamAttempts,
    udpSize: dns.ednsUdpSize,
  }, metrics);
  const msgCache = new MessageCache(dns.cacheMaxEntries, dns.cacheMaxBytes / 2, dns.cacheMaxTtl);
  const resolver = new CachingResolver(upstream, msgCache, metrics, now);
  const dns64 = new Dns64(opts.dns64, resolver.lookup, opts.validator ?? null);
  const responses = new ResponseCache(dns.cacheMaxEntries, dns.cacheMaxBytes / 2);
  const handler = new QueryHandler({
    dns,
    dns64,
    lookup: resolver.lookup,
    metrics,
    responses,
    now,
  });

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
      return await handler.handle(q, ip, key, t);
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
    for (const a of dns.listen) {
      const u = Deno.listenDatagram({ transport: "udp", hostname: a.host, port: a.port });
      udps.push(u);
      const port = (u.addr as Deno.NetAddr).port;
      const t = Deno.listen({ transport: "tcp", hostname: a.host, port });
      tcps.push(t);
      addresses.push({ host: a.host, port });
      loops.push(udpLoop(u), tcpLoop(t));
    }
  } catch (e) {
    for (const u of udps) u.close();
    for (const t of tcps) t.close();
    throw e;
  }
  log.info("DNS listening on {listen}, upstream {upstream}, DNS64 prefixes {prefixes}", {
    listen: addresses.map(hp).join(" "),
    upstream: dns.upstream.map(hp).join(" ") || "(none)",
    prefixes: opts.dns64.prefixes.map(formatPrefix6).join(" ") || "(off)",
  });

  return {
    addresses,
    metricsState: metrics,
    handler,
    metrics() {
      metrics.cacheEntries = msgCache.lru.size + responses.lru.size;
      return metrics.families();
    },
    status() {
      return {
        listen: addresses.map(hp),
        upstream: dns.upstream.map(hp),
        dns64Prefixes: opts.dns64.prefixes.map(formatPrefix6),
        cacheEntries: msgCache.lru.size + responses.lru.size,
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
    },
  };
}
