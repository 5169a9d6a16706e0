// 100,000 random and mutated packets: the translator never fails internally and never
// emits a malformed packet (lengths, header and L4 checksums checked independently).
import assert from "node:assert/strict";
import fc from "fast-check";
import * as B from "../../src/packet/build.ts";
import { parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { checkPacket, Harness, refSum } from "../unit/xlat_helpers.ts";
import { DROP_REASONS } from "../../src/xlat/stats.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import { verifyL4Checksum4, verifyL4Checksum6 } from "../../src/packet/l4.ts";

const POOL6 = "2001:db8:46::";
const A4 = ["198.51.100.7", "192.0.2.33", "8.8.8.8", "10.0.0.1"];
const A6 = [POOL6 + "c633:6407", POOL6 + "c000:221", POOL6 + "808:808", "2001:db8:e::1", "fe80::1"];

/** Valid seeds of every kind the translator handles, both families. */
function seeds(): Uint8Array[] {
  const s: Uint8Array[] = [];
  const pl = new Uint8Array(40).map((_, i) => i);
  for (const src of A4.slice(0, 2)) {
    const dst = src === A4[0] ? A4[1] : A4[0];
    s.push(B.udp4({ src, dst, sport: 1, dport: 2, payload: pl }));
    s.push(B.tcp4({ src, dst, sport: 1, dport: 2, payload: pl, options: [1, 1, 1, 0] }));
    s.push(B.icmp4Echo({ src, dst, payload: pl }));
    s.push(
      ...B.fragment4(B.udp4({ src, dst, sport: 1, dport: 2, payload: new Uint8Array(300) }), 100),
    );
    s.push(B.udp4({ src, dst, df: false, sport: 1, dport: 2, payload: new Uint8Array(1400) }));
    const inner = B.udp4({ src: dst, dst: src, sport: 2, dport: 1, payload: pl });
    for (
      const [t, c, r] of [[3, 3, 0], [3, 4, 1400], [3, 4, 0], [11, 0, 0], [12, 0, 8 << 24], [
        3,
        2,
        0,
      ]]
    ) {
      s.push(B.icmp4Error({ src: "203.0.113.1", dst, type: t, code: c, rest: r, inner }));
    }
    s.push(
      B.icmp4Error({
        src: "203.0.113.1",
        dst,
        type: 11,
        code: 0,
        rest: 32 << 16,
        inner: new Uint8Array([
          ...B.truncate(inner, 128),
          ...new Uint8Array(128 - Math.min(128, inner.length)),
          0x20,
          0,
          0,
          0,
          0,
          8,
          1,
          1,
          0,
          0,
          0,
          1,
        ]),
      }),
    );
  }
  for (const src of A6.slice(0, 2)) {
    const dst = src === A6[0] ? A6[1] : A6[0];
    s.push(B.udp6({ src, dst, sport: 1, dport: 2, payload: pl }));
    s.push(B.tcp6({ src, dst, sport: 1, dport: 2, payload: pl }));
    s.push(B.icmp6Echo({ src, dst, payload: pl }));
    s.push(
      B.udp6({
        src,
        dst,
        ext: [{ type: "hbh" }, { type: "dst" }],
        sport: 1,
        dport: 2,
        payload: pl,
      }),
    );
    s.push(
      B.udp6({
        src,
        dst,
        ext: [{ type: "routing", segmentsLeft: 1, addresses: [dst] }],
        sport: 1,
        dport: 2,
      }),
    );
    s.push(
      ...B.fragment6(
        B.udp6({ src, dst, sport: 1, dport: 2, payload: new Uint8Array(300) }),
        120,
        9,
      ),
    );
    const inner = B.udp6({ src: dst, dst: src, sport: 2, dport: 1, payload: pl });
    for (const [t, c, r] of [[1, 4, 0], [2, 0, 1400], [3, 0, 0], [4, 0, 7], [4, 1, 0]]) {
      s.push(B.icmp6Error({ src: "2001:db8:aaaa::1", dst, type: t, code: c, rest: r, inner }));
    }
  }
  return s;
}

/** Makes a mutated IPv4 header pass its checksum, so mutations reach deeper steps. */
function fixIpv4Checksum(p: Uint8Array) {
  if (p.length < 20 || p[0] >> 4 !== 4) return;
  const hl = (p[0] & 15) * 4;
  if (hl < 20 || hl > p.length) return;
  p[10] = p[11] = 0;
  const c = ~refSum(p, 0, hl) & 0xffff;
  p[10] = c >> 8;
  p[11] = c & 255;
}

const SEEDS = seeds();
const mutation = fc.record({
  seed: fc.nat({ max: SEEDS.length - 1 }),
  edits: fc.array(fc.tuple(fc.nat({ max: 1500 }), fc.integer({ min: 0, max: 255 })), {
    maxLength: 6,
  }),
  cut: fc.option(fc.nat({ max: 1500 }), { nil: undefined }),
  fix: fc.boolean(),
});

function assertClean(h: Harness) {
  const internal = h.stats.drops("internal_error", false) + h.stats.drops("internal_error", true);
  assert.equal(internal, 0);
}

const i4 = new Ipv4Info();
const i6 = new Ipv6Info();

/** Was the input's L4 checksum valid (or not checkable)? Incremental updates (RFC 1624)
 *  carry a wrong checksum through unchanged, so only then must the output's be right. */
function inputL4Valid(p: Uint8Array): boolean {
  if (p[0] >> 4 === 4) return parseIpv4(p, p.length, i4) !== 0 || verifyL4Checksum4(p, i4) === 0;
  return parseIpv6(p, p.length, i6) !== 0 || verifyL4Checksum6(p, i6) === 0;
}

function check(h: Harness, pkt: Uint8Array) {
  const valid = inputL4Valid(pkt);
  for (const p of h.run(pkt)) {
    const e = checkPacket(p);
    if (e !== null && !(!valid && /^(L4 checksum|ICMPv4 checksum)/.test(e))) {
      throw new Error(`${e}: in ${[...pkt].join(",")} out ${[...p].join(",")}`);
    }
  }
}

Deno.test("property: 50,000 mutated valid packets never break the translator or yield malformed output", () => {
  const eam = [{ ipv4: parsePrefix4("192.0.2.0/28"), ipv6: parsePrefix6("2001:db8:e::/124") }];
  const h = new Harness({ pool6: parsePrefix6(POOL6 + "/96"), eam, amendUdpChecksumZero: true });
  fc.assert(
    fc.property(mutation, ({ seed, edits, cut, fix }) => {
      const p = SEEDS[seed].slice(0, cut === undefined ? undefined : Math.max(1, cut));
      for (const [at, v] of edits) if (at < p.length) p[at] = v;
      if (fix) fixIpv4Checksum(p);
      check(h, p);
    }),
    { numRuns: 50_000 },
  );
  assertClean(h);
  let drops = 0;
  for (const r of DROP_REASONS) drops += h.stats.drops(r, false) + h.stats.drops(r, true);
  assert.ok(drops > 0, "mutations must be rejected somewhere");
});

Deno.test("property: 50,000 random byte strings (IPv4/IPv6 version nibble) never break the translator", () => {
  const h = new Harness({ pool6: parsePrefix6(POOL6 + "/96") });
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.constantFrom(0x45, 0x46, 0x60, 0x4f),
      fc.boolean(),
      (p, first, fix) => {
        p[0] = first;
        if (p.length >= 4 && p[0] >> 4 === 4 && fix) {
          p[2] = p.length >> 8;
          p[3] = p.length & 255;
          fixIpv4Checksum(p);
        } else if (p.length >= 6 && p[0] >> 4 === 6 && fix) {
          p[4] = (p.length - 40) >> 8;
          p[5] = (p.length - 40) & 255;
        }
        check(h, p);
      },
    ),
    { numRuns: 50_000 },
  );
  assertClean(h);
});
