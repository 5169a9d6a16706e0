// Route planning (pure) and applying/removing exactly what was added (in a namespace).
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import {
  type KernelRoute,
  missingRoutes,
  NetConfigurator,
  planNetwork,
  readRoutes,
  type SysctlIo,
} from "../../src/io/netconf.ts";

const siit = (eam: string) =>
  parseConfig(
    `mode = "siit"\n[translator]\npool6 = "64:ff9b::/96"\n${eam}\n[dns]\nlisten = []\n`,
    "test.toml",
  );
const eam = (v4: string, v6: string) => `[[translator.eam]]\nipv4 = "${v4}"\nipv6 = "${v6}"\n`;
const connected6: KernelRoute = { family: 6, dst: "2001:db8:6::/64", dev: "eth0" };
const connected4: KernelRoute = { family: 4, dst: "192.0.2.0/24", dev: "eth1" };
const defaults: KernelRoute[] = [
  { family: 4, dst: "default", dev: "eth1", gateway: "192.0.2.1" },
  { family: 6, dst: "default", dev: "eth0", gateway: "2001:db8:6::1" },
];

Deno.test("netconf: SIIT routes pool6 and the EAM side that is not real hosts", () => {
  const cfg = siit(
    eam("198.51.100.0/24", "2001:db8:6::/120") + eam("192.0.2.0/28", "2001:db8:99::/124"),
  );
  const p = planNetwork(cfg, "xlat64", [...defaults, connected6, connected4]);
  assert.deepEqual(p.routes.map((r) => `${r.prefix} ${r.dev}`), [
    "64:ff9b::/96 xlat64",
    // 2001:db8:6::/120 is inside a connected /64: IPv6 hosts, so the IPv4 side goes in.
    "198.51.100.0/24 xlat64",
    // 192.0.2.0/28 is inside a connected /24: IPv4 hosts, so the IPv6 side goes in.
    "2001:db8:99::/124 xlat64",
  ]);
  assert.deepEqual(p.addresses, []);
});

Deno.test("netconf: default routes do not make an EAM side 'real'; both real means none", () => {
  const p1 = planNetwork(siit(eam("203.0.113.0/24", "2001:db8:7::/120")), "t", defaults);
  assert.deepEqual(p1.routes.map((r) => r.prefix), ["64:ff9b::/96", "203.0.113.0/24"]);
  assert.match(p1.notes.join("\n"), /neither side is routed elsewhere/);
  const p2 = planNetwork(siit(eam("192.0.2.16/28", "2001:db8:6::/124")), "t", [
    connected4,
    connected6,
  ]);
  assert.deepEqual(p2.routes.map((r) => r.prefix), ["64:ff9b::/96"]);
  assert.match(p2.notes.join("\n"), /both sides are routed elsewhere/);
});

Deno.test("netconf: routes on the TUN itself do not count as elsewhere", () => {
  const onTun: KernelRoute = { family: 6, dst: "2001:db8:6::/64", dev: "t" };
  const p = planNetwork(siit(eam("192.0.2.0/28", "2001:db8:6::/124")), "t", [connected4, onTun]);
  assert.ok(p.routes.some((r) => r.prefix === "2001:db8:6::/124"));
});

Deno.test("netconf: NAT64 routes pool6 and pool4; CLAT adds its address and default", () => {
  const n = parseConfig(
    `mode = "nat64"\n[[nat64.pool4]]\nprefix = "192.0.2.8/29"\n[dns]\nlisten = []\n`,
    "n.toml",
  );
  assert.deepEqual(planNetwork(n, "x", []).routes.map((r) => r.prefix), [
    "64:ff9b::/96",
    "192.0.2.8/29",
  ]);
  const c = parseConfig(
    `mode = "clat"\n[clat]\ntranslation-prefix = "2001:db8:c1a7::/64"\n` +
      `plat-prefix = "64:ff9b::/96"\n[dns]\nlisten = []\n`,
    "c.toml",
  );
  const pc = planNetwork(c, "clat", []);
  assert.deepEqual(pc.addresses.map((a) => a.cidr), ["192.0.0.1/32"]);
  assert.deepEqual(pc.routes.map((r) => r.prefix), ["2001:db8:c1a7::/64", "0.0.0.0/0"]);
  // RFC 8683 4.8: with native IPv4 the CLAT's default stays, at a metric that yields to it.
  const pc2 = planNetwork(c, "clat", defaults);
  assert.deepEqual(pc2.routes.map((r) => r.prefix), ["2001:db8:c1a7::/64", "0.0.0.0/0"]);
  assert.equal(pc2.routes[1].metric, 2048);
  assert.equal(pc2.routes[1].mtu, 1500 - 28, "IPv6 MTU minus IPv6 and fragment header growth");
  assert.match(pc2.notes.join(" "), /yields/);
  const single = parseConfig(
    `mode = "clat"\n[clat]\nipv6-address = "2001:db8:a::c1a7"\nplat-prefix = "64:ff9b::/96"\n` +
      `[dns]\nlisten = []\n`,
    "s.toml",
  );
  const ps = planNetwork(single, "clat", [{ family: 6, dst: "default", dev: "wan0" }]);
  assert.deepEqual(ps.routes.map((r) => r.prefix), ["2001:db8:a::c1a7/128", "0.0.0.0/0"]);
  assert.deepEqual(ps.neighProxies, [{
    address: "2001:db8:a::c1a7",
    dev: "wan0",
    why: "CLAT IPv6 address (proxy ND)",
  }]);
});

Deno.test("netconf: missingRoutes compares exact prefixes on the TUN", () => {
  const p = planNetwork(siit(""), "t", []);
  assert.equal(missingRoutes(p, []).length, 1);
  assert.equal(missingRoutes(p, [{ family: 6, dst: "64:ff9b::/96", dev: "t" }]).length, 0);
  assert.equal(missingRoutes(p, [{ family: 6, dst: "64:ff9b::/96", dev: "eth0" }]).length, 1);
  assert.equal(missingRoutes(p, [{ family: 6, dst: "64:ff9b::/64", dev: "t" }]).length, 1);
});

function memSysctl(init: Record<string, string>): SysctlIo & { v: Record<string, string> } {
  const v = { ...init };
  return {
    v,
    read: (k) => Promise.resolve(v[k]),
    write: (k, x) => Promise.resolve(void (v[k] = x)),
  };
}

Deno.test("netconf: forwarding is enabled only where off, and restored on teardown", async () => {
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(`W ${m}`) };
  const sys = memSysctl({ "net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "1" });
  const nc = new NetConfigurator(log, () => Promise.resolve({ ok: true, stderr: "" }), sys);
  await nc.enableForwarding();
  assert.equal(sys.v["net.ipv4.ip_forward"], "1");
  assert.match(logs.join("\n"), /enabled net\.ipv4\.ip_forward \(was 0\)/);
  assert.doesNotMatch(logs.join("\n"), /enabled net\.ipv6/);
  await nc.teardown();
  assert.equal(sys.v["net.ipv4.ip_forward"], "0");
  assert.equal(sys.v["net.ipv6.conf.all.forwarding"], "1");
  const nc2 = new NetConfigurator(
    log,
    undefined,
    memSysctl({
      "net.ipv4.ip_forward": "0",
      "net.ipv6.conf.all.forwarding": "0",
    }),
  );
  assert.deepEqual(await nc2.checkForwarding(), [
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
  ]);
});

Deno.test({
  name: "netconf: apply adds, reload updates, teardown removes exactly its own routes (needs root)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const ns = `xs-nc-${Deno.pid}`;
    const ipns = async (...args: string[]) => {
      const r = await new Deno.Command("ip", { args: ["-n", ns, ...args], stderr: "piped" })
        .output();
      assert.ok(r.success, `ip -n ${ns} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
    };
    assert.ok((await new Deno.Command("ip", { args: ["netns", "add", ns] }).output()).success);
    try {
      await ipns("link", "add", "xtun", "type", "veth", "peer", "name", "xpeer");
      await ipns("link", "set", "xpeer", "up");
      await ipns("link", "set", "xtun", "up");
      // Someone else's route on our interface: must survive teardown.
      await ipns("route", "add", "10.200.0.0/16", "dev", "xtun");
      const runIpNs = async (args: readonly string[]) => {
        const r = await new Deno.Command("ip", { args: ["-n", ns, ...args], stderr: "piped" })
          .output();
        return { ok: r.success, stderr: new TextDecoder().decode(r.stderr).trim() };
      };
      const log = { info: () => {}, warn: () => {} };
      const nc = new NetConfigurator(log, runIpNs, memSysctl({}));
      const cfg1 = siit(eam("198.51.100.0/24", "2001:db8:6::/120"));
      await nc.apply(planNetwork(cfg1, "xtun", []));
      const show = async () => {
        const out: string[] = [];
        for (const f of ["-4", "-6"]) {
          const r = await new Deno.Command("ip", {
            args: ["-n", ns, "-j", f, "route", "show", "dev", "xtun"],
            stdout: "piped",
          }).output();
          for (const x of JSON.parse(new TextDecoder().decode(r.stdout) || "[]")) out.push(x.dst);
        }
        return out.filter((d: string) => !d.startsWith("fe80")).sort();
      };
      assert.deepEqual(await show(), ["10.200.0.0/16", "198.51.100.0/24", "64:ff9b::/96"]);
      // Reload: the EAM entry changes.
      const cfg2 = siit(eam("203.0.113.0/24", "2001:db8:6::/120"));
      await nc.update(planNetwork(cfg2, "xtun", []));
      assert.deepEqual(await show(), ["10.200.0.0/16", "203.0.113.0/24", "64:ff9b::/96"]);
      await nc.teardown();
      assert.deepEqual(await show(), ["10.200.0.0/16"]);
      // readRoutes parses the real table (here: the root namespace's; just its shape).
      const rs = await readRoutes();
      assert.ok(rs.every((r) => (r.family === 4 || r.family === 6) && typeof r.dst === "string"));
    } finally {
      await new Deno.Command("ip", { args: ["netns", "del", ns] }).output();
    }
  },
});
