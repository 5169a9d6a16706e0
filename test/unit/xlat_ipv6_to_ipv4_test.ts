// RFC 7915 section 5 (IPv6 -> IPv4), one test per requirement, quoting it.
import assert from "node:assert/strict";
import * as B from "../../src/packet/build.ts";
import { formatIPv4, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { checkPacket, Harness, one } from "./xlat_helpers.ts";
import { SLOT } from "../../src/xlat/stats.ts";

const H6 = "2001:db8:46::c633:6407"; // an IPv4 host (198.51.100.7) as IPv6 sees it
const S6 = "2001:db8:46::c000:221"; // our IPv6 node, 192.0.2.33 via pool6
const H4 = "198.51.100.7";
const S4 = "192.0.2.33";

const u16 = (p: Uint8Array, o: number) => (p[o] << 8) | p[o + 1];
const src4 = (p: Uint8Array) =>
  formatIPv4(((p[12] << 24) | (p[13] << 16) | (p[14] << 8) | p[15]) >>> 0);
const dst4 = (p: Uint8Array) =>
  formatIPv4(((p[16] << 24) | (p[17] << 16) | (p[18] << 8) | p[19]) >>> 0);

Deno.test("RFC 7915 5.1: IPv4 header fields (Version 4, IHL 5, TOS = Traffic Class, Total Length, TTL = Hop Limit - 1, Protocol, addresses)", () => {
  const h = new Harness();
  const p = one(
    h,
    B.udp6({
      src: S6,
      dst: H6,
      tc: 0x2e,
      hopLimit: 30,
      flowLabel: 0x12345,
      sport: 9,
      dport: 53,
      payload: "hello",
    }),
  );
  assert.equal(p[0], 0x45);
  assert.equal(p[1], 0x2e);
  assert.equal(u16(p, 2), 20 + 8 + 5);
  assert.equal(p[8], 29);
  assert.equal(p[9], 17);
  assert.equal(src4(p), S4);
  assert.equal(dst4(p), H4);
  assert.equal(u16(p, 6) & 0x4000, 0, "DF clear at <= 1260 bytes");
  assert.equal(h.stats.v[SLOT.in64Packets], 1);
  assert.equal(h.stats.v[SLOT.out64Bytes], p.length);
});

Deno.test("RFC 7915 5.1: 'the translator MAY provide the ability to ignore the IPv6 traffic class and always set the IPv4 TOS Octet to a specified value'", () => {
  const h = new Harness({ resetTos: true, newTos: 0x10 });
  assert.equal(one(h, B.udp6({ src: S6, dst: H6, tc: 0x2e, sport: 9, dport: 53 }))[1], 0x10);
});

Deno.test("RFC 7915 5.1: DF 'If the size of the translated IPv4 packet is less than or equal to 1260 bytes, it is set to zero; otherwise, it is set to one'", () => {
  const h = new Harness();
  const small = one(
    h,
    B.udp6({ src: S6, dst: H6, sport: 9, dport: 53, payload: new Uint8Array(1260 - 28) }),
  );
  assert.equal(small.length, 1260);
  assert.equal(u16(small, 6), 0);
  const big = one(
    h,
    B.udp6({ src: S6, dst: H6, sport: 9, dport: 53, payload: new Uint8Array(1261 - 28) }),
  );
  assert.equal(u16(big, 6), 0x4000);
});

Deno.test("RFC 7915 5.1: Hop Limit exhausted: ICMPv6 Time Exceeded (Hop Limit Exceeded in Transit) back to the source", () => {
  const h = new Harness();
  const pkt = B.udp6({ src: S6, dst: H6, hopLimit: 1, sport: 9, dport: 53 });
  const out = h.run(pkt);
  assert.equal(out.length, 1);
  const e = out[0];
  assert.equal(checkPacket(e), null);
  assert.equal(e[0] >> 4, 6);
  assert.equal(e[40], 3);
  assert.equal(e[41], 0);
  assert.deepEqual([...e.subarray(24, 40)], [...pkt.subarray(8, 24)]);
  assert.deepEqual([...e.subarray(48)], [...pkt]);
  assert.equal(h.drops("ttl_exceeded", true), 1);
});

Deno.test("RFC 7915 5.1: Hop-by-Hop, Destination Options and Routing headers with Segments Left 0 'MUST be ignored' and the packet translated", () => {
  const h = new Harness();
  const p = one(
    h,
    B.udp6({
      src: S6,
      dst: H6,
      ext: [{ type: "hbh" }, { type: "dst" }, {
        type: "routing",
        segmentsLeft: 0,
        addresses: [H6],
      }],
      sport: 9,
      dport: 53,
      payload: "ext",
    }),
  );
  assert.equal(p[9], 17);
  assert.equal(u16(p, 2), 20 + 8 + 3);
  assert.equal(new TextDecoder().decode(p.subarray(28)), "ext");
});

Deno.test("RFC 7915 5.1: Routing header with non-zero Segments Left: 'MUST NOT be translated', Parameter Problem Code 0 'with the Pointer field indicating the first byte of the Segments Left field'", () => {
  const h = new Harness();
  const pkt = B.udp6({
    src: S6,
    dst: H6,
    ext: [{ type: "routing", segmentsLeft: 1, addresses: [H6] }],
    sport: 9,
    dport: 53,
  });
  const out = h.run(pkt);
  assert.equal(out.length, 1);
  assert.equal(out[0][40], 4);
  assert.equal(out[0][41], 0);
  assert.equal((u16(out[0], 44) << 16) | u16(out[0], 46), 40 + 3);
  assert.equal(h.drops("routing_header", true), 1);
});

Deno.test("RFC 7915 5.1.1: Fragment Header: 'Identification: Copied from the low-order 16 bits', MF from M, DF 0, Fragment Offset copied, Total Length without it", () => {
  const h = new Harness();
  const whole = B.udp6({
    src: S6,
    dst: H6,
    sport: 9,
    dport: 53,
    payload: new Uint8Array(200).fill(3),
  });
  const frags = B.fragment6(whole, 40 + 8 + 104, 0x1234abcd);
  assert.equal(frags.length, 2);
  const f0 = one(h, frags[0]);
  assert.equal(u16(f0, 4), 0xabcd);
  assert.equal(u16(f0, 6), 0x2000);
  assert.equal(u16(f0, 2), 20 + 104);
  assert.equal(f0[9], 17);
  const f1 = one(h, frags[1]);
  assert.equal(u16(f1, 6), 104 >> 3);
  assert.equal(u16(f1, 2), 20 + 208 - 104);
  // The IPv4 fragments reassemble into the datagram with a valid UDP checksum.
  const data = new Uint8Array([...f0.subarray(20), ...f1.subarray(20)]);
  const want = B.udp4({
    src: S4,
    dst: H4,
    sport: 9,
    dport: 53,
    payload: new Uint8Array(200).fill(3),
  });
  assert.deepEqual([...data], [...want.subarray(20)]);
});

Deno.test("RFC 7915 5.1: too big for the IPv4 next hop: ICMPv6 Packet Too Big with the IPv4 MTU plus 20", () => {
  const h = new Harness({ ipv4Mtu: 1400 });
  const out = h.run(
    B.udp6({ src: S6, dst: H6, sport: 9, dport: 53, payload: new Uint8Array(1400) }),
  );
  assert.equal(out.length, 1);
  assert.equal(out[0][40], 2);
  assert.equal((u16(out[0], 44) << 16) | u16(out[0], 46), 1420);
  assert.equal(h.drops("too_big", true), 1);
});

Deno.test("RFC 7915 5.2: 'Echo Request and Echo Reply (Type 128 and 129): Adjust the Type values to 8 and 0, ... and adjust the ICMP checksum ... to exclude the IPv6 pseudo-header'", () => {
  const h = new Harness();
  const p = one(h, B.icmp6Echo({ src: S6, dst: H6, ident: 0x77, seq: 1, payload: "pong" }));
  assert.equal(p[9], 1);
  assert.equal(p[20], 8);
  assert.equal(u16(p, 24), 0x77);
  assert.equal(one(h, B.icmp6Echo({ src: S6, dst: H6, reply: true }))[20], 0);
});

Deno.test("RFC 7915 5.2: MLD and Neighbor Discovery messages are 'single-hop ... silently drop'", () => {
  const h = new Harness();
  for (const t of [130, 131, 132, 133, 134, 135, 136, 137, 200]) {
    assert.equal(h.run(B.icmp6({ src: S6, dst: H6, type: t, body: new Uint8Array(16) })).length, 0);
  }
  assert.equal(h.drops("unsupported_icmp", true), 9);
});

Deno.test("RFC 7915 5.2: fragmented ICMPv6 is not translated", () => {
  const h = new Harness();
  const e = B.icmp6Echo({ src: S6, dst: H6, payload: new Uint8Array(300) });
  const frags = B.fragment6(e, 200);
  for (const f of frags) assert.equal(h.run(f).length, 0);
  assert.equal(h.drops("fragmented_icmp", true), frags.length);
});

Deno.test("RFC 7915 5.5: TCP and UDP checksums adjusted to the IPv4 pseudo-header", () => {
  const h = new Harness();
  one(h, B.tcp6({ src: S6, dst: H6, sport: 1, dport: 2, payload: "abc" }));
  one(h, B.udp6({ src: S6, dst: H6, sport: 1, dport: 2, payload: "abcd" }));
});

Deno.test("RFC 7915 5.1: untranslatable addresses are dropped with a reason", () => {
  const h = new Harness();
  assert.equal(h.run(B.udp6({ src: "2001:db8:99::1", dst: H6, sport: 1, dport: 2 })).length, 0);
  assert.equal(h.drops("untranslatable_src", true), 1);
  assert.equal(h.run(B.udp6({ src: S6, dst: "ff02::1", sport: 1, dport: 2 })).length, 0);
  assert.equal(h.drops("untranslatable_dst", true), 1);
});

// ---- 5.2/5.3: ICMPv6 errors ----

/** What our IPv4 host sent, as it reached the IPv6 side, quoted by an IPv6 router. */
const quoted = (ext = false) =>
  B.udp6({
    src: H6,
    dst: S6,
    hopLimit: 5,
    sport: 4000,
    dport: 33434,
    payload: new Uint8Array(40).fill(9),
    ext: ext ? [{ type: "frag", id: 5 }] : undefined,
  });

function err6(
  type: number,
  code: number,
  rest = 0,
  inner = quoted(),
  src = "2001:db8:46::cb00:7101",
): Uint8Array {
  return B.icmp6Error({ src, dst: H6, type, code, rest, inner });
}

function checkInner(p: Uint8Array) {
  const want = B.udp4({
    src: H4,
    dst: S4,
    ttl: 5,
    sport: 4000,
    dport: 33434,
    payload: new Uint8Array(40).fill(9),
  });
  const got = p.subarray(28);
  assert.equal(got.length, want.length);
  // Identification of the inner header is not recoverable; compare the rest.
  assert.deepEqual([...got.subarray(0, 4)], [...want.subarray(0, 4)]);
  assert.deepEqual([...got.subarray(8, 10)], [...want.subarray(8, 10)]);
  assert.deepEqual([...got.subarray(12)], [...want.subarray(12)]);
}

Deno.test("RFC 7915 5.2/5.3: Destination Unreachable Port Unreachable -> Type 3 Code 3 with the inner packet translated", () => {
  const p = one(new Harness(), err6(1, 4));
  assert.equal(p[20], 3);
  assert.equal(p[21], 3);
  assert.equal(src4(p), "203.0.113.1");
  assert.equal(dst4(p), H4);
  checkInner(p);
});

Deno.test("RFC 7915 5.2: Destination Unreachable codes: 0,2,3 -> Host Unreachable; 1 -> Code 10; 4 -> Port Unreachable; others dropped", () => {
  const h = new Harness();
  const codes: [number, number][] = [[0, 1], [1, 10], [2, 1], [3, 1], [4, 3]];
  for (const [c6, c4] of codes) assert.equal(one(h, err6(1, c6))[21], c4);
  assert.equal(h.run(err6(1, 5)).length, 0);
});

Deno.test("RFC 7915 5.2: Packet Too Big -> Fragmentation Needed, 'minimum(advertised MTU-20, MTU_of_IPv4_nexthop, (MTU_of_IPv6_nexthop)-20)', -28 with a Fragment Header", () => {
  const h = new Harness();
  const p = one(h, err6(2, 0, 1400));
  assert.equal(p[20], 3);
  assert.equal(p[21], 4);
  assert.equal(u16(p, 26), 1380);
  const q = one(h, err6(2, 0, 1400, quoted(true)));
  assert.equal(u16(q, 26), 1372);
});

Deno.test("RFC 7915 5.2: Time Exceeded: 'Set the Type to 11, and copy the Code field'", () => {
  const p = one(new Harness(), err6(3, 1));
  assert.equal(p[20], 11);
  assert.equal(p[21], 1);
  checkInner(p);
});

Deno.test("RFC 7915 5.2: Parameter Problem Code 0 -> Type 12 with the pointer per Figure 6; Code 1 -> Protocol Unreachable; Code 2 dropped", () => {
  const h = new Harness();
  const p = one(h, err6(4, 0, 7));
  assert.equal(p[20], 12);
  assert.equal(p[24], 8, "Hop Limit (7) -> TTL (8)");
  assert.equal(one(h, err6(4, 0, 30))[24], 16);
  assert.equal(h.run(err6(4, 0, 2)).length, 0, "Flow Label has no IPv4 counterpart");
  const q = one(h, err6(4, 1));
  assert.equal(q[20], 3);
  assert.equal(q[21], 2);
  assert.equal(h.run(err6(4, 2)).length, 0);
});

Deno.test("RFC 6791: an ICMPv6 error from a router without an IPv4 form takes its source from the RFC 6791 pool", () => {
  const h = new Harness({ rfc6791v4: parsePrefix4("192.0.0.8/32") });
  const p = one(h, err6(3, 0, 0, quoted(), "2001:db8:aaaa::1"));
  assert.equal(src4(p), "192.0.0.8");
  checkInner(p);
});

Deno.test("RFC 7915 5.3: an ICMPv6 error with a bad checksum is not translated", () => {
  const h = new Harness();
  const e = B.icmp6Error({
    src: "2001:db8:46::cb00:7101",
    dst: H6,
    type: 1,
    code: 4,
    inner: quoted(),
    checksum: "bad",
  });
  assert.equal(h.run(e).length, 0);
  assert.equal(h.drops("bad_checksum", true), 1);
});

Deno.test("RFC 4884: extensions after the original datagram survive 6->4 with the length in 32-bit words", () => {
  const inner = quoted(); // 88 bytes: padded to 128
  const padded = new Uint8Array(128);
  padded.set(inner);
  const ext = new Uint8Array([0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0, 42]);
  const e = B.icmp6({
    src: "2001:db8:46::cb00:7101",
    dst: H6,
    type: 3,
    code: 0,
    rest: (128 / 8) << 24,
    body: new Uint8Array([...padded, ...ext]),
  });
  const p = one(new Harness(), e);
  const len4 = p[25];
  assert.equal(len4 * 4, 128);
  assert.deepEqual([...p.subarray(28 + len4 * 4)], [...ext]);
});

Deno.test("RFC 7915 5.3: an ICMPv6 error quoting an ICMPv6 error is dropped", () => {
  const h = new Harness();
  const innerErr = B.icmp6Error({ src: H6, dst: S6, type: 1, code: 0, inner: quoted() });
  assert.equal(h.run(err6(1, 4, 0, innerErr)).length, 0);
  assert.equal(h.drops("unsupported_icmp", true), 1);
});

Deno.test("EAM (RFC 7757) addresses translate both ways", () => {
  const eam = [{ ipv4: parsePrefix4("192.0.2.0/24"), ipv6: parsePrefix6("2001:db8:e::/120") }];
  const h = new Harness({ eam });
  const p = one(h, B.udp6({ src: "2001:db8:e::5", dst: H6, sport: 1, dport: 2 }));
  assert.equal(src4(p), "192.0.2.5");
});

Deno.test("RFC 1812 4.3.2.3: a translated ICMPv4 error is cut to 576 bytes", () => {
  const inner = B.udp6({ src: H6, dst: S6, sport: 1, dport: 2, payload: new Uint8Array(1184) });
  const p = one(new Harness(), err6(1, 4, 0, inner));
  assert.equal(p.length, 576);
  assert.equal(u16(p, 28 + 2), 20 + 8 + 1184, "inner Total Length still tells the original size");
});
