import assert from "node:assert/strict";
import fc from "fast-check";
import { formatPrefix6, prefix6 } from "../../src/addr/ip.ts";
import { findPrefixes, WKA_170, WKA_171, wkaAddress } from "../../src/discovery/rfc7050.ts";

const arbPrefix = fc.record({
  bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  len: fc.constantFrom(32, 40, 48, 56, 64, 96),
})
  .map(({ bytes, len }) => {
    const a = new Uint8Array(16);
    a.set(bytes.subarray(0, len >> 3));
    if (len === 96) a[8] = 0; // RFC 6052 2.2 u-octet
    return prefix6(a, len);
  });

Deno.test("property: the prefix used to synthesize both WKAs is found, or the answer says it is ambiguous", () => {
  fc.assert(
    fc.property(arbPrefix, (p) => {
      const f = findPrefixes([wkaAddress(p, WKA_170), wkaAddress(p, WKA_171)]);
      if (f.ambiguous.length === 0) {
        assert.deepEqual(f.prefixes.map(formatPrefix6), [formatPrefix6(p)]);
      } else {assert.ok(f.prefixes.every((q) =>
          q.len !== p.len || formatPrefix6(q) === formatPrefix6(p)
        ));}
    }),
    { numRuns: 3000 },
  );
});

Deno.test("property: findPrefixes never throws on arbitrary addresses and accounts for each", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 6 }),
      (addrs) => {
        const f = findPrefixes(addrs);
        assert.ok(f.ambiguous.length + f.ignored.length <= addrs.length);
      },
    ),
    { numRuns: 2000 },
  );
});
