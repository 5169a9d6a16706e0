import assert from "node:assert/strict";
import fc from "fast-check";
import { formatPrefix6, prefix6 } from "../../src/addr/ip.ts";
import {
  buildRa,
  parseRa,
  PLC_PREFIX_LENGTHS,
  type Pref64,
  RaError,
  scaleLifetime,
} from "../../src/discovery/pref64.ts";

const arbPref64: fc.Arbitrary<Pref64> = fc.record({
  bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  len: fc.constantFrom(...PLC_PREFIX_LENGTHS),
  lifetimeS: fc.integer({ min: 0, max: 70000 }),
}).map(({ bytes, len, lifetimeS }) => {
  const a = new Uint8Array(16);
  a.set(bytes.subarray(0, len >> 3));
  return { prefix: prefix6(a, len), lifetimeS };
});

Deno.test("property: buildRa -> parseRa keeps every PREF64 (lifetime scaled to 8 s units)", () => {
  fc.assert(
    fc.property(
      fc.array(arbPref64, { maxLength: 8 }),
      fc.integer({ min: 0, max: 9000 }),
      (ps, rl) => {
        const back = parseRa(buildRa({ pref64: ps, routerLifetime: rl }));
        assert.equal(back.routerLifetime, rl);
        assert.equal(back.ignored.length, 0);
        assert.deepEqual(
          back.pref64.map((p) => formatPrefix6(p.prefix)),
          ps.map((p) => formatPrefix6(p.prefix)),
        );
        assert.deepEqual(
          back.pref64.map((p) => p.lifetimeS),
          ps.map((p) => scaleLifetime(p.lifetimeS) * 8),
        );
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: parseRa on random and mutated input only ever throws RaError", () => {
  const seed = buildRa({
    pref64: [{ prefix: prefix6(new Uint8Array(16), 96), lifetimeS: 600 }],
    mtu: 1500,
  });
  const mutated = fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), {
    maxLength: 6,
  })
    .chain((muts) =>
      fc.nat(seed.length).map((cut) => {
        const b = seed.slice(0, Math.max(cut, 1));
        for (const [i, v] of muts) if (i < b.length) b[i] = v;
        b[0] = 134;
        return b;
      })
    );
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (b) => {
      try {
        const ra = parseRa(b);
        for (const p of ra.pref64) assert.ok(PLC_PREFIX_LENGTHS.includes(p.prefix.len));
      } catch (e) {
        if (!(e instanceof RaError)) throw e;
      }
    }),
    { numRuns: 5000 },
  );
});
