// The translator's copies: word copies between 4-aligned offsets, a byte fallback for
// unaligned ones, exact-run views from 128 bytes up; all must copy exactly n bytes.
import assert from "node:assert/strict";
import { copyBytes, copyRun } from "../../src/xlat/bytes.ts";
import * as B from "../../src/packet/build.ts";
import { Harness } from "./xlat_helpers.ts";

Deno.test("copyRun copies exactly n bytes at every alignment and length", () => {
  const inBuf = new Uint8Array(4096), outBuf = new Uint8Array(4096);
  for (let i = 0; i < inBuf.length; i++) inBuf[i] = (i * 7 + 3) & 255;
  const iw = new Int32Array(inBuf.buffer), ow = new Int32Array(outBuf.buffer);
  const src = inBuf.subarray(1024, 2048), dst = outBuf.subarray(2048, 3072);
  for (const sOff of [0, 1, 2, 3, 4, 20, 40]) {
    for (const dOff of [0, 2, 3, 20, 40]) {
      for (const n of [0, 1, 3, 4, 5, 36, 127, 128, 129, 300]) {
        outBuf.fill(0xee);
        copyRun(dst, dOff, ow, dst.byteOffset + dOff, src, iw, src.byteOffset + sOff, n);
        const want = new Uint8Array(1024).fill(0xee);
        want.set(src.subarray(sOff, sOff + n), dOff);
        assert.deepEqual(dst, want, `sOff ${sOff} dOff ${dOff} n ${n}`);
        assert.equal(outBuf[2047], 0xee);
        assert.equal(outBuf[3072], 0xee);
      }
    }
  }
});

Deno.test("copyRun and copyBytes refuse a source run past the source array", () => {
  const a = new Uint8Array(1024), b = new Uint8Array(1024);
  const src = a.subarray(0, 100);
  assert.throws(() => copyBytes(b, 0, src, 0, 200), RangeError);
  assert.throws(
    () => copyRun(b, 0, new Int32Array(b.buffer), 0, src, new Int32Array(a.buffer), 0, 200),
    RangeError,
  );
});

Deno.test("long copies reuse a view per run yet follow a changed source", () => {
  const a = new Uint8Array(2048), b = new Uint8Array(2048);
  for (let round = 0; round < 3; round++) {
    a.fill(round + 1);
    copyBytes(b, 0, a, 100, 500);
    assert.equal(b[0], round + 1);
    assert.equal(b[499], round + 1);
  }
  const other = new Uint8Array(2048).fill(9); // same offset and length, another buffer
  copyBytes(b, 0, other, 100, 500);
  assert.equal(b[250], 9);
});

Deno.test("a packet translates the same whatever its offset in the input buffer", () => {
  const pkts = [
    B.udp4({ src: "198.51.100.1", dst: "192.0.2.1", sport: 5, dport: 53, payload: "hello?" }),
    B.tcp4({
      src: "198.51.100.1",
      dst: "192.0.2.1",
      sport: 5,
      dport: 80,
      payload: "x".repeat(300),
    }),
    B.udp6({
      src: "2001:db8:46::c633:6401",
      dst: "2001:db8:46::c000:201",
      sport: 5,
      dport: 53,
      payload: "abc",
    }),
  ];
  for (const p of pkts) {
    // Fixed IPv4 Identification (6->4 starts from a random one).
    const first = new Harness();
    first.t.x.ipId = 0;
    const ref = first.run(p);
    assert.equal(ref.length, 1);
    for (const shift of [1, 2, 3, 5]) {
      const h = new Harness();
      h.t.x.ipId = 0;
      const buf = new Uint8Array(p.length + 16);
      buf.set(p, shift);
      const inp = buf.subarray(shift, shift + p.length);
      h.out.clear();
      h.t.translate(inp, inp.length, h.out, 0);
      assert.deepEqual(h.out.packets(), ref, `shift ${shift}`);
    }
  }
});

Deno.test("RFC 791 3.1: a bad IPv4 header checksum is dropped at any offset (word and byte sums)", () => {
  const p = B.udp4({ src: "198.51.100.1", dst: "192.0.2.1", sport: 5, dport: 53 });
  for (const byte of [1, 8, 10, 15, 19]) {
    const bad = p.slice();
    bad[byte] ^= 0x10;
    for (const shift of [0, 1, 2, 4]) {
      const h = new Harness();
      const buf = new Uint8Array(bad.length + 8);
      buf.set(bad, shift);
      const inp = buf.subarray(shift, shift + bad.length);
      h.out.clear();
      h.t.translate(inp, inp.length, h.out, 0);
      assert.equal(h.out.count, 0, `byte ${byte} shift ${shift}`);
      assert.equal(h.drops("bad_checksum", false), 1, `byte ${byte} shift ${shift}`);
    }
  }
});
