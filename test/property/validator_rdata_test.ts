import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalRdata, compareRdata } from "../../src/dns/validator/canonical.ts";
import {
  commonAncestor,
  compareNames,
  isAncestorOrSelf,
  labelCount,
  parentName,
  splitLabels,
} from "../../src/dns/validator/names.ts";
import {
  parseDnskey,
  parseDs,
  parseNsec,
  parseNsec3,
  parseNsec3Param,
  parseRrsig,
  parseTypeBitmap,
  typeBitmap,
} from "../../src/dns/validator/rdata.ts";
import { parseZone } from "../../src/dns/validator/zonefile.ts";
import { nameToWire, TYPE } from "../../src/dns/wire.ts";

const parsers = [parseDnskey, parseDs, parseRrsig, parseNsec, parseNsec3, parseNsec3Param];

const SAMPLES = parseZone(`
a.example. 1 IN RRSIG A 13 2 3600 20300101000000 20200101000000 12345 example. AAECAwQFBgcICQ==
a.example. 1 IN NSEC b.example. A RRSIG NSEC TYPE1234
h.example. 1 IN NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A NS RRSIG
example. 1 IN DNSKEY 257 3 13 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==
example. 1 IN DS 1 13 2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
example. 1 IN NSEC3PARAM 1 0 0 -
`).map((r) => r.data);

Deno.test("fuzz: DNSSEC RDATA parsers return a value or null on random bytes, never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      for (const p of parsers) p(b);
      parseTypeBitmap(b, 0);
      for (const t of [TYPE.MX, TYPE.SOA, TYPE.RRSIG, 35, TYPE.SRV]) canonicalRdata(t, b);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("fuzz: mutated and truncated valid DNSSEC RDATA never throws", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SAMPLES),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      (orig, muts, cut) => {
        const b = orig.slice(0, Math.max(0, orig.length - (cut % 4 === 0 ? cut % orig.length : 0)));
        for (const [at, v] of muts) if (b.length) b[at % b.length] = v;
        for (const p of parsers) {
          const r = p(b);
          if (r && "types" in r) r.types.list();
        }
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("RFC 4034 4.1.2: Type Bit Maps round-trip for any set of types", () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 40 }), (ts) => {
      const set = parseTypeBitmap(typeBitmap(ts), 0)!;
      assert.deepEqual(set.list(), [...ts].sort((a, b) => a - b));
      for (const t of ts) assert.ok(set.has(t));
    }),
  );
});

const label = fc.stringMatching(/^[a-zA-Z0-9*_-]{1,8}$/);
const name = fc.array(label, { minLength: 0, maxLength: 5 }).map((ls) =>
  ls.length ? ls.join(".") + "." : "."
);

Deno.test("RFC 4034 6.1: canonical order is a total order, case-insensitive, parents first", () => {
  fc.assert(
    fc.property(name, name, name, (a, b, c) => {
      assert.equal(Math.sign(compareNames(a, b)) + Math.sign(compareNames(b, a)), 0);
      assert.equal(compareNames(a, a.toUpperCase()), 0);
      if (compareNames(a, b) <= 0 && compareNames(b, c) <= 0) assert.ok(compareNames(a, c) <= 0);
      if (a !== ".") assert.ok(compareNames(parentName(a), a) < 0);
      const ca = commonAncestor(a, b);
      assert.ok(isAncestorOrSelf(ca, a) && isAncestorOrSelf(ca, b));
      assert.equal(splitLabels(a).length, labelCount(a, false));
    }),
  );
});

Deno.test("RFC 4034 6.1: the RFC's example names sort in the RFC's order", () => {
  const sorted = [
    "example.",
    "a.example.",
    "yljkjljk.a.example.",
    "Z.a.example.",
    "zABC.a.EXAMPLE.",
    "z.example.",
    "\\001.z.example.",
    "*.z.example.",
    "\\200.z.example.",
  ];
  const shuffled = [...sorted].reverse();
  shuffled.sort(compareNames);
  assert.deepEqual(shuffled, sorted);
  assert.equal(labelCount("*.z.example."), 2);
  assert.deepEqual(nameToWire("\\200.z.example.")[1], 200);
});

Deno.test("RFC 4034 6.3: RDATA order is octet-wise with shorter prefixes first", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
      const ab = Uint8Array.of(...a, ...b);
      if (b.length > 0) assert.ok(compareRdata(a, ab) < 0);
      assert.equal(Math.sign(compareRdata(a, b)) + Math.sign(compareRdata(b, a)), 0);
    }),
  );
});
