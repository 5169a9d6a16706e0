// The built-in packet engines per mode, loaded by each data-path worker.
import type { Mode } from "../config/types.ts";
import { Translator } from "../xlat/translator.ts";
import type { Stats } from "../xlat/stats.ts";
import type { XlatOptions } from "../xlat/options.ts";
import type { PacketEngine } from "./worker_protocol.ts";
import { Nat64 } from "../nat64/engine.ts";
import type { Nat64EngineOptions } from "../nat64/options.ts";
import { formatLogLine } from "../nat64/log_line.ts";
import { getLogger } from "../log.ts";
import { Clat } from "../clat/engine.ts";
import type { ClatEngineOptions } from "../clat/options.ts";

export function createEngine(mode: Mode, options: XlatOptions, stats: Stats): PacketEngine {
  switch (mode) {
    case "siit":
      return new Translator(options, stats);
    case "nat64": {
      // The caller passes toNat64EngineOptions(cfg) (src/nat64/options.ts): the translator
      // options plus the [nat64] section.
      const o = options as Nat64EngineOptions;
      if (!o.nat64) throw new Error('mode "nat64" needs options from toNat64EngineOptions(cfg)');
      if (!o.nat64.logSessions) return new Nat64(o, stats);
      // RFC 6888 REQ-12: one line per BIB/session creation and deletion.
      const logger = getLogger(["nat64"]);
      return new Nat64(o, stats, { log: (k, b, s) => logger.info(formatLogLine(k, b, s)) });
    }
    case "clat":
      // The caller passes toClatEngineOptions(cfg, plat) (src/clat/options.ts).
      return new Clat(options as ClatEngineOptions, stats);
    default:
      throw new Error(`mode "${mode}" has no data-path engine`);
  }
}
