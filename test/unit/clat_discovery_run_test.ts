// How the appliance and `xlat64 discover` feed prefix discovery from config and host.
import assert from "node:assert/strict";
import { formatPrefix6, parsePrefix6 } from "../../src/addr/ip.ts";
import { parseConfig } from "../../src/config/load.ts";
import {
  discoverFor,
  discoveryOptions,
  formatDiscovery,
  staticPrefixes,
} from "../../src/clat/discovery_run.ts";
import { needsPrefixControl } from "../../src/clat/plat_prefix.ts";
import { capabilitiesToKeep } from "../../src/io/supervisor.ts";

const cfg = (text: string) => parseConfig(text, "t.toml");
const CLAT =
  `mode = "clat"\n[clat]\ntranslation-prefix = "2001:db8:c1a7::/64"\n[dns]\nlisten = []\n`;
const host = {
  routes: [
    { family: 6 as const, dst: "default", dev: "wan0", gateway: "fe80::1" },
    { family: 4 as const, dst: "10.0.0.0/8", dev: "lan0" },
  ],
  resolvConf: "nameserver 2001:db8::53\n",
};

Deno.test("discovery options: RAs on the IPv6 default route's interface, PCP to its router, RFC 7050 via the upstreams", () => {
  const o = discoveryOptions(cfg(CLAT), host);
  assert.equal(o.interface, "wan0");
  assert.equal(o.pcpServer, "fe80::1");
  assert.deepEqual(o.methods, ["static", "pref64", "pcp", "rfc7050"]);
  assert.deepEqual(o.staticPrefixes, [], '"discover": nothing configured');
  assert.ok(o.query, "a resolver for RFC 7050");
  const set = discoveryOptions(
    cfg(
      CLAT.replace(
        "[dns]",
        `plat-prefix = "2001:db8:64::/96"\n[discovery]\n` +
          `methods = ["pcp", "static"]\ninterface = "eth9"\npcp-server = "2001:db8::1"\n` +
          `trusted-domains = ["example.net"]\n[dns]`,
      ),
    ),
    host,
  );
  assert.equal(set.interface, "eth9");
  assert.equal(set.pcpServer, "2001:db8::1");
  assert.deepEqual(set.methods, ["pcp", "static"], "precedence as configured");
  assert.deepEqual(set.trustedDomains, ["example.net"]);
  assert.deepEqual(set.staticPrefixes?.map(formatPrefix6), ["2001:db8:64::/96"]);
  const noDns = discoveryOptions(cfg(CLAT), { routes: [], resolvConf: "" });
  assert.equal(noDns.query, undefined);
  assert.equal(noDns.interface, null);
});

Deno.test("discovery: static prefixes are clat.plat-prefix, else translator.pool6", () => {
  assert.deepEqual(staticPrefixes(cfg(CLAT)), []);
  const nat64 = cfg(
    `mode = "nat64"\n[[nat64.pool4]]\nprefix = "192.0.2.1/32"\n[dns]\nlisten = []\n`,
  );
  assert.deepEqual(staticPrefixes(nat64).map(formatPrefix6), ["64:ff9b::/96"]);
});

Deno.test("discover: every method's answer and the winner, with injected I/O", async () => {
  const st = await discoverFor(cfg(CLAT), host, 0.2, {
    staticPrefixes: [parsePrefix6("2001:db8:99::/96")],
    interface: "wan0",
    pcpServer: null,
    query: () => Promise.reject(new Error("SERVFAIL")),
    io: {
      listenRas: async (_i, onRa, o) => {
        onRa({
          from: "fe80::1",
          ifindex: 2,
          ra: {
            pref64: [{ prefix: parsePrefix6("2001:db8:64::/96"), lifetimeS: 600 }],
          } as never,
        });
        await new Promise<void>((r) => o.signal?.addEventListener("abort", () => r()));
      },
    },
  });
  assert.deepEqual(st.active, { source: "static", prefixes: ["2001:db8:99::/96"] });
  const text = formatDiscovery(st);
  assert.match(text, /precedence: static > pref64 > pcp > rfc7050/);
  assert.match(text, /pref64 +2001:db8:64::\/96 from fe80::1%2 \(lifetime 60\d?s\)/);
  assert.match(text, /pcp +nothing\n +off: no server/);
  assert.match(text, /rfc7050 +nothing\n +retrying: SERVFAIL/);
  assert.match(text, /active: 2001:db8:99::\/96 \(static\)/);
});

Deno.test("prefix control and capabilities: clat always; PLATs only when they announce", () => {
  assert.equal(needsPrefixControl(cfg(CLAT)), true);
  const nat64 = `mode = "nat64"\n[[nat64.pool4]]\nprefix = "192.0.2.1/32"\n[dns]\nlisten = []\n`;
  assert.equal(needsPrefixControl(cfg(nat64)), false);
  assert.equal(
    needsPrefixControl(cfg(nat64 + `[discovery]\nannounce-pref64 = ["lan0"]\n`)),
    true,
  );
  // A static PLAT prefix may rank below PREF64, so RAs are still heard: NET_RAW stays.
  const staticPlat = CLAT.replace("[dns]", `plat-prefix = "64:ff9b::/96"\n[dns]`) +
    `[tun]\nmanage = false\n`;
  assert.deepEqual(capabilitiesToKeep(cfg(staticPlat)), ["NET_RAW"]);
  const onlyStatic = staticPlat + `[discovery]\nmethods = ["static"]\n`;
  assert.deepEqual(capabilitiesToKeep(cfg(onlyStatic)), []);
});

Deno.test("xlat64 status shows discovery, dynamic mappings and what is announced", async () => {
  const { renderPrefixControl } = await import("../../src/clat/status_text.ts");
  const text = renderPrefixControl({
    discovery: {
      precedence: ["pref64", "rfc7050"],
      active: { source: "pref64", prefixes: ["2001:db8:64::/96"] },
      learned: [{
        prefix: "2001:db8:64::/96",
        source: "pref64",
        origin: "fe80::1%2",
        learnedAgoS: 3,
        expiresInS: 1797,
      }],
      methods: { pref64: { state: "listening on w0" }, rfc7050: { state: "0 prefix(es)" } },
    },
    dynamicEam: [{ name: "ds.test.", ipv4: "198.51.100.2", ipv6: "2001:db8:5::2", expiresInS: 42 }],
    announcing: { interfaces: ["lan0"], prefix: "64:ff9b::/96", lifetimeS: 1800 },
  }).join("\n");
  assert.match(text, /pref64 +2001:db8:64::\/96 from fe80::1%2 \(lifetime 1797s\)/);
  assert.match(text, /rfc7050 +nothing/);
  assert.match(text, /198\.51\.100\.2 -> 2001:db8:5::2 \(ds\.test\., 42s left\)/);
  assert.match(text, /announcing 64:ff9b::\/96 \(PREF64, lifetime 1800s\) on lan0/);
});
