// checksum.ts against a plain reading of RFC 1071 and RFC 1624.
import assert from "node:assert/strict";
import fc from "fast-check";
import { adjust, checksum, fold, pseudo4, pseudo6, sum16 } from "../../src/packet/checksum.ts";

/** RFC 1071 4.1, word by word, odd byte padded with zero, carries folded at the end. */
function refSum(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | (i + 1 < len ? b[off + i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

const region = fc.uint8Array({ maxLength: 2000 }).chain((b) =>
  fc.tuple(
    fc.constant(b),
    fc.integer({ min: 0, max: b.length }),
  ).chain(([b, off]) =>
    fc.tuple(fc.constant(b), fc.constant(off), fc.integer({ min: 0, max: b.length - off }))
  )
);

Deno.test("property: sum16 equals the RFC 1071 one's complement sum (any offset, odd lengths)", () => {
  fc.assert(
    fc.property(region, fc.integer({ min: 0, max: 0xffff }), ([b, off, len], init) => {
      assert.equal(sum16(b, off, len, init), refSum(b, off, len, init));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: RFC 1071 'the sum over the data and its checksum is all ones'", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 600 }), (b0) => {
      const b = b0.length % 2 ? Uint8Array.of(...b0, 0) : b0.slice();
      b[0] = b[1] = 0;
      const c = checksum(b, 0, b.length);
      b[0] = c >> 8;
      b[1] = c & 255;
      assert.equal(sum16(b, 0, b.length), 0xffff);
    }),
  );
});

Deno.test("property: RFC 1624 eqn. 3 incremental update equals recomputing", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 40, maxLength: 400 }),
      fc.integer({ min: 0, max: 18 }),
      fc.uint8Array({ minLength: 2, maxLength: 20 }),
      (b0, at, repl) => {
        const b = b0.length % 2 ? b0.subarray(0, b0.length - 1).slice() : b0.slice();
        const field = 2 * at; // a 16-bit-aligned field of repl.length rounded to words
        const n = repl.length & ~1;
        if (field + n > b.length) return;
        const hc = checksum(b, 0, b.length);
        const oldSum = sum16(b, field, n);
        b.set(repl.subarray(0, n), field);
        const newSum = sum16(b, field, n);
        const inc = adjust(hc, oldSum, newSum);
        const full = checksum(b, 0, b.length);
        // One's complement has two zeros; the stored values must be equal as numbers mod 0xffff.
        assert.equal(inc % 0xffff, full % 0xffff);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("pseudo4/pseudo6 match the RFC 768 / RFC 8200 8.1 pseudo-header laid out in bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xfffff }),
      (addrs, proto, len) => {
        const p4 = new Uint8Array(12);
        p4.set(addrs.subarray(0, 8));
        p4[9] = proto;
        p4[10] = (len >> 8) & 255;
        p4[11] = len & 255;
        assert.equal(pseudo4(addrs, 0, 4, proto, len & 0xffff), refSum(p4, 0, 12));
        const p6 = new Uint8Array(40);
        p6.set(addrs);
        p6[33] = (len >> 16) & 255;
        p6[34] = (len >> 8) & 255;
        p6[35] = len & 255;
        p6[39] = proto;
        assert.equal(pseudo6(addrs, 0, 16, proto, len), refSum(p6, 0, 40));
        assert.equal(fold(0x1fffe), 0xffff);
      },
    ),
  );
});
