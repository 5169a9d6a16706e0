// clat.ipv6-address = "auto": a dedicated address for the single-address CLAT (RFC 8683
// 4.8: one the host does not use), from the uplink's /64 with a stable RFC 7217-style IID.
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv6, parseIPv6 } from "../../src/addr/ip.ts";
import { autoClatAddress, type HostAddress, reservedIid } from "../../src/clat/auto_address.ts";
import { ConfigError, parseConfig } from "../../src/config/mod.ts";
import { withClatAddress } from "../../src/io/supervisor.ts";

const host: HostAddress[] = [
  { name: "lo", family: "IPv6", address: "::1", cidr: "::1/128" },
  { name: "wan0", family: "IPv6", address: "fe80::1%wan0", cidr: "fe80::1/64" },
  { name: "wan0", family: "IPv6", address: "fd00:1::5", cidr: "fd00:1::5/64" },
  { name: "wan0", family: "IPv6", address: "2001:db8:1::2", cidr: "2001:db8:1::2/64" },
  { name: "wan0", family: "IPv4", address: "192.0.2.5", cidr: "192.0.2.5/24" },
  { name: "lan0", family: "IPv6", address: "2001:db8:99::1", cidr: "2001:db8:99::1/64" },
];
const same = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);
const in64 = (a: Uint8Array, p: string) => same(a.subarray(0, 8), parseIPv6(p).subarray(0, 8));

Deno.test("auto: an address in the uplink's global /64 that is none of the host's, the same every time", () => {
  const a = autoClatAddress("wan0", host);
  assert.ok(in64(a, "2001:db8:1::"), formatIPv6(a));
  assert.ok(!host.some((h) => h.family === "IPv6" && same(parseIPv6(h.address.split("%")[0]), a)));
  assert.ok(!reservedIid(a));
  assert.ok(same(autoClatAddress("wan0", [...host].reverse()), a), "stable: order does not matter");
  assert.ok(!same(autoClatAddress("lan0", host), a), "per interface");
  assert.ok(in64(autoClatAddress("lan0", host), "2001:db8:99::"));
});

Deno.test("auto: an address the host already has moves to the next counter (RFC 7217 DAD_Counter)", () => {
  const first = autoClatAddress("wan0", host);
  const taken = [...host, { name: "wan0", family: "IPv6", address: formatIPv6(first) }];
  const second = autoClatAddress("wan0", taken);
  assert.ok(!same(first, second));
  assert.ok(same(second.subarray(0, 8), first.subarray(0, 8)), "same /64");
});

Deno.test("auto: unique local when there is no global address; no /64 -> a reason to act on", () => {
  const ula = autoClatAddress("wan0", host.filter((h) => !h.address.startsWith("2001")));
  assert.ok(in64(ula, "fd00:1::"), formatIPv6(ula));
  assert.throws(
    () =>
      autoClatAddress(
        "wan0",
        host.filter((h) => h.name !== "wan0" || h.address.startsWith("fe80")),
      ),
    /no \/64 on wan0 .*no global or unique-local IPv6 address/,
  );
  assert.throws(
    () =>
      autoClatAddress("eth9", [{
        name: "eth9",
        family: "IPv6",
        address: "2001:db8::5",
        cidr: "2001:db8::5/112",
      }]),
    /longer than \/64 \(2001:db8::5\/112\)/,
  );
});

Deno.test("RFC 5453: reserved interface identifiers are recognised (and never picked)", () => {
  assert.ok(reservedIid(parseIPv6("2001:db8::")));
  assert.ok(reservedIid(parseIPv6("2001:db8::fdff:ffff:ffff:ff80")));
  assert.ok(reservedIid(parseIPv6("2001:db8::fdff:ffff:ffff:ffff")));
  assert.ok(reservedIid(parseIPv6("2001:db8::200:5efe:1:2")));
  assert.ok(!reservedIid(parseIPv6("2001:db8::fdff:ffff:ffff:ff7f")));
  assert.ok(!reservedIid(parseIPv6("2001:db8::1")));
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.string(), (p, name) => {
    const pre = new Uint8Array(16);
    pre.set(p);
    pre[0] = 0x20 | (pre[0] & 0x1f);
    const addr = formatIPv6(pre);
    const a = autoClatAddress(name, [{ name, family: "IPv6", address: addr, cidr: `${addr}/64` }]);
    assert.ok(same(a.subarray(0, 8), pre.subarray(0, 8)));
    assert.ok(!reservedIid(a) && !same(a, pre));
  }));
});

const CLAT = `mode = "clat"\n[dns]\nlisten = []\n[clat]\nplat-prefix = "64:ff9b::/96"\n`;

Deno.test('config: clat.ipv6-address = "auto" is single-address mode; not with a translation prefix', () => {
  const c = parseConfig(`${CLAT}ipv6-address = "auto"\n`, "t");
  assert.equal(c.clat.ipv6AddressAuto, true);
  assert.equal(c.clat.ipv6Address, null);
  assert.equal(
    parseConfig(`${CLAT}ipv6-address = "2001:db8::c1a7"\n`, "t").clat.ipv6AddressAuto,
    false,
  );
  assert.throws(
    () =>
      parseConfig(`${CLAT}ipv6-address = "auto"\ntranslation-prefix = "2001:db8:c1a7::/64"\n`, "t"),
    (e) => e instanceof ConfigError && /clat\.ipv6-address/.test(e.message),
  );
});

Deno.test("withClatAddress: fills the address in; keeps the running one on reload; other configs untouched", async () => {
  const fixed = parseConfig(`${CLAT}ipv6-address = "2001:db8::c1a7"\n`, "t");
  assert.equal(await withClatAddress(fixed), fixed);
  // Loopback has no /64: the start fails with the reason.
  const lo = parseConfig(`${CLAT}ipv6-address = "auto"\n[discovery]\ninterface = "lo"\n`, "t");
  await assert.rejects(withClatAddress(lo), /no \/64 on lo/);
  const running = { ...lo, clat: { ...lo.clat, ipv6Address: parseIPv6("2001:db8:77::1234") } };
  const kept = await withClatAddress(lo, running);
  assert.equal(formatIPv6(kept.clat.ipv6Address!), "2001:db8:77::1234");
});
