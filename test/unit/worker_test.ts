// The data-path worker loop over a real TUN in a fresh namespace, with a stub engine
// (test/unit/worker_stub_engine.ts) so the loop is tested apart from the translator.
import assert from "node:assert/strict";
import { PacketBatch } from "../../src/packet/batch.ts";
import { processBatch } from "../../src/io/worker.ts";
import { bindBatch, type BoundBatch } from "../../src/io/ffi.ts";
import { IO, IO_LEN } from "../../src/io/worker_protocol.ts";

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
