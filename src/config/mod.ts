// Configuration: TOML schema, defaults, validation with precise errors.
export { ConfigError, type ConfigIssue, formatConfigIssue } from "./errors.ts";
export { loadConfig, parseConfig } from "./load.ts";
export { DEFAULT_CONFIG_TOML } from "./default.ts";
export { toXlatOptions } from "./xlat.ts";
export { RFC1191_PLATEAUS } from "./schema.ts";
export { WKP } from "./semantic.ts";
export * from "./types.ts";

import { DEFAULT_CONFIG_TOML } from "./default.ts";
import { parseConfig } from "./load.ts";
import type { Config } from "./types.ts";

/** The embedded default, parsed. */
export function defaultConfig(): Config {
  return parseConfig(DEFAULT_CONFIG_TOML, "<embedded default>");
}
