// TOML text -> validated Config, or a ConfigError listing every problem.
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { ConfigError, type ConfigIssue, keyPath } from "./errors.ts";
import { configSchema, KNOWN_KEYS } from "./schema.ts";
import { type KeyIssue, resolveConfig } from "./semantic.ts";
import type { Config } from "./types.ts";

export function parseConfig(text: string, file: string): Config {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    // smol-toml's message repeats the position and a code block; keep the first line.
    const reason = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
    throw new ConfigError([{
      file,
      key: "",
      reason: `TOML syntax error: ${reason}`,
      line: e.line,
      column: e.column,
    }]);
  }
  const r = configSchema.safeParse(doc, { reportInput: true });
  if (!r.success) {
    throw new ConfigError(r.error.issues.flatMap((i) => zodIssues(i, file)));
  }
  const semantic: KeyIssue[] = [];
  const cfg = resolveConfig(r.data, semantic);
  if (semantic.length > 0) throw new ConfigError(semantic.map((s) => ({ file, ...s })));
  return cfg;
}

export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Error
      ? e.message
      : String(e);
    throw new ConfigError([{ file: path, key: "", reason: `cannot read config: ${why}` }]);
  }
  return parseConfig(text, path);
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (v instanceof Date) return "a date";
  if (typeof v === "object") return "a table";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (typeof v === "number" && !Number.isInteger(v)) return `the float ${v}`;
  return `${typeof v === "number" ? "the integer" : `the ${typeof v}`} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  int: "an integer",
  number: "an integer", // every numeric key is an integer
  boolean: "true or false",
  array: "a list",
  object: "a table",
};

function zodIssues(i: z.core.$ZodIssue, file: string): ConfigIssue[] {
  const key = keyPath(i.path);
  const one = (reason: string): ConfigIssue[] => [{ file, key, reason }];
  switch (i.code) {
    case "invalid_type":
      if (i.input === undefined) return one("required key is missing");
      return one(`expected ${EXPECTED[i.expected] ?? i.expected}, got ${describe(i.input)}`);
    case "too_small":
      if (i.origin === "array") {
        return one(`needs at least ${i.minimum} ${Number(i.minimum) === 1 ? "entry" : "entries"}`);
      }
      if (i.origin === "string") return one("must not be empty");
      return one(`${i.input} is below the minimum ${i.minimum}`);
    case "too_big":
      return one(`${i.input} is above the maximum ${i.maximum}`);
    case "not_multiple_of":
      return one(`${i.input} is not a multiple of ${i.divisor}`);
    case "invalid_value":
      return one(
        `${JSON.stringify(i.input)} is not one of ${
          i.values.map((v) => JSON.stringify(v)).join(", ")
        }`,
      );
    case "invalid_union":
      return one(`expected a string or an integer, got ${describe(i.input)}`);
    case "unrecognized_keys": {
      const known = KNOWN_KEYS.get(keyPath(i.path).replace(/\[[0-9]+\]/g, "[]")) ?? [];
      return i.keys.map((k) => {
        const hint = suggest(k, known);
        return {
          file,
          key: keyPath([...i.path, k]),
          reason: hint ? `unknown key (did you mean "${hint}"?)` : "unknown key",
        };
      });
    }
    default:
      return one(i.message);
  }
}

/** The closest known key within edit distance 2, for typo hints. */
function suggest(k: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestD = 3;
  for (const cand of known) {
    const d = editDistance(k, cand);
    if (d < bestD) [best, bestD] = [cand, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
