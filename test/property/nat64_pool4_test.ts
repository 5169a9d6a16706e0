// Property tests of pool4 allocation and the BIB: every allocation is inside pool4, unique,
// keeps parity/range when the pool allows, and the indexes agree both ways.
import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePrefix4 } from "../../src/addr/ip.ts";
import { Nat64Tables } from "../../src/nat64/tables.ts";
import { P_ICMP, type ProtoIndex } from "../../src/nat64/pool4.ts";

Deno.test("pool4 property: allocations are unique, in pool, parity- and range-preserving, findable both ways", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 65500 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 30, max: 32 }),
      fc.array(
        fc.tuple(
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 0, max: 65535 }),
          fc.constantFrom(0, 1, 2),
        ),
        { maxLength: 120 },
      ),
      (seed, min, span, plen, reqs) => {
        const max = Math.min(65535, min + span);
        const t = new Nat64Tables({
          pool4: [{
            prefix: parsePrefix4(`198.51.100.0/${plen}`),
            ports: { min, max },
            protocols: ["tcp", "udp", "icmp"],
          }],
          seed,
        });
        const cap = 2 ** (32 - plen) * (max - min + 1);
        const seen = new Set<number>();
        const made = [0, 0, 0];
        for (const [h, port, pr] of reqs) {
          const proto = pr as ProtoIndex;
          const a6 = new Uint8Array(16);
          a6[0] = 0x20, a6[1] = 0x01, a6[15] = h;
          if (t.findBib6(proto, a6, 0, port)) continue;
          const b = t.createBib6(proto, a6, 0, port, 0xcb007109, 80, 0);
          if (b === null) {
            assert.equal(made[proto], cap, "fails only when the pool is full");
            continue;
          }
          made[proto]++;
          assert.ok(b.port4 >= min && b.port4 <= max);
          assert.ok(b.addr4 >>> (32 - plen) === (0xc6336400 >>> (32 - plen)) || plen === 32);
          assert.ok(!seen.has(b.k4), "unique");
          seen.add(b.k4);
          assert.equal(t.findBib4(proto, b.addr4, b.port4), b);
          assert.equal(t.findBib6(proto, a6, 0, port), b);
          if (proto !== P_ICMP) {
            const lo = port < 1024 ? 0 : 1024, hi = port < 1024 ? 1023 : 65535;
            // Same-parity ports in the wanted range exist and are free: they must be used.
            const rangeOk = b.port4 >= lo && b.port4 <= hi && (b.port4 & 1) === (port & 1);
            const possible = Math.max(min, lo) <= Math.min(max, hi);
            if (possible && made[proto] === 1) {
              const a = Math.max(min, lo), z = Math.min(max, hi);
              const hasParity = a !== z || (a & 1) === (port & 1);
              if (hasParity) assert.ok(rangeOk, `port ${b.port4} for ${port}`);
            }
          }
        }
        assert.equal(t.bibCount, seen.size);
      },
    ),
    { numRuns: 200 },
  );
});
