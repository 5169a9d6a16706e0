// NAT64 prefix discovery against xlat64's own PLAT side: PREF64 from its RA sender
// (RFC 8781), PREFIX64 from its PCP server (RFC 7225), ipv4only.arpa from its DNS64
// (RFC 7050); precedence; a prefix change while traffic flows; withdrawal and expiry.
import assert from "node:assert/strict";
import { NetLab, whyNoNamespaces } from "../../src/io/netns.ts";
import {
  build464,
  clatConfig,
  type Lab464,
  MAIN,
  nat64Config,
  PLAT_PREFIX,
  SERVER,
  startUdpEcho,
  startXlat64,
  status,
  udpEcho,
  waitFor,
} from "./clat_lab.ts";

const DNS64_PREFIX = "2001:db8:7050::/96";
const NEW_PREFIX = "2001:db8:6464::/96";

const platSide = (pool6: string, lifetime: number) =>
  nat64Config({
    pool6,
    dns: `listen = ["[2001:db8:1::1]:53"]\nupstream = ["192.0.2.99"]\n` +
      `allow = ["2001:db8:1::/64"]\n[dns64]\nprefixes = ["${DNS64_PREFIX}"]`,
    extra: `[discovery]\nannounce-pref64 = ["w1"]\npref64-lifetime = ${lifetime}\n` +
      `[pcp]\nlisten = ["[2001:db8:1::1]:5351"]\nallow = ["2001:db8:1::/64"]\n`,
  });

const clatDiscovering = (methods: string[]) =>
  clatConfig("dedicated", {
    plat: "discover",
    dns: `listen = []\nupstream = ["[2001:db8:1::1]:53"]`,
    extra: `[discovery]\nmethods = ${JSON.stringify(methods)}\ninterface = "w0"\n` +
      `pcp-server = "2001:db8:1::1"\npcp-client-address = "2001:db8:1::2"\n`,
  });

interface Found {
  active: { source: string; prefixes: string[] } | null;
  learned: { prefix: string; source: string; origin: string; expiresInS: number | null }[];
  methods: Record<string, { state: string; lastError?: string }>;
}

async function discover(l: Lab464, methods: string[]): Promise<Found> {
  const path = `${l.dir}/discover-${methods.join("-")}.toml`;
  await Deno.writeTextFile(path, clatDiscovering(methods));
  const r = await l.clat.exec(
    [Deno.execPath(), "run", "-A", MAIN, "discover", "-c", path, "-t", "3", "--json"],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.code, 0, `xlat64 discover: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

Deno.test({
  name:
    "discovery: xlat64 discover hears PREF64, PCP PREFIX64 and RFC 7050 from xlat64's PLAT; precedence picks (needs root)",
  ignore: whyNoNamespaces() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4p");
    try {
      const l = await build464(lab);
      l.platApp = await startXlat64(l, l.plat, "plat", platSide(PLAT_PREFIX, 1800), 18065);
      const all = await discover(l, ["pref64", "pcp", "rfc7050"]);
      const by = (s: string) => all.learned.filter((x) => x.source === s).map((x) => x.prefix);
      const why = JSON.stringify(all, null, 1);
      // RFC 8781: the PLAT's RA (answering our Router Solicitation) carries pool6.
      assert.deepEqual(by("pref64"), ["2001:db8:64::/96"], why);
      assert.match(all.learned.find((x) => x.source === "pref64")!.origin, /^fe80::/);
      // RFC 7225: the PCP ANNOUNCE answer carries PREFIX64 = pool6.
      assert.deepEqual(by("pcp"), ["2001:db8:64::/96"], why);
      // RFC 7050: ipv4only.arpa synthesized by the PLAT's DNS64 with its own prefix.
      assert.deepEqual(by("rfc7050"), [DNS64_PREFIX], why);
      assert.deepEqual(all.active, { source: "pref64", prefixes: ["2001:db8:64::/96"] });
      // Precedence is configurable: RFC 7050 first now.
      const dnsFirst = await discover(l, ["rfc7050", "pcp", "pref64"]);
      assert.deepEqual(dnsFirst.active, { source: "rfc7050", prefixes: [DNS64_PREFIX] });
      const pcpFirst = await discover(l, ["pcp", "rfc7050"]);
      assert.equal(pcpFirst.active?.source, "pcp");
    } finally {
      await lab.cleanup();
    }
  },
});

Deno.test({
  name:
    "discovery: the CLAT runs on a PREF64 prefix, follows a prefix change while ping flows, drops it when it expires (needs root)",
  ignore: whyNoNamespaces() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4c");
    try {
      const l = await build464(lab);
      await l.clat.router();
      startUdpEcho(l);
      const platPath = `${l.dir}/plat.toml`;
      l.platApp = await startXlat64(l, l.plat, "plat", platSide(PLAT_PREFIX, 8), 18065);
      l.clatApp = await startXlat64(l, l.clat, "clat", clatDiscovering(["pref64"]), 18064);
      type St = {
        prefixes: string[];
        discovery: { discovery: Found };
      };
      const st = async () => await status(l.clat) as unknown as St;
      await waitFor("PREF64 learned", async () => (await st()).prefixes[0] === PLAT_PREFIX);
      const s0 = await st();
      assert.equal(s0.discovery.discovery.active?.source, "pref64");
      assert.equal(await udpEcho(l.cli, SERVER, "abc"), "cba");

      // Watch the IPv6 link while the PLAT moves to a new prefix under a running ping.
      const dump = l.clat.spawn(["tcpdump", "-l", "-n", "-i", "w0", "icmp6 and ip6[40] == 128"]);
      await new Promise((r) => setTimeout(r, 500));
      const ping = l.cli.exec(["ping", "-c", "60", "-i", "0.1", "-W", "1", SERVER], {
        timeoutMs: 30_000,
      });
      await new Promise((r) => setTimeout(r, 2000));
      await Deno.writeTextFile(platPath, platSide(NEW_PREFIX, 8));
      Deno.kill(l.platApp.pid, "SIGHUP");
      const p = await ping;
      await dump.stop();
      const received = Number(/(\d+) received/.exec(p.stdout)?.[1] ?? 0);
      assert.ok(received >= 40, `most echoes survive the change: ${p.stdout}`);
      const out = dump.output();
      // 198.51.100.2 is c633:6402 in the low 32 bits.
      assert.match(out, /2001:db8:64::c633:6402/, "before: the old prefix");
      assert.match(out, /2001:db8:6464::c633:6402/, "after: the new prefix");
      const s1 = await st();
      assert.deepEqual(s1.prefixes, [NEW_PREFIX]);
      // RFC 8781 5: the old prefix was withdrawn (lifetime 0), not left to expire.
      assert.ok(!s1.discovery.discovery.learned.some((x) => x.prefix === PLAT_PREFIX));
      assert.equal(await udpEcho(l.cli, SERVER, "xyz"), "zyx");
      // The same in /metrics: one prefix from PREF64 now, and at least two changes so far.
      const m = await l.clat.run(["curl", "-sf", "http://127.0.0.1:18064/metrics"]);
      assert.match(m, /xlat64_discovery_prefixes\{source="pref64"\} 1\n/);
      assert.match(
        m,
        /xlat64_discovery_active_prefix\{prefix="2001:db8:6464::\/96",source="pref64"\} 1/,
      );
      assert.match(m, /xlat64_discovery_changes_total [2-9]\n/);

      // The PLAT dies without a word: the prefix expires after its lifetime (8 s).
      Deno.kill(l.platApp.pid, "SIGKILL");
      await waitFor("prefix expiry", async () => (await st()).prefixes.length === 0, 15_000);
      assert.equal((await st()).discovery.discovery.active, null);
    } finally {
      await lab.cleanup();
    }
  },
});
