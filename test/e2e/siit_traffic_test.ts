// End to end through the real appliance (`main.ts run`, mode = "siit") in namespaces:
// IPv6-only client <-> xlat64 <-> IPv4-only server, the client mapped by an EAM entry.
import assert from "node:assert/strict";
import { whyNoNamespaces } from "../../src/io/netns.ts";
import { httpCheck, ping, traceroute, udpAsk } from "../../src/lab/checks.ts";
import { LAB, LabTopology, xlat64Argv } from "../../src/lab/topology.ts";
import { DROP_REASONS } from "../../src/xlat/stats.ts";
import type { StatusDoc } from "../../src/status/snapshot.ts";

const ignore = whyNoNamespaces() !== null;

Deno.test({
  name:
    "SIIT with pool6 + EAM: ping, HTTP, UDP, fragments, traceroute, exact counters (needs root)",
  ignore,
  async fn(t) {
    const lab = new LabTopology({ tag: "x64e2e" });
    try {
      await lab.build();
      await lab.startAppliance();

      await t.step("RFC 7915 4/5: ping -6 client -> server and ping server -> client", async () => {
        const a = await ping(lab.client, LAB.server6, { count: 3 });
        assert.equal(a.received, 3, a.output);
        const b = await ping(lab.server, LAB.client4, { count: 3 });
        assert.equal(b.received, 3, b.output);
      });

      await t.step("TCP: curl from the IPv6-only client to the IPv4-only HTTP server", async () => {
        const r = await httpCheck(lab.client, `http://[${LAB.server6}]:${LAB.httpPort}/`, 1 << 20);
        assert.equal(r.ok, true, r.detail);
      });

      await t.step("UDP both ways (512-byte datagrams echoed)", async () => {
        const a = await udpAsk(lab.client, LAB.server6, LAB.udpPort, 512, 5);
        assert.equal(a.received, 5);
        const b = await udpAsk(lab.server, LAB.client4, LAB.udpPort, 512, 5);
        assert.equal(b.received, 5);
      });

      await t.step("RFC 7915 4.1/5.1: fragmented UDP (4000 bytes) crosses both ways", async () => {
        const a = await udpAsk(lab.client, LAB.server6, LAB.udpPort, 4000, 3);
        assert.equal(a.received, 3);
        const b = await udpAsk(lab.server, LAB.client4, LAB.udpPort, 4000, 3);
        assert.equal(b.received, 3);
      });

      await t.step(
        "RFC 7915 4.2: traceroute -6 across the translator sees the IPv4 router's Time Exceeded",
        async () => {
          const hops = await traceroute(lab.client, LAB.server6);
          // xlat box (IPv6), translator's own Time Exceeded, the IPv4 router behind the TUN
          // (192.0.2.1 in pool6), the server.
          assert.equal(hops[0], LAB.xlat6, hops.join(" "));
          assert.ok(hops.includes(LAB.xlat4As6), `no translated hop in ${hops.join(" ")}`);
          assert.equal(hops.at(-1), LAB.server6, hops.join(" "));
        },
      );

      await t.step(
        "RFC 7915 5.2 + RFC 6791: traceroute -4 sees the IPv6 router's Time Exceeded from 192.0.0.8",
        async () => {
          const hops = await traceroute(lab.server, LAB.client4);
          assert.equal(hops[0], LAB.xlat4, hops.join(" "));
          assert.ok(hops.includes(LAB.rfc6791v4), `no RFC 6791 hop in ${hops.join(" ")}`);
          assert.equal(hops.at(-1), LAB.client4, hops.join(" "));
        },
      );

      await t.step("/metrics and /status count exactly the packets of 10 pings", async () => {
        const before = await lab.metrics();
        const p = await ping(lab.client, LAB.server6, { count: 10, intervalS: 0.05 });
        assert.equal(p.received, 10, p.output);
        const after = await lab.metrics();
        const delta = (k: string) => (after.get(k) ?? NaN) - (before.get(k) ?? NaN);
        const k = (what: string, d: string, s: string) =>
          `xlat64_${what}_total{direction="${d}",stage="${s}"}`;
        // Echo request: IPv6 40 + ICMPv6 8 + 56 data = 104 bytes in, IPv4 20 + 8 + 56 = 84 out.
        assert.equal(delta(k("packets", "6to4", "in")), 10);
        assert.equal(delta(k("packets", "6to4", "out")), 10);
        assert.equal(delta(k("packets", "4to6", "in")), 10);
        assert.equal(delta(k("packets", "4to6", "out")), 10);
        assert.equal(delta(k("bytes", "6to4", "in")), 1040);
        assert.equal(delta(k("bytes", "6to4", "out")), 840);
        assert.equal(delta(k("bytes", "4to6", "in")), 840);
        assert.equal(delta(k("bytes", "4to6", "out")), 1040);

        const doc = JSON.parse(await lab.statusGet("/status")) as StatusDoc;
        assert.equal(doc.mode, "siit");
        assert.deepEqual(doc.prefixes, [LAB.pool6]);
        assert.deepEqual(doc.eam, [{ ipv4: `${LAB.client4}/32`, ipv6: `${LAB.client6}/128` }]);
        assert.equal(doc.traffic["6to4"].in.packets, after.get(k("packets", "6to4", "in")));
        assert.equal(doc.traffic["4to6"].out.bytes, after.get(k("bytes", "4to6", "out")));
        assert.ok(doc.workers.length >= 1 && doc.workers.every((w) => w.state === "running"));
        assert.equal(await lab.statusGet("/healthz"), "ok");
      });

      await t.step("xlat64 status prints the running appliance for a person", async () => {
        const out = await lab.xlat.run(xlat64Argv(["status", "--url", LAB.statusUrl]));
        assert.match(out, /^xlat64 \S+ {2}mode siit {2}healthy {2}up /);
        assert.match(out, /prefixes +2001:db8:64::\/96/);
        assert.match(out, /EAM +198\.51\.100\.2\/32 <-> 2001:db8:a::2\/128/);
        assert.match(out, /\n6to4 +\d+ +[\d.]+ (B|KiB|MiB)/);
      });

      await t.step("every line of the real /metrics is valid exposition 0.0.4", async () => {
        const text = await lab.statusGet("/metrics");
        const typed = new Map<string, string>();
        for (const line of text.trimEnd().split("\n")) {
          const ty = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/
            .exec(line);
          if (ty) {
            assert.ok(!typed.has(ty[1]), `TYPE twice for ${ty[1]}`);
            typed.set(ty[1], ty[2]);
            continue;
          }
          if (line.startsWith("# HELP ")) continue;
          const m =
            /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/
              .exec(line);
          assert.ok(m, `bad line: ${line}`);
          const base = m[1].replace(/_(bucket|sum|count)$/, "");
          assert.ok(typed.has(m[1]) || typed.get(base) === "histogram", `no TYPE for ${line}`);
          if (typed.get(m[1]) === "counter") assert.ok(m[1].endsWith("_total"), line);
        }
        for (const d of ["4to6", "6to4"]) {
          for (const r of DROP_REASONS) {
            assert.ok(text.includes(`xlat64_drops_total{direction="${d}",reason="${r}"} `), r);
          }
        }
      });
    } finally {
      await lab.cleanup();
    }
  },
});
