import assert from "node:assert/strict";
import { parseIPv4, parsePrefix4 } from "../../src/addr/ip.ts";
import { BUILTIN_DENYLIST4, Denylist4 } from "../../src/addr/denylist.ts";

Deno.test("built-in denylist: 0/8, 127/8, 169.254/16, 224/4 (multicast is not translated), broadcast", () => {
  const d = new Denylist4();
  for (
    const a of [
      "0.0.0.0",
      "0.1.2.3",
      "127.0.0.1",
      "127.255.255.255",
      "169.254.1.1",
      "224.0.0.1",
      "239.255.255.255",
      "255.255.255.255",
    ]
  ) {
    assert.equal(d.has(parseIPv4(a)), true, a);
  }
  for (
    const a of [
      "1.0.0.0",
      "126.255.255.255",
      "128.0.0.0",
      "169.253.0.1",
      "169.255.0.0",
      "223.255.255.255",
      "240.0.0.0",
      "255.255.255.254",
      "8.8.8.8",
    ]
  ) {
    assert.equal(d.has(parseIPv4(a)), false, a);
  }
  assert.equal(BUILTIN_DENYLIST4.length, 5);
});

Deno.test("configured denylist prefixes, nested and adjacent ones merged", () => {
  const d = new Denylist4(
    ["198.51.100.0/24", "198.51.100.32/27", "198.51.101.0/24", "10.0.0.5/32"].map(parsePrefix4),
  );
  for (const a of ["198.51.100.0", "198.51.100.200", "198.51.101.255", "10.0.0.5"]) {
    assert.equal(d.has(parseIPv4(a)), true, a);
  }
  for (const a of ["198.51.99.255", "198.51.102.0", "10.0.0.4", "10.0.0.6"]) {
    assert.equal(d.has(parseIPv4(a)), false, a);
  }
  assert.equal(d.configured().length, 4);
});

Deno.test("denylist agrees with a linear scan on random addresses and prefixes", () => {
  let x = 99;
  const rnd = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  for (let round = 0; round < 50; round++) {
    const ps = Array.from({ length: 1 + (rnd() % 40) }, () => {
      const len = rnd() % 33;
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      return parsePrefix4(
        `${[24, 16, 8, 0].map((s) => ((rnd() & mask) >>> s) & 255).join(".")}/${len}`,
      );
    });
    const d = new Denylist4(ps);
    const builtin = new Denylist4();
    for (let i = 0; i < 2000; i++) {
      const v = rnd();
      const expected = builtin.has(v) ||
        ps.some((p) => p.len === 0 || (v >>> (32 - p.len)) === (p.addr >>> (32 - p.len)));
      assert.equal(d.has(v), expected);
    }
  }
});
