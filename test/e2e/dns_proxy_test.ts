// End to end on loopback: NSD (authoritative) -> Unbound (recursive) -> xlat64's DNS64
// proxy, queried with dig. Checks RFC 6147 behaviour on real servers' answers.
import assert from "node:assert/strict";
import { parsePrefix6 } from "../../src/addr/ip.ts";
import { parseAcl } from "../../src/dns/acl.ts";
import { DNS64_DEFAULTS, DNS_DEFAULTS } from "../../src/dns/options.ts";
import { type DnsServerHandle, startDnsServer } from "../../src/dns/server.ts";
import { dig, have, type Lab, startLab, ZONE } from "./dns_lab.ts";
import { findShim } from "../../src/io/ffi.ts";

const ready = have("nsd") && have("unbound") && have("dig");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function withLab(fn: (lab: Lab, srv: DnsServerHandle, port: number) => Promise<void>) {
  const lab = await startLab();
  let srv: DnsServerHandle | null = null;
  try {
    srv = await startDnsServer({
      dns: {
        ...DNS_DEFAULTS,
        listen: [{ host: "127.0.0.1", port: 0 }],
        upstream: [{ host: "127.0.0.1", port: lab.unboundPort }],
        upstreamTimeoutMs: 1000,
      },
      dns64: DNS64_DEFAULTS,
    }, quiet);
    await fn(lab, srv, srv.addresses[0].port);
  } finally {
    await srv?.close();
    await lab.close();
  }
}

const rdata = (rows: string[][], type: string) =>
  rows.filter((r) => r[3] === type).map((r) => r[4]);

Deno.test({
  name:
    "e2e DNS64 via NSD+Unbound: RFC 6147 synthesis, exclusions, chains, NXDOMAIN, PTR, RFC 8880",
  ignore: !ready,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (_lab, srv, port) => {
      const q = (name: string, type = "AAAA", ...more: string[]) =>
        dig(port, [name + ZONE, type, ...more]);

      // 5.1.1/5.1.6: A-only name -> synthesized AAAA; 5.1.7: TTL = min(300, SOA 120).
      const v4 = await q("v4only.");
      assert.equal(v4.status, "NOERROR");
      assert.deepEqual(rdata(v4.answer, "AAAA"), ["64:ff9b::c000:201"]);
      assert.ok(Number(v4.answer[0][1]) <= 120, `TTL ${v4.answer[0][1]}`);
      assert.ok(!v4.flags.includes("ad"), "5.5: no AD on synthesized data");

      // 5.1.1: real AAAA wins (AAAA-only and dual-stack names).
      assert.deepEqual(rdata((await q("v6only.")).answer, "AAAA"), ["2001:db8::6"]);
      assert.deepEqual(rdata((await q("dual.")).answer, "AAAA"), ["2001:db8::2"]);

      // 5.1.6: CNAME chain kept, synthesis for its target.
      const alias = await q("alias.");
      assert.deepEqual(rdata(alias.answer, "CNAME"), [`mid.${ZONE}`, `v4only.${ZONE}`]);
      assert.deepEqual(rdata(alias.answer, "AAAA"), ["64:ff9b::c000:201"]);
      assert.deepEqual(rdata((await q("outalias.")).answer, "AAAA"), ["2001:db8::6"]);

      // 5.1.5: RFC 1918 addresses are mapped out by default.
      const priv = await q("priv.");
      assert.equal(priv.status, "NOERROR");
      assert.deepEqual(priv.answer, []);
      assert.deepEqual(rdata((await q("mixed.")).answer, "AAAA"), ["64:ff9b::c633:6407"]);

      // 5.1.4: ::ffff:0:0/96 AAAA counts as absent.
      assert.deepEqual(rdata((await q("mapped.")).answer, "AAAA"), ["64:ff9b::c000:209"]);

      // 5.1.2: NXDOMAIN stays NXDOMAIN; NODATA stays NODATA with its SOA.
      assert.equal((await q("nonexistent.")).status, "NXDOMAIN");
      const nodata = await q("txtonly.");
      assert.equal(nodata.status, "NOERROR");
      assert.deepEqual(nodata.answer, []);
      assert.equal(nodata.authority[0]?.[3], "SOA");

      // Other types pass through the proxy untouched.
      assert.deepEqual(rdata((await q("v4only.", "A")).answer, "A"), ["192.0.2.1"]);
      assert.deepEqual(rdata((await q("txtonly.", "TXT")).answer, "TXT"), ['"hello"']);

      // 5.3.1: PTR for a synthesized address -> CNAME to in-addr.arpa and the real PTR.
      const ptr = await dig(port, ["-x", "64:ff9b::c000:201"]);
      assert.deepEqual(rdata(ptr.answer, "CNAME"), ["1.2.0.192.in-addr.arpa."]);
      assert.deepEqual(rdata(ptr.answer, "PTR"), [`v4only.${ZONE}`]);

      // RFC 8880 7.2: ipv4only.arpa answered locally.
      const wka = await dig(port, ["ipv4only.arpa", "AAAA"]);
      assert.deepEqual(rdata(wka.answer, "AAAA"), ["64:ff9b::c000:aa", "64:ff9b::c000:ab"]);
      assert.deepEqual(rdata((await dig(port, ["ipv4only.arpa", "A"])).answer, "A"), [
        "192.0.0.170",
        "192.0.0.171",
      ]);

      // 5.5: DO+CD -> the client validates, so no synthesis.
      const docd = await q("v4only.", "AAAA", "+dnssec", "+cd");
      assert.deepEqual(rdata(docd.answer, "AAAA"), []);

      // Cache: the second identical query is a hit.
      const hits = srv.metricsState.cacheHits;
      await q("v4only.");
      assert.ok(srv.metricsState.cacheHits > hits);
      assert.ok(srv.metricsState.synthesized >= 4);
    }),
});

Deno.test({
  name: "e2e proxy: TC without room (RFC 1035 4.2.1 / RFC 6891 6.2.5), TCP retry, FORMERR, REFUSED",
  ignore: !ready,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab, _srv, port) => {
      // 40 synthesized AAAA do not fit 512 bytes without EDNS: TC=1.
      const udp = await dig(port, [`big.${ZONE}`, "AAAA", "+noedns", "+ignore"]);
      assert.ok(udp.flags.includes("tc"), udp.raw);
      // With EDNS 4096 they fit; over TCP they fit too (and pipelining works with dig +tcp).
      const edns = await dig(port, [`big.${ZONE}`, "AAAA", "+bufsize=4096"]);
      assert.equal(rdata(edns.answer, "AAAA").length, 40);
      const tcp = await dig(port, [`big.${ZONE}`, "AAAA", "+tcp", "+noedns"]);
      assert.equal(rdata(tcp.answer, "AAAA").length, 40);

      // Garbage after a valid header -> FORMERR with the query's ID.
      const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      try {
        const junk = Uint8Array.of(
          0xab,
          0xcd,
          0x01,
          0x00,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          0,
          0xc0,
          0x0c,
          0,
          1,
        );
        await sock.send(junk, { transport: "udp", hostname: "127.0.0.1", port });
        const [resp] = await sock.receive();
        assert.equal(resp[0], 0xab);
        assert.equal(resp[1], 0xcd);
        assert.equal(resp[3] & 0xf, 1, "FORMERR");
        assert.ok(resp[2] & 0x80, "QR");
      } finally {
        sock.close();
      }

      // A client outside `allow` gets REFUSED.
      const strict = await startDnsServer({
        dns: {
          ...DNS_DEFAULTS,
          listen: [{ host: "127.0.0.1", port: 0 }],
          upstream: [{ host: "127.0.0.1", port: lab.unboundPort }],
          allow: parseAcl(["10.0.0.0/8"]),
        },
        dns64: { ...DNS64_DEFAULTS, prefixes: [parsePrefix6("2001:db8:64::/96")] },
      }, quiet);
      try {
        const r = await dig(strict.addresses[0].port, [`v4only.${ZONE}`, "AAAA"]);
        assert.equal(r.status, "REFUSED");
        assert.equal(strict.metricsState.refused, 1);
      } finally {
        await strict.close();
      }
    }),
});

Deno.test({
  name: "e2e proxy: upstream failure -> SERVFAIL; failover to the second upstream",
  ignore: !ready,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const lab = await startLab();
    // A port where nothing answers (bound and silent), then the real Unbound.
    const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const silentPort = (silent.addr as Deno.NetAddr).port;
    const mk = (upstream: { host: string; port: number }[]) =>
      startDnsServer({
        dns: {
          ...DNS_DEFAULTS,
          listen: [{ host: "127.0.0.1", port: 0 }],
          upstream,
          upstreamTimeoutMs: 300,
          upstreamAttempts: 1,
        },
        dns64: DNS64_DEFAULTS,
      }, quiet);
    const dead = await mk([{ host: "127.0.0.1", port: silentPort }]);
    const failover = await mk([{ host: "127.0.0.1", port: silentPort }, {
      host: "127.0.0.1",
      port: lab.unboundPort,
    }]);
    try {
      const r = await dig(dead.addresses[0].port, [`v4only.${ZONE}`, "A"]);
      assert.equal(r.status, "SERVFAIL");
      assert.ok((dead.metricsState.failures.get("timeout") ?? 0) >= 1);
      const f = await dig(failover.addresses[0].port, [`v4only.${ZONE}`, "AAAA"]);
      assert.deepEqual(rdata(f.answer, "AAAA"), ["64:ff9b::c000:201"]);
      const text = failover.metrics().map((m) => m.name);
      assert.ok(text.includes("xlat64_dns_upstream_latency_seconds"));
    } finally {
      await dead.close();
      await failover.close();
      silent.close();
      await lab.close();
    }
  },
});

const shimBuilt = (() => {
  try {
    findShim();
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "e2e fast path: the recvmmsg/sendmmsg worker answers cache hits with patched ID and TTL",
  ignore: !ready || !shimBuilt,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const lab = await startLab();
    const srv = await startDnsServer({
      dns: {
        ...DNS_DEFAULTS,
        fastPath: true,
        listen: [{ host: "127.0.0.1", port: 0 }],
        upstream: [{ host: "127.0.0.1", port: lab.unboundPort }],
      },
      dns64: DNS64_DEFAULTS,
    }, quiet);
    try {
      assert.equal(srv.status().fastPath, true);
      const port = srv.addresses[0].port;
      const first = await dig(port, [`v4only.${ZONE}`, "AAAA"]);
      assert.deepEqual(rdata(first.answer, "AAAA"), ["64:ff9b::c000:201"]);
      // The main thread copies what it caches to the worker asynchronously.
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 3; i++) {
        const again = await dig(port, [`V4ONLY.${ZONE.toUpperCase()}`, "AAAA"]);
        assert.deepEqual(rdata(again.answer, "AAAA"), ["64:ff9b::c000:201"]);
        assert.equal(again.answer[0][0], `V4ONLY.${ZONE.toUpperCase()}`, "question case kept");
      }
      // Slow-path answers (misses) come back through the worker too.
      assert.equal((await dig(port, [`nothere.${ZONE}`, "AAAA"])).status, "NXDOMAIN");
      // TCP is served on the same port by the main thread.
      assert.deepEqual(rdata((await dig(port, [`dual.${ZONE}`, "AAAA", "+tcp"])).answer, "AAAA"), [
        "2001:db8::2",
      ]);
      await new Promise((r) => setTimeout(r, 700)); // worker reports counters every 500 ms
      const fam = srv.metrics().find((f) => f.name === "xlat64_dns_fast_path_answers_total")!;
      assert.ok(fam.samples[0].value >= 3, `fast path answers ${fam.samples[0].value}`);
    } finally {
      await srv.close();
      await lab.close();
    }
  },
});
