// The NAT64 control plane without a TUN: a real Nat64 engine behind a fake worker (the
// same request/answer path the data-path worker runs), snapshots to a file, PCP over UDP
// on loopback, gauges in /metrics and /status, GET /sessions.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { decodeResponse, encodeRequest, OPCODE, RESULT } from "../../src/discovery/pcp.ts";
import { pcpRequest } from "../../src/discovery/pcp_udp.ts";
import { loadNat64Snapshot, Nat64Service } from "../../src/io/nat64_service.ts";
import { answerRequest, type LoopState, restoreEngine } from "../../src/io/worker.ts";
import type { EngineRequest } from "../../src/io/worker_protocol.ts";
import type { WorkerPool } from "../../src/io/worker_pool.ts";
import { getLogger } from "../../src/log.ts";
import { Nat64 } from "../../src/nat64/engine.ts";
import { toNat64EngineOptions } from "../../src/nat64/options.ts";
import { parseSnapshot } from "../../src/nat64/snapshot.ts";
import * as build from "../../src/packet/build.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import { createStatusApp } from "../../src/status/app.ts";
import { renderExposition } from "../../src/status/metrics.ts";
import { MetricsRegistry } from "../../src/status/metrics.ts";
import { Stats } from "../../src/xlat/stats.ts";

const toml = (snap: string, pcpPort: number) =>
  `mode = "nat64"
[translator]
pool6 = "2001:db8:64::/96"
wkp-strict = false
[[nat64.pool4]]
prefix = "198.51.100.1/32"
ports = "61001-61010"
[nat64]
snapshot-file = "${snap}"
snapshot-interval = 1
[pcp]
listen = ["[::1]:${pcpPort}"]
allow = ["::1/128"]
[dns]
listen = []
`;

/** A fake worker answering through the worker's own answerRequest. */
function fakePool(engine: Nat64): WorkerPool {
  const state = { engine } as unknown as LoopState;
  const w = {
    restored: undefined as unknown,
    request(req: EngineRequest) {
      const r = answerRequest(state, req, Date.now());
      return r.ok ? Promise.resolve(r.value) : Promise.reject(new Error(r.error));
    },
  };
  return { first: () => w } as unknown as WorkerPool;
}

function freePort(): number {
  const s = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
  const p = (s.addr as Deno.NetAddr).port;
  s.close();
  return p;
}

Deno.test("nat64 service: gauges in /metrics and /status, sessions, PCP over UDP, snapshot on close, restore", async () => {
  const dir = await Deno.makeTempDir();
  const snap = `${dir}/sub/nat64.snap`;
  const cfg = parseConfig(toml(snap, freePort()), "t.toml");
  const log = getLogger("test");
  try {
    assert.equal(await loadNat64Snapshot(cfg, log), undefined, "no file yet");
    const engine = new Nat64(toNat64EngineOptions(cfg), new Stats());
    const out = new PacketBatch(8, 2048);
    const pkt = build.udp6({
      src: "2001:db8:a::2",
      dst: "2001:db8:64::cb00:7109",
      sport: 5000,
      dport: 53,
    });
    engine.translate(pkt, pkt.length, out, Date.now());
    assert.equal(out.count, 1);

    const metrics = new MetricsRegistry();
    const svc = new Nat64Service(cfg, () => fakePool(engine), log, metrics);
    await svc.start();
    const text = renderExposition(metrics.collect());
    assert.match(text, /xlat64_nat64_bib_entries\{protocol="udp"\} 1/);
    assert.match(text, /xlat64_nat64_sessions\{protocol="udp"\} 1/);
    assert.match(text, /xlat64_nat64_pool4_ports\{protocol="udp",state="used"\} 1/);
    assert.match(text, /xlat64_nat64_pool4_ports\{protocol="udp",state="total"\} 10/);
    const st = svc.status()!;
    assert.equal(st.pool4.udp.used, 1);
    assert.equal(st.sessions.udp, 1);

    const rows = await svc.sessions(10);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].remote, "203.0.113.9:53");
    const app = createStatusApp({
      version: "t",
      startedAt: new Date(),
      mode: "nat64",
      prefixes: () => [],
      eam: () => [],
      workers: () => [],
      stats: () => new Stats(),
      sessions: (n) => svc.sessions(n),
      nat64Status: () => svc.status(),
    });
    const body = await (await app.request("/sessions?limit=5")).json();
    assert.equal(body.sessions.length, 1);
    const doc = await (await app.request("/status?sessions=5")).json();
    assert.equal(doc.sessions.length, 1);
    assert.equal(doc.nat64.bibEntries.udp, 1);
    assert.equal((await app.request("/sessions?limit=x")).status, 400);

    // PCP over UDP, answered by the engine behind the fake worker.
    const port = cfg.pcp.listen[0].port;
    const res = await pcpRequest(
      { hostname: "::1", port },
      encodeRequest({
        opcode: OPCODE.MAP,
        lifetime: 300,
        clientAddress: new Uint8Array([...new Uint8Array(15), 1]),
        map: {
          nonce: new Uint8Array(12).fill(7),
          protocol: 6,
          internalPort: 8080,
          externalPort: 0,
          externalAddress: new Uint8Array(16),
        },
        options: [],
      }),
      { irtMs: 200, retries: 2, bindHostname: "::1" },
    );
    assert.equal(res.result, RESULT.SUCCESS);
    assert.ok(res.map!.externalPort >= 61001 && res.map!.externalPort <= 61010);

    await svc.close();
    const bytes = await Deno.readFile(snap);
    const parsed = parseSnapshot(bytes);
    assert.equal(parsed.sessions.length, 1);
    assert.equal(parsed.pcp.length, 1);
    assert.equal(svc.status()!.snapshot.writes, 1);

    // A new engine loads it the way the worker does before its first packet.
    const read = await loadNat64Snapshot(cfg, log);
    assert.ok(read);
    const e2 = new Nat64(toNat64EngineOptions(cfg), new Stats());
    const r = restoreEngine({ engine: e2 } as unknown as LoopState, read, Date.now());
    assert.equal(r.ok, true);
    assert.deepEqual(e2.gauges().bibs, { tcp: 1, udp: 1, icmp: 0 });
    assert.equal(e2.gauges().pcpMappings, 1);
    const bad = restoreEngine({ engine: e2 } as unknown as LoopState, new Uint8Array(40), 0);
    assert.equal(bad.ok, false);
    assert.match(String(bad.detail), /magic/);
    // PCP answers decode (the relay returns what the engine made).
    const ann = engine.handlePcp(
      encodeRequest({
        opcode: OPCODE.ANNOUNCE,
        lifetime: 0,
        clientAddress: new Uint8Array([...new Uint8Array(15), 1]),
        options: [],
      }),
      new Uint8Array([...new Uint8Array(15), 1]),
      Date.now(),
    );
    assert.equal(decodeResponse(ann!).result, RESULT.SUCCESS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker answerRequest: an engine without request() gets an error, not a crash", () => {
  const r = answerRequest(
    { engine: { translate() {} } } as unknown as LoopState,
    { op: "gauges" },
    0,
  );
  assert.equal(r.ok, false);
  assert.match(r.error!, /answers no "gauges"/);
});
