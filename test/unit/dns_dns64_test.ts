// RFC 6147 (DNS64) and RFC 8880 conformance of the sans-I/O core, against a fake upstream.
import assert from "node:assert/strict";
import { formatIPv6, parseIPv4, parseIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import { parseAcl } from "../../src/dns/acl.ts";
import { Dns64, type Lookup } from "../../src/dns/dns64.ts";
import { localAnswer } from "../../src/dns/localzone.ts";
import { DNS64_DEFAULTS, type Dns64Options } from "../../src/dns/options.ts";
import { ip6ArpaName } from "../../src/dns/reverse.ts";
import {
  aData,
  FLAG,
  type Message,
  nameToWire,
  RCODE,
  readName,
  type ResourceRecord,
  rr,
  soaData,
  TYPE,
} from "../../src/dns/wire.ts";

const soa = (ttl: number, minimum: number): ResourceRecord =>
  rr(
    "example.",
    TYPE.SOA,
    ttl,
    soaData({
      mname: "ns.example.",
      rname: "h.example.",
      serial: 1,
      refresh: 1,
      retry: 1,
      expire: 1,
      minimum,
    }),
  );

const resp = (
  rcode: number,
  answer: ResourceRecord[] = [],
  authority: ResourceRecord[] = [],
  flags = 0,
): Message => ({
  id: 0,
  flags: FLAG.QR | FLAG.RA | flags | rcode,
  question: [],
  answer,
  authority,
  additional: [],
});
const A = (name: string, ip: string, ttl = 300) => rr(name, TYPE.A, ttl, aData(parseIPv4(ip)));
const AAAA = (name: string, ip: string, ttl = 300) => rr(name, TYPE.AAAA, ttl, parseIPv6(ip));
const CNAME = (name: string, target: string, ttl = 300) =>
  rr(name, TYPE.CNAME, ttl, nameToWire(target));

/** Fake upstream: "name/TYPE" -> response; missing -> null (timeout). Records calls. */
function upstream(table: Record<string, Message | null>) {
  const calls: string[] = [];
  const lookup: Lookup = (name, type) => {
    const k = `${name.toLowerCase()}/${
      type === TYPE.A ? "A" : type === TYPE.AAAA ? "AAAA" : type === TYPE.PTR ? "PTR" : type
    }`;
    calls.push(k);
    return Promise.resolve(table[k] ?? null);
  };
  return { lookup, calls };
}

const opts = (over: Partial<Dns64Options> = {}): Dns64Options => ({ ...DNS64_DEFAULTS, ...over });
const plain = { dnssecOk: false, checkingDisabled: false };
const addrs = (rrs: ResourceRecord[]) =>
  rrs.filter((r) => r.type === TYPE.AAAA).map((r) => formatIPv6(r.data));

Deno.test("RFC 6147 5.1.1/5.1.6: empty AAAA answer -> AAAA synthesized from A under 64:ff9b::/96", async () => {
  const up = upstream({
    "v4only.example./AAAA": resp(RCODE.NOERROR, [], [soa(3600, 3600)]),
    "v4only.example./A": resp(RCODE.NOERROR, [A("v4only.example.", "192.0.2.1")]),
  });
  const ans = await new Dns64(opts(), up.lookup).aaaa("v4only.example.", plain);
  assert.equal(ans.rcode, RCODE.NOERROR);
  assert.ok(ans.synthesized);
  assert.deepEqual(addrs(ans.answer), ["64:ff9b::c000:201"]);
  assert.deepEqual(up.calls, ["v4only.example./AAAA", "v4only.example./A"]);
});

Deno.test("RFC 6147 5.1.1: a real AAAA answer is returned and no A query is sent", async () => {
  const up = upstream({
    "dual.example./AAAA": resp(RCODE.NOERROR, [AAAA("dual.example.", "2001:db8::1")]),
    "dual.example./A": resp(RCODE.NOERROR, [A("dual.example.", "192.0.2.1")]),
  });
  const ans = await new Dns64(opts(), up.lookup).aaaa("dual.example.", plain);
  assert.ok(!ans.synthesized);
  assert.deepEqual(addrs(ans.answer), ["2001:db8::1"]);
  assert.deepEqual(up.calls, ["dual.example./AAAA"]);
});

Deno.test("RFC 6052 2.2 via RFC 6147 5.2: synthesis works for every prefix length and several prefixes", async () => {
  const prefixes = [
    "2001:db8::/32",
    "2001:db8:100::/40",
    "2001:db8:122::/48",
    "2001:db8:122:300::/56",
    "2001:db8:122:344::/64",
    "2001:db8:122:344::/96",
  ]
    .map(parsePrefix6);
  const up = upstream({
    "h./AAAA": resp(RCODE.NOERROR),
    "h./A": resp(RCODE.NOERROR, [A("h.", "192.0.2.33")]),
  });
  const ans = await new Dns64(opts({ prefixes }), up.lookup).aaaa("h.", plain);
  // RFC 6052 2.4 table, example 192.0.2.33.
  assert.deepEqual(addrs(ans.answer), [
    "2001:db8:c000:221::",
    "2001:db8:1c0:2:21::",
    "2001:db8:122:c000:2:2100::",
    "2001:db8:122:3c0:0:221::",
    "2001:db8:122:344:c0:2:2100:0",
    "2001:db8:122:344::c000:221",
  ]);
});

Deno.test("RFC 6147 5.1.4: AAAA in the excluded range ::ffff:0:0/96 counts as absent -> synthesis", async () => {
  const up = upstream({
    "m.example./AAAA": resp(RCODE.NOERROR, [AAAA("m.example.", "::ffff:192.0.2.9")]),
    "m.example./A": resp(RCODE.NOERROR, [A("m.example.", "192.0.2.9")]),
  });
  const ans = await new Dns64(opts(), up.lookup).aaaa("m.example.", plain);
  assert.ok(ans.synthesized);
  assert.deepEqual(addrs(ans.answer), ["64:ff9b::c000:209"]);
});

Deno.test("RFC 6147 5.1.4: excluded AAAA are dropped, non-excluded ones returned without synthesis", async () => {
  const up = upstream({
    "mix./AAAA": resp(RCODE.NOERROR, [AAAA("mix.", "::ffff:1.2.3.4"), AAAA("mix.", "2001:db8::7")]),
  });
  const ans = await new Dns64(opts(), up.lookup).aaaa("mix.", plain);
  assert.deepEqual(addrs(ans.answer), ["2001:db8::7"]);
  assert.ok(!ans.synthesized);
});

Deno.test("RFC 6147 5.1.2: NXDOMAIN for the AAAA query is returned, not synthesized", async () => {
  const up = upstream({
    "nx.example./AAAA": resp(RCODE.NXDOMAIN, [], [soa(60, 60)]),
    "nx.example./A": resp(RCODE.NOERROR, [A("nx.example.", "192.0.2.1")]),
  });
  const ans = await new Dns64(opts(), up.lookup).aaaa("nx.example.", plain);
  assert.equal(ans.rcode, RCODE.NXDOMAIN);
  assert.ok(!ans.synthesized);
  assert.deepEqual(up.calls, ["nx.example./AAAA"]);
});

Deno.test("RFC 6147 5.1.2: other RCODEs (SERVFAIL, REFUSED...) are treated as an empty answer", async () => {
  for (const rc of [RCODE.SERVFAIL, RCODE.FORMERR, RCODE.NOTIMP, RCODE.REFUSED]) {
    const up = upstream({
      "e./AAAA": resp(rc),
      "e./A": resp(RCODE.NOERROR, [A("e.", "198.51.100.1")]),
    });
    const ans = await new Dns64(opts(), up.lookup).aaaa("e.", plain);
    assert.equal(ans.rcode, RCODE.NOERROR, `rcode ${rc}`);
    assert.deepEqual(addrs(ans.answer), ["64:ff9b::c633:6401"]);
  }
});

Deno.test("RFC 6147 5.1.3: an AAAA timeout counts as RCODE 2, so synthesis is still attempted", async () => {
  const up = upstream({ "t./A": resp(RCODE.NOERROR, [A("t.", "203.0.113.5")]) });
  const ans = await new Dns64(opts(), up.lookup).aaaa("t.", plain);
  assert.deepEqual(addrs(ans.answer), ["64:ff9b::cb00:7105"]);
});

Deno.test("RFC 6147 5.1.2: failed AAAA and no usable A -> the original error is returned", async () => {
  const up = upstream({ "f./AAAA": resp(RCODE.SERVFAIL), "f./A": resp(RCODE.NOERROR) });
  const ans = await new Dns64(opts(), up.lookup).aaaa("f.", plain);
  assert.equal(ans.rcode, RCODE.SERVFAIL);
  const none = upstream({});
  assert.equal((await new Dns64(opts(), none.lookup).aaaa("f.", plain)).rcode, RCODE.SERVFAIL);
});

Deno.test("RFC 6147 5.1.6: CNAME chain kept in front, synthesis for the final target only", async () => {
  const up = upstream({
    "alias.example./AAAA": resp(RCODE.NOERROR, [
      CNAME("alias.example.", "mid.example."),
      CNAME("mid.example.", "end.example."),
    ], [soa(900, 900)]),
    "alias.example./A": resp(RCODE.NOERROR, [
      CNAME("alias.example.", "mid.example."),
      CNAME("mid.example.", "end.example."),
      A("end.example.", "192.0.2.10"),
    ]),
  });
  const ans = await new Dns64(opts(), up.lookup).aaaa("alias.example.", plain);
  assert.deepEqual(ans.answer.map((r) => [r.name, r.type]), [
    ["alias.example.", TYPE.CNAME],
    ["mid.example.", TYPE.CNAME],
    ["end.example.", TYPE.AAAA],
  ]);
  assert.equal(formatIPv6(ans.answer[2].data), "64:ff9b::c000:20a");
});

Deno.test("RFC 6147 5.1.7: TTL is min(A TTL, SOA negative TTL of the AAAA answer); 600 without SOA", async () => {
  const cases: [number, ResourceRecord[], number][] = [
    [3600, [soa(7200, 120)], 120], // SOA MINIMUM smallest
    [3600, [soa(90, 7200)], 90], // RFC 2308: SOA TTL caps MINIMUM
    [30, [soa(7200, 7200)], 30], // A TTL smallest
    [86400, [], 600], // no SOA
  ];
  for (const [aTtl, auth, want] of cases) {
    const up = upstream({
      "ttl./AAAA": resp(RCODE.NOERROR, [], auth),
      "ttl./A": resp(RCODE.NOERROR, [A("ttl.", "192.0.2.1", aTtl)]),
    });
    const ans = await new Dns64(opts(), up.lookup).aaaa("ttl.", plain);
    assert.equal(ans.answer[0].ttl, want, `A ttl ${aTtl}`);
  }
});

Deno.test("RFC 6147 5.1.5: A records in mapped-out ranges (BIND-like '!' list) are not synthesized", async () => {
  const up = upstream({
    "priv./AAAA": resp(RCODE.NOERROR, [], [soa(60, 60)]),
    "priv./A": resp(RCODE.NOERROR, [
      A("priv.", "10.1.2.3"),
      A("priv.", "192.168.1.1"),
      A("priv.", "192.0.2.1"),
    ]),
    "onlypriv./AAAA": resp(RCODE.NOERROR, [], [soa(60, 60)]),
    "onlypriv./A": resp(RCODE.NOERROR, [A("onlypriv.", "172.16.0.1")]),
  });
  const d = new Dns64(opts(), up.lookup);
  assert.deepEqual(addrs((await d.aaaa("priv.", plain)).answer), ["64:ff9b::c000:201"]);
  // All mapped out: the (empty) AAAA answer stands, RFC 6147 5.1.5 "as if no A".
  const none = await d.aaaa("onlypriv.", plain);
  assert.equal(none.rcode, RCODE.NOERROR);
  assert.deepEqual(none.answer, []);
  assert.equal(none.authority[0].type, TYPE.SOA);
  // A custom list: only 192.0.2.0/25, nothing else.
  const narrow = new Dns64(opts({ mapped: parseAcl(["192.0.2.0/25"]) }), up.lookup);
  assert.deepEqual(addrs((await narrow.aaaa("priv.", plain)).answer), ["64:ff9b::c000:201"]);
  const deny = new Dns64(opts({ mapped: parseAcl(["!192.0.2.0/24", "any"]) }), up.lookup);
  assert.deepEqual(addrs((await deny.aaaa("priv.", plain)).answer), [
    "64:ff9b::a01:203",
    "64:ff9b::c0a8:101",
  ]);
});

Deno.test("RFC 6147 5.5: DO=1 and CD=1 -> no synthesis (client validates); break-dnssec overrides", async () => {
  const up = upstream({
    "s./AAAA": resp(RCODE.NOERROR, [], [soa(60, 60)]),
    "s./A": resp(RCODE.NOERROR, [A("s.", "192.0.2.1")]),
  });
  const docd = { dnssecOk: true, checkingDisabled: true };
  const strict = await new Dns64(opts(), up.lookup).aaaa("s.", docd);
  assert.ok(!strict.synthesized);
  assert.deepEqual(strict.answer, []);
  const broken = await new Dns64(opts({ breakDnssec: true }), up.lookup).aaaa("s.", docd);
  assert.ok(broken.synthesized);
  // DO alone or CD alone still synthesizes.
  for (
    const f of [{ dnssecOk: true, checkingDisabled: false }, {
      dnssecOk: false,
      checkingDisabled: true,
    }]
  ) {
    assert.ok((await new Dns64(opts(), up.lookup).aaaa("s.", f)).synthesized);
  }
});

Deno.test("RFC 6147 5.5: synthesized answers never carry AD and drop RRSIGs over A", async () => {
  const sig = rr("s.", TYPE.RRSIG, 60, Uint8Array.of(0, TYPE.A, 8, 1, ...new Uint8Array(20)));
  const up = upstream({
    "s./AAAA": resp(RCODE.NOERROR, [], [soa(60, 60)], FLAG.AD),
    "s./A": resp(RCODE.NOERROR, [A("s.", "192.0.2.1"), sig], [], FLAG.AD),
  });
  const ans = await new Dns64(opts(), up.lookup).aaaa("s.", {
    dnssecOk: true,
    checkingDisabled: false,
  });
  assert.equal(ans.ad, false);
  assert.ok(!ans.answer.some((r) => r.type === TYPE.RRSIG));
});

Deno.test("validator seam: a bogus A answer gives SERVFAIL instead of synthesis", async () => {
  const up = upstream({
    "b./AAAA": resp(RCODE.NOERROR),
    "b./A": resp(RCODE.NOERROR, [A("b.", "192.0.2.1")]),
  });
  const v = { validate: () => Promise.resolve("bogus" as const) };
  assert.equal((await new Dns64(opts(), up.lookup, v).aaaa("b.", plain)).rcode, RCODE.SERVFAIL);
});

Deno.test("RFC 6147 5.3.1: PTR for an address under the prefix -> CNAME to in-addr.arpa plus its answer", async () => {
  const v6 = parseIPv6("64:ff9b::c000:221");
  const name = ip6ArpaName(v6);
  const up = upstream({
    "33.2.0.192.in-addr.arpa./PTR": resp(RCODE.NOERROR, [
      rr("33.2.0.192.in-addr.arpa.", TYPE.PTR, 500, nameToWire("host.example.")),
    ]),
  });
  const ans = (await new Dns64(opts(), up.lookup).ptr(name, plain))!;
  assert.equal(ans.answer[0].type, TYPE.CNAME);
  assert.equal(ans.answer[0].name, name);
  assert.equal(readName(ans.answer[0].data, 0)[0], "33.2.0.192.in-addr.arpa.");
  assert.equal(ans.answer[0].ttl, 500);
  assert.equal(readName(ans.answer[1].data, 0)[0], "host.example.");
  // Outside the prefix: not ours, the caller forwards it.
  assert.equal(
    await new Dns64(opts(), up.lookup).ptr(ip6ArpaName(parseIPv6("2001:db8::1")), plain),
    null,
  );
});

Deno.test("RFC 8880 7.2: ipv4only.arpa answered locally with 192.0.0.170/171 and synthesized AAAA", () => {
  const prefixes = [parsePrefix6("64:ff9b::/96"), parsePrefix6("2001:db8:64::/48")];
  const a = localAnswer("IPv4only.arpa.", TYPE.A, 1, prefixes)!;
  assert.deepEqual(a.answer.map((r) => [...r.data].join(".")), ["192.0.0.170", "192.0.0.171"]);
  const aaaa = localAnswer("ipv4only.arpa.", TYPE.AAAA, 1, prefixes)!;
  assert.deepEqual(addrs(aaaa.answer), [
    "64:ff9b::c000:aa",
    "64:ff9b::c000:ab",
    "2001:db8:64:c000:0:aa00::",
    "2001:db8:64:c000:0:ab00::",
  ]);
  const mx = localAnswer("ipv4only.arpa.", TYPE.MX, 1, prefixes)!;
  assert.equal(mx.rcode, RCODE.NOERROR);
  assert.equal(mx.authority[0].type, TYPE.SOA);
  assert.equal(localAnswer("x.ipv4only.arpa.", TYPE.A, 1, prefixes)!.rcode, RCODE.NXDOMAIN);
  const ptr = localAnswer("170.0.0.192.in-addr.arpa.", TYPE.PTR, 1, prefixes)!;
  assert.equal(readName(ptr.answer[0].data, 0)[0], "ipv4only.arpa.");
  assert.equal(localAnswer("example.com.", TYPE.A, 1, prefixes), null);
  assert.equal(
    localAnswer("ipv4only.arpa.", TYPE.A, 1, []),
    null,
    "DNS64 off: not answered locally",
  );
});

Deno.test("exclude-domains: names at or below an excluded domain are never synthesized", () => {
  const d = new Dns64(opts({ excludeDomains: ["corp.example."] }), upstream({}).lookup);
  assert.ok(d.excludedName("www.CORP.example."));
  assert.ok(d.excludedName("corp.example."));
  assert.ok(!d.excludedName("notcorp.example."));
});
