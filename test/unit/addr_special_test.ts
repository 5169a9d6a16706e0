import assert from "node:assert/strict";
import { parseIPv4, parsePrefix6 } from "../../src/addr/ip.ts";
import { isGlobal4, isWkp, NON_GLOBAL_BLOCKS } from "../../src/addr/special.ts";

// IANA IPv4 Special-Purpose Address Registry, rows with "Globally Reachable" False:
// first and last address of each block are non-global; the addresses just outside are
// global unless another block or the end of the address space is there.
const BLOCKS: [string, string, string | null, string | null][] = [
  ["0.0.0.0/8", "0.255.255.255", null, "1.0.0.0"],
  ["10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0"],
  ["100.64.0.0", "100.127.255.255", "100.63.255.255", "100.128.0.0"],
  ["127.0.0.0", "127.255.255.255", "126.255.255.255", "128.0.0.0"],
  ["169.254.0.0", "169.254.255.255", "169.253.255.255", "169.255.0.0"],
  ["172.16.0.0", "172.31.255.255", "172.15.255.255", "172.32.0.0"],
  ["192.0.0.0", "192.0.0.255", "191.255.255.255", "192.0.1.0"],
  ["192.0.2.0", "192.0.2.255", "192.0.1.255", "192.0.3.0"],
  ["192.168.0.0", "192.168.255.255", "192.167.255.255", "192.169.0.0"],
  ["198.18.0.0", "198.19.255.255", "198.17.255.255", "198.20.0.0"],
  ["198.51.100.0", "198.51.100.255", "198.51.99.255", "198.51.101.0"],
  ["203.0.113.0", "203.0.113.255", "203.0.112.255", "203.0.114.0"],
  ["240.0.0.0", "255.255.255.255", "239.255.255.255", null],
];

for (const [first, last, before, after] of BLOCKS) {
  const name = first.replace(/\/.*/, "");
  Deno.test(`IANA registry: ${name}..${last} is not globally reachable`, () => {
    assert.equal(isGlobal4(parseIPv4(name)), false);
    assert.equal(isGlobal4(parseIPv4(last)), false);
    if (before) assert.equal(isGlobal4(parseIPv4(before)), true, before);
    if (after) assert.equal(isGlobal4(parseIPv4(after)), true, after);
  });
}

Deno.test("IANA registry: 192.0.0.9/32 and 192.0.0.10/32 are the global exceptions in 192.0.0.0/24", () => {
  assert.equal(isGlobal4(parseIPv4("192.0.0.9")), true); // Port Control Protocol Anycast
  assert.equal(isGlobal4(parseIPv4("192.0.0.10")), true); // TURN Anycast
  for (const a of ["192.0.0.8", "192.0.0.11", "192.0.0.170", "192.0.0.171", "192.0.0.1"]) {
    assert.equal(isGlobal4(parseIPv4(a)), false, a);
  }
});

Deno.test("IANA registry: blocks marked globally reachable are global", () => {
  for (const a of ["192.31.196.1", "192.52.193.1", "192.175.48.1", "8.8.8.8", "1.1.1.1"]) {
    assert.equal(isGlobal4(parseIPv4(a)), true, a);
  }
});

Deno.test("isGlobal4 agrees with the NON_GLOBAL_BLOCKS table on random addresses", () => {
  const blocks = NON_GLOBAL_BLOCKS.map(([a, len]) => [parseIPv4(a), len] as const);
  const reference = (v: number) =>
    v === parseIPv4("192.0.0.9") || v === parseIPv4("192.0.0.10") ||
    !blocks.some(([a, len]) => len === 0 || (v >>> (32 - len)) === (a >>> (32 - len)));
  let x = 12345;
  for (let i = 0; i < 200_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const v = (x ^ (x << 7)) >>> 0;
    assert.equal(isGlobal4(v), reference(v), `${v}`);
  }
  for (const [a, len] of blocks) {
    for (let k = 0; k < 64; k++) {
      const v = (a + Math.floor((2 ** (32 - len) - 1) * k / 63)) >>> 0;
      assert.equal(isGlobal4(v), reference(v));
    }
  }
});

Deno.test("isWkp: only 64:ff9b::/96 is the Well-Known Prefix (RFC 6052 2.1)", () => {
  assert.equal(isWkp(parsePrefix6("64:ff9b::/96")), true);
  assert.equal(isWkp(parsePrefix6("64:ff9b::/64")), false);
  assert.equal(isWkp(parsePrefix6("64:ff9b:1::/96")), false);
  assert.equal(isWkp(parsePrefix6("64:ff9b:1::/48")), false); // RFC 8215 local-use
  assert.equal(isWkp(parsePrefix6("2001:db8::/96")), false);
});
