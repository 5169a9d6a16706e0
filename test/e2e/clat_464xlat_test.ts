// 464XLAT end to end (RFC 6877): IPv4-only client -> xlat64 CLAT -> IPv6-only link ->
// xlat64 NAT64 -> IPv4-only server, with ping, curl to an IPv4 literal, UDP and a TCP
// transfer, for both CLAT variants.
import assert from "node:assert/strict";
import { NetLab, whyNoNamespaces } from "../../src/io/netns.ts";
import {
  build464,
  checkIpv4Reach,
  CLAT6,
  clatConfig,
  type ClatVariant,
  MAIN,
  nat64Config,
  SERVER,
  startServers,
  startXlat64,
  status,
  waitFor,
} from "./clat_lab.ts";

for (const v of ["dedicated", "single"] as ClatVariant[]) {
  Deno.test({
    name: `464XLAT through xlat64 CLAT (${v}) and xlat64 NAT64: ping, curl, UDP, TCP (needs root)`,
    ignore: whyNoNamespaces() !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const lab = new NetLab(v === "dedicated" ? "x4d" : "x4s");
      try {
        const l = await build464(lab);
        await l.clat.router();
        const { sha } = await startServers(l);
        l.platApp = await startXlat64(l, l.plat, "plat", nat64Config(), 18065);
        l.clatApp = await startXlat64(l, l.clat, "clat", clatConfig(v), 18064);
        await checkIpv4Reach(l, sha);
        // The CLAT host's own IPv4 traffic leaves from the CLAT address (RFC 7335).
        const own = await l.clat.exec(["ping", "-c", "2", "-i", "0.2", "-W", "2", SERVER], {
          timeoutMs: 10_000,
        });
        assert.equal(own.code, 0, `ping from the CLAT host:\n${own.stdout}${own.stderr}`);
        const st = await status(l.clat) as {
          mode: string;
          prefixes: string[];
          traffic: Record<string, { out: { packets: number } }>;
        };
        assert.equal(st.mode, "clat");
        assert.deepEqual(st.prefixes, ["2001:db8:64::/96"]);
        assert.ok(st.traffic["4to6"].out.packets > 100, JSON.stringify(st.traffic));
        if (v === "single") {
          // RFC 8683 4.8: the one address is answered for by proxy ND on the uplink.
          const proxies = await l.clat.run(["ip", "-6", "neigh", "show", "proxy"]);
          assert.match(proxies, new RegExp(CLAT6));
          // The NAT44's tables: /status, /metrics and `xlat64 status --sessions`.
          type Nat44 = { clients: number; bindings: { udp: number } };
          const nat44 = async () => (await status(l.clat)).nat44 as Nat44 | undefined;
          await waitFor("NAT44 gauges in /status", async () => ((await nat44())?.clients ?? 0) > 0);
          assert.ok((await nat44())!.bindings.udp >= 1);
          const metrics = await l.clat.run(["curl", "-sf", "http://127.0.0.1:18064/metrics"]);
          assert.match(metrics, /xlat64_clat_nat44_bindings\{protocol="udp"\} [1-9]/);
          assert.match(metrics, /xlat64_clat_nat44_clients [1-9]/);
          const text = await l.clat.run([
            Deno.execPath(),
            "run",
            "-A",
            MAIN,
            "status",
            "--url",
            "127.0.0.1:18064",
            "--sessions",
          ]);
          assert.match(text, /CLAT NAT44/);
          assert.match(
            text,
            new RegExp(`udp\\s+192\\.168\\.77\\.2:\\d+\\s+192\\.0\\.0\\.1:\\d+\\s+${SERVER}:7007`),
          );
        }
        // The CLAT's IPv4 default yields to native IPv4 (RFC 8683 4.8): a high metric.
        const r = await l.clat.run(["ip", "-4", "route", "show", "default"]);
        assert.match(r, /dev cl0 .*metric 2048/);
      } finally {
        await lab.cleanup();
      }
    },
  });
}
