// Validations per second: cold (a fresh validator: the whole chain of trust from the root
// is fetched from recorded answers and verified), warm (keys cached; the answer's own
// RRSIGs are verified) and hot (the message cache handing out the same answer again, aged:
// signatures remembered), per algorithm. Answers are recorded once from the private
// hierarchy (NSD + Unbound on loopback, signed with ldns), then replayed: no network in
// the measured loop. Run: deno bench -A bench/validator_bench.ts
import { DnsMetrics } from "../src/dns/metrics.ts";
import { UpstreamClient } from "../src/dns/upstream.ts";
import { parseTrustAnchors, type TrustAnchor } from "../src/dns/validator/anchors.ts";
import { type DnssecQuery, Validator } from "../src/dns/validator/validator.ts";
import { canonicalName, type Message, TYPE } from "../src/dns/wire.ts";
import { buildHierarchy } from "../test/fixtures/dnssec/hierarchy.ts";

const CASES: [string, string, number][] = [
  ["ECDSA P-256 (13), NSEC", "www.sec.test.", TYPE.A],
  ["RSA/SHA-256 (8), NSEC3", "www.n3.test.", TYPE.A],
  ["Ed25519 (15)", "www.ed.test.", TYPE.A],
  ["NXDOMAIN, NSEC3", "nx.n3.test.", TYPE.A],
];

const key = (n: string, t: number) => `${canonicalName(n)}/${t}`;
const answers = new Map<string, Message>();
let anchors: TrustAnchor[] = [];
const now = Date.now();

const h = await buildHierarchy();
try {
  const up = new UpstreamClient({
    servers: [{ host: h.unbound.host, port: h.unbound.port }],
    timeoutMs: 3000,
    attempts: 2,
    udpSize: 1232,
  }, new DnsMetrics());
  const recordingQuery: DnssecQuery = async (name, type) => {
    const m = await up.query({ name, type, dnssecOk: true, checkingDisabled: true });
    if (m) answers.set(key(name, type), m);
    return m;
  };
  anchors = parseTrustAnchors(h.rootDs);
  const v = new Validator({ anchors, query: recordingQuery, now: () => now });
  for (const [, n, t] of CASES) {
    const verdict = await v.verdict(n, t, (await recordingQuery(n, t))!);
    if (verdict.state !== "secure") throw new Error(`${n}: ${verdict.state}`);
  }
} finally {
  await h.close();
}

const replay: DnssecQuery = (name, type) => Promise.resolve(answers.get(key(name, type)) ?? null);
/** A copy of a recorded answer with new RDATA bytes: every signature is verified again. */
function fresh(n: string, t: number): Message {
  const m = answers.get(key(n, t))!;
  const copy = (rrs: Message["answer"]) => rrs.map((r) => ({ ...r, data: r.data.slice() }));
  return { ...m, answer: copy(m.answer), authority: copy(m.authority) };
}
/** What the message cache hands out on a hit: the same RDATA with aged TTLs. */
function aged(n: string, t: number): Message {
  const m = answers.get(key(n, t))!;
  const age = (rrs: Message["answer"]) => rrs.map((r) => ({ ...r, ttl: r.ttl - 1 }));
  return { ...m, answer: age(m.answer), authority: age(m.authority) };
}

for (const [what, n, t] of CASES) {
  Deno.bench({
    name: `cold: ${what} (chain from the root, fresh validator)`,
    group: what,
    async fn() {
      const v = new Validator({ anchors, query: replay, now: () => now });
      const r = await v.verdict(n, t, fresh(n, t));
      if (r.state !== "secure") throw new Error(r.state);
    },
  });
  const warm = new Validator({ anchors, query: replay, now: () => now });
  Deno.bench({
    name: `warm: ${what} (keys cached, new answer verified)`,
    group: what,
    baseline: true,
    async fn() {
      const r = await warm.verdict(n, t, fresh(n, t));
      if (r.state !== "secure") throw new Error(r.state);
    },
  });
  Deno.bench({
    name: `hot: ${what} (message-cache hit, signatures remembered)`,
    group: what,
    async fn() {
      const r = await warm.verdict(n, t, aged(n, t));
      if (r.state !== "secure") throw new Error(r.state);
    },
  });
}
