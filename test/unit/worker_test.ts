// The data-path worker loop over a real TUN in a fresh namespace, with a stub engine
// (test/unit/worker_stub_engine.ts) so the loop is tested apart from the translator.
import assert from "node:assert/strict";
import { PacketBatch } from "../../src/packet/batch.ts";
import { maybeTick, processBatch, reconfigureEngine } from "../../src/io/worker.ts";
import { bindBatch, type BoundBatch } from "../../src/io/ffi.ts";
import { IO, IO_LEN, type PacketEngine, TICK_MS } from "../../src/io/worker_protocol.ts";
import type { XlatOptions } from "../../src/xlat/options.ts";

const root = Deno.uid() === 0;
const child = new URL("./worker_child.ts", import.meta.url).pathname;

interface Result {
  gotA: number;
  gotB: number;
  strayA: number;
  gotC: number;
  badReconfig: string;
  infos: { id: number; state: string; packets: number }[];
  in46: number;
  out46: number;
  counters: { packetsIn: number; packetsOut: number; engineErrors: number; reconfigures: number }[];
  stopMs: number;
  after: string[];
}

async function runChild(queues: number): Promise<Result> {
  const ns = `xs-wk-${queues}-${Deno.pid}`;
  assert.ok((await new Deno.Command("ip", { args: ["netns", "add", ns] }).output()).success);
  try {
    const r = await new Deno.Command("ip", {
      args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", child, String(queues)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
  } finally {
    await new Deno.Command("ip", { args: ["netns", "del", ns] }).output();
  }
}

function checkRun(r: Result, queues: number): void {
  assert.equal(
    r.gotA,
    64,
    `all of burst a translated with the first options: ${JSON.stringify(r)}`,
  );
  assert.equal(r.gotB, 64, "all of burst b translated with the reconfigured options");
  assert.equal(r.strayA, 0, "nothing used the old options after reconfigure resolved");
  assert.equal(r.gotC, 16, "the loop survived a packet whose translation threw");
  assert.match(r.badReconfig, /port 0 is refused/, "a failing reconfigure reports why");
  assert.equal(r.infos.length, queues);
  for (const w of r.infos) assert.equal(w.state, "running");
  const total = 64 + 64 + 1 + 16;
  assert.equal(r.infos.reduce((a, w) => a + w.packets, 0), total);
  assert.equal(r.in46, total, "Stats aggregated over workers");
  assert.equal(r.out46, total - 1);
  assert.equal(r.counters.reduce((a, c) => a + c.engineErrors, 0), 1);
  assert.equal(r.counters.reduce((a, c) => a + c.packetsOut, 0), total - 1);
  for (const c of r.counters) assert.equal(c.reconfigures, 1);
  assert.ok(r.stopMs < 1000, `stop took ${r.stopMs} ms`);
  assert.deepEqual(r.after, Array(queues).fill("stopped"));
}

Deno.test({
  name: "worker: read -> engine -> write loop, reconfigure, stop, one queue (needs root)",
  ignore: !root,
  fn: async () => checkRun(await runChild(1), 1),
});

Deno.test({
  name: "worker: two workers on an IFF_MULTI_QUEUE TUN share the load (needs root)",
  ignore: !root,
  fn: async () => {
    const r = await runChild(2);
    checkRun(r, 2);
    assert.ok(r.infos.every((w) => w.packets > 0), `per worker ${r.infos.map((w) => w.packets)}`);
  },
});

Deno.test("worker: processBatch flushes before the output batch can overflow", () => {
  // An engine that emits 50 packets per input (like fragmenting a large packet):
  // 8 inputs make 400 outputs through a 120-slot output batch without losing any.
  const inB = bindBatch(new PacketBatch(8, 256));
  const outB = bindBatch(new PacketBatch(120, 256));
  for (let i = 0; i < 8; i++) inB.batch.lens[i] = 100;
  const writes: number[] = [];
  const io = new Float64Array(IO_LEN);
  const engine = {
    translate(_p: Uint8Array, _l: number, out: PacketBatch) {
      for (let k = 0; k < 50; k++) {
        if (out.reserve() < 0) throw new Error("output batch overflowed");
        out.commit(60);
      }
    },
  };
  // The "kernel" refuses one packet per write.
  const write = (b: BoundBatch) => (writes.push(b.batch.count), b.batch.count - 1);
  processBatch({ engine, io, inB, outB, write }, 8, 0);
  assert.equal(io[IO.engineErrors], 0, "the engine never saw a full batch");
  assert.equal(writes.reduce((a, b) => a + b, 0), 400);
  assert.ok(writes.every((n) => n <= 120), `writes ${writes}`);
  assert.equal(io[IO.packetsIn], 8);
  assert.equal(io[IO.bytesIn], 800);
  assert.equal(io[IO.packetsOut], 400 - writes.length);
  assert.equal(io[IO.writeFailures], writes.length);
  assert.equal(io[IO.bytesOut], 400 * 60);
  assert.equal(io[IO.batches], 1);
});

Deno.test("worker: an engine that throws is counted, the batch goes on", () => {
  const inB = bindBatch(new PacketBatch(4, 64));
  const outB = bindBatch(new PacketBatch(70, 64));
  for (let i = 0; i < 4; i++) inB.batch.lens[i] = 20 + i;
  const io = new Float64Array(IO_LEN);
  let seen = 0;
  const engine = {
    translate(_p: Uint8Array, len: number, out: PacketBatch) {
      seen++;
      if (len === 21) throw new Error("bug");
      out.commit(len);
    },
  };
  processBatch({ engine, io, inB, outB, write: (b) => b.batch.count }, 4, 0);
  assert.equal(seen, 4);
  assert.equal(io[IO.engineErrors], 1);
  assert.equal(io[IO.packetsOut], 3);
});

function loop(engine: PacketEngine) {
  const io = new Float64Array(IO_LEN);
  const b = bindBatch(new PacketBatch(1, 64));
  return { engine, io, inB: b, outB: b, write: () => 0 };
}

Deno.test("worker: stateful engines are reconfigured in place, others replaced", () => {
  const seen: unknown[] = [];
  const stateful: PacketEngine = {
    translate() {},
    reconfigure(o) {
      if ((o as unknown as { bad?: boolean }).bad) throw new Error("bad options");
      seen.push(o);
    },
  };
  const s = loop(stateful);
  const opts = { pool6: null } as unknown as XlatOptions;
  let made = 0;
  const make = () => (made++, { translate() {} });
  assert.equal(reconfigureEngine(s, make, opts), null);
  assert.equal(s.engine, stateful, "same engine, state kept");
  assert.deepEqual(seen, [opts]);
  assert.equal(made, 0);
  assert.equal(reconfigureEngine(s, make, { bad: true } as unknown as XlatOptions), "bad options");
  assert.equal(s.engine, stateful);
  assert.equal(s.io[IO.reconfigures], 1);

  const stateless = loop({ translate() {} });
  const before = stateless.engine;
  assert.equal(reconfigureEngine(stateless, make, opts), null);
  assert.notEqual(stateless.engine, before);
  assert.equal(made, 1);
  const failing = () => {
    throw new Error("no such prefix");
  };
  const kept = stateless.engine;
  assert.equal(reconfigureEngine(stateless, failing, opts), "no such prefix");
  assert.equal(stateless.engine, kept, "a failed build keeps the running engine");
});

Deno.test("worker: tick runs about every TICK_MS, never throws out of the loop", () => {
  const ticks: number[] = [];
  const s = loop({
    translate() {},
    tick(now) {
      ticks.push(now);
      if (now === 1000 + 3 * TICK_MS) throw new Error("bug in expiry");
    },
  });
  let last = 1000;
  for (let t = 1000; t <= 1000 + 3 * TICK_MS; t += TICK_MS / 4) last = maybeTick(s, t, last);
  assert.deepEqual(ticks, [1000 + TICK_MS, 1000 + 2 * TICK_MS, 1000 + 3 * TICK_MS]);
  assert.equal(s.io[IO.engineErrors], 1);
  // Engines without a clock are never ticked.
  const plain = loop({ translate() {} });
  assert.equal(maybeTick(plain, 5000, 0), 0);
});
