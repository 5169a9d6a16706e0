// RFC 8683 3.1.2 "DNS load optimization: A CLAT should implement a DNS proxy ... so that
// only IPv6-native queries and AAAA records are sent to the DNS64 server. Otherwise,
// doubling the number of queries may impact the DNS infrastructure." ([dns]
// aaaa-only-upstream: A queries are answered from the DNS64's synthesized AAAA.)
import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePrefix6, type Prefix6 } from "../../src/addr/ip.ts";
import { embed4 } from "../../src/addr/rfc6052.ts";
import { aFromSynthesized } from "../../src/dns/aaaa_only.ts";
import { parseAcl, parseIp } from "../../src/dns/acl.ts";
import { MessageCache, ResponseCache } from "../../src/dns/cache.ts";
import { Dns64, type Lookup } from "../../src/dns/dns64.ts";
import { QueryHandler } from "../../src/dns/handler.ts";
import { DnsMetrics } from "../../src/dns/metrics.ts";
import { DNS64_DEFAULTS, DNS_DEFAULTS, dnsOptionsFromConfig } from "../../src/dns/options.ts";
import { CachingResolver } from "../../src/dns/resolver.ts";
import {
  aData,
  decodeMessage,
  EDNS_DO,
  encodeMessage,
  FLAG,
  type Message,
  nameData,
  optRecord,
  RCODE,
  rr,
  TYPE,
} from "../../src/dns/wire.ts";
import { ConfigError, parseConfig } from "../../src/config/mod.ts";

const WKP = parsePrefix6("64:ff9b::/96");
const NSP = parsePrefix6("2001:db8:64::/48");

const synth = (p: Prefix6, v4: number) => {
  const a = new Uint8Array(16);
  embed4(p, v4, a, 0);
  return a;
};
const msg = (answer: Message["answer"], rcode = 0): Message => ({
  id: 0,
  flags: FLAG.QR | FLAG.RA | rcode,
  question: [],
  answer,
  authority: [],
  additional: [],
});
const v4Of = (d: Uint8Array) => ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;

Deno.test("RFC 8683 3.1.2: A records come out of synthesized AAAA under the PLAT prefix (any RFC 6052 length)", () => {
  fc.assert(fc.property(
    fc.constantFrom(32, 40, 48, 56, 64, 96),
    fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 0, max: 86400 }),
    (len, v4s, ttl) => {
      const p = parsePrefix6(len === 96 ? "64:ff9b::/96" : `2001:db8::/${len}`);
      const uniq = [...new Set(v4s)];
      const a = aFromSynthesized(
        msg(uniq.map((v) => rr("x.example.", TYPE.AAAA, ttl, synth(p, v)))),
        [p, NSP],
      );
      assert.ok(a);
      assert.deepEqual(a.answer.map((r) => v4Of(r.data)), uniq);
      assert.ok(a.answer.every((r) => r.type === TYPE.A && r.ttl === ttl && r.data.length === 4));
      assert.equal(a.ad, false);
    },
  ));
});

Deno.test("RFC 6147 5.1.6: the CNAME chain stays in front; RRSIGs over AAAA are dropped", () => {
  const cname = rr("www.example.", TYPE.CNAME, 300, nameData("x.example."));
  const sig = rr("x.example.", TYPE.RRSIG, 300, Uint8Array.of(0, TYPE.AAAA, 8, 2));
  const a = aFromSynthesized(
    msg([cname, rr("x.example.", TYPE.AAAA, 60, synth(WKP, 0xc0000221)), sig]),
    [WKP],
  );
  assert.ok(a);
  assert.deepEqual(a.answer.map((r) => r.type), [TYPE.CNAME, TYPE.A]);
  assert.equal(a.answer[1].name, "x.example.");
  assert.equal(v4Of(a.answer[1].data), 0xc0000221);
});

Deno.test("no synthesized AAAA -> null (a real A query follows): real AAAA, NODATA, SERVFAIL, no PLAT prefix", () => {
  const real = rr("x.", TYPE.AAAA, 60, parsePrefix6("2001:db8::1/128").addr);
  const syn = rr("x.", TYPE.AAAA, 60, synth(WKP, 0x01020304));
  // RFC 6147 5.1.1: a real AAAA is returned as is, so it says nothing about A.
  assert.equal(aFromSynthesized(msg([real]), [WKP]), null);
  assert.equal(aFromSynthesized(msg([syn, real]), [WKP]), null);
  // RFC 6147 5.1.5: the DNS64 may have mapped the A out; the A query must tell.
  assert.equal(aFromSynthesized(msg([]), [WKP]), null);
  assert.equal(aFromSynthesized(msg([syn], RCODE.SERVFAIL), [WKP]), null);
  assert.equal(aFromSynthesized(msg([syn]), [NSP]), null);
  assert.equal(aFromSynthesized(msg([syn]), []), null);
  // RFC 6052 2.2: bits 64-71 must be zero; otherwise it is no embedded address.
  const bad = synth(NSP, 0x01020304);
  bad[8] = 1;
  assert.equal(aFromSynthesized(msg([rr("x.", TYPE.AAAA, 60, bad)]), [NSP]), null);
});

Deno.test("RFC 6147 5.1.2: NXDOMAIN for AAAA is NXDOMAIN for A too (no second query)", () => {
  const a = aFromSynthesized(msg([], RCODE.NXDOMAIN), [WKP]);
  assert.ok(a);
  assert.equal(a.rcode, RCODE.NXDOMAIN);
  assert.deepEqual(a.answer, []);
});

Deno.test("aFromSynthesized survives random AAAA answers (never throws, A only from the prefix)", () => {
  fc.assert(fc.property(
    fc.array(
      fc.record({
        type: fc.constantFrom(TYPE.AAAA, TYPE.CNAME, TYPE.RRSIG, TYPE.A),
        data: fc.uint8Array({ minLength: 0, maxLength: 20 }),
      }),
      { maxLength: 6 },
    ),
    fc.constantFrom(0, 2, 3, 5),
    (rrs, rcode) => {
      const a = aFromSynthesized(msg(rrs.map((r) => rr("r.", r.type, 1, r.data)), rcode), [WKP]);
      if (a === null || a.rcode !== 0) return;
      for (const r of a.answer.filter((r) => r.type === TYPE.A)) assert.equal(r.data.length, 4);
    },
  ));
});

// The handler against a scripted upstream DNS64: which queries go upstream.
function setup(plat: readonly Prefix6[], upstream: (name: string, type: number) => Message | null) {
  const metrics = new DnsMetrics();
  const calls: string[] = [];
  const up = {
    query(q: { name: string; type: number }) {
      calls.push(`${q.name}/${TYPE.A === q.type ? "A" : q.type === TYPE.AAAA ? "AAAA" : q.type}`);
      return Promise.resolve(upstream(q.name, q.type));
    },
  };
  const lookup: Lookup = new CachingResolver(
    up,
    new MessageCache(100, 1 << 20, 86400),
    metrics,
    () => 0,
  ).lookup;
  const h = new QueryHandler({
    dns: { ...DNS_DEFAULTS, allow: parseAcl(["any"]), aaaaOnlyUpstream: true },
    dns64: new Dns64({ ...DNS64_DEFAULTS, prefixes: [] }, lookup),
    lookup,
    metrics,
    responses: new ResponseCache(100, 1 << 20),
    now: () => 0,
    platPrefixes: () => plat,
  });
  return { h, calls, metrics };
}
const client = parseIp("192.168.1.10");
const q = (name: string, type: number, dnssecOk = false) =>
  encodeMessage({
    id: 9,
    flags: FLAG.RD,
    question: [{ name, type, class: 1 }],
    answer: [],
    authority: [],
    additional: dnssecOk
      ? [optRecord({
        udpSize: 1232,
        extRcode: 0,
        version: 0,
        flags: EDNS_DO,
        options: new Uint8Array(0),
      })]
      : [],
  });
const answers = (b: Uint8Array | null) => {
  assert.ok(b);
  const d = decodeMessage(b);
  assert.ok(d.ok);
  return d.msg;
};

// A DNS64 upstream: v4only.example. has 192.0.2.33 only, ds.example. has real AAAA and A,
// private.example. has only a mapped-out 10.1.2.3, nx.example. does not exist.
const dns64Upstream = (name: string, type: number): Message | null => {
  if (name === "nx.example.") return msg([], RCODE.NXDOMAIN);
  if (type === TYPE.AAAA) {
    if (name === "v4only.example.") return msg([rr(name, TYPE.AAAA, 60, synth(WKP, 0xc0000221))]);
    if (name === "ds.example.") {
      return msg([rr(name, TYPE.AAAA, 60, parsePrefix6("2001:db8::5/128").addr)]);
    }
    return msg([]);
  }
  if (type === TYPE.A) {
    if (name === "ds.example.") return msg([rr(name, TYPE.A, 60, aData(0xc6336405))]);
    if (name === "private.example.") return msg([rr(name, TYPE.A, 60, aData(0x0a010203))]);
    return msg([]);
  }
  return msg([]);
};

Deno.test("RFC 8683 3.1.2: an IPv4 client's A query goes upstream only as AAAA when the DNS64 synthesizes", async () => {
  const { h, calls, metrics } = setup([WKP], dns64Upstream);
  const m = answers(await h.handle(q("v4only.example.", TYPE.A), client, "c", "udp"));
  assert.deepEqual(calls, ["v4only.example./AAAA"]);
  assert.equal(m.flags & 0xf, RCODE.NOERROR);
  assert.deepEqual(m.answer.map((r) => [r.type, v4Of(r.data)]), [[TYPE.A, 0xc0000221]]);
  assert.equal(m.flags & FLAG.AD, 0);
  // A dual-stack client's AAAA for the same name is now a cache hit: one upstream query
  // for both families instead of two.
  await h.handle(q("v4only.example.", TYPE.AAAA), client, "c", "udp");
  assert.deepEqual(calls, ["v4only.example./AAAA"]);
  assert.equal(metrics.aFromAaaa, 1);
});

Deno.test("RFC 8683 3.1.2 fallback: real AAAA or no AAAA -> a real A query, its answer passed on", async () => {
  const { h, calls, metrics } = setup([WKP], dns64Upstream);
  const ds = answers(await h.handle(q("ds.example.", TYPE.A), client, "c", "udp"));
  assert.deepEqual(ds.answer.map((r) => v4Of(r.data)), [0xc6336405]);
  const priv = answers(await h.handle(q("private.example.", TYPE.A), client, "c", "udp"));
  assert.deepEqual(priv.answer.map((r) => v4Of(r.data)), [0x0a010203]);
  assert.deepEqual(calls, [
    "ds.example./AAAA",
    "ds.example./A",
    "private.example./AAAA",
    "private.example./A",
  ]);
  assert.equal(metrics.aFromAaaaFallbacks, 2);
  assert.equal(metrics.aFromAaaa, 0);
});

Deno.test("NXDOMAIN from the DNS64's AAAA answers the A query (RFC 6147 5.1.2)", async () => {
  const { h, calls } = setup([WKP], dns64Upstream);
  const m = answers(await h.handle(q("nx.example.", TYPE.A), client, "c", "udp"));
  assert.equal(m.flags & 0xf, RCODE.NXDOMAIN);
  assert.deepEqual(calls, ["nx.example./AAAA"]);
});

Deno.test("DO=1 clients and an unknown PLAT prefix get the real A query (signed RRset; nothing to extract with)", async () => {
  const signed = setup([WKP], dns64Upstream);
  await signed.h.handle(q("v4only.example.", TYPE.A, true), client, "c", "udp");
  assert.deepEqual(signed.calls, ["v4only.example./A"]);
  const noPlat = setup([], dns64Upstream);
  await noPlat.h.handle(q("v4only.example.", TYPE.A), client, "c", "udp");
  assert.deepEqual(noPlat.calls, ["v4only.example./A"]);
});

Deno.test("config: [dns] aaaa-only-upstream defaults off, parses in clat mode, is refused elsewhere", () => {
  const clat = `mode = "clat"\n[clat]\nipv6-address = "2001:db8::c1a7"\n`;
  assert.equal(parseConfig(clat, "t").dns.aaaaOnlyUpstream, false);
  const on = parseConfig(`${clat}[dns]\naaaa-only-upstream = true\n`, "t");
  assert.equal(on.dns.aaaaOnlyUpstream, true);
  assert.equal(dnsOptionsFromConfig(on).dns.aaaaOnlyUpstream, true);
  assert.throws(
    () => parseConfig(`mode = "none"\n[dns]\naaaa-only-upstream = true\n`, "t"),
    (e) =>
      e instanceof ConfigError && /dns\.aaaa-only-upstream.*needs mode "clat"/s.test(e.message),
  );
});
