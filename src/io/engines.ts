// The built-in packet engines per mode, loaded by each data-path worker.
import type { Mode } from "../config/types.ts";
import type { Stats } from "../xlat/stats.ts";
import type { XlatOptions } from "../xlat/options.ts";
import type { PacketEngine } from "./worker_protocol.ts";

// TEMPORARY until src/xlat/translator.ts lands: a non-literal specifier so type checking
// does not need the module yet.
const translatorModule = "../xlat/translator.ts";
const { Translator } = await import(translatorModule) as {
  Translator: new (o: XlatOptions, s: Stats) => PacketEngine;
};

export function createEngine(mode: Mode, options: XlatOptions, stats: Stats): PacketEngine {
  switch (mode) {
    case "siit":
      return new Translator(options, stats);
    default:
      throw new Error(`mode "${mode}" has no data-path engine yet (only "siit" runs on the TUN)`);
  }
}
