// Dynamic EAM bypass (RFC 8683 4.9): A answers with real AAAA become short-lived mappings.
import assert from "node:assert/strict";
import {
  formatPrefix4,
  formatPrefix6,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
} from "../../src/addr/ip.ts";
import { aAnswer, DynamicEam, DynamicEamTable } from "../../src/clat/dynamic_eam.ts";
import { CLASS_IN, encodeMessage, type ResourceRecord, TYPE } from "../../src/dns/wire.ts";

const A1 = parseIPv4("198.51.100.2"), A2 = parseIPv4("198.51.100.3");
const V1 = parseIPv6("2001:db8:5::2"), V2 = parseIPv6("2001:db8:5::3");
const PLAT = parsePrefix6("2001:db8:64::/96");

function table(maxTtlS = 300) {
  const clock = { t: 1000 };
  return { clock, t: new DynamicEamTable({ maxTtlS, now: () => clock.t }) };
}
const show = (t: DynamicEamTable) =>
  t.entries().map((e) => `${formatPrefix4(e.ipv4)}=${formatPrefix6(e.ipv6)}`);

Deno.test("dynamic EAM: an A with a real AAAA maps one-to-one, for min(TTL, max) seconds", () => {
  const { t, clock } = table(300);
  assert.equal(t.learn("ds.test.", [A1, A2], [V1, V2], 60, [], [PLAT]), true);
  assert.deepEqual(show(t), [
    "198.51.100.2/32=2001:db8:5::2/128",
    "198.51.100.3/32=2001:db8:5::3/128",
  ]);
  assert.equal(t.learn("ds.test.", [A1], [V1], 60, [], [PLAT]), false, "a refresh is no change");
  clock.t += 59;
  assert.equal(t.expire(), false);
  clock.t += 2;
  assert.equal(t.expire(), true);
  assert.equal(t.size, 0);
});

Deno.test("dynamic EAM: synthesized AAAA (PLAT or well-known prefix) and reserved IPv4 never map", () => {
  const { t } = table();
  const synth = parseIPv6("2001:db8:64::c633:6402");
  const wkp = parseIPv6("64:ff9b::c633:6402");
  assert.equal(t.learn("v4only.test.", [A1], [synth], 60, [], [PLAT]), false);
  assert.equal(t.learn("v4only.test.", [A1], [wkp], 60, [], []), false);
  assert.equal(t.learn("lan.test.", [A1], [V1], 60, [parsePrefix4("198.51.100.0/24")], []), false);
  assert.equal(t.size, 0);
});

Deno.test("dynamic EAM: an IPv6 address stands for one IPv4 address only; the TTL is capped", () => {
  const { t, clock } = table(10);
  t.learn("a.test.", [A1], [V1], 3600, [], []);
  assert.equal(t.learn("b.test.", [A2], [V1], 3600, [], []), false, "V1 is taken");
  clock.t += 11;
  assert.equal(t.expire(), true, "capped at dynamic-eam-ttl");
});

function aResponse(name: string, addrs: string[], ttl = 60): Uint8Array {
  const answer: ResourceRecord[] = addrs.map((a) => {
    const v = parseIPv4(a);
    return {
      name,
      type: TYPE.A,
      class: CLASS_IN,
      ttl,
      data: new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]),
    };
  });
  return encodeMessage({
    id: 1,
    flags: 0x8180,
    question: [{ name, type: TYPE.A, class: CLASS_IN }],
    answer,
    authority: [],
    additional: [],
  });
}

Deno.test("dynamic EAM: aAnswer reads A answers and ignores everything else", () => {
  assert.deepEqual(aAnswer(aResponse("ds.test.", ["198.51.100.2"], 42)), {
    name: "ds.test.",
    a: [A1],
    ttlS: 42,
  });
  assert.equal(aAnswer(aResponse("none.test.", [])), null);
  assert.equal(aAnswer(new Uint8Array(5)), null);
  for (let i = 0; i < 200; i++) {
    const junk = aResponse("ds.test.", ["198.51.100.2"]).slice();
    junk[12 + (i % 20)] ^= (i * 37) & 255;
    try {
      aAnswer(junk);
    } catch (e) {
      assert.fail(`aAnswer threw on mutated input: ${e}`);
    }
  }
});

Deno.test("dynamic EAM: the observer holds the answer until the mapping is applied", async () => {
  const applied: string[][] = [];
  const asked: string[] = [];
  const d: DynamicEam = new DynamicEam(
    (name, type) => {
      asked.push(`${name}/${type}`);
      return Promise.resolve([{ name, type: TYPE.AAAA, class: CLASS_IN, ttl: 30, data: V1 }]);
    },
    () => ({ reserved: [], synthesized: [PLAT] }),
    () => {
      applied.push(show(d.table));
    },
    { maxTtlS: 300, now: () => 0 },
  );
  try {
    await d.observe(aResponse("ds.test.", ["198.51.100.2"]));
    assert.deepEqual(asked, [`ds.test./${TYPE.AAAA}`]);
    assert.deepEqual(applied, [["198.51.100.2/32=2001:db8:5::2/128"]]);
    await d.observe(aResponse("ds.test.", ["198.51.100.2"]));
    assert.equal(applied.length, 1, "no change, nothing applied again");
  } finally {
    d.stop();
  }
});
