import assert from "node:assert/strict";
import { formatIPv6, formatPrefix6, parseIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import {
  aaaaConfirms,
  discover7050,
  findPrefixes,
  isTrustedName,
  type Query,
  validationPtrName,
  wkaAddress,
} from "../../src/discovery/rfc7050.ts";
import { nameData, type ResourceRecord, rr, TYPE } from "../../src/dns/wire.ts";

const fmt = (ps: { len: number; addr: Uint8Array }[]) => ps.map((p) => formatPrefix6(p as never));
const A = (s: string) => parseIPv6(s);

Deno.test("RFC 7050 3: the WKA at the /96 position gives Pref64::/96", () => {
  const f = findPrefixes([A("64:ff9b::c000:aa"), A("64:ff9b::c000:ab")]);
  assert.deepEqual(fmt(f.prefixes), ["64:ff9b::/96"]);
  assert.equal(f.ambiguous.length + f.ignored.length, 0);
});

Deno.test("RFC 7050 3 / RFC 6052 2.2: every prefix length 32..96 is found, skipping the u-octet", () => {
  for (
    const text of [
      "2001:db8::/32",
      "2001:db8:1200::/40",
      "2001:db8:1234::/48",
      "2001:db8:1234:5600::/56",
      "2001:db8:1234:5678::/64",
      "2001:db8:1234:5678:9a::/96",
    ]
  ) {
    const p = parsePrefix6(text);
    const f = findPrefixes([wkaAddress(p, 0xc00000aa), wkaAddress(p, 0xc00000ab)]);
    assert.deepEqual(fmt(f.prefixes), [text]);
  }
});

Deno.test("RFC 7050 3: a WKA at two positions is settled by 192.0.0.171 at the same prefix", () => {
  // 2001:db8:c000:aa::/64 holds 192.0.0.170's bits at the /32 position too.
  const a170 = A("2001:db8:c000:aa:c0:0:aa00:0");
  const a171 = A("2001:db8:c000:aa:c0:0:ab00:0");
  const f = findPrefixes([a170, a171]);
  assert.deepEqual(fmt(f.prefixes), ["2001:db8:c000:aa::/64"]);
  const alone = findPrefixes([a170]);
  assert.deepEqual(alone.prefixes, []);
  assert.equal(alone.ambiguous.length, 1, "without the second WKA the position is unknown");
});

Deno.test("RFC 7050 3: several DNS64 prefixes are all returned", () => {
  const f = findPrefixes([
    A("64:ff9b::c000:aa"),
    A("2001:db8:64:c000:0:aa00::"), // /48: 192.0 before the u-octet, 0.170 after it
    A("64:ff9b::c000:ab"),
  ]);
  assert.deepEqual(fmt(f.prefixes), ["64:ff9b::/96", "2001:db8:64::/48"]);
});

Deno.test("RFC 7050 3: addresses without a WKA (or with a non-zero u-octet) are not used", () => {
  const f = findPrefixes([A("2001:db8::1"), A("2001:db8:1:2:ffc0:0:aa00:0")]);
  assert.deepEqual(f.prefixes, []);
  assert.equal(f.ignored.length, 2);
});

Deno.test("RFC 7050 3.1: validation names and checks", () => {
  const p = parsePrefix6("64:ff9b::/96");
  assert.equal(formatIPv6(wkaAddress(p)), "64:ff9b::c000:aa");
  assert.ok(validationPtrName(p).startsWith("a.a.0.0.0.0.0.c.0.0.0.0"));
  assert.ok(validationPtrName(p).endsWith(".b.9.f.f.4.6.0.0.ip6.arpa."));
  assert.ok(isTrustedName("nat64.example.net.", ["example.net."]));
  assert.ok(!isTrustedName("nat64.example.net.evil.", ["example.net."]));
  assert.ok(!isTrustedName("badexample.net.", ["example.net"]));
  assert.ok(aaaaConfirms(p, [A("2001:db8::1"), A("64:ff9b::c000:aa")]));
  assert.ok(!aaaaConfirms(p, [A("64:ff9b::c000:ab")]));
});

function zone(records: ResourceRecord[]): Query & { asked: string[] } {
  const asked: string[] = [];
  const q = (name: string, type: number) => {
    asked.push(`${name} ${type}`);
    return Promise.resolve(records.filter((r) => r.name === name && r.type === type));
  };
  return Object.assign(q, { asked });
}
const aaaa = (name: string, a: string, ttl: number) => rr(name, TYPE.AAAA, ttl, A(a));

Deno.test("RFC 7050 3: discover7050 returns the prefixes and re-discovers after the smallest TTL", async () => {
  const q = zone([
    aaaa("ipv4only.arpa.", "64:ff9b::c000:aa", 600),
    aaaa("ipv4only.arpa.", "64:ff9b::c000:ab", 300),
  ]);
  const d = await discover7050(q);
  assert.deepEqual(fmt(d.prefixes), ["64:ff9b::/96"]);
  assert.equal(d.ttlS, 300);
  assert.deepEqual(q.asked, ["ipv4only.arpa. 28"]);
  const none = await discover7050(zone([]), { retryS: 42 });
  assert.deepEqual(none.prefixes, []);
  assert.equal(none.ttlS, 42);
  const zero = await discover7050(zone([aaaa("ipv4only.arpa.", "64:ff9b::c000:aa", 0)]));
  assert.equal(zero.ttlS, 10, "a floor keeps TTL 0 from spinning");
});

Deno.test("RFC 7050 3.1: with trusted domains, a prefix needs PTR -> trusted FQDN -> AAAA back to Pref64::WKA", async () => {
  const good = parsePrefix6("64:ff9b::/96");
  const bad = parsePrefix6("2001:db8:bad::/96");
  const q = zone([
    aaaa("ipv4only.arpa.", "64:ff9b::c000:aa", 600),
    aaaa("ipv4only.arpa.", "2001:db8:bad::c000:aa", 600),
    rr(validationPtrName(good), TYPE.PTR, 600, nameData("nat64.example.net.")),
    aaaa("nat64.example.net.", "64:ff9b::c000:aa", 600),
    rr(validationPtrName(bad), TYPE.PTR, 600, nameData("nat64.attacker.test.")),
    aaaa("nat64.attacker.test.", "2001:db8:bad::c000:aa", 600),
  ]);
  const d = await discover7050(q, { trustedDomains: ["example.net."] });
  assert.deepEqual(fmt(d.prefixes), ["64:ff9b::/96"]);
  assert.deepEqual(fmt(d.rejected.map((r) => r.prefix)), ["2001:db8:bad::/96"]);
  assert.ok(!q.asked.includes("nat64.attacker.test. 28"), "untrusted names are not even queried");
});
