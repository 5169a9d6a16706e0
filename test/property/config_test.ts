// Fuzz the config parser: whatever the text, parseConfig returns a Config or throws a
// ConfigError whose issues name the file and give a reason; never anything else.
// (Mutations index lines modulo the current length: earlier ones may delete lines.)
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, DEFAULT_CONFIG_TOML, parseConfig } from "../../src/config/mod.ts";

function parsesOrExplains(text: string): void {
  try {
    parseConfig(text, "fuzz.toml");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    assert.ok(e.issues.length > 0);
    for (const i of e.issues) {
      assert.equal(i.file, "fuzz.toml");
      assert.ok(i.reason.length > 0);
    }
  }
}

Deno.test("config parser: mutated default config gives a Config or a ConfigError", () => {
  const lines = DEFAULT_CONFIG_TOML.split("\n");
  const mutation = fc.oneof(
    // Replace a value with another TOML value.
    fc.tuple(
      fc.nat(lines.length - 1),
      fc.constantFrom('""', "0", "-1", "1.5", "true", "[]", '["x"]', "{}", "65536", '"::"'),
    ).map(([n, v]) => (ls: string[]) => {
      const i = n % ls.length;
      ls[i] = ls[i].replace(/=.*/, `= ${v}`);
    }),
    // Delete a line.
    fc.nat(lines.length - 1).map((n) => (ls: string[]) => void ls.splice(n % ls.length, 1)),
    // Uncomment a line.
    fc.nat(lines.length - 1).map((n) => (ls: string[]) => {
      const i = n % ls.length;
      ls[i] = ls[i].replace(/^# /, "");
    }),
    // Insert random characters.
    fc.tuple(fc.nat(lines.length - 1), fc.string({ maxLength: 8 })).map(
      ([n, s]) => (ls: string[]) => {
        const i = n % ls.length;
        ls[i] = s + ls[i];
      },
    ),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (ms) => {
      const ls = [...lines];
      for (const m of ms) m(ls);
      parsesOrExplains(ls.join("\n"));
    }),
    { numRuns: 300 },
  );
});

Deno.test("config parser: random text gives a Config or a ConfigError", () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), parsesOrExplains), { numRuns: 300 });
});
