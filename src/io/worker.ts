// The data-path worker: one per TUN queue. A synchronous loop of read_batch -> engine
// (translator) per packet -> write_batch, counting into shared memory the main thread
// reads at any time. Control messages are polled between batches, so a reconfigure
// swaps the engine atomically with respect to packets.
/// <reference lib="deno.worker" />
import { receiveMessageOnPort } from "node:worker_threads";
import { PacketBatch, SLOT_SIZE } from "../packet/batch.ts";
import { Stats } from "../xlat/stats.ts";
import type { XlatOptions } from "../xlat/options.ts";
import { bindBatch, type BoundBatch, readBatch, writeBatch } from "./ffi.ts";
import {
  type ControlMessage,
  type EngineModule,
  type EngineRequest,
  IO,
  IO_LEN,
  type PacketEngine,
  TICK_MS,
  type WorkerEvent,
  type WorkerInit,
} from "./worker_protocol.ts";

// Output slots kept free before each packet: room for the fragments of one packet
// (a 65535-byte IPv4 packet becomes at most 52 IPv6 fragments at MTU 1280).
const OUT_HEADROOM = 64;

function post(ev: WorkerEvent): void {
  self.postMessage(ev);
}

async function loadEngines(init: WorkerInit): Promise<EngineModule> {
  if (init.engineModule) return await import(init.engineModule) as EngineModule;
  return await import("./engines.ts");
}

export interface LoopState {
  engine: PacketEngine;
  readonly io: Float64Array;
  readonly inB: BoundBatch;
  readonly outB: BoundBatch;
  /** Writes the output batch's packets; returns how many were taken. */
  readonly write: (b: BoundBatch) => number;
}

/** Translate one read batch into `outB`, flushing to the TUN whenever it nears full. */
export function processBatch(s: LoopState, n: number, nowMs: number): void {
  const inBatch = s.inB.batch, out = s.outB.batch, io = s.io;
  const engine = s.engine;
  out.clear();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const len = inBatch.lens[i];
    bytes += len;
    if (out.count > out.capacity - OUT_HEADROOM) flush(s);
    try {
      engine.translate(inBatch.slots[i], len, out, nowMs);
    } catch {
      io[IO.engineErrors]++;
    }
  }
  io[IO.batches]++;
  io[IO.packetsIn] += n;
  io[IO.bytesIn] += bytes;
  flush(s);
}

function flush(s: LoopState): void {
  const out = s.outB.batch;
  const count = out.count;
  if (count === 0) return;
  const written = s.write(s.outB);
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += out.lens[i];
  s.io[IO.packetsOut] += written;
  s.io[IO.bytesOut] += bytes;
  s.io[IO.writeFailures] += count - written;
  out.clear();
}

/**
 * Apply a reconfigure: in place for engines that can (keeping their state), else a new
 * engine. Returns an error message, or null on success; on error nothing changed.
 */
export function reconfigureEngine(
  s: LoopState,
  make: () => PacketEngine,
  options: XlatOptions,
): string | null {
  try {
    if (s.engine.reconfigure) s.engine.reconfigure(options);
    else s.engine = make();
    s.io[IO.reconfigures]++;
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Run the engine's clock if it has one and TICK_MS passed; returns the new last tick. */
export function maybeTick(s: LoopState, nowMs: number, lastTick: number): number {
  if (!s.engine.tick || nowMs - lastTick < TICK_MS) return lastTick;
  try {
    s.engine.tick(nowMs);
  } catch {
    s.io[IO.engineErrors]++;
  }
  return nowMs;
}

/** Answer a supervisor request; errors become the reply's error, never end the loop. */
export function answerRequest(
  s: LoopState,
  req: EngineRequest,
  nowMs: number,
): { ok: boolean; value?: unknown; error?: string } {
  if (!s.engine.request) return { ok: false, error: `this engine answers no "${req.op}"` };
  try {
    return { ok: true, value: s.engine.request(req, nowMs) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Load saved state into the engine before any packet; a bad snapshot is reported, not fatal. */
export function restoreEngine(
  s: LoopState,
  bytes: Uint8Array,
  nowMs: number,
): { ok: boolean; detail: unknown } {
  if (!s.engine.restore) return { ok: false, detail: "this engine keeps no state" };
  try {
    return { ok: true, detail: s.engine.restore(bytes, nowMs) };
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

async function run(init: WorkerInit): Promise<void> {
  const stats = new Stats(init.stats);
  const engines = await loadEngines(init);
  const state: LoopState = {
    engine: engines.createEngine(init.mode, init.options, stats),
    io: new Float64Array(init.io, 0, IO_LEN),
    inB: bindBatch(new PacketBatch(init.batchSize, SLOT_SIZE)),
    outB: bindBatch(new PacketBatch(init.batchSize * 2 + OUT_HEADROOM, SLOT_SIZE)),
    write: (b) => writeBatch(init.fd, b),
  };
  const port = init.control;
  let lastTick = Date.now();
  const restored = init.restore ? restoreEngine(state, init.restore, lastTick) : undefined;
  post({ type: "running", id: init.id, restored });
  for (;;) {
    const msg = receiveMessageOnPort(port as never) as { message: ControlMessage } | undefined;
    if (msg) {
      const m = msg.message;
      if (m.type === "stop") break;
      if (m.type === "reconfigure") {
        const err = reconfigureEngine(
          state,
          () => engines.createEngine(init.mode, m.options, stats),
          m.options,
        );
        post(
          err === null
            ? { type: "reconfigured", id: init.id, gen: m.gen }
            : { type: "reconfigure-failed", id: init.id, gen: m.gen, error: err },
        );
      } else if (m.type === "request") {
        post({
          type: "reply",
          id: init.id,
          seq: m.seq,
          ...answerRequest(state, m.req, Date.now()),
        });
      }
      continue;
    }
    let n: number;
    try {
      n = readBatch(init.fd, state.inB, init.readTimeoutMs);
    } catch (e) {
      state.io[IO.readErrors]++;
      throw e;
    }
    const now = Date.now();
    if (n > 0) processBatch(state, n, now);
    lastTick = maybeTick(state, now, lastTick);
  }
  post({ type: "stopped", id: init.id });
}

const workerScope = (globalThis as unknown as { DedicatedWorkerGlobalScope?: new () => unknown })
  .DedicatedWorkerGlobalScope;
if (workerScope && self instanceof workerScope) {
  self.onmessage = (e: MessageEvent<WorkerInit>) => {
    if (e.data?.type !== "init") return;
    const init = e.data;
    run(init).then(
      () => self.close(),
      (err) => {
        post({
          type: "failed",
          id: init.id,
          error: err instanceof Error ? err.message : String(err),
        });
        self.close();
      },
    );
  };
}
