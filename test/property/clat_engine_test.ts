// The CLAT's round trip: whatever an IPv4 client sends out, the answer to it (addresses
// and ports swapped on the IPv6 side) comes back to exactly that client, addresses and
// ports restored; and every emitted packet carries valid checksums.
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv4, parseIPv6, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { Clat } from "../../src/clat/engine.ts";
import type { ClatEngineOptions } from "../../src/clat/options.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import * as build from "../../src/packet/build.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { Stats } from "../../src/xlat/stats.ts";
import { options } from "../unit/xlat_helpers.ts";
import { read4, read6 } from "../unit/nat64_engine_helpers.ts";
import { nat64Section } from "../fixtures/options.ts";

const opts = (dedicated: boolean): ClatEngineOptions => ({
  ...options({ pool6: parsePrefix6("2001:db8:64::/96"), rfc6791v4: null, eamHairpinMode: "off" }),
  clat: {
    ipv4Address: 0xc0000001,
    translationPrefix: dedicated ? parsePrefix6("2001:db8:c1a7::/64") : null,
    ipv6Address: dedicated ? null : parseIPv6("2001:db8:a::c1a7"),
    lan4: [parsePrefix4("10.0.0.0/8")],
    nat44: nat64Section({ dropExternallyInitiatedTcp: true, maxHeldSyns: 0 }),
    mssClamp: 1440,
  },
});

const flow = fc.record({
  client: fc.integer({ min: 0x0a000001, max: 0x0afffffe }),
  server: fc.integer({ min: 0x01000001, max: 0x5fffffff }),
  sport: fc.integer({ min: 1, max: 65535 }),
  dport: fc.integer({ min: 1, max: 65535 }),
  tcp: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 64 }),
});

for (const dedicated of [true, false]) {
  Deno.test(`CLAT ${dedicated ? "dedicated" : "single"}: replies return to the client that sent (property)`, () => {
    const e = new Clat(opts(dedicated), new Stats(), { seed: 1 });
    const out = new PacketBatch(8);
    let now = 0;
    fc.assert(
      fc.property(flow, (f) => {
        const src = formatIPv4(f.client), dst = formatIPv4(f.server);
        const pkt = f.tcp
          ? build.tcp4({
            src,
            dst,
            sport: f.sport,
            dport: f.dport,
            flags: TCP_FLAG.SYN,
            payload: f.payload,
          })
          : build.udp4({ src, dst, sport: f.sport, dport: f.dport, payload: f.payload });
        out.clear();
        e.translate(pkt, pkt.length, out, now += 10);
        assert.equal(out.count, 1);
        const o6 = out.packets()[0];
        const s6 = read6(o6);
        assert.equal(s6.dport, f.dport);
        if (dedicated) assert.equal(s6.sport, f.sport, "stateless: port kept");
        const reply = f.tcp
          ? build.tcp6({
            src: o6.slice(24, 40),
            dst: o6.slice(8, 24),
            sport: f.dport,
            dport: s6.sport,
            flags: TCP_FLAG.SYN | TCP_FLAG.ACK,
          })
          : build.udp6({
            src: o6.slice(24, 40),
            dst: o6.slice(8, 24),
            sport: f.dport,
            dport: s6.sport,
          });
        out.clear();
        e.translate(reply, reply.length, out, now += 10);
        assert.equal(out.count, 1);
        const r = read4(out.packets()[0]);
        assert.equal(r.dst, src);
        assert.equal(r.src, dst);
        assert.equal(r.dport, f.sport);
        assert.equal(r.sport, f.dport);
      }),
      { numRuns: 300 },
    );
  });
}

Deno.test("CLAT: random and mutated bytes never throw and never leave the engine broken (fuzz)", () => {
  for (const dedicated of [true, false]) {
    const stats = new Stats();
    const e = new Clat(opts(dedicated), stats, { seed: 2 });
    const out = new PacketBatch(64);
    const seed = build.udp4({ src: "10.1.2.3", dst: "8.8.8.8", sport: 1, dport: 53, payload: "x" });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 200 }),
          fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), {
            maxLength: 4,
          }).map((m) => {
            const p = seed.slice();
            for (const [i, v] of m) p[i] = v;
            return p;
          }),
        ),
        (p) => {
          out.clear();
          e.translate(p, p.length, out, 0);
        },
      ),
      { numRuns: 500 },
    );
    assert.equal(stats.drops("internal_error", false) + stats.drops("internal_error", true), 0);
    out.clear();
    e.translate(seed, seed.length, out, 0);
    assert.equal(out.count, 1, "still translating");
  }
});
