// The chain of trust and the verdict state machine, sans-I/O: answers are recorded once
// from the private hierarchy (NSD + Unbound, signed at test time), then replayed through
// an injected query function with an injected clock, mutated where a test needs an
// attacker or a broken server.
import assert from "node:assert/strict";
import { DnsMetrics } from "../../src/dns/metrics.ts";
import { UpstreamClient } from "../../src/dns/upstream.ts";
import { parseTrustAnchors } from "../../src/dns/validator/anchors.ts";
import {
  type DnssecQuery,
  Validator,
  type ValidatorOptions,
} from "../../src/dns/validator/validator.ts";
import { canonicalName, type Message, TYPE } from "../../src/dns/wire.ts";
import { buildHierarchy, type Hierarchy } from "../fixtures/dnssec/hierarchy.ts";
import { haveLdns } from "../fixtures/dnssec/signer.ts";

const have = (cmd: string) => {
  try {
    new Deno.Command(cmd, { args: ["-h"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
};
const ready = haveLdns && have("nsd") && have("unbound");

const NAMES: [string, number][] = [
  ["www.sec.test.", TYPE.A],
  ["nx.sec.test.", TYPE.A],
  ["txt.sec.test.", TYPE.A],
  ["www.n3.test.", TYPE.A],
  ["nx.it200.test.", TYPE.A],
  ["www.unsigned.test.", TYPE.A],
  ["www.ed.test.", TYPE.A],
];

type Recorded = Map<string, Message | null>;
const k = (n: string, t: number) => `${canonicalName(n)}/${t}`;

let recorded: Recorded | null = null;
let anchorText = "";
let rootKey = "";
const t0 = Date.now();

/** Record every upstream answer the validator needs for NAMES (once per test file). */
async function record(): Promise<Recorded> {
  if (recorded) return recorded;
  const h: Hierarchy = await buildHierarchy();
  try {
    const up = new UpstreamClient({
      servers: [{ host: h.unbound.host, port: h.unbound.port }],
      timeoutMs: 3000,
      attempts: 2,
      udpSize: 1232,
    }, new DnsMetrics());
    const map: Recorded = new Map();
    const query: DnssecQuery = async (name, type) => {
      const m = await up.query({ name, type, dnssecOk: true, checkingDisabled: true });
      map.set(k(name, type), m);
      return m;
    };
    anchorText = h.rootDs;
    rootKey = h.zones.get(".")!.records.filter((r) => r.type === TYPE.DNSKEY).map((r) =>
      `. 3600 IN DNSKEY ${r.data[0] << 8 | r.data[1]} ${r.data[2]} ${r.data[3]} ${
        btoa(String.fromCharCode(...r.data.subarray(4)))
      }`
    ).join("\n");
    const v = new Validator({ anchors: parseTrustAnchors(anchorText), query, now: () => t0 });
    for (const [n, t] of NAMES) await v.verdict(n, t, (await query(n, t))!);
    recorded = map;
    return map;
  } finally {
    await h.close();
  }
}

function replay(
  map: Recorded,
  opts: Partial<ValidatorOptions> & { mutate?: (key: string, m: Message) => Message | null } = {},
) {
  const calls: string[] = [];
  const query: DnssecQuery = (name, type) => {
    calls.push(k(name, type));
    const m = map.get(k(name, type));
    if (m === undefined) throw new Error(`not recorded: ${k(name, type)}`);
    return Promise.resolve(m && opts.mutate ? opts.mutate(k(name, type), m) : m);
  };
  const v = new Validator({
    anchors: parseTrustAnchors(anchorText),
    query,
    now: () => t0,
    clockSkew: 0,
    ...opts,
  });
  const check = async (name: string, type: number) => {
    const m = await query(name, type);
    return await v.verdict(name, type, m!);
  };
  return { v, calls, check };
}

const test = (name: string, fn: (map: Recorded) => Promise<void>) =>
  Deno.test({ name, ignore: !ready, fn: async () => await fn(await record()) });

test("replayed answers give the same verdicts without any network (sans-I/O)", async (map) => {
  const { check } = replay(map);
  assert.equal((await check("www.sec.test.", TYPE.A)).state, "secure");
  assert.equal((await check("nx.sec.test.", TYPE.A)).state, "secure");
  assert.equal((await check("www.n3.test.", TYPE.A)).state, "secure");
  assert.equal((await check("www.unsigned.test.", TYPE.A)).state, "insecure");
  assert.equal((await check("nx.it200.test.", TYPE.A)).reason, "nsec3_iterations");
});

test("RFC 4035 5.3.1: the injected clock decides expiry; clock skew widens the window", async (map) => {
  const week = 8 * 86400 * 1000;
  const late = replay(map, { now: () => t0 + week });
  assert.deepEqual(
    [
      (await late.check("www.sec.test.", TYPE.A)).state,
      (await late.check("www.sec.test.", TYPE.A)).reason,
    ],
    ["bogus", "signature_expired"],
  );
  // The signer's inception is an hour before signing.
  const early = replay(map, { now: () => t0 - 2 * 3600 * 1000 });
  assert.equal((await early.check("www.sec.test.", TYPE.A)).reason, "signature_not_yet_valid");
  const skewed = replay(map, { now: () => t0 - 2 * 3600 * 1000, clockSkew: 2 * 3600 });
  assert.equal((await skewed.check("www.sec.test.", TYPE.A)).state, "secure");
});

test("keys and delegations are cached with their TTLs, then fetched again", async (map) => {
  let now = t0;
  const r = replay(map, { now: () => now });
  await r.check("www.sec.test.", TYPE.A);
  const first = r.calls.length;
  await r.check("nx.sec.test.", TYPE.A);
  // Only the answer itself: the chain (DS/DNSKEY of ., test., sec.test.) came from cache.
  assert.equal(r.calls.length - first, 1);
  now += 2 * 86400 * 1000; // past every TTL, still inside the signatures' window
  const before = r.calls.length;
  assert.equal((await r.check("txt.sec.test.", TYPE.A)).state, "secure");
  assert.ok(r.calls.length - before > 3, "the chain was fetched again");
  assert.ok(r.calls.includes(k("sec.test.", TYPE.DNSKEY)));
});

test("RFC 4035 5.2: RRSIGs stripped from the parent's DS -> bogus (RRSIGs missing)", async (map) => {
  const r = replay(map, {
    mutate: (key, m) =>
      key === k("sec.test.", TYPE.DS)
        ? { ...m, answer: m.answer.filter((x) => x.type !== TYPE.RRSIG) }
        : m,
  });
  const v = await r.check("www.sec.test.", TYPE.A);
  assert.deepEqual([v.state, v.reason], ["bogus", "rrsigs_missing"]);
});

test("downgrade: the DS answer replaced by an unproven NODATA -> bogus, never insecure", async (map) => {
  const r = replay(map, {
    mutate: (key, m) => key === k("sec.test.", TYPE.DS) ? { ...m, answer: [], authority: [] } : m,
  });
  const v = await r.check("www.sec.test.", TYPE.A);
  assert.deepEqual([v.state, v.reason], ["bogus", "nsec_missing"]);
});

test("RFC 4035 5.3.3: altered A data -> bogus (signature invalid)", async (map) => {
  const r = replay(map, {
    mutate: (key, m) =>
      key === k("www.sec.test.", TYPE.A)
        ? {
          ...m,
          answer: m.answer.map((x) =>
            x.type === TYPE.A ? { ...x, data: Uint8Array.of(198, 51, 100, 1) } : x
          ),
        }
        : m,
  });
  const v = await r.check("www.sec.test.", TYPE.A);
  assert.deepEqual([v.state, v.reason], ["bogus", "signature_invalid"]);
});

test("RFC 4035 5.4: NXDOMAIN without its NSEC records -> bogus (NSEC missing)", async (map) => {
  const r = replay(map, {
    mutate: (key, m) =>
      key === k("nx.sec.test.", TYPE.A)
        ? {
          ...m,
          authority: m.authority.filter((x) => x.type === TYPE.SOA || x.type === TYPE.RRSIG),
        }
        : m,
  });
  const v = await r.check("nx.sec.test.", TYPE.A);
  assert.deepEqual([v.state, v.reason], ["bogus", "nsec_missing"]);
});

test("an upstream that does not answer the DNSKEY query -> bogus, reason fetch_failed", async (map) => {
  const r = replay(map, { mutate: (key, m) => (key === k("sec.test.", TYPE.DNSKEY) ? null : m) });
  const v = await r.check("www.sec.test.", TYPE.A);
  assert.deepEqual([v.state, v.reason], ["bogus", "fetch_failed"]);
});

test("RFC 9276 3.2: the NSEC3 iteration limit is configurable", async (map) => {
  const r = replay(map, { nsec3MaxIterations: 500 });
  assert.equal((await r.check("nx.it200.test.", TYPE.A)).state, "secure");
});

test("RFC 4035 4.3: a name under no trust anchor is indeterminate", async (map) => {
  const r = replay(map, { anchors: parseTrustAnchors(anchorText.replace(/^\./, "other.")) });
  assert.equal((await r.check("www.sec.test.", TYPE.A)).state, "indeterminate");
});

test("trust anchors as DNSKEY records (root.key style) work like DS anchors", async (map) => {
  const r = replay(map, { anchors: parseTrustAnchors(rootKey) });
  assert.equal((await r.check("www.ed.test.", TYPE.A)).state, "secure");
});

test("a trust anchor that matches no key -> bogus (DNSKEY missing for the DS)", async (map) => {
  const wrong = anchorText.replace(/ [0-9a-f]{64}$/m, " " + "ab".repeat(32));
  const r = replay(map, { anchors: parseTrustAnchors(wrong) });
  const v = await r.check("www.sec.test.", TYPE.A);
  assert.deepEqual([v.state, v.reason], ["bogus", "no_dnskey_for_ds"]);
});

test("RFC 4035 5.3.3: a secure verdict's TTL is capped by the time left on the signatures", async (map) => {
  const fresh = await replay(map).check("www.sec.test.", TYPE.A);
  assert.ok(fresh.ttl! > 3000 && fresh.ttl! <= 3600, `ttl ${fresh.ttl}`);
  // The signer's expiration is a week after signing: 100 s before it, 100 s are left.
  const late = replay(map, { now: () => t0 + (7 * 86400 - 100) * 1000 });
  const v = await late.check("www.sec.test.", TYPE.A);
  assert.equal(v.state, "secure");
  assert.ok(v.ttl! <= 100 && v.ttl! >= 90, `ttl ${v.ttl}`);
});

test("ANY and RRSIG queries: every RRset at the name is checked; RRSIGs alone never secure", async (map) => {
  const r = replay(map);
  const a = map.get(k("www.sec.test.", TYPE.A))!;
  const any = { ...a, question: [{ name: "www.sec.test.", type: TYPE.ANY, class: 1 }] };
  assert.equal((await r.v.verdict("www.sec.test.", TYPE.ANY, any)).state, "secure");
  const tampered = {
    ...any,
    answer: any.answer.map((x) =>
      x.type === TYPE.A ? { ...x, data: Uint8Array.of(1, 2, 3, 4) } : x
    ),
  };
  assert.equal((await r.v.verdict("www.sec.test.", TYPE.ANY, tampered)).state, "bogus");
  const nx = map.get(k("nx.sec.test.", TYPE.A))!;
  assert.equal((await r.v.verdict("nx.sec.test.", TYPE.ANY, nx)).state, "secure");
  const sigs = { ...a, answer: a.answer.filter((x) => x.type === TYPE.RRSIG) };
  assert.equal((await r.v.verdict("www.sec.test.", TYPE.RRSIG, sigs)).state, "indeterminate");
});

test("resolve(): fetch and validate in one call (for RFC 7050 3.1 prefix discovery)", async (map) => {
  const r = replay(map);
  const got = await r.v.resolve("www.ed.test.", TYPE.A);
  assert.equal(got?.verdict.state, "secure");
  assert.ok(got?.message.answer.some((x) => x.type === TYPE.A));
});
