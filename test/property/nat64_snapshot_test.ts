// Snapshot parsing is fed random and mutated bytes: it accepts them or throws
// SnapshotError, never anything else, and what it accepts restores without throwing.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as build from "../../src/packet/build.ts";
import { parseSnapshot, restoreTables, SnapshotError } from "../../src/nat64/snapshot.ts";
import { Nat64Harness, p6 } from "../unit/nat64_engine_helpers.ts";

function fnv1a(b: Uint8Array, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

Deno.test("snapshot fuzz: parse accepts or throws SnapshotError; accepted input restores", () => {
  const h = new Nat64Harness();
  for (let i = 0; i < 5; i++) {
    h.run(
      build.udp6({ src: `2001:db8:a::${i + 1}`, dst: p6("20.0.0.1"), sport: 1000 + i, dport: 53 }),
      0,
    );
  }
  const good = h.e.snapshot(10);
  assert.equal(parseSnapshot(good).bibs.length, 5);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }).map(
          (m) => {
            const b = good.slice();
            for (const [i, v] of m) b[i % b.length] = v;
            return b;
          },
        ),
        // Mutated past the header with a valid checksum: exercises restore on odd entries.
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        })
          .map((m) => {
            const b = good.slice();
            for (const [i, v] of m) b[16 + (i % (b.length - 20))] = v;
            new DataView(b.buffer).setUint32(b.length - 4, fnv1a(b, b.length - 4));
            return b;
          }),
      ),
      (bytes) => {
        try {
          const snap = parseSnapshot(bytes);
          const fresh = new Nat64Harness();
          restoreTables(fresh.e.tables, snap, 0);
        } catch (e) {
          assert.ok(e instanceof SnapshotError, String(e));
        }
      },
    ),
    { numRuns: 2000 },
  );
});
