// Config errors: each names the file, the key path and the reason; all are reported at once.

export interface ConfigIssue {
  readonly file: string;
  /** Dotted key path like "translator.eam[2].ipv6"; "" for the whole file. */
  readonly key: string;
  readonly reason: string;
  /** Set for TOML syntax errors (1-based). */
  readonly line?: number;
  readonly column?: number;
}

export function formatConfigIssue(i: ConfigIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}:${i.column ?? 1}` : i.file;
  return i.key === "" ? `${where}: ${i.reason}` : `${where}: ${i.key}: ${i.reason}`;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join("\n"));
  }
}

/** "translator.eam[2].ipv6" from ["translator", "eam", 2, "ipv6"]. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}
