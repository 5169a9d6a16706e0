// sumWords reads native 32-bit words (RFC 1071 2(B) byte-order independence) and must
// equal the byte-wise sum16 for any data.
import assert from "node:assert/strict";
import fc from "fast-check";
import { sum16, sumWords } from "../../src/packet/checksum.ts";

Deno.test("sumWords equals sum16 over the same bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 64 }).map((a) => a.subarray(0, a.length & ~3)),
      fc.integer({ min: 0, max: 7 }),
      (data, at) => {
        const buf = new Uint8Array(4 * at + data.length + 8);
        buf.set(data, 4 * at);
        const w = new Int32Array(buf.buffer, 0, buf.length >> 2);
        assert.equal(sumWords(w, 4 * at, data.length >> 2), sum16(buf, 4 * at, data.length));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("sumWords of a valid IPv4 header is 0xffff", () => {
  const h = new Uint8Array([
    0x45,
    0,
    0,
    28,
    0x12,
    0x34,
    0x40,
    0,
    64,
    17,
    0,
    0,
    198,
    51,
    100,
    1,
    192,
    0,
    2,
    1,
  ]);
  const c = ~sum16(h, 0, 20) & 0xffff;
  h[10] = c >> 8;
  h[11] = c & 255;
  assert.equal(sumWords(new Int32Array(h.buffer), 0, 5), 0xffff);
  h[3] ^= 1;
  assert.notEqual(sumWords(new Int32Array(h.buffer), 0, 5), 0xffff);
});
