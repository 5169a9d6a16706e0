// The main-thread side of the data path: one Worker per TUN queue fd, their shared
// counters, and the control messages (reconfigure, stop) with their acknowledgements.
import type { Mode } from "../config/types.ts";
import type { WorkerInfo, WorkerState } from "../status/source.ts";
import { Stats, STATS_LEN } from "../xlat/stats.ts";
import type { XlatOptions } from "../xlat/options.ts";
import {
  type ControlMessage,
  type EngineRequest,
  IO,
  IO_LEN,
  type WorkerEvent,
  type WorkerInit,
} from "./worker_protocol.ts";

export interface WorkerPoolOptions {
  readonly mode: Mode;
  readonly options: XlatOptions;
  /** One TUN queue fd per worker. */
  readonly fds: readonly number[];
  /** Packets per read_batch (default 64). */
  readonly batchSize?: number;
  /** How long read_batch waits on an idle queue; bounds how late stop/reconfigure act. */
  readonly readTimeoutMs?: number;
  /** Tests: a module exporting `createEngine` instead of the built-in engines. */
  readonly engineModule?: string;
  /** Called on every state change (for logging). */
  readonly onEvent?: (w: DataWorker, ev: WorkerEvent) => void;
  /** Saved engine state each worker loads before its first packet (NAT64 snapshot). */
  readonly restore?: Uint8Array;
}

export interface WorkerCounters {
  readonly batches: number;
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  readonly writeFailures: number;
  readonly engineErrors: number;
  readonly readErrors: number;
  readonly reconfigures: number;
}

interface Pending {
  resolve(value?: unknown): void;
  reject(e: Error): void;
}

export class DataWorker {
  state: WorkerState = "starting";
  detail: string | undefined;
  readonly stats: Stats;
  readonly io: Float64Array;
  readonly #worker: Worker;
  readonly #control: MessagePort;
  readonly #started: Promise<void>;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;
  readonly #pending = new Map<number, Pending>();
  readonly #requests = new Map<number, Pending>();
  #gen = 0;
  #seq = 0;
  /** What loading WorkerPoolOptions.restore gave, once running. */
  restored: { readonly ok: boolean; readonly detail: unknown } | undefined;

  constructor(readonly id: number, readonly fd: number, o: WorkerPoolOptions) {
    const statsBuf = new SharedArrayBuffer(STATS_LEN * 8);
    const ioBuf = new SharedArrayBuffer(IO_LEN * 8);
    this.stats = new Stats(statsBuf);
    this.io = new Float64Array(ioBuf);
    const ch = new MessageChannel();
    this.#control = ch.port1;
    this.#worker = new Worker(new URL("./worker.ts", import.meta.url), {
      type: "module",
      name: `xlat64-dp-${id}`,
    });
    this.#stopped = new Promise((r) => this.#resolveStopped = r);
    this.#started = new Promise((resolve, reject) => {
      this.#worker.onmessage = (e: MessageEvent<WorkerEvent>) => {
        const ev = e.data;
        this.#handle(ev);
        if (ev.type === "running") resolve();
        if (ev.type === "failed") reject(new Error(`data-path worker ${id}: ${ev.error}`));
        o.onEvent?.(this, ev);
      };
      this.#worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        const ev: WorkerEvent = { type: "failed", id, error: e.message };
        this.#handle(ev);
        reject(new Error(`data-path worker ${id}: ${e.message}`));
        o.onEvent?.(this, ev);
      };
    });
    const init: WorkerInit = {
      type: "init",
      id,
      fd,
      mode: o.mode,
      options: o.options,
      stats: statsBuf,
      io: ioBuf,
      control: ch.port2,
      readTimeoutMs: o.readTimeoutMs ?? 100,
      batchSize: o.batchSize ?? 64,
      engineModule: o.engineModule,
      restore: o.restore,
    };
    this.#worker.postMessage(init, [ch.port2]);
  }

  #handle(ev: WorkerEvent): void {
    switch (ev.type) {
      case "running":
        this.state = "running";
        this.restored = ev.restored;
        break;
      case "reply": {
        const p = this.#requests.get(ev.seq);
        this.#requests.delete(ev.seq);
        if (ev.ok) p?.resolve(ev.value);
        else p?.reject(new Error(ev.error ?? "request failed"));
        break;
      }
      case "reconfigured":
        this.#pending.get(ev.gen)?.resolve();
        this.#pending.delete(ev.gen);
        break;
      case "reconfigure-failed":
        this.#pending.get(ev.gen)?.reject(new Error(ev.error));
        this.#pending.delete(ev.gen);
        break;
      case "stopped":
        this.state = "stopped";
        this.#finish();
        break;
      case "failed":
        this.state = "failed";
        this.detail = ev.error;
        this.#finish();
        break;
    }
  }

  #finish(): void {
    for (const p of [...this.#pending.values(), ...this.#requests.values()]) {
      p.reject(new Error(`worker ${this.id} ended`));
    }
    this.#pending.clear();
    this.#requests.clear();
    this.#control.close();
    this.#worker.terminate();
    this.#resolveStopped();
  }

  started(): Promise<void> {
    return this.#started;
  }

  #send(m: ControlMessage): void {
    this.#control.postMessage(m);
  }

  /** Swap in a translator built from `options`; resolves once the worker uses it. */
  reconfigure(options: XlatOptions): Promise<void> {
    if (this.state !== "running") {
      return Promise.reject(new Error(`worker ${this.id} is ${this.state}`));
    }
    const gen = ++this.#gen;
    const p = new Promise<void>((resolve, reject) => this.#pending.set(gen, { resolve, reject }));
    this.#send({ type: "reconfigure", gen, options });
    return p;
  }

  /**
   * Ask the engine something between batches (snapshot, sessions, gauges, PCP); rejects
   * when the engine cannot answer, the worker ends, or no answer comes in `timeoutMs`.
   */
  request(req: EngineRequest, timeoutMs = 5000): Promise<unknown> {
    if (this.state !== "running") {
      return Promise.reject(new Error(`worker ${this.id} is ${this.state}`));
    }
    const seq = ++this.#seq;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const p = new Promise<unknown>((resolve, reject) => {
      this.#requests.set(seq, { resolve, reject });
      timer = setTimeout(() => {
        this.#requests.delete(seq);
        reject(new Error(`worker ${this.id}: no answer to "${req.op}" in ${timeoutMs} ms`));
      }, timeoutMs);
    });
    this.#send({ type: "request", seq, req });
    return p.finally(() => clearTimeout(timer));
  }

  /** Ask the loop to stop after its current batch; terminate it if it does not in time. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.state === "stopped" || this.state === "failed") return;
    this.state = "stopping";
    this.#send({ type: "stop" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(() => {
        this.state = "stopped";
        this.detail = `did not stop within ${timeoutMs} ms; terminated`;
        this.#finish();
        r();
      }, timeoutMs);
    });
    await Promise.race([this.#stopped, late]);
    clearTimeout(timer);
  }

  counters(): WorkerCounters {
    const v = this.io;
    return {
      batches: v[IO.batches],
      packetsIn: v[IO.packetsIn],
      bytesIn: v[IO.bytesIn],
      packetsOut: v[IO.packetsOut],
      bytesOut: v[IO.bytesOut],
      writeFailures: v[IO.writeFailures],
      engineErrors: v[IO.engineErrors],
      readErrors: v[IO.readErrors],
      reconfigures: v[IO.reconfigures],
    };
  }

  info(): WorkerInfo & { readonly packets: number } {
    return {
      id: this.id,
      state: this.state,
      queue: this.id,
      detail: this.detail,
      packets: this.io[IO.packetsIn],
    };
  }
}

export class WorkerPool {
  private constructor(readonly workers: readonly DataWorker[]) {}

  /** Start one worker per fd and wait until all run (or stop them all if one fails). */
  static async start(o: WorkerPoolOptions): Promise<WorkerPool> {
    const ws = o.fds.map((fd, i) => new DataWorker(i, fd, o));
    const results = await Promise.allSettled(ws.map((w) => w.started()));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await Promise.all(ws.map((w) => w.stop(500)));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new WorkerPool(ws);
  }

  /** Counters summed over every worker (a fresh Stats each call). */
  stats(): Stats {
    const sum = new Stats();
    for (const w of this.workers) sum.addFrom(w.stats);
    return sum;
  }

  infos(): (WorkerInfo & { readonly packets: number })[] {
    return this.workers.map((w) => w.info());
  }

  /** Reconfigure every running worker; rejects with the first failure. */
  async reconfigure(options: XlatOptions): Promise<void> {
    await Promise.all(
      this.workers.filter((w) => w.state === "running").map((w) => w.reconfigure(options)),
    );
  }

  async stop(timeoutMs = 2000): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop(timeoutMs)));
  }

  /** The first running worker (stateful modes run exactly one). */
  first(): DataWorker | null {
    return this.workers.find((w) => w.state === "running") ?? null;
  }
}
