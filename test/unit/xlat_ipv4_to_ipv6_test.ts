// RFC 7915 section 4 (IPv4 -> IPv6), one test per requirement, quoting it.
import assert from "node:assert/strict";
import * as B from "../../src/packet/build.ts";
import { formatIPv6, parseIPv4, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { checkPacket, Harness, one } from "./xlat_helpers.ts";
import { SLOT } from "../../src/xlat/stats.ts";

const H4 = "198.51.100.7"; // IPv4 host
const D4 = "192.0.2.33"; // IPv4 address of an IPv6 node, via pool6
const H6 = "2001:db8:46::c633:6407";
const D6 = "2001:db8:46::c000:221";

const src6 = (p: Uint8Array) => formatIPv6(p, 8);
const dst6 = (p: Uint8Array) => formatIPv6(p, 24);
const u16 = (p: Uint8Array, o: number) => (p[o] << 8) | p[o + 1];

Deno.test("RFC 7915 4.1: IPv6 header fields (Version 6, Traffic Class = TOS, Flow Label 0, Payload Length, Next Header, Hop Limit, addresses)", () => {
  const h = new Harness();
  const p = one(
    h,
    B.udp4({ src: H4, dst: D4, tos: 0xb8, ttl: 64, sport: 5, dport: 53, payload: "abcdef" }),
  );
  assert.equal(p[0] >> 4, 6);
  assert.equal(((p[0] & 15) << 4) | (p[1] >> 4), 0xb8);
  assert.equal(u16(p, 4), 8 + 6);
  assert.equal(p[6], 17);
  assert.equal(p[7], 63, "the translator is a router: it decrements");
  assert.equal(src6(p), H6);
  assert.equal(dst6(p), D6);
  assert.equal(new TextDecoder().decode(p.subarray(48)), "abcdef");
  assert.equal(h.stats.v[SLOT.in46Packets], 1);
  assert.equal(h.stats.v[SLOT.out46Packets], 1);
  assert.equal(h.stats.v[SLOT.out46Bytes], p.length);
});

Deno.test("RFC 7915 4.1: Traffic Class 'MAY ... provide the ability to ignore the IPv4 TOS and always set the IPv6 traffic class to zero'", () => {
  const h = new Harness({ resetTrafficClass: true });
  const p = one(h, B.udp4({ src: H4, dst: D4, tos: 0xb8, sport: 5, dport: 53 }));
  assert.equal(((p[0] & 15) << 4) | (p[1] >> 4), 0);
});

Deno.test("RFC 7915 4.1: TTL reaching zero: 'the translator ... MUST check for zero and send the ICMPv4 TTL Exceeded'", () => {
  const h = new Harness();
  const pkt = B.udp4({ src: H4, dst: D4, ttl: 1, sport: 5, dport: 53, payload: "x" });
  const out = h.run(pkt);
  assert.equal(out.length, 1);
  const e = out[0];
  assert.equal(checkPacket(e), null);
  assert.equal(e[0] >> 4, 4);
  assert.equal(e[9], 1);
  assert.equal(e[20], 11);
  assert.equal(e[21], 0);
  assert.deepEqual([...e.subarray(16, 20)], [198, 51, 100, 7]);
  assert.deepEqual([...e.subarray(28)], [...pkt], "the error quotes the original packet");
  assert.equal(h.drops("ttl_exceeded", false), 1);
  assert.equal(h.stats.v[SLOT.icmpErrorsSent], 1);
});

Deno.test("RFC 7915 4.1: 'If any IPv4 options are present ... they MUST be ignored and the packet translated normally'", () => {
  const h = new Harness();
  // Record Route (7), length 7, pointer 4, one empty slot; NOP padding.
  const p = one(
    h,
    B.udp4({
      src: H4,
      dst: D4,
      options: [7, 7, 4, 0, 0, 0, 0, 1],
      sport: 5,
      dport: 53,
      payload: "opt",
    }),
  );
  assert.equal(p[6], 17);
  assert.equal(u16(p, 4), 11);
  assert.equal(new TextDecoder().decode(p.subarray(48)), "opt");
});

Deno.test("RFC 7915 4.1: unexpired source route: 'the packet MUST instead be discarded, and an ICMPv4 Destination Unreachable, Source Route Failed (Type 3, Code 5) ... SHOULD be returned'", () => {
  const h = new Harness();
  // LSRR (131), length 7, pointer 4 (one address still to visit), then End of Options.
  const pkt = B.udp4({
    src: H4,
    dst: D4,
    options: [131, 7, 4, 10, 0, 0, 1, 0],
    sport: 5,
    dport: 53,
  });
  const out = h.run(pkt);
  assert.equal(out.length, 1);
  assert.equal(out[0][20], 3);
  assert.equal(out[0][21], 5);
  assert.equal(h.drops("source_route", false), 1);
  // Expired (pointer past the end): translated normally.
  const h2 = new Harness();
  one(h2, B.udp4({ src: H4, dst: D4, options: [131, 7, 8, 10, 0, 0, 1, 0], sport: 5, dport: 53 }));
});

Deno.test("RFC 7915 4.1: Fragment Header for a fragment: Identification 'low-order 16 bits set from the Identification field in the IPv4 header', offset and M copied", () => {
  const h = new Harness();
  const whole = B.udp4({
    src: H4,
    dst: D4,
    id: 0xbeef,
    sport: 5,
    dport: 53,
    payload: new Uint8Array(100),
  });
  const frags = B.fragment4(whole, 20 + 64);
  assert.equal(frags.length, 2);
  const f0 = one(h, frags[0]);
  assert.equal(f0[6], 44);
  assert.equal(f0[40], 17);
  assert.equal(u16(f0, 42), 0 | 1);
  assert.equal(u16(f0, 44), 0);
  assert.equal(u16(f0, 46), 0xbeef);
  const f1 = one(h, frags[1]);
  assert.equal(u16(f1, 42), 64);
  assert.equal(u16(f1, 4), 8 + whole.length - 20 - 64);
});

Deno.test("RFC 7915 4.1: DF clear and larger than the lowest IPv6 MTU: 'the packet SHOULD be fragmented so the resulting IPv6 packet (with Fragment Header added to each fragment) will be less than or equal to' it", () => {
  const h = new Harness({ lowestIpv6Mtu: 1280 });
  const payload = new Uint8Array(1400).map((_, i) => i & 255);
  const pkt = B.udp4({ src: H4, dst: D4, df: false, id: 77, sport: 5, dport: 53, payload });
  const out = h.run(pkt);
  assert.equal(out.length, 2);
  const data: number[] = [];
  for (const f of out) {
    assert.ok(f.length <= 1280);
    assert.equal(checkPacket(f), null);
    assert.equal(f[6], 44);
    assert.equal(u16(f, 46), 77);
    assert.equal(u16(f, 42) & 0xfff8, data.length);
    data.push(...f.subarray(48));
  }
  assert.equal(u16(out[0], 42) & 1, 1);
  assert.equal(u16(out[1], 42) & 1, 0);
  // Reassembled: UDP header + payload with a checksum valid for the IPv6 pseudo-header.
  const re = B.udp6({ src: H6, dst: D6, sport: 5, dport: 53, payload });
  assert.deepEqual(data, [...re.subarray(40)]);
  assert.equal(h.stats.v[SLOT.out46Packets], 2);
});

Deno.test("RFC 7915 4.1/6: DF set and too big for the IPv6 next hop: ICMPv4 Fragmentation Needed with MTU minus 20", () => {
  const h = new Harness({ ipv6Mtu: 1400 });
  const out = h.run(
    B.udp4({ src: H4, dst: D4, df: true, sport: 5, dport: 53, payload: new Uint8Array(1400) }),
  );
  assert.equal(out.length, 1);
  assert.equal(out[0][20], 3);
  assert.equal(out[0][21], 4);
  assert.equal(u16(out[0], 26), 1380);
  assert.equal(h.drops("too_big", false), 1);
  // DF set, bigger than lowest-ipv6-mtu but within ipv6Mtu: sent whole (PMTUD works).
  const p = one(
    h,
    B.udp4({ src: H4, dst: D4, df: true, sport: 5, dport: 53, payload: new Uint8Array(1300) }),
  );
  assert.equal(p[6], 17);
});

Deno.test("RFC 7915 4.2: 'Echo Request and Echo Reply (Type 8 and Type 0): Adjust the Type values to 128 and 129 ... and adjust the ICMP checksum ... to include the IPv6 pseudo-header'", () => {
  const h = new Harness();
  const p = one(h, B.icmp4Echo({ src: H4, dst: D4, ident: 9, seq: 3, payload: "ping" }));
  assert.equal(p[6], 58);
  assert.equal(p[40], 128);
  assert.equal(u16(p, 44), 9);
  assert.equal(u16(p, 46), 3);
  const r = one(h, B.icmp4Echo({ src: H4, dst: D4, reply: true, ident: 9, seq: 3 }));
  assert.equal(r[40], 129);
});

Deno.test("RFC 7915 4.2: Information/Timestamp/Address Mask/Router messages: 'Obsoleted in ICMPv6. Silently drop.'", () => {
  const h = new Harness();
  for (const t of [13, 14, 15, 16, 17, 18, 9, 10]) {
    assert.equal(h.run(B.icmp4({ src: H4, dst: D4, type: t, body: new Uint8Array(12) })).length, 0);
  }
  assert.equal(h.drops("unsupported_icmp", false), 8);
});

Deno.test("RFC 7915 4.2: IGMP messages 'SHOULD be silently dropped by the translator'", () => {
  const h = new Harness();
  assert.equal(h.run(B.ipv4({ src: H4, dst: D4, proto: 2, payload: new Uint8Array(8) })).length, 0);
  assert.equal(h.drops("unsupported_protocol", false), 1);
});

Deno.test("RFC 7915 4.1: other transport protocols are forwarded ('translators MUST forward all transport protocols')", () => {
  const h = new Harness();
  const p = one(h, B.ipv4({ src: H4, dst: D4, proto: 132, payload: "sctp-ish" }));
  assert.equal(p[6], 132);
  assert.equal(new TextDecoder().decode(p.subarray(40)), "sctp-ish");
});

Deno.test("RFC 7915 4.2: fragmented ICMP is not translated", () => {
  const h = new Harness();
  const echo = B.icmp4Echo({ src: H4, dst: D4, payload: new Uint8Array(200) });
  for (const f of B.fragment4(echo, 100)) assert.equal(h.run(f).length, 0);
  assert.equal(h.drops("fragmented_icmp", false), 3);
});

Deno.test("RFC 7915 4.5: UDP checksum updated for the IPv6 pseudo-header; TCP likewise", () => {
  const h = new Harness();
  one(h, B.tcp4({ src: H4, dst: D4, sport: 40000, dport: 443, payload: "GET /" }));
  one(h, B.udp4({ src: H4, dst: D4, sport: 40000, dport: 443, payload: "odd" }));
});

Deno.test("RFC 7915 4.5: zero UDP checksum: dropped unless amend-udp-checksum-zero, then computed; fragmented: 'SHOULD drop'", () => {
  const pkt = B.udp4({ src: H4, dst: D4, sport: 1, dport: 2, payload: "zz", checksum: "zero" });
  const h = new Harness();
  const refused = h.run(pkt);
  assert.equal(h.drops("udp_zero_checksum", false), 1);
  // RFC 7915 4.4: "Type of 3 (Destination Unreachable) and a Code of 13"
  assert.equal(refused.length, 1);
  assert.equal(refused[0][0] >> 4, 4);
  assert.equal(refused[0][20], 3);
  assert.equal(refused[0][21], 13);
  const h2 = new Harness({ amendUdpChecksumZero: true });
  const p = one(h2, pkt);
  assert.notEqual(u16(p, 46), 0);
  const big = B.udp4({
    src: H4,
    dst: D4,
    sport: 1,
    dport: 2,
    payload: new Uint8Array(100),
    checksum: "zero",
  });
  const f = B.fragment4(big, 60);
  assert.equal(h2.run(f[0])[0][21], 13);
  assert.equal(h2.drops("udp_zero_checksum", false), 1);
});

Deno.test("RFC 7915 4.1 / RFC 6052 3.1: untranslatable and denylisted addresses are dropped with a reason", () => {
  const h = new Harness({ pool6: parsePrefix6("64:ff9b::/96") });
  assert.equal(h.run(B.udp4({ src: "10.1.1.1", dst: "8.8.8.8", sport: 1, dport: 2 })).length, 0);
  assert.equal(h.drops("wkp_non_global", false), 1);
  const h2 = new Harness({ denylist4: [parsePrefix4("203.0.113.0/24")] });
  assert.equal(h2.run(B.udp4({ src: H4, dst: "203.0.113.9", sport: 1, dport: 2 })).length, 0);
  assert.equal(h2.drops("denylisted", false), 1);
  assert.equal(h2.run(B.udp4({ src: H4, dst: "224.0.0.5", sport: 1, dport: 2 })).length, 0);
  const h3 = new Harness({ pool6: null });
  assert.equal(h3.run(B.udp4({ src: H4, dst: D4, sport: 1, dport: 2 })).length, 0);
  assert.equal(h3.drops("untranslatable_src", false), 1);
});

Deno.test("RFC 7915 4.1: IPv4 header checksum errors and truncation are dropped", () => {
  const h = new Harness();
  assert.equal(
    h.run(B.udp4({ src: H4, dst: D4, sport: 1, dport: 2, ipChecksum: "bad" })).length,
    0,
  );
  assert.equal(h.drops("bad_checksum", false), 1);
  const p = B.udp4({ src: H4, dst: D4, sport: 1, dport: 2, payload: "12345" });
  assert.equal(h.run(p.slice(0, 25)).length, 0);
  assert.equal(h.drops("truncated", false), 1);
});

// ---- 4.2/4.3: ICMPv4 errors ----

/** The packet an IPv4 router quotes: what our IPv6 node D6 sent, as translated to IPv4. */
const quoted = () =>
  B.udp4({
    src: D4,
    dst: H4,
    ttl: 3,
    sport: 4000,
    dport: 33434,
    payload: new Uint8Array(32).fill(7),
  });

function err4(
  type: number,
  code: number,
  rest = 0,
  inner = quoted(),
  src = "203.0.113.1",
): Uint8Array {
  return B.icmp4Error({ src, dst: D4, type, code, rest, inner });
}

function checkInner(p: Uint8Array) {
  // Inner IPv6 packet: addresses translated, UDP checksum right for them.
  const i = new Ipv6Info();
  const r = parseIpv6(p, p.length - 48, i, 48, true);
  assert.equal(r, 0);
  assert.equal(formatIPv6(p, 56), D6);
  assert.equal(formatIPv6(p, 72), H6);
  assert.equal(p[48 + 6], 17);
  assert.equal(p[48 + 7], 3, "inner hop limit is not decremented");
  const want = B.udp6({
    src: D6,
    dst: H6,
    hopLimit: 3,
    sport: 4000,
    dport: 33434,
    payload: new Uint8Array(32).fill(7),
  });
  assert.deepEqual([...p.subarray(48)], [...want]);
}

Deno.test("RFC 7915 4.2/4.3: Destination Unreachable Port Unreachable -> Type 1 Code 4, inner packet translated, checksum over the new message", () => {
  const h = new Harness();
  const p = one(h, err4(3, 3));
  assert.equal(p[40], 1);
  assert.equal(p[41], 4);
  assert.equal(src6(p), "2001:db8:46::cb00:7101");
  checkInner(p);
});

Deno.test("RFC 7915 4.2: Time Exceeded: 'Set the Type to 3, and copy the Code field'", () => {
  const p = one(new Harness(), err4(11, 1));
  assert.equal(p[40], 3);
  assert.equal(p[41], 1);
  checkInner(p);
});

Deno.test("RFC 7915 4.2: Protocol Unreachable -> Parameter Problem Code 1, 'Make the Pointer point to the IPv6 Next Header field'", () => {
  const p = one(new Harness(), err4(3, 2));
  assert.equal(p[40], 4);
  assert.equal(p[41], 1);
  assert.equal(u16(p, 46), 6);
});

Deno.test("RFC 7915 4.2: Fragmentation Needed -> Packet Too Big, 'minimum(advertised MTU+20, MTU_of_IPv6_nexthop, (MTU_of_IPv4_nexthop)+20)'", () => {
  const p = one(new Harness(), err4(3, 4, 1400));
  assert.equal(p[40], 2);
  assert.equal(p[41], 0);
  assert.equal((u16(p, 44) << 16) | u16(p, 46), 1420);
  const h = new Harness({ ipv6Mtu: 1300 });
  assert.equal(u16(one(h, err4(3, 4, 1400)), 46), 1300);
});

Deno.test("RFC 7915 4.2: MTU 0 from a pre-RFC 1191 router: 'the translator MUST use the plateau values specified in [RFC1191]'", () => {
  const inner = B.udp4({ src: D4, dst: H4, sport: 1, dport: 2, payload: new Uint8Array(1472) }); // total 1500
  const p = one(new Harness({ ipv6Mtu: 9000 }), err4(3, 4, 0, B.truncate(inner, 68)));
  assert.equal(u16(p, 46), 1492 + 20);
});

Deno.test("RFC 7915 4.2: Parameter Problem pointer mapped by Figure 3 (TTL 8 -> Hop Limit 7); unmappable pointers dropped", () => {
  const h = new Harness();
  const p = one(h, err4(12, 0, 8 << 24));
  assert.equal(p[40], 4);
  assert.equal(p[41], 0);
  assert.equal(u16(p, 46), 7);
  assert.equal(h.run(err4(12, 0, 10 << 24)).length, 0, "Header Checksum has no IPv6 counterpart");
  assert.equal(h.run(err4(12, 1)).length, 0, "Missing a Required Option: silently drop");
});

Deno.test("RFC 7915 4.2: Source Quench, Redirect, Alternative Host Address and Host Precedence Violation are silently dropped", () => {
  const h = new Harness();
  for (const [t, c] of [[4, 0], [5, 1], [6, 0], [3, 14]]) assert.equal(h.run(err4(t, c)).length, 0);
  assert.equal(h.drops("unsupported_icmp", false), 4);
});

Deno.test("RFC 7915 4.3: an ICMPv4 error with a bad checksum is not translated (no laundering)", () => {
  const h = new Harness();
  const e = B.icmp4Error({
    src: "203.0.113.1",
    dst: D4,
    type: 3,
    code: 3,
    inner: quoted(),
    checksum: "bad",
  });
  assert.equal(h.run(e).length, 0);
  assert.equal(h.drops("bad_checksum", false), 1);
});

Deno.test("RFC 7915 4.4 / RFC 4443 2.4(c): a translated ICMPv6 error is cut to 1280 bytes", () => {
  const inner = B.udp4({ src: D4, dst: H4, sport: 1, dport: 2, payload: new Uint8Array(1400) });
  const h = new Harness();
  const p = one(h, err4(3, 3, 0, inner));
  assert.equal(p.length, 1280);
  assert.equal(u16(p, 48 + 4), 1408, "inner Payload Length still tells the original size");
});

Deno.test("RFC 6791 / RFC 7915 4.2: an ICMPv4 error from an untranslatable router takes its source from the IPv6 pool", () => {
  const eam = [{ ipv4: parsePrefix4("192.0.2.0/24"), ipv6: parsePrefix6("2001:db8:e::/120") }];
  const base = { pool6: null, eam, rfc6791v6: parsePrefix6("2001:db8:ffff::/64") };
  const inner = B.udp4({ src: "192.0.2.1", dst: "192.0.2.2", sport: 1, dport: 2 });
  const h = new Harness(base);
  const p = one(
    h,
    B.icmp4Error({ src: "203.0.113.1", dst: "192.0.2.1", type: 11, code: 0, inner }),
  );
  assert.ok(src6(p).startsWith("2001:db8:ffff:0:"), src6(p));
  assert.equal(dst6(p), "2001:db8:e::1");
  // A non-error from the same source is untranslatable.
  assert.equal(
    h.run(B.udp4({ src: "203.0.113.1", dst: "192.0.2.1", sport: 1, dport: 2 })).length,
    0,
  );
  assert.equal(h.drops("untranslatable_src", false), 1);
});

Deno.test("RFC 4884 / RFC 7915 4.3: ICMP extensions after the original datagram survive translation with the length attribute in 64-bit words", () => {
  const inner = B.truncate(quoted(), 128); // 72 bytes: padded to 128
  const padded = new Uint8Array(128);
  padded.set(inner);
  const ext = new Uint8Array([0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0, 42]); // header + one object
  const body = new Uint8Array([...padded, ...ext]);
  const e = B.icmp4({
    src: "203.0.113.1",
    dst: D4,
    type: 11,
    code: 0,
    rest: (128 / 4) << 16,
    body,
  });
  const p = one(new Harness(), e);
  const len6 = p[44];
  assert.ok(len6 > 0);
  const at = 48 + len6 * 8;
  assert.deepEqual([...p.subarray(at)], [...ext]);
});

Deno.test("RFC 1812 4.3.2.7: no ICMP error about an ICMP error", () => {
  const h = new Harness();
  const e = B.icmp4Error({ src: H4, dst: D4, ttl: 1, type: 3, code: 3, inner: quoted() });
  assert.equal(h.run(e).length, 0);
  assert.equal(h.drops("ttl_exceeded", false), 1);
  assert.equal(h.stats.v[SLOT.icmpErrorsSent], 0);
});

Deno.test("ICMP error rate limit (RFC 4443 2.4(f) / RFC 1812 4.3.2.8)", () => {
  const h = new Harness({}, { icmpRate: { perSecond: 10, burst: 2 } });
  const pkt = B.udp4({ src: H4, dst: D4, ttl: 1, sport: 5, dport: 53 });
  const sent = [0, 0, 0, 0].map(() => h.run(pkt, 1000).length);
  assert.deepEqual(sent, [1, 1, 0, 0]);
  assert.equal(h.run(pkt, 1200).length, 1);
});

Deno.test("RFC 7757 4.2: intrinsic hairpinning: an IPv6 node reaching another through its EAM IPv4 address", () => {
  const eam = [{ ipv4: parsePrefix4("192.0.2.0/24"), ipv6: parsePrefix6("2001:db8:e::/120") }];
  const h = new Harness({ eam, eamHairpinMode: "intrinsic" });
  // 2001:db8:e::1 sends to 192.0.2.2 through pool6.
  const pkt = B.udp6({
    src: "2001:db8:e::1",
    dst: "2001:db8:46::c000:202",
    hopLimit: 9,
    sport: 7,
    dport: 8,
    payload: "hp",
  });
  const out = h.run(pkt);
  assert.equal(out.length, 1, h.dropNames().join());
  const p = out[0];
  assert.equal(checkPacket(p), null);
  assert.equal(p[0] >> 4, 6);
  assert.equal(src6(p), "2001:db8:46::c000:201", "source through pool6, not EAM");
  assert.equal(dst6(p), "2001:db8:e::2");
  assert.equal(p[7], 8, "one router hop");
  void parseIPv4;
  void Ipv4Info;
  void parseIpv4;
});
