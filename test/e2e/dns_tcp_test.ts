// DNS over TCP on loopback (RFC 7766): pipelined queries on one connection all answered,
// idle connections closed by the server. Uses the locally answered ipv4only.arpa, so no
// upstream is needed.
import assert from "node:assert/strict";
import { DNS64_DEFAULTS, DNS_DEFAULTS } from "../../src/dns/options.ts";
import { startDnsServer } from "../../src/dns/server.ts";
import { readExact, writeAll } from "../../src/dns/upstream.ts";
import { decodeMessage, encodeMessage, FLAG, TYPE } from "../../src/dns/wire.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function framed(id: number, name: string, type: number): Uint8Array {
  const q = encodeMessage({
    id,
    flags: FLAG.RD,
    question: [{ name, type, class: 1 }],
    answer: [],
    authority: [],
    additional: [],
  });
  return Uint8Array.of(q.length >> 8, q.length & 255, ...q);
}

/** Reads one length-prefixed DNS message (RFC 1035 4.2.2) and decodes it. */
async function readFramed(conn: Deno.Conn): Promise<ReturnType<typeof decodeMessage>> {
  const len = await readExact(conn, 2);
  return decodeMessage(await readExact(conn, (len[0] << 8) | len[1]));
}

/** A DNS server on an ephemeral loopback port with no upstream, idle TCP closed at 300 ms. */
function startLoopbackServer(): ReturnType<typeof startDnsServer> {
  return startDnsServer({
    dns: {
      ...DNS_DEFAULTS,
      listen: [{ host: "127.0.0.1", port: 0 }],
      upstream: [],
      tcpIdleMs: 300,
    },
    dns64: DNS64_DEFAULTS,
  }, quiet);
}

Deno.test({
  name:
    "RFC 7766 6.2.1.1: pipelined TCP queries are all answered; 6.2.3: idle connections are closed",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const srv = await startLoopbackServer();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.addresses[0].port });
    try {
      // Three queries in one write, before reading anything.
      await writeAll(
        conn,
        Uint8Array.of(
          ...framed(1, "ipv4only.arpa.", TYPE.A),
          ...framed(2, "ipv4only.arpa.", TYPE.AAAA),
          ...framed(3, "nope.ipv4only.arpa.", TYPE.A),
        ),
      );
      const got = new Map<number, number>();
      for (let i = 0; i < 3; i++) {
        const d = await readFramed(conn);
        assert.ok(d.ok);
        got.set(d.msg.id, d.msg.answer.length * 16 + (d.msg.flags & 0xf));
      }
      assert.deepEqual([...got.entries()].sort(), [[1, 32], [2, 32], [3, 3]]); // 2 A, 2 AAAA, NXDOMAIN
      assert.equal(srv.status().tcpConnections, 1);
      // Say nothing: the server closes the connection after tcpIdleMs.
      const t0 = Date.now();
      const n = await conn.read(new Uint8Array(1));
      assert.equal(n, null, "closed by the server");
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
      await srv.close();
    }
  },
});

Deno.test({
  name: "a TCP length prefix promising more than arrives does not hurt other clients",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const srv = await startLoopbackServer();
    const port = srv.addresses[0].port;
    const bad = await Deno.connect({ hostname: "127.0.0.1", port });
    const good = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(bad, Uint8Array.of(0xff, 0xff, 1, 2, 3));
      await writeAll(good, framed(7, "ipv4only.arpa.", TYPE.A));
      const d = await readFramed(good);
      assert.ok(d.ok && d.msg.id === 7 && d.msg.answer.length === 2);
    } finally {
      bad.close();
      good.close();
      await srv.close();
    }
  },
});
