// Logging setup (LogTape): human-readable text lines or JSON lines, on stderr so that
// command output on stdout stays clean. Modules call getLogger("dns") and log; only
// main.ts calls setupLogging.
import {
  configure,
  getJsonLinesFormatter,
  getLogger as logtapeLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import type { LogFormat, LogLevel } from "./config/types.ts";

export type { LogFormat, Logger, LogLevel };

export const ROOT_CATEGORY = "xlat64";

export interface LogSetup {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where lines go (default: stderr); tests pass a collector. */
  readonly write?: (line: string) => void;
}

const encoder = new TextEncoder();
const toStderr = (line: string) => {
  const b = encoder.encode(line);
  for (let o = 0; o < b.length;) o += Deno.stderr.writeSync(b.subarray(o));
};

/** Configure (or reconfigure) logging for the whole process. */
export async function setupLogging(opts: LogSetup): Promise<void> {
  const format = opts.format === "json" ? getJsonLinesFormatter() : getTextFormatter({
    timestamp: "date-time-tz",
    category: ".",
    // Strings as they are ("listening on 127.0.0.1:53"), other values inspected.
    value: (v) => typeof v === "string" ? v : Deno.inspect(v, { colors: false }),
  });
  const write = opts.write ?? toStderr;
  const sink: Sink = (r: LogRecord) => write(format(r));
  await configure({
    reset: true,
    sinks: { out: sink },
    loggers: [
      { category: ROOT_CATEGORY, lowestLevel: opts.level, sinks: ["out"] },
      // LogTape's own notices (e.g. "configured"): only when something is wrong.
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}

/** A logger under the "xlat64" category: getLogger("dns") or getLogger(["nat64", "bib"]). */
export function getLogger(category: string | readonly string[]): Logger {
  const sub = typeof category === "string" ? [category] : category;
  return logtapeLogger([ROOT_CATEGORY, ...sub]);
}
