// Stateful NAT64 end to end (RFC 6146, RFC 6888, RFC 6887/7225): `xlat64 run` in a
// namespace between an IPv6-only client and an IPv4-only server, with real tools (ping,
// curl, iperf3, python clients, `xlat64 pcp`), the status endpoint, SIGHUP reloads that
// keep the state, and a SIGTERM + restart that a running TCP transfer survives.
import assert from "node:assert/strict";
import type { Netns } from "../../src/io/netns.ts";
import { LAB, labConfig, LabTopology, waitFor, xlat64Argv } from "../../src/lab/topology.ts";

const TOOLS = new URL("./tools/nat64_clients.py", import.meta.url).pathname;
const ROOT = Deno.uid() === 0;
const S6 = LAB.server6; // the IPv4-only server under pool6 2001:db8:64::/96
const POOL4 = LAB.client4; // 198.51.100.2, routed into the TUN by xlat64 ([tun] manage)
const PCP_SERVER = `[${LAB.xlat6}]:5351`;

const nat64Toml = (ports = "61001-65535") =>
  `[[nat64.pool4]]
prefix = "${POOL4}/32"
ports = "${ports}"
[[nat64.bib]]
protocol = "udp"
ipv4 = "${POOL4}#${LAB.udpPort}"
ipv6 = "${LAB.client6}#${LAB.udpPort}"
[[nat64.bib]]
protocol = "tcp"
ipv4 = "${POOL4}#2222"
ipv6 = "${LAB.client6}#2222"
`;

const extraToml = (o: { quota?: number; snapshot?: string } = {}) => `
[nat64]
max-sessions-per-host = ${o.quota ?? 0}
${o.snapshot ? `snapshot-file = "${o.snapshot}"\nsnapshot-interval = 1` : ""}
[pcp]
listen = ["${PCP_SERVER}"]
allow = ["2001:db8:a::/64"]
`;

async function py(ns: Netns, args: string[]): Promise<Record<string, number>> {
  const out = await ns.run(["python3", TOOLS, ...args], { timeoutMs: 30_000 });
  return JSON.parse(out.trim().split("\n").pop()!);
}

/** Sum of the samples of `name` whose labels contain `has`. */
function metric(m: Map<string, number>, name: string, has = ""): number {
  let n = 0;
  for (const [k, v] of m) if (k.startsWith(name) && k.includes(has)) n += v;
  return n;
}

/** Rewrites the config and sends SIGHUP; resolves once the appliance says it reloaded. */
async function reload(t: LabTopology, over: Parameters<typeof labConfig>[0]): Promise<void> {
  const before = t.appliance!.output().split("reloaded ").length;
  await Deno.writeTextFile(t.configPath, labConfig({ ...t.opts, ...over }));
  Deno.kill(t.appliance!.pid, "SIGHUP");
  const ok = await waitFor(() => t.appliance!.output().split("reloaded ").length > before, 10_000);
  assert.ok(ok, `no reload:\n${t.appliance!.output()}`);
}

async function listenHttp(ns: Netns, port: number): Promise<void> {
  const bg = ns.spawn(["python3", "-m", "http.server", String(port), "--bind", LAB.client6]);
  const up = await waitFor(async () => {
    const r = await ns.exec(["ss", "-Htln", `sport = :${port}`]);
    return r.stdout.includes(String(port));
  }, 10_000);
  assert.ok(up, `http.server ${port}: ${bg.output()}`);
}

Deno.test({
  name: "nat64 e2e: ping, curl, UDP, iperf3, 200 connections; static BIB and PCP MAP inbound; " +
    "per-host quota and pool4 exhaustion after SIGHUP (needs root)",
  ignore: !ROOT,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t = new LabTopology({
      mode: "nat64",
      tag: "x64n",
      logLevel: "info",
      nat64Toml: nat64Toml(),
      extraToml: extraToml(),
    });
    try {
      await t.build();
      for (const h of ["4", "5", "6"]) await t.client.addr("eth0", `2001:db8:a::${h}/64`);
      await t.startAppliance();

      // RFC 6146 3.5.3 ICMP query sessions.
      const ping = await t.client.exec(["ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", S6], {
        timeoutMs: 10_000,
      });
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      // TCP (RFC 6146 3.5.2) and UDP (3.5.1).
      const body = await t.client.run([
        "curl",
        "-sS",
        "-m",
        "5",
        `http://[${S6}]:${LAB.httpPort}/`,
      ]);
      assert.match(body, /hello from the IPv4-only server/);
      const udp = await py(t.client, ["udp", "5", LAB.client6, S6, String(LAB.udpPort)]);
      assert.equal(udp.received, 5);

      // A bulk TCP transfer.
      const iperfd = t.server.spawn(["iperf3", "-s", "-1", "-B", LAB.server4]);
      const iperfUp = await waitFor(async () => {
        const r = await t.server.exec(["ss", "-Htln", "sport = :5201"]);
        return r.stdout.includes("5201");
      }, 10_000);
      assert.ok(iperfUp, `iperf3 -s: ${iperfd.output()}`);
      const ip = await t.client.exec(["iperf3", "-c", S6, "-t", "2", "-J"], { timeoutMs: 30_000 });
      assert.equal(ip.code, 0, ip.stdout.slice(-2000) + ip.stderr);
      const mbps = JSON.parse(ip.stdout).end.sum_received.bits_per_second / 1e6;
      console.log(`  iperf3 through NAT64: ${mbps.toFixed(0)} Mbit/s`);
      assert.ok(mbps > 1);

      // Many connections at once.
      const many = await py(t.client, ["tcp", "200", S6, String(LAB.httpPort)]);
      console.log(`  200 parallel HTTP connections: ${many.ok} ok in ${many.seconds} s`);
      assert.equal(many.ok, 200);
      let m = await t.metrics();
      assert.ok(
        await waitFor(async () => {
          m = await t.metrics();
          return metric(m, "xlat64_nat64_sessions", 'protocol="tcp"') >= 200;
        }, 5000),
        "the TCP session gauge counts the 200 connections",
      );
      const tcpSessions = metric(m, "xlat64_nat64_sessions", 'protocol="tcp"');
      assert.ok(metric(m, "xlat64_nat64_pool4_ports", 'state="total"') >= 3 * 4535);

      // IPv4-initiated TCP through the static BIB entry (RFC 6146 3.5.2.2).
      await listenHttp(t.client, 2222);
      const viaStatic = await t.server.exec(["curl", "-sS", "-m", "5", `http://${POOL4}:2222/`]);
      assert.equal(viaStatic.code, 0, viaStatic.stderr);
      assert.match(viaStatic.stdout, /Directory listing/);

      // IPv4-initiated TCP through a PCP MAP (RFC 6887 11) made by `xlat64 pcp`.
      await listenHttp(t.client, 8081);
      const pcp = await t.client.exec(
        xlat64Argv([
          "pcp",
          "--server",
          PCP_SERVER,
          "--client",
          LAB.client6,
          "map",
          "--protocol",
          "tcp",
          "--internal-port",
          "8081",
          "--lifetime",
          "300",
        ]),
        { timeoutMs: 30_000 },
      );
      assert.equal(pcp.code, 0, pcp.stdout + pcp.stderr);
      assert.match(pcp.stdout, /result +SUCCESS/);
      assert.match(pcp.stdout, /prefix64 2001:db8:64::\/96/, "RFC 7225: PREFIX64 is pool6");
      const ext = /external ([\d.]+):(\d+)/.exec(pcp.stdout);
      assert.ok(ext, pcp.stdout);
      assert.equal(ext[1], POOL4);
      const viaPcp = await t.server.exec(["curl", "-sS", "-m", "5", `http://${POOL4}:${ext[2]}/`]);
      assert.equal(viaPcp.code, 0, viaPcp.stderr);
      assert.match(viaPcp.stdout, /Directory listing/);

      // Sessions: the HTTP endpoint and `xlat64 status --sessions`.
      const rows = JSON.parse(await t.statusGet("/sessions?limit=3")).sessions;
      assert.equal(rows.length, 3);
      const st = await t.xlat.exec(
        xlat64Argv(["status", "--url", LAB.statusUrl, "--sessions", "5"]),
        { timeoutMs: 30_000 },
      );
      assert.equal(st.code, 0, st.stderr);
      assert.match(st.stdout, /NAT64 +BIB entries +sessions +pool4 used/);
      assert.match(st.stdout, /proto +ipv6 +ipv4 +remote/);

      // SIGHUP: a session quota (RFC 6888 REQ-4); the state survives the reload.
      await reload(t, { extraToml: extraToml({ quota: 20 }) });
      m = await t.metrics();
      assert.ok(
        metric(m, "xlat64_nat64_sessions", 'protocol="tcp"') >= tcpSessions - 5,
        "sessions kept across SIGHUP",
      );
      const over = await py(t.client, ["udp", "40", "2001:db8:a::4", S6, String(LAB.udpPort)]);
      const under = await py(t.client, ["udp", "5", "2001:db8:a::5", S6, String(LAB.udpPort)]);
      console.log(`  quota 20: host a::4 got ${over.received}/40, host a::5 ${under.received}/5`);
      assert.equal(over.received, 20, "the host over its quota is limited");
      assert.equal(under.received, 5, "another host is not");
      m = await t.metrics();
      assert.ok(metric(m, "xlat64_drops_total", 'reason="session_limit"') >= 20);

      // SIGHUP: pool4 shrunk to 10 ports: exhaustion is counted, nothing crashes.
      await reload(t, { nat64Toml: nat64Toml("61001-61010") });
      const ex = await py(t.client, ["udp", "30", "2001:db8:a::6", S6, String(LAB.udpPort)]);
      console.log(`  pool4 of 10 UDP ports: ${ex.received}/30 flows got a binding`);
      assert.ok(ex.received <= 10 && ex.received >= 1, JSON.stringify(ex));
      m = await t.metrics();
      assert.ok(metric(m, "xlat64_drops_total", 'reason="pool4_exhausted"') >= 20);
      const doc = JSON.parse(await t.statusGet("/status"));
      assert.ok(doc.nat64.allocationFailures.pool4Exhausted >= 20);
      assert.equal(doc.nat64.pool4.udp.total, 10);
      assert.equal(doc.healthy, true);
      const again = await t.client.exec([
        "curl",
        "-sS",
        "-m",
        "5",
        `http://[${S6}]:${LAB.httpPort}/`,
      ]);
      assert.equal(again.code, 0, "existing TCP binding space still works: " + again.stderr);
      assert.equal(t.appliance!.exited, false);
    } finally {
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "nat64 e2e: a TCP download survives SIGTERM + restart (snapshot restores BIB and " +
    "session with the same pool4 port) (needs root)",
  ignore: !ROOT,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xlat64-snap-" });
    const snap = `${dir}/nat64.snap`;
    const t = new LabTopology({
      mode: "nat64",
      tag: "x64r",
      logLevel: "info",
      nat64Toml: nat64Toml(),
      extraToml: extraToml({ snapshot: snap }),
    });
    t.lab.atCleanup(() => Deno.remove(dir, { recursive: true }));
    try {
      await t.build();
      // A small receive buffer keeps the data on the wire: curl's rate limit then paces the
      // transfer itself, not just the copy out of a socket buffer holding the whole file.
      await t.client.sysctl("net.ipv4.tcp_rmem", "4096 16384 32768");
      await t.startAppliance();
      const size = 1_200_000;
      // ~8 s at 150 kB/s: the restart happens in the middle.
      const dl = t.client.spawn([
        "curl",
        "-sS",
        "-m",
        "60",
        "--limit-rate",
        "150k",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download} %{http_code}\n",
        `http://[${S6}]:${LAB.httpPort}/?size=${size}`,
      ]);
      let port = "";
      const flowing = await waitFor(
        async () => {
          const rows = JSON.parse(await t.statusGet("/sessions?limit=50")).sessions as Record<
            string,
            string
          >[];
          const r = rows.find((x) => x.remote === `${LAB.server4}:${LAB.httpPort}`);
          port = r?.ipv4 ?? "";
          return r?.state === "ESTABLISHED";
        },
        10_000,
        200,
      );
      assert.ok(flowing, `no ESTABLISHED session: ${dl.output()}`);
      await new Promise((r) => setTimeout(r, 1500));

      const t0 = Date.now();
      const first = t.appliance!;
      const st = await first.stop(8000);
      assert.equal(st.code, 0, first.output());
      assert.match(first.output(), /stopped/);
      assert.ok((await Deno.stat(snap)).size > 20, "a snapshot was written on SIGTERM");
      assert.equal(dl.exited, false, "the download is still running while xlat64 is down");

      await t.startAppliance();
      const downMs = Date.now() - t0;
      assert.match(t.appliance!.output(), /nat64 snapshot restored/);
      const rows = JSON.parse(await t.statusGet("/sessions?limit=50")).sessions as Record<
        string,
        string
      >[];
      assert.ok(
        rows.some((x) => x.ipv4 === port && x.remote === `${LAB.server4}:${LAB.httpPort}`),
        `the session came back on ${port}: ${JSON.stringify(rows)}`,
      );
      const end = await Promise.race([
        dl.done,
        new Promise<null>((r) => setTimeout(() => r(null), 40_000)),
      ]);
      assert.ok(end, "the download finished");
      assert.equal(end.code, 0, dl.output());
      assert.match(dl.output(), new RegExp(`^${size} 200`, "m"));
      const m = await t.metrics();
      const carried = [...m].filter(([k]) => k.startsWith("xlat64_packets_total"))
        .reduce((n, [, v]) => n + v, 0);
      assert.ok(carried > 200, `the restarted appliance carried the flow (${carried} packets)`);
      console.log(
        `  download of ${size} bytes survived a restart (pool4 port ${port}); down ${downMs} ms, ` +
          `finished ${Date.now() - t0} ms after the SIGTERM, ${carried} packets after it`,
      );
    } finally {
      await t.cleanup();
    }
  },
});
