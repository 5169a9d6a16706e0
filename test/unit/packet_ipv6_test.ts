import assert from "node:assert/strict";
import { formatIPv6 } from "../../src/addr/ip.ts";
import { fragment6, icmp6Echo, ipv6, tcp6, udp6 } from "../../src/packet/build.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import { IPPROTO } from "../../src/packet/proto.ts";
import { DROP } from "../../src/xlat/stats.ts";

const base = { src: "2001:db8::1", dst: "64:ff9b::c633:6407" };

Deno.test("parseIpv6 reads the fixed header", () => {
  const p = udp6({
    ...base,
    tc: 0xb8,
    flowLabel: 0xabcde,
    hopLimit: 9,
    sport: 1,
    dport: 2,
    payload: "hi",
  });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), 0);
  assert.equal(o.payloadLen, 10);
  assert.equal(o.tc, 0xb8);
  assert.equal(o.flowLabel, 0xabcde);
  assert.equal(o.hopLimit, 9);
  assert.equal(o.nextHdr, IPPROTO.UDP);
  assert.equal(o.proto, IPPROTO.UDP);
  assert.equal(o.protoFieldOff, 6);
  assert.equal(o.l4Off, 40);
  assert.equal(o.l4Len, 10);
  assert.equal(o.extLen, 0);
  assert.equal(o.fragOff, -1);
  assert.equal(o.routingOff, -1);
  assert.equal(o.isFragment, false);
  assert.equal(o.hasHopByHop, false);
  assert.equal(formatIPv6(p, o.srcOff), "2001:db8::1");
  assert.equal(formatIPv6(p, o.dstOff), "64:ff9b::c633:6407");
});

Deno.test("parseIpv6 walks Hop-by-Hop, Destination, Routing, Fragment to the upper layer", () => {
  const p = tcp6({
    ...base,
    ext: [
      { type: "hbh", options: [5, 2, 0, 0] }, // Router Alert
      { type: "dst" },
      { type: "routing", routingType: 0, segmentsLeft: 0, addresses: ["2001:db8::9"] },
      { type: "frag", id: 0xdeadbeef },
      { type: "dst", options: new Uint8Array(10) },
    ],
    sport: 80,
    dport: 443,
  });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), 0);
  assert.equal(o.nextHdr, IPPROTO.HOPOPTS);
  assert.equal(o.hasHopByHop, true);
  assert.equal(o.routingOff, 56);
  assert.equal(o.segmentsLeft, 0);
  assert.equal(o.fragOff, 56 + 24);
  assert.equal(o.fragId, 0xdeadbeef);
  assert.equal(o.isFragment, true); // atomic fragment (RFC 6946)
  assert.equal(o.mf, false);
  assert.equal(o.fragOffset, 0);
  assert.equal(o.proto, IPPROTO.TCP);
  assert.equal(o.l4Off, 40 + 8 + 8 + 24 + 8 + 16);
  assert.equal(o.extLen, 64);
  assert.equal(o.l4Len, 20);
  assert.equal(p[o.protoFieldOff], IPPROTO.TCP);
  assert.equal(o.protoFieldOff, 40 + 8 + 8 + 24 + 8);
});

Deno.test("parseIpv6 stops at ESP, AH, Mobility, No Next Header and unknown headers", () => {
  const o = new Ipv6Info();
  for (const proto of [IPPROTO.ESP, IPPROTO.AH, IPPROTO.MOBILITY, IPPROTO.NONE, 253]) {
    const p = ipv6({ ...base, ext: [{ type: "dst" }], proto, payload: new Uint8Array(16) });
    assert.equal(parseIpv6(p, p.length, o), 0, `proto ${proto}`);
    assert.equal(o.proto, proto);
    assert.equal(o.l4Off, 48);
    assert.equal(o.l4Len, 16);
  }
});

Deno.test("parseIpv6 fragments: a later fragment's data is not walked (RFC 8200 4.5)", () => {
  const whole = udp6({ ...base, sport: 1, dport: 2, payload: new Uint8Array(200) });
  const frags = fragment6(whole, 120, 42);
  assert.equal(frags.length, 3);
  const o = new Ipv6Info();
  const seen: [number, boolean, number, number][] = [];
  for (const f of frags) {
    assert.equal(parseIpv6(f, f.length, o), 0);
    assert.equal(o.isFragment, true);
    assert.equal(o.fragId, 42);
    assert.equal(o.proto, IPPROTO.UDP);
    assert.equal(o.l4Off, 48);
    seen.push([o.fragOffset, o.mf, o.l4Len, o.isLaterFragment ? 1 : 0]);
  }
  assert.deepEqual(seen, [[0, true, 72, 0], [72, true, 72, 1], [144, false, 64, 1]]);
});

Deno.test("parseIpv6 later fragment whose data looks like an extension header is not walked", () => {
  // Fragment data starting with bytes that would be a huge Hop-by-Hop header.
  const p = ipv6({
    ...base,
    ext: [{ type: "frag", offset: 8, id: 1 }],
    proto: IPPROTO.HOPOPTS,
    payload: [0, 255, 0, 0, 0, 0, 0, 0],
  });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), 0);
  assert.equal(o.proto, IPPROTO.HOPOPTS);
  assert.equal(o.l4Len, 8);
});

Deno.test("RFC 8200 4.3: Hop-by-Hop Options header not first is rejected", () => {
  // "The Hop-by-Hop Options header ... is restricted to appear immediately after an IPv6 header."
  const p = udp6({ ...base, ext: [{ type: "dst" }, { type: "hbh" }], sport: 1, dport: 2 });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), DROP.bad_header);
});

Deno.test("RFC 8200 4.1: each extension header at most once, Destination Options at most twice", () => {
  const o = new Ipv6Info();
  const two = (t: "routing" | "frag") =>
    udp6({ ...base, ext: [{ type: t }, { type: t }], sport: 1, dport: 2 });
  assert.equal(parseIpv6(two("routing"), two("routing").length, o), DROP.bad_header);
  assert.equal(parseIpv6(two("frag"), two("frag").length, o), DROP.bad_header);
  const dst2 = udp6({ ...base, ext: [{ type: "dst" }, { type: "dst" }], sport: 1, dport: 2 });
  assert.equal(parseIpv6(dst2, dst2.length, o), 0);
  const dst3 = udp6({
    ...base,
    ext: [{ type: "dst" }, { type: "dst" }, { type: "dst" }],
    sport: 1,
    dport: 2,
  });
  assert.equal(parseIpv6(dst3, dst3.length, o), DROP.bad_header);
});

Deno.test("parseIpv6 routing header: segments left and offset", () => {
  const p = icmp6Echo({
    ...base,
    ext: [{ type: "routing", routingType: 2, addresses: ["2001:db8::77"] }],
  });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), 0);
  assert.equal(o.routingOff, 40);
  assert.equal(o.segmentsLeft, 1);
  assert.equal(o.proto, IPPROTO.ICMPV6);
});

Deno.test("parseIpv6 drop reasons", () => {
  const o = new Ipv6Info();
  const good = udp6({ ...base, sport: 1, dport: 2, payload: "abc" });
  const hbhLong = udp6({ ...base, ext: [{ type: "hbh" }], sport: 1, dport: 2 });
  hbhLong[41] = 200; // header claims 1608 bytes
  const cases: [string, Uint8Array, number, number][] = [
    ["short buffer", good, 39, DROP.truncated],
    ["version 4", ipv6({ ...base, proto: 17, version: 4 }), -1, DROP.bad_version],
    ["Payload Length > buffer", ipv6({ ...base, proto: 17, payloadLen: 1 }), -1, DROP.truncated],
    ["extension header past the end", hbhLong, -1, DROP.truncated],
    [
      "chain cut short (ext header fixed part)",
      ipv6({ ...base, ext: [{ type: "dst" }], proto: 17, payloadLen: 4 }),
      -1,
      DROP.truncated,
    ],
    [
      // RFC 2675 jumbograms are not supported: Payload Length 0 with Hop-by-Hop.
      "jumbogram",
      ipv6({
        ...base,
        ext: [{ type: "hbh", options: [0xc2, 4, 0, 1, 0, 0] }],
        proto: 17,
        payloadLen: 0,
      }),
      -1,
      DROP.truncated,
    ],
  ];
  for (const [name, p, len, want] of cases) {
    assert.equal(parseIpv6(p, len < 0 ? p.length : len, o), want, name);
  }
  assert.equal(parseIpv6(good.subarray(0, good.length - 1), good.length - 1, o), DROP.truncated);
});

Deno.test("parseIpv6 rejects overlong chains (more than MAX_EXT_HEADERS)", () => {
  const ext = Array.from(
    { length: 20 },
    () => ({ type: "raw" as const, proto: 60, bytes: new Uint8Array(8) }),
  );
  const p = ipv6({ ...base, ext, proto: 17, payload: new Uint8Array(8) });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), DROP.bad_header);
});

Deno.test("parseIpv6 trailing bytes beyond Payload Length are ignored", () => {
  const p = udp6({ ...base, sport: 1, dport: 2, payload: "x", trailer: [1, 2, 3] });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), 0);
  assert.equal(o.l4Len, 9);
});

Deno.test("parseIpv6 inner mode accepts a packet cut short", () => {
  const p = udp6({
    ...base,
    ext: [{ type: "dst" }],
    sport: 1,
    dport: 2,
    payload: new Uint8Array(100),
  });
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, 56, o), DROP.truncated);
  assert.equal(parseIpv6(p, 56, o, 0, true), 0);
  assert.equal(o.truncated, true);
  assert.equal(o.l4Off, 48);
  assert.equal(o.l4Len, 8);
  assert.equal(parseIpv6(p, 44, o, 0, true), DROP.truncated); // chain itself cut
});
