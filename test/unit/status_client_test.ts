import assert from "node:assert/strict";
import { parsePrefix6 } from "../../src/addr/ip.ts";
import { DROP, SLOT, Stats } from "../../src/xlat/stats.ts";
import { renderStatus, statusUrl } from "../../src/status/client.ts";
import { humanBytes, humanCount, humanDuration, table } from "../../src/status/human.ts";
import { startStatusServer } from "../../src/status/server.ts";
import { buildStatus } from "../../src/status/snapshot.ts";
import type { StatusSource } from "../../src/status/source.ts";

Deno.test("human units", () => {
  assert.equal(humanCount(999), "999");
  assert.equal(humanCount(1234), "1.2k");
  assert.equal(humanCount(34_500_000), "34.5M");
  assert.equal(humanBytes(512), "512 B");
  assert.equal(humanBytes(1536), "1.5 KiB");
  assert.equal(humanBytes(20 * 1024 * 1024), "20.0 MiB");
  assert.equal(humanDuration(42), "42s");
  assert.equal(humanDuration(192), "3m 12s");
  assert.equal(humanDuration(5 * 3600 + 180), "5h 03m");
  assert.equal(humanDuration(2 * 86400 + 4 * 3600), "2d 4h");
});

Deno.test("table aligns columns, numbers to the right", () => {
  assert.equal(table([["a", "1"], ["bbb", "100"]], [1]), "a      1\nbbb  100");
});

Deno.test("statusUrl accepts a base URL, host:port or a /status URL", () => {
  assert.equal(statusUrl("http://127.0.0.1:8064"), "http://127.0.0.1:8064/status");
  assert.equal(statusUrl("[::1]:8064/"), "http://[::1]:8064/status");
  assert.equal(statusUrl("http://h:1/status", 5), "http://h:1/status?sessions=5");
});

function source(): StatusSource {
  const stats = new Stats();
  stats.v[SLOT.in64Packets] = 1500;
  stats.v[SLOT.in64Bytes] = 3 * 1024 * 1024;
  stats.drop(DROP.routing_header, true);
  return {
    version: "9.9.9",
    startedAt: new Date(Date.now() - 3_725_000),
    mode: "siit",
    prefixes: () => [parsePrefix6("2001:db8:64::/96")],
    eam: () => [],
    workers: () => [{ id: 0, state: "running", queue: 0 }],
    stats: () => stats,
  };
}

Deno.test("renderStatus: header, table with human units, non-zero drop reasons only", () => {
  const text = renderStatus(buildStatus(source()));
  assert.match(text, /^xlat64 9\.9\.9 {2}mode siit {2}healthy {2}up 1h 02m/);
  assert.match(text, /prefixes +2001:db8:64::\/96/);
  assert.match(text, /workers +#0 q0 running/);
  assert.match(text, /\n6to4 +1\.5k +3\.0 MiB +0 +0 B +1\n/);
  assert.match(text, /routing_header +0 +1/);
  assert.doesNotMatch(text, /truncated/);
  assert.doesNotMatch(text, /sessions/);
  assert.match(
    renderStatus(buildStatus(source()), { sessionsAsked: true }),
    /sessions: none kept in mode siit/,
  );
});

async function runStatusCli(url: string): Promise<{ code: number; out: string; err: string }> {
  const mod = new URL("../../src/status/client.ts", import.meta.url).href;
  const code = `import { printStatus } from "${mod}"; await printStatus(${JSON.stringify(url)});`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("printStatus prints a running appliance's status", async () => {
  const srv = startStatusServer("127.0.0.1:0", source());
  try {
    const r = await runStatusCli(srv.url);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /xlat64 9\.9\.9/);
    assert.match(r.out, /6to4 +1\.5k/);
  } finally {
    await srv.close();
  }
});

Deno.test("printStatus exits 1 with a clear message when it cannot connect", async () => {
  // A port that was just free: bind, note it, close.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const r = await runStatusCli(`127.0.0.1:${port}`);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`cannot get http://127\\.0\\.0\\.1:${port}/status`));
  assert.match(r.err, /Is xlat64 running/);
  assert.equal(r.out, "");
});
