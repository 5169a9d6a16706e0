import assert from "node:assert/strict";
import { formatPrefix6, parseIPv4 } from "../../src/addr/ip.ts";
import { parseConfig } from "../../src/config/load.ts";
import { aclAllows, aclAllows4, parseAcl, parseIp } from "../../src/dns/acl.ts";
import { dnsOptionsFromConfig, nameserversFromResolvConf } from "../../src/dns/options.ts";

Deno.test("dnsOptionsFromConfig maps [dns]/[dns64], expanding resolv.conf upstreams", () => {
  const cfg = parseConfig(
    `
mode = "none"
[dns]
listen = ["127.0.0.1:5353"]
upstream = ["resolv.conf", "[2001:db8::53]:5300"]
allow = ["!127.0.0.2", "127.0.0.0/8"]
rate-limit = 50
fast-path = true
[dns64]
prefixes = ["2001:db8:64::/96", "64:ff9b::/96"]
mapped = ["!192.0.2.0/24", "any"]
exclude-domains = ["corp.example"]
break-dnssec = true
`,
    "test.toml",
  );
  const { dns, dns64 } = dnsOptionsFromConfig(
    cfg,
    "# c\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\n",
  );
  assert.deepEqual(dns.listen, [{ host: "127.0.0.1", port: 5353 }]);
  assert.deepEqual(dns.upstream, [
    { host: "192.0.2.53", port: 53 },
    { host: "fe80::1", port: 53 },
    { host: "2001:db8::53", port: 5300 },
  ]);
  assert.equal(dns.rateLimit, 50);
  assert.equal(dns.fastPath, true);
  assert.ok(!aclAllows(dns.allow, parseIp("127.0.0.2")!), "first match (the negation) wins");
  assert.ok(aclAllows(dns.allow, parseIp("127.0.0.1")!));
  assert.ok(!aclAllows(dns.allow, parseIp("::1")!), "no match: not allowed");
  assert.deepEqual(dns64.prefixes.map(formatPrefix6), ["2001:db8:64::/96", "64:ff9b::/96"]);
  assert.ok(!aclAllows4(dns64.mapped, parseIPv4("192.0.2.1")));
  assert.ok(aclAllows4(dns64.mapped, parseIPv4("198.51.100.1")));
  assert.equal(dns64.breakDnssec, true);
  assert.equal(dns64.excludeDomains.length, 1);
});

Deno.test("BIND-like ACLs: order matters, IPv4-mapped clients match IPv4 entries, none matches nothing", () => {
  const acl = parseAcl(["!10.1.0.0/16", "10.0.0.0/8", "2001:db8::/32"]);
  assert.ok(aclAllows(acl, parseIp("10.2.3.4")!));
  assert.ok(!aclAllows(acl, parseIp("10.1.3.4")!));
  assert.ok(aclAllows(acl, parseIp("::ffff:10.2.3.4")!));
  assert.ok(aclAllows(acl, parseIp("2001:db8::1")!));
  assert.ok(!aclAllows(parseAcl(["none"]), parseIp("10.2.3.4")!));
  assert.throws(() => parseAcl(["10.0.0.1/8"]), /host bits/);
  assert.deepEqual(nameserversFromResolvConf("options x\n"), []);
});
