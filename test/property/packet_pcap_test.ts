// pcap round trip: what PcapWriter writes, PcapReader reads back unchanged, in every byte
// order and timestamp resolution.
import assert from "node:assert/strict";
import fc from "fast-check";
import { PcapReader, PcapWriter } from "../../src/packet/pcap.ts";

// Raw-IP records must start with version 4 or 6 to be read as IP.
const ipish = fc.tuple(fc.constantFrom(0x45, 0x60), fc.uint8Array({ maxLength: 1600 })).map((
  [v, rest],
) => Uint8Array.of(v, ...rest));
const stamp = fc.tuple(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0, max: 999_999 }),
  fc.integer({ min: 0, max: 999 }),
);

Deno.test("property: pcap write/read round trip (µs exact; ns within a double's precision)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(ipish, stamp), { maxLength: 20 }),
      fc.boolean(),
      fc.boolean(),
      (pkts, bigEndian, nanos) => {
        const w = new PcapWriter(undefined, { bigEndian, nanos });
        for (const [data, [sec, us, ns]] of pkts) {
          w.write(data, sec * 1e9 + us * 1000 + (nanos ? ns : 0));
        }
        const r = new PcapReader(w.bytes());
        const got = [...r];
        assert.equal(r.skipped, 0);
        assert.equal(got.length, pkts.length);
        got.forEach((p, i) => {
          const [data, [sec, us, ns]] = pkts[i];
          assert.deepEqual(p.data, data);
          assert.equal(p.origLen, data.length);
          if (!nanos) {
            // A double holds sec*1e9 + us*1000 to within 512 ns: rounding to µs is exact.
            assert.equal(p.tsSec, sec);
            assert.equal(p.tsNsFrac, us * 1000);
          } else {
            const err = (p.tsSec - sec) * 1e9 + p.tsNsFrac - (us * 1000 + ns);
            assert.ok(Math.abs(err) <= 512, `ns error ${err}`);
          }
        });
      },
    ),
    { numRuns: 200 },
  );
});
