// PCP over UDP: a thin server loop around the sans-I/O PcpServer and a client with the
// RFC 6887 8.1.1 retransmission schedule. Deno datagram sockets (unstable "net").
import { decodeResponse, OPCODE, PCP_SERVER_PORT, PcpError, type PcpResponse } from "./pcp.ts";
import { sourceBytes } from "./pcp_server.ts";

/** What answers datagrams: a PcpServer, or a relay to where the mappings live (a worker). */
export interface PcpHandler {
  handle(
    datagram: Uint8Array,
    src: Uint8Array,
  ): Uint8Array<ArrayBuffer> | null | Promise<Uint8Array | null>;
}

export interface RunningPcpServer {
  readonly addrs: Deno.NetAddr[];
  close(): Promise<void>;
}

/**
 * Serve `server` on each address: a bare host uses `opts.port` (default 5351); a
 * `{ host, port }` (the config's `[pcp] listen` entries) its own port. Errors per datagram
 * go to `onError`, never end the loop.
 */
export function startPcpServer(
  server: PcpHandler,
  addresses: readonly (string | { host: string; port: number })[],
  opts: { port?: number; onError?: (e: unknown) => void } = {},
): RunningPcpServer {
  const conns = addresses.map((a) => {
    const [host, port] = typeof a === "string"
      ? [a, opts.port ?? PCP_SERVER_PORT]
      : [a.host, a.port];
    return Deno.listenDatagram({ transport: "udp", hostname: host.replace(/^\[|\]$/g, ""), port });
  });
  const loops = conns.map(async (conn) => {
    for (;;) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await conn.receive();
      } catch {
        return; // closed
      }
      const [data, addr] = got;
      try {
        const from = addr as Deno.NetAddr;
        const reply = await server.handle(data, sourceBytes(from.hostname));
        if (reply) await conn.send(reply as Uint8Array<ArrayBuffer>, from);
      } catch (e) {
        opts.onError?.(e);
      }
    }
  });
  return {
    addrs: conns.map((c) => c.addr as Deno.NetAddr),
    async close() {
      for (const c of conns) c.close();
      await Promise.all(loops);
    },
  };
}

/** RFC 6887 8.1.1 constants. */
export const IRT_MS = 3000;
export const MRT_MS = 1024_000;

export interface RetransmitOptions {
  /** Initial retransmission time (IRT), default 3 s. */
  irtMs?: number;
  /** Maximum retransmission time (MRT), default 1024 s. */
  mrtMs?: number;
  /** Maximum retransmission count (MRC); RFC default 0 = unbounded. Bounded here: default 4. */
  retries?: number;
  /** Maximum retransmission duration (MRD) in ms; 0 = unbounded. */
  timeoutMs?: number;
  /** Uniform in [0, 1); RFC 6887 8.1.1 RAND is -0.1..+0.1 derived from it. */
  random?: () => number;
}

/**
 * The waits after each transmission (RFC 6887 8.1.1): RT = (1+RAND)*IRT, then
 * RT = (2+RAND)*RTprev, and past MRT RT = (1+RAND)*MRT. Bounded by MRC and MRD.
 */
export function retransmitDelays(o: RetransmitOptions = {}): number[] {
  const irt = o.irtMs ?? IRT_MS, mrt = o.mrtMs ?? MRT_MS, mrc = o.retries ?? 4;
  const mrd = o.timeoutMs ?? 0, random = o.random ?? Math.random;
  const rand = () => random() * 0.2 - 0.1;
  const out: number[] = [];
  let rt = (1 + rand()) * irt, total = 0;
  for (let i = 0; i <= mrc; i++) {
    if (i > 0) {
      rt = (2 + rand()) * rt;
      if (rt > mrt) rt = (1 + rand()) * mrt;
    }
    if (mrd > 0 && total + rt > mrd) {
      if (mrd > total) out.push(mrd - total);
      break;
    }
    out.push(rt);
    total += rt;
  }
  return out;
}

export class PcpTimeout extends Error {}

function sameAddress(a: string, b: string): boolean {
  try {
    const x = sourceBytes(a), y = sourceBytes(b);
    return x.every((v, i) => v === y[i]);
  } catch {
    return false;
  }
}

/**
 * Send `msg` to the PCP server and wait for the matching response, retransmitting per
 * RFC 6887 8.1.1. A response matches when it comes from the server, decodes, has our
 * opcode and (MAP/PEER) our mapping nonce.
 */
export async function pcpRequest(
  server: { hostname: string; port?: number },
  msg: Uint8Array<ArrayBuffer>,
  opts: RetransmitOptions & { bindHostname?: string } = {},
): Promise<PcpResponse> {
  const host = server.hostname.replace(/^\[|\]$/g, "");
  const dst: Deno.NetAddr = {
    transport: "udp",
    hostname: host,
    port: server.port ?? PCP_SERVER_PORT,
  };
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: opts.bindHostname ?? (host.includes(":") ? "::" : "0.0.0.0"),
    port: 0,
  });
  const opcode = msg[1] & 0x7f;
  const nonce = opcode === OPCODE.MAP || opcode === OPCODE.PEER ? msg.slice(24, 36) : null;
  let pending = conn.receive();
  try {
    for (const wait of retransmitDelays(opts)) {
      await conn.send(msg, dst);
      const deadline = Date.now() + wait;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const got = await Promise.race([
          pending,
          new Promise<null>((r) => timer = setTimeout(() => r(null), left)),
        ]);
        clearTimeout(timer);
        if (got === null) break;
        pending = conn.receive();
        const [data, from] = got as [Uint8Array, Deno.NetAddr];
        if (from.port !== dst.port || !sameAddress(from.hostname, host)) continue;
        let res: PcpResponse;
        try {
          res = decodeResponse(data);
        } catch (e) {
          if (e instanceof PcpError) continue;
          throw e;
        }
        if (res.opcode !== opcode) continue;
        const gotNonce = res.map?.nonce ?? res.peer?.nonce;
        if (nonce && gotNonce && !gotNonce.every((x, i) => x === nonce[i])) continue;
        return res;
      }
    }
    throw new PcpTimeout(`no PCP response from ${host}:${dst.port}`);
  } finally {
    conn.close();
    pending.catch(() => {});
  }
}
