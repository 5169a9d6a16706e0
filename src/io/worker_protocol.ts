// Messages and shared counters between the supervisor (main thread) and a data-path
// worker. Control messages travel on a MessagePort the worker polls synchronously
// between batches (receiveMessageOnPort), so its loop never has to yield to an event loop.
import type { Mode } from "../config/types.ts";
import type { PacketBatch } from "../packet/batch.ts";
import type { Stats } from "../xlat/stats.ts";
import type { XlatOptions } from "../xlat/options.ts";

/** What a worker runs on every packet: a translator or any other engine with its shape. */
export interface PacketEngine {
  translate(pkt: Uint8Array, len: number, out: PacketBatch, nowMs: number): void;
  /**
   * Stateful engines (NAT64 sessions) take new options in place, keeping their state; it
   * must throw without changing anything when the options are unusable. Engines without
   * it are replaced by a new one built from the options.
   */
  reconfigure?(options: XlatOptions): void;
  /** Called about every TICK_MS (also when idle): expire state by the clock. */
  tick?(nowMs: number): void;
  /** Stateful engines: load saved state (snapshot bytes) before the first packet. */
  restore?(bytes: Uint8Array, nowMs: number): unknown;
  /** Answers a supervisor request between batches; the value must be structured-clonable. */
  request?(req: EngineRequest, nowMs: number): unknown;
}

/** What the supervisor asks a stateful engine (NAT64) for. */
export type EngineRequest =
  /** The state as snapshot bytes (Uint8Array). */
  | { readonly op: "snapshot" }
  /** Up to `limit` session rows. */
  | { readonly op: "sessions"; readonly limit: number }
  /** Table sizes (Nat64Gauges). */
  | { readonly op: "gauges" }
  /** A PCP datagram from `src` (16 octets); the reply is the response bytes or null. */
  | { readonly op: "pcp"; readonly datagram: Uint8Array; readonly src: Uint8Array };

/** How often a worker calls `tick` on its engine. */
export const TICK_MS = 100;

/** A module that makes engines: `createEngine(mode, options, stats)`. */
export interface EngineModule {
  createEngine(mode: Mode, options: XlatOptions, stats: Stats): PacketEngine;
}

/** I/O counters of one worker (Float64Array over a SharedArrayBuffer). */
export const IO = {
  batches: 0, // read_batch calls that returned packets
  packetsIn: 1,
  bytesIn: 2,
  packetsOut: 3,
  bytesOut: 4,
  writeFailures: 5, // packets the kernel refused on write
  engineErrors: 6, // packets whose translation threw (a bug; counted, never fatal)
  readErrors: 7,
  reconfigures: 8,
} as const;
export const IO_LEN = 9;

export interface WorkerInit {
  readonly type: "init";
  readonly id: number;
  readonly fd: number;
  readonly mode: Mode;
  readonly options: XlatOptions;
  /** SharedArrayBuffer for Stats (STATS_LEN float64s). */
  readonly stats: SharedArrayBuffer;
  /** SharedArrayBuffer for IO counters (IO_LEN float64s). */
  readonly io: SharedArrayBuffer;
  readonly control: MessagePort;
  readonly readTimeoutMs: number;
  readonly batchSize: number;
  /** Tests: a module URL exporting `createEngine`, instead of the built-in engines. */
  readonly engineModule?: string;
  /** Saved engine state to load before the first packet (NAT64 snapshot). */
  readonly restore?: Uint8Array;
}

export type ControlMessage =
  | { readonly type: "reconfigure"; readonly gen: number; readonly options: XlatOptions }
  | { readonly type: "request"; readonly seq: number; readonly req: EngineRequest }
  | { readonly type: "stop" };

export type WorkerEvent =
  | {
    readonly type: "running";
    readonly id: number;
    /** What restoring WorkerInit.restore gave (engine-specific), or why it failed. */
    readonly restored?: { readonly ok: boolean; readonly detail: unknown };
  }
  | {
    readonly type: "reply";
    readonly id: number;
    readonly seq: number;
    readonly ok: boolean;
    readonly value?: unknown;
    readonly error?: string;
  }
  | { readonly type: "reconfigured"; readonly id: number; readonly gen: number }
  | {
    readonly type: "reconfigure-failed";
    readonly id: number;
    readonly gen: number;
    readonly error: string;
  }
  | { readonly type: "stopped"; readonly id: number }
  | { readonly type: "failed"; readonly id: number; readonly error: string };
