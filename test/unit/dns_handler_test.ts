// The proxy's decisions without sockets: RFC 5625 proxying, EDNS (RFC 6891), FORMERR,
// REFUSED, truncation, rate limiting and the byte-patching response cache.
import assert from "node:assert/strict";
import { parseIp } from "../../src/dns/acl.ts";
import { parseAcl } from "../../src/dns/acl.ts";
import { MessageCache, ResponseCache } from "../../src/dns/cache.ts";
import { Dns64, type Lookup } from "../../src/dns/dns64.ts";
import { QueryHandler } from "../../src/dns/handler.ts";
import { DnsMetrics } from "../../src/dns/metrics.ts";
import { DNS64_DEFAULTS, DNS_DEFAULTS, type DnsOptions } from "../../src/dns/options.ts";
import { CachingResolver } from "../../src/dns/resolver.ts";
import {
  aData,
  decodeMessage,
  EDNS_DO,
  encodeMessage,
  FLAG,
  type Message,
  optRecord,
  RCODE,
  rr,
  soaData,
  TYPE,
} from "../../src/dns/wire.ts";

function setup(
  over: Partial<DnsOptions> = {},
  upstreamAnswer?: (name: string, type: number) => Message | null,
) {
  let clock = 1_000_000;
  const metrics = new DnsMetrics();
  const calls: string[] = [];
  const options: (Uint8Array | undefined)[] = [];
  const upstream = {
    query(q: { name: string; type: number; options?: Uint8Array }) {
      calls.push(`${q.name}/${q.type}`);
      options.push(q.options);
      const def = q.type === TYPE.A ? resp([rr(q.name, TYPE.A, 100, aData(0xc0000201))]) : resp([]);
      return Promise.resolve(upstreamAnswer ? upstreamAnswer(q.name, q.type) : def);
    },
  };
  const dns = { ...DNS_DEFAULTS, ...over };
  const resolver = new CachingResolver(
    upstream,
    new MessageCache(100, 1 << 20, 86400),
    metrics,
    () => clock,
  );
  const lookup: Lookup = resolver.lookup;
  const h = new QueryHandler({
    dns,
    dns64: new Dns64(DNS64_DEFAULTS, lookup),
    lookup,
    metrics,
    responses: new ResponseCache(100, 1 << 20),
    now: () => clock,
  });
  return { h, metrics, calls, options, tick: (ms: number) => (clock += ms) };
}

const resp = (answer: Message["answer"], rcode = 0): Message => ({
  id: 0,
  flags: FLAG.QR | FLAG.RA | rcode,
  question: [],
  answer,
  authority: [],
  additional: [],
});

function query(
  name: string,
  type: number,
  opts: { id?: number; edns?: number; dnssecOk?: boolean; cd?: boolean; version?: number } = {},
) {
  return encodeMessage({
    id: opts.id ?? 0x4242,
    flags: FLAG.RD | (opts.cd ? FLAG.CD : 0),
    question: [{ name, type, class: 1 }],
    answer: [],
    authority: [],
    additional: opts.edns
      ? [
        optRecord({
          udpSize: opts.edns,
          extRcode: 0,
          version: opts.version ?? 0,
          flags: opts.dnssecOk ? EDNS_DO : 0,
          options: new Uint8Array(0),
        }),
      ]
      : [],
  });
}

const local = parseIp("127.0.0.1");
const decode = (b: Uint8Array | null) => {
  assert.ok(b);
  const d = decodeMessage(b);
  assert.ok(d.ok, d.ok ? "" : d.error);
  return d.msg;
};

Deno.test("RFC 5625: answer echoes ID, question (with its case), RD and CD; QR and RA set", async () => {
  const { h } = setup();
  const m = decode(
    await h.handle(query("WwW.Example.", TYPE.A, { id: 7, cd: true }), local, "c", "udp"),
  );
  assert.equal(m.id, 7);
  assert.equal(m.question[0].name, "WwW.Example.");
  assert.ok(m.flags & FLAG.QR && m.flags & FLAG.RD && m.flags & FLAG.CD && m.flags & FLAG.RA);
});

Deno.test("clients outside [dns] allow get REFUSED; responses are never answered", async () => {
  const { h, metrics } = setup({ allow: parseAcl(["10.0.0.0/8"]) });
  const m = decode(await h.handle(query("a.", TYPE.A), local, "c", "udp"));
  assert.equal(m.flags & 0xf, RCODE.REFUSED);
  assert.equal(metrics.refused, 1);
  const r = query("a.", TYPE.A);
  r[2] |= 0x80;
  assert.equal(await h.handle(r, local, "c", "udp"), null);
});

Deno.test("malformed query -> FORMERR with the same ID; two questions -> FORMERR", async () => {
  const { h } = setup();
  const bad = Uint8Array.of(0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61);
  const out = await h.handle(bad, local, "c", "udp");
  assert.ok(out);
  assert.equal((out[0] << 8) | out[1], 0x1234);
  assert.equal(out[3] & 0xf, RCODE.FORMERR);
  const two = encodeMessage({
    id: 1,
    flags: 0,
    question: [{ name: "a.", type: 1, class: 1 }, { name: "b.", type: 1, class: 1 }],
    answer: [],
    authority: [],
    additional: [],
  });
  assert.equal(decode(await h.handle(two, local, "c", "udp")).flags & 0xf, RCODE.FORMERR);
});

Deno.test("RFC 6891 6.1.3: EDNS version 1 -> BADVERS (extended RCODE 16)", async () => {
  const { h } = setup();
  const m = decode(
    await h.handle(query("a.", TYPE.A, { edns: 1232, version: 1 }), local, "c", "udp"),
  );
  const opt = m.additional.find((r) => r.type === TYPE.OPT)!;
  assert.equal(((opt.ttl >>> 24) << 4) | (m.flags & 0xf), 16);
});

Deno.test("RFC 6891 6.2.5: client's UDP size honoured: TC=1 when the answer does not fit", async () => {
  const many = Array.from({ length: 40 }, (_, i) => rr("big.", TYPE.A, 60, aData(0xc0000200 + i)));
  const { h, metrics } = setup({}, (_n, t) => t === TYPE.A ? resp(many) : resp([]));
  const small = decode(await h.handle(query("big.", TYPE.A), local, "c", "udp"));
  assert.ok(small.flags & FLAG.TC);
  assert.equal(small.answer.length, 0);
  assert.equal(metrics.truncated, 1);
  const big = decode(await h.handle(query("big.", TYPE.A, { edns: 4096 }), local, "c", "udp"));
  assert.ok(!(big.flags & FLAG.TC));
  assert.equal(big.answer.length, 40);
  const tcp = decode(await h.handle(query("big.", TYPE.A), local, "c", "tcp"));
  assert.equal(tcp.answer.length, 40);
});

Deno.test("RFC 3225: DO echoed in the response OPT; DNSSEC records only for DO=1", async () => {
  const sig = rr("s.", TYPE.RRSIG, 60, Uint8Array.of(0, 1, 8, 1, ...new Uint8Array(20)));
  const { h } = setup({}, () => resp([rr("s.", TYPE.A, 60, aData(1)), sig]));
  const withDo = decode(
    await h.handle(query("s.", TYPE.A, { edns: 1232, dnssecOk: true }), local, "c", "udp"),
  );
  assert.equal(withDo.additional.find((r) => r.type === TYPE.OPT)!.ttl & EDNS_DO, EDNS_DO);
  assert.ok(withDo.answer.some((r) => r.type === TYPE.RRSIG));
  const noDo = decode(await h.handle(query("s.", TYPE.A, { edns: 1232 }), local, "c", "udp"));
  assert.ok(!noDo.answer.some((r) => r.type === TYPE.RRSIG));
});

Deno.test("response cache: hit patches ID, question case and ages TTLs; upstream asked once", async () => {
  const { h, calls, tick, metrics } = setup();
  const first = decode(
    await h.handle(query("v4.example.", TYPE.AAAA, { id: 1 }), local, "c", "udp"),
  );
  assert.equal(first.answer[0].ttl, 100);
  tick(30_000);
  const again = decode(
    await h.handle(query("V4.EXAMPLE.", TYPE.AAAA, { id: 2 }), local, "c", "udp"),
  );
  assert.equal(again.id, 2);
  assert.equal(again.question[0].name, "V4.EXAMPLE.");
  assert.equal(again.answer[0].ttl, 70);
  assert.deepEqual(again.answer[0].data, first.answer[0].data);
  assert.equal(calls.length, 2, "AAAA + A once");
  assert.ok(metrics.cacheHits >= 1);
  tick(71_000); // expired
  await h.handle(query("v4.example.", TYPE.AAAA, { id: 3 }), local, "c", "udp");
  assert.equal(calls.length, 4);
});

Deno.test("upstream failure (no answer) -> SERVFAIL, never cached", async () => {
  const { h, calls } = setup({}, () => null);
  for (let i = 0; i < 2; i++) {
    assert.equal(
      decode(await h.handle(query("x.", TYPE.A), local, "c", "udp")).flags & 0xf,
      RCODE.SERVFAIL,
    );
  }
  assert.equal(calls.length, 2);
});

Deno.test("per-client rate limit drops queries beyond the burst", async () => {
  const { h, metrics, tick } = setup({ rateLimit: 5, rateBurst: 5 });
  let answered = 0;
  for (let i = 0; i < 10; i++) {
    if (await h.handle(query("a.", TYPE.A), local, "c1", "udp")) answered++;
  }
  assert.equal(answered, 5);
  assert.equal(metrics.rateLimited, 5);
  assert.ok(await h.handle(query("a.", TYPE.A), local, "c2", "udp"), "other clients unaffected");
  tick(1000);
  assert.ok(await h.handle(query("a.", TYPE.A), local, "c1", "udp"), "refilled after a second");
});

Deno.test("RFC 6147 5.1.2 through the handler: NXDOMAIN negative answers are cached (RFC 2308)", async () => {
  const { h, calls } = setup({}, () => ({
    ...resp([], RCODE.NXDOMAIN),
    authority: [
      rr(
        "example.",
        TYPE.SOA,
        60,
        soaData({
          mname: "ns.",
          rname: "h.",
          serial: 1,
          refresh: 1,
          retry: 1,
          expire: 1,
          minimum: 30,
        }),
      ),
    ],
  }));
  const a = decode(await h.handle(query("nx.example.", TYPE.AAAA), local, "c", "udp"));
  assert.equal(a.flags & 0xf, RCODE.NXDOMAIN);
  await h.handle(query("nx.example.", TYPE.AAAA), local, "c", "udp");
  assert.equal(calls.length, 1);
});

Deno.test("RFC 5625 4.4: unknown EDNS options pass through both ways; COOKIE stays hop-by-hop", async () => {
  const unknown = Uint8Array.of(0xfd, 0xe9, 0, 2, 0xaa, 0xbb); // option 65001
  const cookie = Uint8Array.of(0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8);
  const upOpt = Uint8Array.of(0xfd, 0xea, 0, 1, 0x77, 0, 10, 0, 8, 9, 9, 9, 9, 9, 9, 9, 9);
  const { h, options } = setup({}, (n) => ({
    ...resp([rr(n, TYPE.A, 60, aData(1))]),
    additional: [optRecord({ udpSize: 1232, extRcode: 0, version: 0, flags: 0, options: upOpt })],
  }));
  const q = encodeMessage({
    id: 9,
    flags: FLAG.RD,
    question: [{ name: "o.example.", type: TYPE.A, class: 1 }],
    answer: [],
    authority: [],
    additional: [optRecord({
      udpSize: 1232,
      extRcode: 0,
      version: 0,
      flags: 0,
      options: Uint8Array.of(...unknown, ...cookie),
    })],
  });
  const m = decode(await h.handle(q, local, "c", "udp"));
  assert.deepEqual(options[0], unknown, "upstream got the unknown option, not the cookie");
  const opt = m.additional.find((r) => r.type === TYPE.OPT)!;
  assert.deepEqual(
    opt.data,
    Uint8Array.of(0xfd, 0xea, 0, 1, 0x77),
    "upstream's option back, its cookie not",
  );
});
