// The built-in packet engines per mode, loaded by each data-path worker.
import type { Mode } from "../config/types.ts";
import { Translator } from "../xlat/translator.ts";
import type { Stats } from "../xlat/stats.ts";
import type { XlatOptions } from "../xlat/options.ts";
import type { PacketEngine } from "./worker_protocol.ts";

export function createEngine(mode: Mode, options: XlatOptions, stats: Stats): PacketEngine {
  switch (mode) {
    case "siit":
      return new Translator(options, stats);
    default:
      throw new Error(`mode "${mode}" has no data-path engine yet (only "siit" runs on the TUN)`);
  }
}
