// The single-address CLAT's NAT44 (RFC 8683 4.8) in /status, /metrics and
// `status --sessions`: the engine answers "gauges" and "sessions" as NAT64 does, and the
// supervisor polls it with the same NatTables.
import assert from "node:assert/strict";
import { Clat, nat44Row } from "../../src/clat/engine.ts";
import { toClatEngineOptions } from "../../src/clat/options.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { ClatNat44, NAT44_TABLES } from "../../src/io/clat_nat44.ts";
import { Appliance } from "../../src/io/supervisor.ts";
import type { WorkerPool } from "../../src/io/worker_pool.ts";
import type { EngineRequest } from "../../src/io/worker_protocol.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import * as build from "../../src/packet/build.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { renderStatus } from "../../src/status/client.ts";
import { buildStatus } from "../../src/status/snapshot.ts";
import { Stats } from "../../src/xlat/stats.ts";

const SERVER = "198.51.100.7";
const single = parseConfig(
  `mode = "clat"\n[clat]\nipv6-address = "2001:db8:a::c1a7"\nplat-prefix = "2001:db8:64::/96"\n` +
    `[dns]\nlisten = []\n`,
  "t",
);
const dedicated = parseConfig(
  `mode = "clat"\n[clat]\ntranslation-prefix = "2001:db8:c1a7::/64"\n` +
    `plat-prefix = "2001:db8:64::/96"\n[dns]\nlisten = []\n`,
  "t",
);

/** A single-address CLAT that has seen two UDP clients and one TCP SYN. */
function busyClat(): Clat {
  const e = new Clat(toClatEngineOptions(single), new Stats(), { seed: 1 });
  const out = new PacketBatch(8);
  const send = (p: Uint8Array) => {
    out.clear();
    e.translate(p, p.length, out, 1000);
    assert.equal(out.count, 1);
  };
  send(build.udp4({ src: "192.0.0.2", dst: SERVER, sport: 5000, dport: 53, payload: "q" }));
  send(build.udp4({ src: "192.0.0.3", dst: SERVER, sport: 5001, dport: 53, payload: "q" }));
  send(build.tcp4({ src: "192.0.0.2", dst: SERVER, sport: 40000, dport: 80, flags: TCP_FLAG.SYN }));
  return e;
}

/** The worker pool as NatTables sees it: the first worker answers requests. */
const poolOf = (e: Clat) =>
  ({
    first: () => ({ request: (req: EngineRequest) => Promise.resolve(e.request(req, 1000)) }),
  }) as unknown as WorkerPool;

Deno.test("clat engine: the NAT44's gauges count bindings, sessions, ports and clients", () => {
  const g = busyClat().request({ op: "gauges" }, 1000) as {
    bibs: { udp: number; tcp: number };
    sessions: { udp: number; tcp: number };
    pool4Used: { udp: number };
    pool4Capacity: { udp: number };
    hosts: number;
  };
  assert.equal(g.bibs.udp, 2);
  assert.equal(g.bibs.tcp, 1);
  assert.equal(g.sessions.udp, 2);
  assert.equal(g.sessions.tcp, 1);
  assert.equal(g.pool4Used.udp, 2);
  assert.equal(g.pool4Capacity.udp, 65535 - 1024 + 1, "ports 1024-65535 of the CLAT address");
  assert.equal(g.hosts, 2, "two IPv4 clients");
});

Deno.test("clat engine: session rows name the IPv4 client, the CLAT address:port and the server", () => {
  const rows = busyClat().request({ op: "sessions", limit: 10 }, 1000) as Record<string, string>[];
  assert.equal(rows.length, 3);
  const udp = rows.filter((r) => r.proto === "udp").map((r) => r.client).sort();
  assert.deepEqual(udp, ["192.0.0.2:5000", "192.0.0.3:5001"]);
  for (const r of rows) {
    assert.match(r.ipv4, /^192\.0\.0\.1:\d+$/);
    assert.match(r.remote, new RegExp(`^${SERVER.replaceAll(".", "\\.")}:(53|80)$`));
    assert.ok(!("ipv6" in r), "the internal IPv6 side is not shown");
  }
  assert.equal(rows.find((r) => r.proto === "tcp")?.client, "192.0.0.2:40000");
  assert.equal((busyClat().request({ op: "sessions", limit: 1 }, 1000) as unknown[]).length, 1);
});

Deno.test("clat engine: a dedicated-prefix CLAT has no NAT44 to ask; snapshots are not kept", () => {
  const d = new Clat(toClatEngineOptions(dedicated), new Stats());
  assert.throws(() => d.request({ op: "gauges" }, 0), /keeps no NAT44 state/);
  assert.throws(() => busyClat().request({ op: "snapshot" }, 0), /answers no "snapshot"/);
});

Deno.test("nat44Row: an internal address outside the NAT44 prefix is shown as it is", () => {
  const r = nat44Row({ proto: "udp", ipv6: "[2001:db8::1]:5", ipv4: "192.0.0.1:2000" });
  assert.equal(r.client, "[2001:db8::1]:5");
});

Deno.test("ClatNat44: /metrics families and /status from the polled worker; rows on demand", async () => {
  const n = new ClatNat44(() => poolOf(busyClat()));
  assert.equal(n.status(), null, "nothing before the first answer");
  assert.deepEqual(n.families(), []);
  await n.start();
  try {
    const st = n.status();
    assert.ok(st);
    assert.deepEqual(st.bindings, { tcp: 1, udp: 2, icmp: 0 });
    assert.equal(st.ports.udp.used, 2);
    assert.equal(st.clients, 2);
    const fam = Object.fromEntries(n.families().map((f) => [f.name, f]));
    assert.deepEqual(Object.keys(fam), [
      "xlat64_clat_nat44_bindings",
      "xlat64_clat_nat44_sessions",
      "xlat64_clat_nat44_ports",
      "xlat64_clat_nat44_clients",
    ]);
    assert.equal(NAT44_TABLES.bindings[0], "xlat64_clat_nat44_bindings");
    const udp = fam.xlat64_clat_nat44_bindings.samples.find((s) => s.labels.protocol === "udp");
    assert.equal(udp?.value, 2);
    const used = fam.xlat64_clat_nat44_ports.samples.find((s) =>
      s.labels.protocol === "tcp" && s.labels.state === "used"
    );
    assert.equal(used?.value, 1);
    assert.equal(fam.xlat64_clat_nat44_clients.samples[0].value, 2);
    assert.equal((await n.sessions(2)).length, 2);
  } finally {
    n.close();
  }
});

Deno.test("appliance (clat single address): /status has nat44, /metrics the NAT44 gauges, status --sessions the rows", async () => {
  const app = new Appliance(single);
  app.nat44 = new ClatNat44(() => poolOf(busyClat()));
  await app.nat44.start();
  try {
    const doc = buildStatus(app, new Date(), { rows: await app.sessions(10) });
    const nat44 = doc.nat44 as { clients: number; allocationFailures: { portLimit: number } };
    assert.equal(nat44.clients, 2);
    assert.equal(nat44.allocationFailures.portLimit, 0);
    assert.equal(doc.nat64, undefined);
    const names = [...app.metrics.collect()].map((f) => f.name);
    assert.ok(names.includes("xlat64_clat_nat44_sessions"), names.join(" "));
    const text = renderStatus(doc, { sessionsAsked: true });
    assert.match(text, /CLAT NAT44\s+bindings\s+sessions\s+ports used\s+ports total\s+use/);
    assert.match(text, /\nudp\s+2\s+2\s+2\s+64\.5k\s+0\.0%/);
    assert.match(text, /clients 2; allocation failures: ports 0, session limit 0/);
    assert.match(text, /proto\s+client\s+ipv4\s+remote\s+state\s+expires_s/);
    assert.match(text, /192\.0\.0\.3:5001\s+192\.0\.0\.1:\d+\s+198\.51\.100\.7:53/);
  } finally {
    app.nat44.close();
  }
});
