// The README's configuration reference must name every key the embedded default has, so
// it cannot silently fall behind the schema.
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { DEFAULT_CONFIG_TOML } from "../../src/config/default.ts";

const README = await Deno.readTextFile(new URL("../../README.md", import.meta.url));

/** Key paths of a parsed TOML document; arrays of tables as `section.name[].key`. */
export function keyPaths(o: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v) && v.length > 0 && typeof v[0] === "object") {
      out.push(...keyPaths(v[0] as Record<string, unknown>, `${path}[]`));
    } else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      out.push(...keyPaths(v as Record<string, unknown>, path));
    } else out.push(path);
  }
  return out;
}

/** Keys the default shows only as comments (no default value). */
const COMMENTED = [
  "translator.eam[].ipv4",
  "translator.eam[].ipv6",
  "nat64.bib[].protocol",
  "nat64.bib[].ipv4",
  "nat64.bib[].ipv6",
  "clat.translation-prefix",
  "clat.ipv6-address",
  "dns64.prefixes",
];

Deno.test("README: the configuration reference names every config key", () => {
  const keys = [...keyPaths(parse(DEFAULT_CONFIG_TOML)), ...COMMENTED];
  assert.ok(keys.length > 60, `only ${keys.length} keys found`);
  const missing = keys.filter((k) => !README.includes(`\`${k}\``));
  assert.deepEqual(missing, [], `README lacks: ${missing.join(", ")}`);
});

Deno.test("README: keyPaths walks sections and arrays of tables", () => {
  assert.deepEqual(keyPaths(parse("a = 1\n[b]\nc = 2\n[[b.d]]\ne = 3\n")), ["a", "b.c", "b.d[].e"]);
});
