import assert from "node:assert/strict";
import fc from "fast-check";
import { mask4, prefix4, prefix6 } from "../../src/addr/ip.ts";
import { Denylist4 } from "../../src/addr/denylist.ts";
import { type EamEntry, EamTable } from "../../src/addr/eam.ts";
import { AddressMapper, dropOf64, NO_DENYLIST, NO_EAM } from "../../src/addr/mapper.ts";
import { isGlobal4 } from "../../src/addr/special.ts";
import { DROP } from "../../src/xlat/stats.ts";

const LENGTHS = [32, 40, 48, 56, 64, 96];
const v4 = fc.integer({ min: 0, max: 0xffffffff });

/** Random RFC 6052 prefix (u-octet zero), sometimes the WKP itself. */
const pool6 = fc.oneof(
  fc.tuple(fc.constantFrom(...LENGTHS), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(
    ([len, raw]) => {
      const a = new Uint8Array(16);
      a.set(raw.subarray(0, len >> 3));
      a[8] = 0;
      return prefix6(a, len);
    },
  ),
  fc.constant(
    prefix6(new Uint8Array([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 96),
  ),
);

Deno.test("RFC 6052 round trip through the mapper: map6to4(map4to6(v4)) === v4 unless dropped alike", () => {
  const deny = new Denylist4();
  fc.assert(
    fc.property(pool6, v4, fc.boolean(), (p, a, strict) => {
      const m = new AddressMapper(p, new EamTable(), deny, strict);
      const out = new Uint8Array(16);
      const r46 = m.map4to6(a, out, 0, true);
      const wkp = p.len === 96 && p.addr[1] === 0x64 && p.addr[2] === 0xff && p.addr[3] === 0x9b &&
        p.addr.subarray(4, 12).every((b) => b === 0) && p.addr[0] === 0;
      const expect = deny.has(a)
        ? DROP.denylisted
        : strict && wkp && !isGlobal4(a)
        ? DROP.wkp_non_global
        : 0;
      assert.equal(r46, expect);
      if (r46 === 0) assert.equal(m.map6to4(out, 0, true), a);
    }),
    { numRuns: 3000 },
  );
});

/** Non-overlapping EAM entries of random lengths, with pool6 in a different /16. */
const eamEntries = fc.array(
  fc.record({
    len4: fc.integer({ min: 0, max: 32 }),
    pick6: fc.nat(),
    a4: v4,
    a6: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  }),
  { minLength: 1, maxLength: 25 },
).map((rs) => {
  const kept: EamEntry[] = [];
  for (const { len4, pick6, a4, a6 } of rs) {
    const len6 = 16 + (pick6 % (96 + len4 - 16 + 1));
    const raw = new Uint8Array(16);
    raw.set(a6);
    raw[0] = 0x20, raw[1] = 0x01; // 2001::/16, never the pool6 below
    for (let bit = len6; bit < 128; bit++) raw[bit >> 3] &= ~(0x80 >> (bit & 7));
    const e = { ipv4: prefix4((a4 & mask4(len4)) >>> 0, len4), ipv6: prefix6(raw, len6) };
    try {
      new EamTable([...kept, e], { rejectOverlap: true });
      kept.push(e);
    } catch { /* overlaps an earlier entry */ }
  }
  return kept;
});

Deno.test("RFC 7757 round trip through the mapper: EAM addresses map 4->6->4 exactly", () => {
  const p = prefix6(new Uint8Array([0xfd, 0, 0, 0x64, ...new Array(12).fill(0)]), 96);
  fc.assert(
    fc.property(
      eamEntries,
      fc.array(fc.tuple(fc.nat(), v4), { minLength: 1, maxLength: 10 }),
      (es, probes) => {
        const m = new AddressMapper(p, new EamTable(es));
        const out = new Uint8Array(16);
        for (const [which, r] of probes) {
          const e = es[which % es.length];
          const a = (e.ipv4.addr | (r & ~mask4(e.ipv4.len))) >>> 0;
          assert.equal(m.map4to6(a, out, 0, false), 0);
          assert.equal(m.map6to4(out, 0, false), a);
          // The same address with EAM skipped goes through pool6 and back.
          if (m.map4to6(a, out, 0, true, NO_EAM | NO_DENYLIST) === 0) {
            assert.equal(m.map6to4(out, 0, true, NO_EAM | NO_DENYLIST), a);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("mapper on random inputs never throws and keeps its result conventions", () => {
  const reasons = new Set<number>([
    DROP.untranslatable_src,
    DROP.untranslatable_dst,
    DROP.denylisted,
    DROP.wkp_non_global,
  ]);
  fc.assert(
    fc.property(
      fc.option(pool6),
      eamEntries,
      fc.uint8Array({ minLength: 16, maxLength: 48 }),
      v4,
      fc.boolean(),
      fc.integer({ min: 0, max: 15 }),
      fc.constantFrom("off", "simple", "intrinsic") as fc.Arbitrary<"off" | "simple" | "intrinsic">,
      (p, es, bytes, a, isSrc, flags, mode) => {
        const m = new AddressMapper(p, new EamTable(es), new Denylist4(), true, mode);
        const off = bytes.length - 16;
        const r64 = m.map6to4(bytes, off, isSrc, flags);
        assert.ok(Number.isInteger(r64));
        if (r64 < 0) assert.ok(reasons.has(dropOf64(r64)));
        else assert.ok(r64 <= 0xffffffff);
        const out = new Uint8Array(16);
        const r46 = m.map4to6(a, out, 0, isSrc, flags);
        assert.ok(r46 === 0 || reasons.has(r46));
        assert.equal(typeof m.isHairpin64(bytes, off), "boolean");
        m.v6to4(bytes, off, isSrc, flags);
        m.v4to6(a, out, 0, isSrc, flags);
      },
    ),
    { numRuns: 1000 },
  );
});
