import assert from "node:assert/strict";
import { parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { DROP, DROP_REASONS, SLOT, Stats } from "../../src/xlat/stats.ts";
import { createStatusApp } from "../../src/status/app.ts";
import { MetricsRegistry } from "../../src/status/metrics.ts";
import { parseListen, startStatusServer } from "../../src/status/server.ts";
import type { StatusDoc } from "../../src/status/snapshot.ts";
import type { StatusSource, WorkerInfo } from "../../src/status/source.ts";

function fakeSource(workers: WorkerInfo[] = [{ id: 0, state: "running", queue: 0 }]) {
  const stats = new Stats();
  stats.v[SLOT.in46Packets] = 10;
  stats.v[SLOT.in46Bytes] = 840;
  stats.v[SLOT.out46Packets] = 9;
  stats.v[SLOT.out46Bytes] = 936;
  stats.v[SLOT.in64Packets] = 7;
  stats.v[SLOT.out64Packets] = 5;
  stats.v[SLOT.icmpErrorsSent] = 2;
  stats.drop(DROP.bad_checksum, false);
  stats.drop(DROP.truncated, true);
  stats.drop(DROP.truncated, true);
  const metrics = new MetricsRegistry();
  metrics.histogram("xlat64_dns_latency_seconds", "DNS answer latency.").observe(0.002);
  const src: StatusSource = {
    version: "0.1.0-test",
    startedAt: new Date(Date.now() - 65_000),
    mode: "siit",
    prefixes: () => [parsePrefix6("2001:db8:64::/96")],
    eam: () => [{ ipv4: parsePrefix4("198.51.100.0/24"), ipv6: parsePrefix6("2001:db8:1::/120") }],
    workers: () => workers,
    stats: () => stats,
    metrics,
    sessions: (n) =>
      [{ proto: "udp", v6: "[2001:db8::1]:5000", v4: "192.0.2.2:61001" }].slice(0, n),
  };
  return src;
}

Deno.test("GET /status: version, uptime, mode, prefixes, EAM, counters, drops, workers", async () => {
  const res = await createStatusApp(fakeSource()).request("/status");
  assert.equal(res.status, 200);
  const doc = await res.json() as StatusDoc;
  assert.equal(doc.version, "0.1.0-test");
  assert.ok(doc.uptimeSeconds >= 64 && doc.uptimeSeconds < 120, `uptime ${doc.uptimeSeconds}`);
  assert.equal(doc.mode, "siit");
  assert.equal(doc.healthy, true);
  assert.deepEqual(doc.prefixes, ["2001:db8:64::/96"]);
  assert.deepEqual(doc.eam, [{ ipv4: "198.51.100.0/24", ipv6: "2001:db8:1::/120" }]);
  assert.deepEqual(doc.traffic["4to6"].in, { packets: 10, bytes: 840 });
  assert.deepEqual(doc.traffic["4to6"].out, { packets: 9, bytes: 936 });
  assert.equal(doc.traffic["4to6"].drops, 1);
  assert.equal(doc.traffic["4to6"].dropsByReason.bad_checksum, 1);
  assert.equal(doc.traffic["6to4"].dropsByReason.truncated, 2);
  assert.deepEqual(Object.keys(doc.traffic["6to4"].dropsByReason), [...DROP_REASONS]);
  assert.equal(doc.icmpErrorsSent, 2);
  assert.deepEqual(doc.workers, [{ id: 0, state: "running", queue: 0 }]);
  assert.equal(doc.sessions, undefined);
});

Deno.test("GET /status?sessions=N lists sessions; bad N is a 400", async () => {
  const app = createStatusApp(fakeSource());
  const doc = await (await app.request("/status?sessions=5")).json() as StatusDoc;
  assert.equal(doc.sessions?.length, 1);
  assert.equal((await app.request("/status?sessions=-1")).status, 400);
});

Deno.test("GET /metrics: 0.0.4 content type, xlat64_ counters with HELP/TYPE, every drop reason", async () => {
  const res = await createStatusApp(fakeSource()).request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  assert.match(text, /# HELP xlat64_packets_total .+\n# TYPE xlat64_packets_total counter\n/);
  assert.match(text, /\nxlat64_packets_total\{direction="4to6",stage="in"\} 10\n/);
  assert.match(text, /\nxlat64_packets_total\{direction="4to6",stage="out"\} 9\n/);
  assert.match(text, /\nxlat64_packets_total\{direction="6to4",stage="in"\} 7\n/);
  assert.match(text, /\nxlat64_bytes_total\{direction="4to6",stage="in"\} 840\n/);
  assert.match(text, /\nxlat64_drops_total\{direction="4to6",reason="bad_checksum"\} 1\n/);
  assert.match(text, /\nxlat64_drops_total\{direction="6to4",reason="truncated"\} 2\n/);
  assert.match(text, /\nxlat64_icmp_errors_sent_total 2\n/);
  assert.match(text, /\nxlat64_build_info\{version="0.1.0-test",mode="siit"\} 1\n/);
  assert.match(text, /\nxlat64_workers\{state="running"\} 1\n/);
  assert.match(text, /\nxlat64_dns_latency_seconds_bucket\{le="0.0025"\} 1\n/);
  for (const d of ["4to6", "6to4"]) {
    for (const r of DROP_REASONS) {
      assert.match(
        text,
        new RegExp(`\\nxlat64_drops_total\\{direction="${d}",reason="${r}"\\} \\d+\\n`),
      );
    }
  }
  // Every sample line belongs to a family announced by a TYPE line before it.
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const t = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (t) typed.add(t[1]);
    if (line.startsWith("#")) continue;
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)![1].replace(/_(bucket|sum|count)$/, "");
    assert.ok(typed.has(name), `sample before its TYPE: ${line}`);
    if (name.endsWith("_total")) assert.match(line, /^\S+_total(\{.*\})? \d+$/);
  }
});

Deno.test("GET /healthz: 200 ok when workers run, 503 when one failed or none exist", async () => {
  const ok = await createStatusApp(fakeSource()).request("/healthz");
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "ok");
  const failed = createStatusApp(fakeSource([
    { id: 0, state: "running" },
    { id: 1, state: "failed", detail: "read_batch: EBADF" },
  ]));
  assert.equal((await failed.request("/healthz")).status, 503);
  assert.match(await (await failed.request("/metrics")).text(), /\nxlat64_up 0\n/);
  assert.equal((await createStatusApp(fakeSource([])).request("/healthz")).status, 503);
  assert.equal((await createStatusApp(fakeSource()).request("/nope")).status, 404);
});

Deno.test("listen address parsing: IPv4, bracketed IPv6, errors", () => {
  assert.deepEqual(parseListen("127.0.0.1:8064"), { hostname: "127.0.0.1", port: 8064 });
  assert.deepEqual(parseListen("[::1]:8064"), { hostname: "::1", port: 8064 });
  assert.throws(() => parseListen("::1:8064"));
  assert.throws(() => parseListen("127.0.0.1"));
  assert.throws(() => parseListen("127.0.0.1:70000"));
});

Deno.test("startStatusServer serves on loopback (IPv4 and IPv6) and closes", async () => {
  for (const listen of ["127.0.0.1:0", "[::1]:0"]) {
    const srv = startStatusServer(listen, fakeSource());
    try {
      assert.ok(srv.addr.port > 0);
      const res = await fetch(`${srv.url}/healthz`);
      assert.equal(await res.text(), "ok");
    } finally {
      await srv.close();
    }
    await assert.rejects(fetch(`${srv.url}/healthz`));
  }
});
