import assert from "node:assert/strict";
import { contains4, contains6, parseIPv6, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { Rfc6791Pool4, Rfc6791Pool6 } from "../../src/addr/rfc6791.ts";

const src = (i: number) => parseIPv6(`2001:db8:ffff::${i.toString(16)}`);

Deno.test("RFC 6791 pool4: deterministic by source, inside the pool, host addresses only", () => {
  const p = parsePrefix4("192.0.2.0/24");
  const pool = new Rfc6791Pool4(p);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const a = pool.pick(src(i), 0);
    assert.ok(contains4(p, a));
    assert.notEqual(a & 255, 0, "not the subnet address");
    assert.notEqual(a & 255, 255, "not the broadcast address");
    assert.equal(pool.pick(src(i), 0), a, "same source, same address");
    seen.add(a);
  }
  assert.ok(seen.size > 200, `spread over the pool: ${seen.size} of 254`);
});

Deno.test("RFC 6791 pool4: /32 and /31 pools use every address", () => {
  const one = new Rfc6791Pool4(parsePrefix4("192.0.0.8/32"));
  assert.equal(one.pick(src(1), 0), 0xc0000008);
  const two = new Rfc6791Pool4(parsePrefix4("192.0.2.6/31"));
  const got = new Set(Array.from({ length: 100 }, (_, i) => two.pick(src(i), 0)));
  assert.deepEqual([...got].sort(), [0xc0000206, 0xc0000207]);
});

Deno.test("RFC 6791 section 4 (random choice from the pool): randomize varies per call", () => {
  const p = parsePrefix4("198.51.100.0/24");
  const pool = new Rfc6791Pool4(p, true, 42);
  const got = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const a = pool.pick(src(7), 0);
    assert.ok(contains4(p, a));
    got.add(a);
  }
  assert.ok(got.size > 100, `random picks: ${got.size} distinct`);
  const again = new Rfc6791Pool4(p, true, 42);
  assert.equal(again.pick(src(7), 0), new Rfc6791Pool4(p, true, 42).pick(src(7), 0));
});

Deno.test("pick reads the source at an offset", () => {
  const pool = new Rfc6791Pool4(parsePrefix4("10.0.0.0/8"));
  const buf = new Uint8Array(40);
  buf.set(src(5), 8);
  assert.equal(pool.pick(buf, 8), pool.pick(src(5), 0));
});

Deno.test("RFC 6791 pool6: inside the prefix, deterministic, never the subnet-router anycast", () => {
  const p = parsePrefix6("2001:db8:ffff::/64");
  const pool = new Rfc6791Pool6(p);
  const out = new Uint8Array(16), again = new Uint8Array(16);
  const seen = new Set<string>();
  for (let v4 = 0; v4 < 1000; v4++) {
    pool.pickInto(v4 * 7919, out, 0);
    assert.ok(contains6(p, out, 0));
    assert.ok(out.subarray(8).some((b) => b !== 0));
    pool.pickInto(v4 * 7919, again, 0);
    assert.deepEqual(out, again);
    seen.add(out.join());
  }
  assert.ok(seen.size > 990);
});

Deno.test("RFC 6791 pool6: /128 gives the address itself; /127 keeps the prefix bits", () => {
  const single = new Rfc6791Pool6(parsePrefix6("2001:db8::1/128"));
  const out = new Uint8Array(20).fill(9);
  single.pickInto(0x01020304, out, 2);
  assert.deepEqual(out.subarray(2, 18), parseIPv6("2001:db8::1"));
  assert.equal(out[0], 9);
  assert.equal(out[18], 9);
  const p127 = parsePrefix6("2001:db8::2/127");
  const pair = new Rfc6791Pool6(p127, true, 1);
  for (let i = 0; i < 20; i++) {
    pair.pickInto(i, out, 0);
    assert.ok(contains6(p127, out, 0));
    assert.equal(out[15], 3, "the host bit is never zero");
  }
});
