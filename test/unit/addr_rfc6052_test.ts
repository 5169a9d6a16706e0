import assert from "node:assert/strict";
import { formatIPv6, parseIPv4, parseIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import { assertPool6, embed4, extract4, isValidPrefixLength } from "../../src/addr/rfc6052.ts";

// RFC 6052 2.4, Table 1 ("Text Representation of IPv4-Embedded IPv6 Addresses Using
// Network-Specific Prefixes") and Table 2 (Well-Known Prefix), verbatim.
const TABLE_1: [string, string, string][] = [
  ["2001:db8::/32", "192.0.2.33", "2001:db8:c000:221::"],
  ["2001:db8:100::/40", "192.0.2.33", "2001:db8:1c0:2:21::"],
  ["2001:db8:122::/48", "192.0.2.33", "2001:db8:122:c000:2:2100::"],
  ["2001:db8:122:300::/56", "192.0.2.33", "2001:db8:122:3c0:0:221::"],
  ["2001:db8:122:344::/64", "192.0.2.33", "2001:db8:122:344:c0:2:2100:0"],
  ["2001:db8:122:344::/96", "192.0.2.33", "2001:db8:122:344::192.0.2.33"],
];
const TABLE_2: [string, string, string][] = [
  ["64:ff9b::/96", "192.0.2.33", "64:ff9b::192.0.2.33"],
];

for (const [prefix, v4, v6] of [...TABLE_1, ...TABLE_2]) {
  Deno.test(`RFC 6052 2.4 table: ${v4} under ${prefix} is ${v6}`, () => {
    const p = parsePrefix6(prefix);
    assertPool6(p);
    const out = new Uint8Array(20);
    out.fill(0xee);
    embed4(p, parseIPv4(v4), out, 2);
    assert.deepEqual(out.subarray(2, 18), parseIPv6(v6));
    assert.equal(out[0], 0xee, "must not write before off");
    assert.equal(out[18], 0xee, "must not write past off+16");
    assert.equal(formatIPv6(out, 2), formatIPv6(parseIPv6(v6)));
    assert.equal(extract4(p, parseIPv6(v6), 0), parseIPv4(v4));
  });
}

Deno.test("RFC 6052 2.2: prefix length MUST be one of 32, 40, 48, 56, 64, or 96", () => {
  for (let len = 0; len <= 128; len++) {
    const ok = [32, 40, 48, 56, 64, 96].includes(len);
    assert.equal(isValidPrefixLength(len), ok, `len ${len}`);
    const p = parsePrefix6(`::/${len}`);
    if (ok) assertPool6(p);
    else assert.throws(() => assertPool6(p), /prefix lengths 32, 40, 48, 56, 64 or 96/);
  }
});

Deno.test("RFC 6052 2.2: bits 64 to 71 MUST be set to zero (pool6 /96 with u-octet)", () => {
  assert.throws(() => assertPool6(parsePrefix6("2001:db8:0:0:100::/96")), /u-octet/);
  assertPool6(parsePrefix6("2001:db8:0:0:ff::/96"));
});

Deno.test("RFC 6052 2.2: an address with a non-zero u-octet is not extracted", () => {
  for (const [prefix, , v6] of TABLE_1) {
    const p = parsePrefix6(prefix);
    const b = parseIPv6(v6);
    b[8] = 1;
    assert.equal(extract4(p, b, 0), -1, prefix);
  }
});

Deno.test("RFC 6052 2.2: suffix bits are ignored when extracting", () => {
  const p = parsePrefix6("2001:db8:122::/48");
  const b = parseIPv6("2001:db8:122:c000:2:2100:dead:beef");
  assert.equal(extract4(p, b, 0), parseIPv4("192.0.2.33"));
});

Deno.test("extract4 returns -1 for an address outside the prefix", () => {
  const p = parsePrefix6("64:ff9b::/96");
  assert.equal(extract4(p, parseIPv6("64:ff9c::192.0.2.33"), 0), -1);
  assert.equal(extract4(p, parseIPv6("64:ff9b::1:192.0.2.33"), 0), -1);
  assert.equal(extract4(parsePrefix6("2001:db8::/32"), parseIPv6("2001:db9::"), 0), -1);
});

Deno.test("extract4 reads at an offset", () => {
  const p = parsePrefix6("2001:db8:122:300::/56");
  const b = new Uint8Array(40);
  b.set(parseIPv6("2001:db8:122:3c0:0:221::"), 24);
  assert.equal(extract4(p, b, 24), parseIPv4("192.0.2.33"));
  assert.equal(extract4(p, b, 0), -1);
});
