// The fast path's response cache: a hit for any case variant of the question returns the
// stored answer with the query's ID and question bytes and TTLs aged by the elapsed time;
// a different question never hits.
import assert from "node:assert/strict";
import fc from "fast-check";
import { newShape, queryShape, ResponseCache } from "../../src/dns/cache.ts";
import {
  aData,
  decodeMessage,
  encodeMessage,
  FLAG,
  type Message,
  rr,
  TYPE,
} from "../../src/dns/wire.ts";

const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,12}$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join(".") + ".");
const flipCase = (s: string, mask: number[]) =>
  [...s].map((c, i) => (mask[i % mask.length] & 1 ? c.toUpperCase() : c.toLowerCase())).join("");

const query = (id: number, qname: string): Uint8Array =>
  encodeMessage({
    id,
    flags: FLAG.RD,
    question: [{ name: qname, type: TYPE.A, class: 1 }],
    answer: [],
    authority: [],
    additional: [],
  });

Deno.test("response cache: case-insensitive hits, ID/question patched, TTLs aged; other names miss", () => {
  fc.assert(
    fc.property(
      name,
      name,
      fc.array(fc.nat(1), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 86400 }),
      fc.integer({ min: 0, max: 200_000 }),
      fc.integer({ min: 0, max: 0xffff }),
      (n, other, mask, ttl, elapsedMs, id) => {
        const cache = new ResponseCache(100, 1 << 20);
        const q1 = query(1, n);
        const resp: Message = {
          id: 1,
          flags: FLAG.QR | FLAG.RD | FLAG.RA,
          question: [{ name: n, type: TYPE.A, class: 1 }],
          answer: [rr(n, TYPE.A, ttl, aData(0xc0000201))],
          authority: [],
          additional: [],
        };
        const s1 = queryShape(q1, q1.length, false, false)!;
        cache.put(s1, encodeMessage(resp), ttl, 0);
        const variant = flipCase(n, mask);
        const q2 = query(id, variant);
        const s2 = queryShape(q2, q2.length, false, false, newShape())!;
        const out = new Uint8Array(1024);
        const len = cache.answer(q2, s2, elapsedMs, out, 512);
        if (elapsedMs >= ttl * 1000) {
          assert.equal(len, 0, "expired");
          return;
        }
        assert.ok(len > 0);
        const d = decodeMessage(out.subarray(0, len));
        assert.ok(d.ok);
        assert.equal(d.msg.id, id);
        assert.equal(d.msg.question[0].name, variant);
        assert.equal(d.msg.answer[0].ttl, ttl - Math.floor(elapsedMs / 1000));
        if (other.toLowerCase() !== n.toLowerCase()) {
          const q3 = query(id, other);
          assert.equal(cache.answer(q3, queryShape(q3, q3.length, false, false)!, 0, out, 512), 0);
        }
        // Same name but a different synthesis bit or transport is another entry.
        assert.equal(cache.answer(q2, queryShape(q2, q2.length, true, false)!, 0, out, 512), 0);
        assert.equal(cache.answer(q2, queryShape(q2, q2.length, false, true)!, 0, out, 65535), 0);
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("response cache stays within its entry bound (FIFO eviction)", () => {
  const cache = new ResponseCache(10, 1 << 20);
  for (let i = 0; i < 100; i++) {
    const q = query(i, `n${i}.example.`);
    cache.put(queryShape(q, q.length, false, false)!, q, 60, 0);
  }
  assert.equal(cache.size, 10);
});
