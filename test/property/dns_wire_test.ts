// Property tests and fuzzing for the hand-written codec (src/dns/wire.ts): random and
// mutated messages never throw, round trips are exact, compression loops are rejected.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  nameToWire,
  type ResourceRecord,
  ttlOffsets,
  TYPE,
} from "../../src/dns/wire.ts";
import { queryShape } from "../../src/dns/cache.ts";

const label = fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b) => {
  let s = "";
  for (const c of b) {
    if (c === 0x2e || c === 0x5c) s += "\\" + String.fromCharCode(c);
    else if (c < 0x21 || c > 0x7e) s += "\\" + c.toString().padStart(3, "0");
    else s += String.fromCharCode(c);
  }
  return s;
});
const name = fc.oneof(
  fc.constant("."),
  fc.array(fc.constantFrom("a", "B", "example", "com", "xn--x", "ip6"), {
    minLength: 1,
    maxLength: 5,
  })
    .map((l) => l.join(".") + "."),
  fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join(".") + "."),
);
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const rdataFor = (type: number): fc.Arbitrary<Uint8Array> => {
  switch (type) {
    case TYPE.A:
      return fc.uint8Array({ minLength: 4, maxLength: 4 });
    case TYPE.AAAA:
      return fc.uint8Array({ minLength: 16, maxLength: 16 });
    case TYPE.CNAME:
    case TYPE.PTR:
    case TYPE.NS:
    case TYPE.DNAME:
      return name.map(nameToWire);
    case TYPE.MX:
      return fc.tuple(u16, name).map(([p, n]) => Uint8Array.of(p >> 8, p & 255, ...nameToWire(n)));
    case TYPE.SOA:
      return fc.tuple(name, name, fc.uint8Array({ minLength: 20, maxLength: 20 }))
        .map(([a, b, t]) => Uint8Array.of(...nameToWire(a), ...nameToWire(b), ...t));
    default:
      return fc.uint8Array({ maxLength: 40 });
  }
};
const record: fc.Arbitrary<ResourceRecord> = fc.constantFrom(
  TYPE.A,
  TYPE.AAAA,
  TYPE.CNAME,
  TYPE.PTR,
  TYPE.NS,
  TYPE.DNAME,
  TYPE.MX,
  TYPE.SOA,
  TYPE.TXT,
  TYPE.RRSIG,
  999,
).chain((type) =>
  fc.record({ name, type: fc.constant(type), class: u16, ttl: u32, data: rdataFor(type) })
    .map((r) => ({ ...r }))
);
const message: fc.Arbitrary<Message> = fc.record({
  id: u16,
  flags: u16,
  question: fc.array(fc.record({ name, type: u16, class: u16 }).map((q) => ({ ...q })), {
    maxLength: 2,
  }),
  answer: fc.array(record, { maxLength: 5 }),
  authority: fc.array(record, { maxLength: 3 }),
  additional: fc.array(record, { maxLength: 3 }),
}).map((m) => ({ ...m }));

Deno.test("codec round trip: decode(encode(m)) equals m exactly", () => {
  fc.assert(
    fc.property(message, (m) => {
      const d = decodeMessage(encodeMessage(m));
      assert.ok(d.ok, d.ok ? "" : d.error);
      assert.deepEqual(d.msg, m);
      // Re-encoding the decoded form gives the same bytes (compression is deterministic).
      assert.deepEqual(encodeMessage(d.msg), encodeMessage(m));
      assert.ok(ttlOffsets(encodeMessage(m)) !== null);
    }),
    { numRuns: 1500 },
  );
});

Deno.test("fuzz: random bytes never throw from decode, ttlOffsets or queryShape", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      const d = decodeMessage(b);
      if (d.ok) assert.ok(encodeMessage(d.msg).length > 0);
      ttlOffsets(b);
      queryShape(b, b.length, true, false);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("fuzz: mutated valid messages never throw; what decodes re-encodes and re-decodes", () => {
  const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 6,
  });
  fc.assert(
    fc.property(message, mutation, fc.nat(), (m, muts, cut) => {
      const b = encodeMessage(m);
      for (const [at, v] of muts) b[at % b.length] = v;
      const c = b.subarray(0, b.length - (cut % 4));
      const d = decodeMessage(c);
      ttlOffsets(c);
      queryShape(c, c.length, false, true);
      if (d.ok) {
        const again = decodeMessage(encodeMessage(d.msg));
        assert.ok(again.ok);
        assert.deepEqual(again.msg, d.msg);
      }
    }),
    { numRuns: 3000 },
  );
});

Deno.test("fuzz: any compression pointer that does not point backwards is rejected", () => {
  fc.assert(
    fc.property(fc.integer({ min: 12, max: 0x3fff }), (target) => {
      // Header with one question whose name is a single pointer at offset 12.
      const b = new Uint8Array([
        0,
        1,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0xc0 | (target >> 8),
        target & 255,
        0,
        1,
        0,
        1,
      ]);
      assert.equal(decodeMessage(b).ok, false);
    }),
    { numRuns: 500 },
  );
});
