import assert from "node:assert/strict";
import fc from "fast-check";
import { contains6, type Prefix6, prefix6 } from "../../src/addr/ip.ts";
import { embed4, extract4 } from "../../src/addr/rfc6052.ts";

const LENGTHS = [32, 40, 48, 56, 64, 96];

/** A random valid pool6: random bits up to len, zero after, u-octet zero. */
const pool6 = fc.tuple(fc.constantFrom(...LENGTHS), fc.uint8Array({ minLength: 16, maxLength: 16 }))
  .map(([len, raw]) => {
    const a = new Uint8Array(16);
    a.set(raw.subarray(0, len >> 3));
    a[8] = 0;
    return prefix6(a, len);
  });
const v4 = fc.integer({ min: 0, max: 0xffffffff });

Deno.test("RFC 6052 2.2 round trip: extract4(embed4(p, v4)) === v4 for every length", () => {
  fc.assert(
    fc.property(pool6, v4, fc.nat(32), (p: Prefix6, a: number, off: number) => {
      const out = new Uint8Array(64);
      embed4(p, a, out, off);
      assert.ok(contains6(p, out, off), "embedded address lies under the prefix");
      assert.equal(out[off + 8], 0, "u-octet is zero");
      assert.equal(extract4(p, out, off), a);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("RFC 6052: embedding is injective (distinct IPv4 give distinct IPv6)", () => {
  fc.assert(
    fc.property(pool6, v4, v4, (p: Prefix6, a: number, b: number) => {
      fc.pre(a !== b);
      const x = new Uint8Array(16), y = new Uint8Array(16);
      embed4(p, a, x, 0);
      embed4(p, b, y, 0);
      assert.notDeepEqual(x, y);
    }),
  );
});

Deno.test("extract4 of random bytes never throws and agrees with contains6 and the u-octet", () => {
  fc.assert(
    fc.property(pool6, fc.uint8Array({ minLength: 16, maxLength: 16 }), (p: Prefix6, b) => {
      const r = extract4(p, b, 0);
      assert.ok(Number.isInteger(r) && r >= -1 && r <= 0xffffffff);
      assert.equal(r !== -1, contains6(p, b, 0) && b[8] === 0);
      if (r !== -1) {
        // Re-embedding gives the same address with the suffix zeroed.
        const again = new Uint8Array(16);
        embed4(p, r, again, 0);
        const end = p.len === 96 ? 16 : p.len === 64 ? 13 : (p.len >> 3) + 5;
        assert.deepEqual(again.subarray(0, end), b.subarray(0, end));
      }
    }),
    { numRuns: 2000 },
  );
});
