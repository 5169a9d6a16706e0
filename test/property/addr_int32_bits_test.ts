// The translator hands IPv4 addresses to the mapper as int32 bits (`v4 | 0`) so that V8
// never boxes them; every consumer must treat those exactly like the uint32 form.
import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { AddressMapper } from "../../src/addr/mapper.ts";
import { Denylist4 } from "../../src/addr/denylist.ts";
import { EamTable } from "../../src/addr/eam.ts";

const eam = new EamTable([
  { ipv4: parsePrefix4("192.0.2.0/24"), ipv6: parsePrefix6("2001:db8:e::/120") },
  { ipv4: parsePrefix4("203.0.113.128/25"), ipv6: parsePrefix6("2001:db8:f::/64") },
  { ipv4: parsePrefix4("198.51.100.9/32"), ipv6: parsePrefix6("2001:db8:9::9/128") },
]);
const deny = new Denylist4([parsePrefix4("240.0.0.0/5"), parsePrefix4("10.0.0.0/8")]);
const mapper = new AddressMapper(parsePrefix6("64:ff9b::/96"), eam, deny, true, "intrinsic");

// Addresses near the EAM prefixes and the sign bit, plus anything.
const v4s = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0xc0000200, max: 0xc00002ff }),
  fc.integer({ min: 0xcb007100, max: 0xcb0071ff }),
  fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff, 0xf0000000, 0xc6336409),
);

Deno.test("map4to6, isEam4 and the denylist agree on uint32 and int32 forms", () => {
  fc.assert(
    fc.property(v4s, fc.integer({ min: 0, max: 15 }), (v4, flags) => {
      const a = new Uint8Array(16), b = new Uint8Array(16);
      const ra = mapper.map4to6(v4, a, 0, (flags & 1) !== 0, flags & 12);
      const viaA = mapper.via;
      const rb = mapper.map4to6(v4 | 0, b, 0, (flags & 1) !== 0, flags & 12);
      assert.equal(rb, ra);
      assert.equal(mapper.via, viaA);
      assert.deepEqual(b, a);
      assert.equal(mapper.isEam4(v4 | 0), mapper.isEam4(v4));
      assert.equal(deny.has(v4 | 0), deny.has(v4));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("map6to4 returns uint32 addresses (never int32 bits) from EAM and the prefix", () => {
  const b = new Uint8Array(16);
  fc.assert(
    fc.property(v4s, (v4) => {
      if (mapper.map4to6(v4, b, 0, false, 0) !== 0) return;
      assert.equal(mapper.map6to4(b, 0, false, 0), v4);
    }),
    { numRuns: 3000 },
  );
});
