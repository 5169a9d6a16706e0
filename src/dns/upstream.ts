// Queries to the upstream resolvers over Deno sockets (the slow path). RFC 5452 9.2:
// a fresh random source port and random ID per query; an answer is accepted only when
// it comes from the server we asked, with our ID and our question. TC=1 answers are
// retried over TCP (RFC 7766 5). Timeouts and retries per server, then the next server.
import type { HostPort } from "./options.ts";
import type { DnsMetrics } from "./metrics.ts";
import {
  CLASS_IN,
  decodeMessage,
  EDNS_DO,
  encodeMessage,
  FLAG,
  type Message,
  optRecord,
  RCODE,
  rcodeOf,
  sameName,
} from "./wire.ts";

export interface UpstreamQuery {
  name: string;
  type: number;
  dnssecOk: boolean;
  checkingDisabled: boolean;
  /** EDNS options passed through from the client (RFC 5625 4.4). */
  options?: Uint8Array;
}

export interface UpstreamConfig {
  readonly servers: readonly HostPort[];
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly udpSize: number;
}

const randomId = (): number => crypto.getRandomValues(new Uint16Array(1))[0];

function buildQuery(q: UpstreamQuery, id: number, udpSize: number): Uint8Array {
  return encodeMessage({
    id,
    flags: FLAG.RD | (q.checkingDisabled ? FLAG.CD : 0),
    question: [{ name: q.name, type: q.type, class: CLASS_IN }],
    answer: [],
    authority: [],
    additional: [optRecord({
      udpSize,
      extRcode: 0,
      version: 0,
      flags: q.dnssecOk ? EDNS_DO : 0,
      options: q.options ?? new Uint8Array(0),
    })],
  });
}

/** Does `m` answer our query `id` for `q`? (RFC 5452 9.1: ID, question, and source.) */
function matches(m: Message, id: number, q: UpstreamQuery): boolean {
  if (m.id !== id || (m.flags & FLAG.QR) === 0 || m.question.length !== 1) return false;
  const a = m.question[0];
  return a.type === q.type && a.class === CLASS_IN && sameName(a.name, q.name);
}

class Timeout extends Error {}

export class UpstreamClient {
  constructor(private readonly cfg: UpstreamConfig, private readonly metrics: DnsMetrics) {}

  /** The first usable answer from the servers in order, or null when none answered. */
  async query(q: UpstreamQuery): Promise<Message | null> {
    if (this.cfg.servers.length === 0) {
      this.metrics.failure("no_upstream");
      return null;
    }
    let lastBad: Message | null = null;
    for (const server of this.cfg.servers) {
      for (let attempt = 0; attempt < this.cfg.attempts; attempt++) {
        const r = await this.once(server, q);
        if (r === "retry") continue;
        if (r === "next") break;
        const rc = rcodeOf(r.flags);
        if (rc === RCODE.SERVFAIL || rc === RCODE.REFUSED || rc === RCODE.NOTIMP) {
          // A failing server: fail over, but keep its answer in case all of them fail.
          this.metrics.failure("servfail");
          lastBad = r;
          break;
        }
        return r;
      }
    }
    return lastBad;
  }

  private async once(server: HostPort, q: UpstreamQuery): Promise<Message | "retry" | "next"> {
    const id = randomId();
    const wire = buildQuery(q, id, this.cfg.udpSize);
    const started = performance.now();
    try {
      let m = await this.udp(server, wire, id, q);
      if ((m.flags & FLAG.TC) !== 0) {
        try {
          m = await this.tcp(server, wire, id, q);
        } catch (e) {
          this.metrics.failure(e instanceof Timeout ? "timeout" : "truncated_tcp");
          return "retry";
        }
      }
      this.metrics.upstreamLatency((performance.now() - started) / 1000);
      return m;
    } catch (e) {
      if (e instanceof Timeout) {
        this.metrics.failure("timeout");
        return "retry";
      }
      this.metrics.failure("network");
      return "next";
    }
  }

  private withTimeout<T>(p: Promise<T>, onTimeout: () => void): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Timeout());
      }, this.cfg.timeoutMs);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }

  private async udp(
    server: HostPort,
    wire: Uint8Array,
    id: number,
    q: UpstreamQuery,
  ): Promise<Message> {
    const v6 = server.host.includes(":");
    // Port 0: the kernel picks a random ephemeral port for every query (RFC 5452 9.2).
    const sock = Deno.listenDatagram({
      transport: "udp",
      hostname: v6 ? "::" : "0.0.0.0",
      port: 0,
    });
    let closed = false;
    const close = () => {
      if (!closed) {
        closed = true;
        sock.close();
      }
    };
    try {
      await sock.send(wire, { transport: "udp", hostname: server.host, port: server.port });
      const recv = async (): Promise<Message> => {
        for (;;) {
          const [data, from] = await sock.receive();
          const f = from as Deno.NetAddr;
          if (f.port !== server.port || !sameHost(f.hostname, server.host)) {
            this.metrics.failure("mismatch");
            continue;
          }
          const d = decodeMessage(data);
          if (!d.ok) {
            this.metrics.failure("malformed");
            continue;
          }
          if (!matches(d.msg, id, q)) {
            this.metrics.failure("mismatch");
            continue;
          }
          return d.msg;
        }
      };
      return await this.withTimeout(recv(), close);
    } finally {
      close();
    }
  }

  private async tcp(
    server: HostPort,
    wire: Uint8Array,
    id: number,
    q: UpstreamQuery,
  ): Promise<Message> {
    const conn = await this.withTimeout(
      Deno.connect({ hostname: server.host, port: server.port }),
      () => {},
    );
    let closed = false;
    const close = () => {
      if (!closed) {
        closed = true;
        conn.close();
      }
    };
    try {
      const framed = new Uint8Array(wire.length + 2);
      framed[0] = wire.length >> 8;
      framed[1] = wire.length & 255;
      framed.set(wire, 2);
      const exchange = async (): Promise<Message> => {
        await writeAll(conn, framed);
        const len = await readExact(conn, 2);
        const body = await readExact(conn, (len[0] << 8) | len[1]);
        const d = decodeMessage(body);
        if (!d.ok) throw new Error(`malformed TCP answer: ${d.error}`);
        if (!matches(d.msg, id, q)) throw new Error("TCP answer does not match the query");
        return d.msg;
      };
      return await this.withTimeout(exchange(), close);
    } finally {
      close();
    }
  }
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (s: string) => s.replace(/^::ffff:/i, "").toLowerCase();
  return strip(a) === strip(b);
}

export async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < data.length) off += await w.write(data.subarray(off));
}

export async function readExact(
  r: { read(p: Uint8Array): Promise<number | null> },
  n: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const got = await r.read(out.subarray(off));
    if (got === null) throw new Error("connection closed");
    off += got;
  }
  return out;
}
