import assert from "node:assert/strict";
import fc from "fast-check";
import { formatPrefix6, parsePrefix6 } from "../../src/addr/ip.ts";
import { PrefixSources, SOURCE_KINDS, type SourceKind } from "../../src/discovery/sources.ts";

const prefixes = ["64:ff9b::/96", "2001:db8:1::/96", "2001:db8:2::/64"].map(parsePrefix6);
const op = fc.record({
  source: fc.constantFrom(...SOURCE_KINDS.filter((s) => s !== "static")),
  origin: fc.constantFrom("a", "b"),
  prefix: fc.nat(prefixes.length - 1),
  lifetimeS: fc.constantFrom(0, 5, 50, 500),
  advance: fc.nat(100),
});

Deno.test("property: the active source is the highest-precedence one holding an unexpired prefix (reference model)", () => {
  fc.assert(
    fc.property(
      fc.shuffledSubarray([...SOURCE_KINDS], { minLength: 1 }),
      fc.array(op, { maxLength: 40 }),
      (prec, ops) => {
        let now = 0;
        const s = new PrefixSources({ precedence: prec as SourceKind[], now: () => now });
        const model = new Map<string, { source: SourceKind; prefix: string; exp: number }>();
        for (const o of ops) {
          now += o.advance;
          s.update(o.source, o.origin, [{ prefix: prefixes[o.prefix], lifetimeS: o.lifetimeS }]);
          const k = `${o.source}|${o.origin}|${o.prefix}`;
          if (!prec.includes(o.source)) continue;
          if (o.lifetimeS === 0) model.delete(k);
          else {model.set(k, {
              source: o.source,
              prefix: formatPrefix6(prefixes[o.prefix]),
              exp: now + o.lifetimeS,
            });}
          const live = [...model.values()].filter((e) => e.exp > now);
          const want = prec.find((src) => live.some((e) => e.source === src));
          const a = s.active();
          assert.equal(a?.source, want);
          if (a) {
            assert.deepEqual(
              new Set(a.prefixes.map((e) => formatPrefix6(e.prefix))),
              new Set(live.filter((e) => e.source === want).map((e) => e.prefix)),
            );
          }
        }
      },
    ),
    { numRuns: 500 },
  );
});
