// The running appliance end to end: `deno run -A main.ts run --config X` in a namespace
// between an IPv6-only client and an IPv4-only server (SIIT), pings across it, SIGHUP
// changes behaviour, SIGTERM removes what it added.
import assert from "node:assert/strict";
import { type Background, NetLab, type Netns, whyNoNamespaces } from "../../src/io/netns.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const TUN = "xl0";

const config = (eam: string, extra = "") =>
  `mode = "siit"
[tun]
name = "${TUN}"
mtu = 1500
workers = 2
manage = true
[translator]
pool6 = "2001:db8:46::/96"
${eam}
[dns]
listen = ["127.0.0.1:5353"]
upstream = ["192.0.2.2"]
[status]
listen = "127.0.0.1:18064"
${extra}`;
const EAM = `[[translator.eam]]\nipv4 = "198.51.100.0/24"\nipv6 = "2001:db8:6::/120"\n`;

async function waitFor(
  what: string,
  f: () => boolean | Promise<boolean>,
  ms = 15_000,
  bg?: Background,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    if (bg?.exited) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${ms} ms${bg ? `\n${bg.output()}` : ""}`);
}

async function routesOn(ns: Netns, dev: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of ["-4", "-6"]) {
    const r = await ns.exec(["ip", "-j", f, "route", "show", "dev", dev]);
    if (r.code !== 0) continue;
    for (const x of JSON.parse(r.stdout || "[]")) if (!x.dst.startsWith("fe80")) out.push(x.dst);
  }
  return out.sort();
}

async function ping6(ns: Netns, dst: string): Promise<boolean> {
  const r = await ns.exec(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", dst], {
    timeoutMs: 5000,
  });
  return r.code === 0;
}

Deno.test({
  name: "appliance: SIIT between namespaces, SIGHUP adds an EAM, SIGTERM cleans up (needs root)",
  ignore: whyNoNamespaces() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("xsa");
    const dir = await Deno.makeTempDir();
    try {
      const [cli, app, srv] = [
        await lab.netns("cli"),
        await lab.netns("app"),
        await lab.netns("srv"),
      ];
      await lab.veth(cli, "c0", app, "a0");
      await lab.veth(srv, "s0", app, "a1");
      await cli.addr("c0", "2001:db8:6::2/64");
      await app.addr("a0", "2001:db8:6::1/64");
      await cli.route("::/0", { via: "2001:db8:6::1" });
      await srv.addr("s0", "192.0.2.2/24");
      await app.addr("a1", "192.0.2.1/24");
      await srv.route("0.0.0.0/0", { via: "192.0.2.1" });
      // A persistent multi-queue TUN, so leftovers after shutdown would be visible.
      await app.ip("tuntap", "add", "dev", TUN, "mode", "tun", "multi_queue");
      await app.sysctl("net.ipv4.ip_forward", 0);

      const cfgPath = `${dir}/xlat64.toml`;
      await Deno.writeTextFile(cfgPath, config(""));
      const bg = app.spawn([Deno.execPath(), "run", "-A", MAIN, "run", "--config", cfgPath]);
      const status = async () => {
        const r = await app.exec(["curl", "-sf", "http://127.0.0.1:18064/status"]);
        return r.code === 0 ? JSON.parse(r.stdout) : null;
      };
      // Healthy once every worker runs (the endpoint answers 503 before).
      const healthy = async () =>
        (await app.exec(["curl", "-sf", "http://127.0.0.1:18064/healthz"])).code === 0;
      await waitFor("healthy appliance", healthy, 15_000, bg);
      const s0 = await status();
      assert.equal(s0.workers.length, 2, JSON.stringify(s0.workers));
      assert.ok(s0.workers.every((w: { state: string }) => w.state === "running"));
      assert.deepEqual(await routesOn(app, TUN), ["2001:db8:46::/96"]);
      assert.equal((await app.run(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "1");

      // Without an EAM the client's address has no IPv4 form: nothing gets through.
      assert.equal(await ping6(cli, "2001:db8:46::192.0.2.2"), false, "no EAM yet");

      // SIGHUP with an EAM for the client's /120 (and a new MTU): now it does, and the
      // route appears.
      await Deno.writeTextFile(cfgPath, config(EAM).replace("mtu = 1500", "mtu = 1400"));
      Deno.kill(bg.pid, "SIGHUP");
      await waitFor("reload", () => bg.output().includes("reloaded"), 10_000, bg);
      assert.deepEqual(await routesOn(app, TUN), ["198.51.100.0/24", "2001:db8:46::/96"]);
      assert.match(await app.ip("link", "show", TUN), /mtu 1400/);
      assert.ok(await ping6(cli, "2001:db8:46::192.0.2.2"), `ping failed\n${bg.output()}`);
      const s1 = await status();
      const metrics = await app.run(["curl", "-sf", "http://127.0.0.1:18064/metrics"]);
      const read = [...metrics.matchAll(/^xlat64_tun_packets_read_total\{worker="\d"\} (\d+)/gm)];
      assert.equal(read.length, 2, metrics);
      assert.ok(read.reduce((a, m) => a + Number(m[1]), 0) >= 4, "both pings were read");
      assert.ok(s1.eam.length === 1, JSON.stringify(s1.eam));
      // The two echo requests sent before the EAM existed were dropped as untranslatable
      // (plus the kernel's own MLD reports from "::" on the TUN, when forwarding is on).
      const d = s1.traffic["6to4"].dropsByReason.untranslatable_src;
      assert.ok(d >= 2, JSON.stringify(s1));
      assert.equal(s1.traffic["6to4"].drops, d);
      assert.equal(s1.traffic["4to6"].out.packets, 2, "two echo replies translated");

      // A broken file on SIGHUP is reported with file and key, and the old config stays.
      await Deno.writeTextFile(cfgPath, config(EAM).replace("workers = 2", 'workers = "two"'));
      Deno.kill(bg.pid, "SIGHUP");
      await waitFor("rejected reload", () => /reload rejected/.test(bg.output()), 10_000, bg);
      assert.match(bg.output(), /xlat64\.toml/);
      assert.match(bg.output(), /tun\.workers/);
      assert.ok(await ping6(cli, "2001:db8:46::192.0.2.2"), "old config still works");

      // The DNS proxy runs too: RFC 8880 ipv4only.arpa is answered locally with DNS64.
      const dig = await app.run([
        "dig",
        "+short",
        "+time=2",
        "+tries=1",
        "@127.0.0.1",
        "-p",
        "5353",
        "ipv4only.arpa",
        "AAAA",
      ]);
      assert.deepEqual(dig.trim().split("\n").sort(), [
        "2001:db8:46::c000:aa",
        "2001:db8:46::c000:ab",
      ]);

      // SIGTERM: exit 0, our routes gone from the (persistent) TUN, forwarding restored.
      const st = await bg.stop(5000);
      assert.equal(st.code, 0, bg.output());
      assert.deepEqual(await routesOn(app, TUN), []);
      assert.equal((await app.run(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "0");
      assert.match(bg.output(), /removed route 198\.51\.100\.0\/24/);
      if (Deno.env.get("XS_DEBUG")) console.log(bg.output(), JSON.stringify(s1));

      // A start that fails (the name belongs to a veth) exits 1, says why, leaves nothing.
      await Deno.writeTextFile(cfgPath, config(EAM).replace(`name = "${TUN}"`, 'name = "a0"'));
      const bad = await app.exec([Deno.execPath(), "run", "-A", MAIN, "run", "--config", cfgPath], {
        timeoutMs: 20_000,
      });
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, /start-up failed: cannot create TUN "a0": .*not a TUN/);
      assert.deepEqual(await routesOn(app, TUN), []);
      assert.equal((await app.run(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "0");

      // manage = false: nothing is added; what is missing is logged with the command to add it.
      await Deno.writeTextFile(cfgPath, config(EAM).replace("manage = true", "manage = false"));
      const un = app.spawn([Deno.execPath(), "run", "-A", MAIN, "run", "--config", cfgPath]);
      await waitFor("unmanaged start", () => /running \(mode siit\)/.test(un.output()), 15_000, un);
      assert.equal((await un.stop(5000)).code, 0, un.output());
      assert.match(
        un.output(),
        /route missing: 2001:db8:46::\/96 dev xl0 .*`ip -6 route add 2001:db8:46::\/96 dev xl0`/,
      );
      assert.match(un.output(), /route missing: 198\.51\.100\.0\/24 dev xl0/);
      assert.match(un.output(), /net\.ipv4\.ip_forward is off/);
      assert.deepEqual(await routesOn(app, TUN), []);
    } finally {
      await lab.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "appliance: when the TUN disappears every worker fails and it exits 1, cleaned up (needs root)",
  ignore: whyNoNamespaces() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("xsd");
    const dir = await Deno.makeTempDir();
    try {
      const app = await lab.netns("app");
      await app.sysctl("net.ipv4.ip_forward", 0);
      const cfgPath = `${dir}/xlat64.toml`;
      await Deno.writeTextFile(cfgPath, config(""));
      const bg = app.spawn([Deno.execPath(), "run", "-A", MAIN, "run", "--config", cfgPath]);
      const healthy = async () =>
        (await app.exec(["curl", "-sf", "http://127.0.0.1:18064/healthz"])).code === 0;
      await waitFor("healthy appliance", healthy, 15_000, bg);
      await app.ip("link", "del", TUN);
      const st = await Promise.race([
        bg.done,
        new Promise<null>((r) => setTimeout(() => r(null), 5000)),
      ]);
      assert.ok(st !== null, `still running after the TUN went away\n${bg.output()}`);
      assert.equal(st.code, 1, bg.output());
      assert.match(bg.output(), /data-path worker 0 failed: read from TUN/);
      assert.match(bg.output(), /every data-path worker failed: shutting down/);
      assert.equal((await app.run(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "0");
    } finally {
      await lab.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
