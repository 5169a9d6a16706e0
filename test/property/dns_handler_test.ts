// Fuzzing the query handler: random and mutated queries never throw; every answer is a
// well-formed response carrying the query's ID, or nothing (responses, runts).
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseIp } from "../../src/dns/acl.ts";
import { MessageCache, ResponseCache } from "../../src/dns/cache.ts";
import { Dns64, type Lookup } from "../../src/dns/dns64.ts";
import { QueryHandler } from "../../src/dns/handler.ts";
import { DnsMetrics } from "../../src/dns/metrics.ts";
import { DNS64_DEFAULTS, DNS_DEFAULTS } from "../../src/dns/options.ts";
import { CachingResolver } from "../../src/dns/resolver.ts";
import {
  aData,
  decodeMessage,
  EDNS_DO,
  encodeMessage,
  FLAG,
  type Message,
  optRecord,
  rr,
  TYPE,
} from "../../src/dns/wire.ts";

function handler() {
  const metrics = new DnsMetrics();
  const upstream = {
    query(q: { name: string; type: number }): Promise<Message | null> {
      if (q.name.length % 3 === 0) return Promise.resolve(null); // some upstream failures
      return Promise.resolve({
        id: 0,
        flags: FLAG.QR | FLAG.RA,
        question: [],
        answer: q.type === TYPE.A ? [rr(q.name, TYPE.A, 60, aData(0xc0000201))] : [],
        authority: [],
        additional: [],
      });
    },
  };
  const resolver = new CachingResolver(
    upstream,
    new MessageCache(1000, 1 << 22, 3600),
    metrics,
    () => 0,
  );
  const lookup: Lookup = resolver.lookup;
  return new QueryHandler({
    dns: DNS_DEFAULTS,
    dns64: new Dns64(DNS64_DEFAULTS, lookup),
    lookup,
    metrics,
    responses: new ResponseCache(1000, 1 << 22),
    now: () => 0,
  });
}

const client = parseIp("127.0.0.1");
const name = fc.array(fc.stringMatching(/^[a-zA-Z0-9-]{1,10}$/), { minLength: 0, maxLength: 4 })
  .map((l) => (l.length ? l.join(".") + "." : "."));
const validQuery = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }),
  name,
  type: fc.constantFrom(TYPE.A, TYPE.AAAA, TYPE.PTR, TYPE.TXT, TYPE.ANY, TYPE.AXFR, 0, 65535),
  cls: fc.constantFrom(1, 3, 255),
  edns: fc.option(fc.integer({ min: 0, max: 0xffff })),
  dnssecOk: fc.boolean(),
  flags: fc.integer({ min: 0, max: 0x7fff }),
}).map((q) =>
  encodeMessage({
    id: q.id,
    flags: q.flags,
    question: [{ name: q.name, type: q.type, class: q.cls }],
    answer: [],
    authority: [],
    additional: q.edns === null ? [] : [optRecord({
      udpSize: q.edns,
      extRcode: 0,
      version: 0,
      flags: q.dnssecOk ? EDNS_DO : 0,
      options: new Uint8Array(0),
    })],
  })
);

async function check(h: QueryHandler, q: Uint8Array, transport: "udp" | "tcp") {
  const out = await h.handle(q, client, "k", transport);
  if (out === null) {
    assert.ok(q.length < 12 || (q[2] & 0x80) !== 0, "only runts and responses go unanswered");
    return;
  }
  assert.equal(out[0], q[0]);
  assert.equal(out[1], q[1]);
  assert.ok(out[2] & 0x80, "QR set");
  if (transport === "udp") assert.ok(out.length <= 65535);
  const d = decodeMessage(out);
  assert.ok(d.ok, d.ok ? "" : d.error);
}

Deno.test("fuzz: the handler answers random bytes, valid and mutated queries without throwing", async () => {
  const h = handler();
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 300 }),
      fc.boolean(),
      (b, tcp) => check(h, b, tcp ? "tcp" : "udp"),
    ),
    { numRuns: 1500 },
  );
  await fc.assert(
    fc.asyncProperty(
      validQuery,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      async (q, muts) => {
        for (const [at, v] of muts) q[at % q.length] = v;
        if ((q[2] & 0x80) !== 0) q[2] &= 0x7f;
        await check(h, q, "udp");
      },
    ),
    { numRuns: 1500 },
  );
});
