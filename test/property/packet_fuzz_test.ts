// Fuzz: random and mutated bytes never make a parser throw or read out of bounds; they
// return 0 or a drop reason, and a 0 comes with offsets inside the buffer.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  fragment6,
  icmp4Error,
  icmp6Echo,
  tcp4,
  tcp6,
  truncate,
  udp4,
  udp6,
} from "../../src/packet/build.ts";
import { describe } from "../../src/packet/describe.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import { validateL4, verifyL4Checksum4, verifyL4Checksum6 } from "../../src/packet/l4.ts";
import { PcapError, readPcap, writePcap } from "../../src/packet/pcap.ts";
import { DROP_REASONS } from "../../src/xlat/stats.ts";

const o4 = new Ipv4Info();
const o6 = new Ipv6Info();
let accepted = 0;

function isReason(r: number): boolean {
  return Number.isInteger(r) && r >= 0 && r <= DROP_REASONS.length; // 0: pass; DROP codes are 1-based
}

/** Parse `b` at `off` every way the translator might, checking the invariants. */
function exercise(b: Uint8Array, off: number, len: number): void {
  assert.equal(typeof describe(b.subarray(off, off + len)), "string");
  for (const inner of [false, true]) {
    const r4 = parseIpv4(b, len, o4, off, inner);
    assert.ok(isReason(r4), `parseIpv4 returned ${r4}`);
    if (r4 === 0) {
      accepted++;
      assert.ok(o4.l4Off >= off + 20 && o4.l4Len >= 0 && o4.l4Off + o4.l4Len <= off + len);
      if (!o4.isFragment) assert.ok(isReason(validateL4(b, o4.l4Off, o4.l4Len, o4.proto, true)));
      assert.ok(isReason(verifyL4Checksum4(b, o4)));
    }
    const r6 = parseIpv6(b, len, o6, off, inner);
    assert.ok(isReason(r6), `parseIpv6 returned ${r6}`);
    if (r6 === 0) {
      accepted++;
      assert.ok(o6.l4Off >= off + 40 && o6.l4Len >= 0 && o6.l4Off + o6.l4Len <= off + len);
      assert.ok(o6.protoFieldOff < o6.l4Off);
      assert.equal(o6.extLen, o6.l4Off - off - 40);
      if (o6.fragOff >= 0) assert.ok(o6.fragOff + 8 <= o6.l4Off);
      if (o6.routingOff >= 0) assert.ok(o6.routingOff + 8 <= o6.l4Off);
      if (!o6.isLaterFragment) {
        assert.ok(isReason(validateL4(b, o6.l4Off, o6.l4Len, o6.proto, !o6.isFragment)));
      }
      assert.ok(isReason(verifyL4Checksum6(b, o6)));
    }
  }
}

const seeds: Uint8Array[] = [
  udp4({ src: "192.0.2.1", dst: "198.51.100.2", sport: 1, dport: 53, payload: "query" }),
  tcp4({ src: "192.0.2.1", dst: "198.51.100.2", options: [1, 1, 1, 0], sport: 2, dport: 80 }),
  icmp4Error({
    src: "203.0.113.1",
    dst: "192.0.2.1",
    type: 3,
    code: 4,
    rest: 1280,
    inner: truncate(
      udp4({ src: "192.0.2.1", dst: "1.2.3.4", sport: 1, dport: 2, payload: "x".repeat(60) }),
      48,
    ),
  }),
  udp6({
    src: "2001:db8::1",
    dst: "64:ff9b::1",
    ext: [{ type: "hbh" }, { type: "dst" }, { type: "routing", addresses: ["2001:db8::2"] }, {
      type: "frag",
    }],
    sport: 1,
    dport: 2,
    payload: "abc",
  }),
  tcp6({ src: "2001:db8::1", dst: "64:ff9b::1", sport: 3, dport: 443, payload: "hello" }),
  icmp6Echo({ src: "2001:db8::1", dst: "64:ff9b::1", ext: [{ type: "dst", options: [1, 0] }] }),
  ...fragment6(
    udp6({ src: "::1", dst: "::2", sport: 1, dport: 2, payload: new Uint8Array(1400) }),
    1280,
    9,
  ),
];

// A mutation: overwrite some bytes, optionally truncate, optionally embed at an offset.
const mutated = fc.record({
  seed: fc.integer({ min: 0, max: seeds.length - 1 }),
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  off: fc.integer({ min: 0, max: 8 }),
});

Deno.test("fuzz: 12,000 random byte arrays (half with a forced IP version) never throw", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 160 }),
      fc.constantFrom(-1, 4, 6),
      fc.integer({ min: 0, max: 4 }),
      (raw, version, off) => {
        const b = new Uint8Array(raw.length + off);
        b.set(raw, off);
        if (version > 0 && raw.length > 0) b[off] = (version << 4) | (b[off] & 15);
        exercise(b, off, raw.length);
      },
    ),
    { numRuns: 12_000 },
  );
});

Deno.test("fuzz: 12,000 mutated valid packets never throw", () => {
  const before = accepted;
  fc.assert(
    fc.property(mutated, ({ seed, edits, cut, off }) => {
      const s = seeds[seed];
      const b = new Uint8Array(s.length + off);
      b.set(s, off);
      for (const [pos, v] of edits) b[off + (pos % s.length)] = v;
      const len = cut === undefined ? s.length : cut % (s.length + 1);
      exercise(b, off, len);
    }),
    { numRuns: 12_000 },
  );
  // The corpus must reach the deep paths, not just bounce off the version check.
  assert.ok(accepted - before > 3_000, `only ${accepted - before} parses succeeded`);
});

Deno.test("fuzz: mutated pcap files either read or throw PcapError, nothing else", () => {
  const file = writePcap(seeds.map((data, i) => ({ data, tsNs: i * 1e6 })));
  let errors = 0;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.option(fc.nat(), { nil: undefined }),
      (edits, cut) => {
        const b = file.slice(0, cut === undefined ? file.length : cut % (file.length + 1));
        for (const [pos, v] of edits) if (b.length) b[pos % b.length] = v;
        try {
          for (const p of readPcap(b)) exercise(p.data, 0, p.data.length);
        } catch (e) {
          if (!(e instanceof PcapError)) throw e;
          assert.ok(e.offset >= 0 && e.offset <= b.length);
          errors++;
        }
      },
    ),
    { numRuns: 3_000 },
  );
  assert.ok(errors > 0);
});
