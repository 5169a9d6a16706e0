// Fuzzing the validator with random and malformed answers (and random answers to its own
// DS/DNSKEY queries): it must always come back with a verdict, never throw, and never call
// unverifiable data secure.
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseTrustAnchors } from "../../src/dns/validator/anchors.ts";
import { Validator } from "../../src/dns/validator/validator.ts";
import { FLAG, type Message, type ResourceRecord, TYPE } from "../../src/dns/wire.ts";

const anchors = parseTrustAnchors(
  ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
);

const name = fc.constantFrom(".", "test.", "a.test.", "www.a.test.", "*.a.test.", "b.a.test.");
const type = fc.constantFrom(
  TYPE.A,
  TYPE.CNAME,
  TYPE.DNAME,
  TYPE.SOA,
  TYPE.RRSIG,
  TYPE.NSEC,
  TYPE.NSEC3,
  TYPE.DS,
  TYPE.DNSKEY,
);
const record = fc.record({
  name,
  type,
  class: fc.constant(1),
  ttl: fc.nat(100000),
  data: fc.uint8Array({ maxLength: 80 }),
}) as fc.Arbitrary<ResourceRecord>;
const message = fc.record({
  id: fc.constant(0),
  flags: fc.constantFrom(FLAG.QR, FLAG.QR | 3, FLAG.QR | 2, FLAG.QR | FLAG.AD),
  question: fc.constant([]),
  answer: fc.array(record, { maxLength: 6 }),
  authority: fc.array(record, { maxLength: 6 }),
  additional: fc.constant([]),
}) as fc.Arbitrary<Message>;

Deno.test("fuzz: random answers and random chain-of-trust replies always give a verdict", async () => {
  await fc.assert(
    fc.asyncProperty(
      message,
      fc.array(message, { minLength: 1, maxLength: 4 }),
      name,
      fc.constantFrom(TYPE.A, TYPE.AAAA, TYPE.DS),
      async (resp, replies, qname, qtype) => {
        let i = 0;
        const v = new Validator({
          anchors,
          query: () => Promise.resolve(i < 20 ? replies[i++ % replies.length] : null),
          now: () => Date.UTC(2026, 0, 1),
        });
        const r = await v.verdict(qname, qtype, resp);
        assert.ok(["secure", "insecure", "bogus", "indeterminate"].includes(r.state));
        // Nothing here is signed by the root's real keys: never secure.
        assert.notEqual(r.state, "secure");
      },
    ),
    { numRuns: 400 },
  );
});
