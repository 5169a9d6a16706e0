import assert from "node:assert/strict";
import {
  fragment4,
  icmp4,
  icmp4Echo,
  icmp4Error,
  icmp6Echo,
  icmp6Error,
  tcp4,
  tcp6,
  truncate,
  udp4,
  udp6,
} from "../../src/packet/build.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import {
  dstPort,
  icmpCode,
  icmpEchoId,
  icmpEchoSeq,
  icmpRest,
  icmpType,
  setL4Checksum4,
  setL4Checksum6,
  srcPort,
  TCP_FLAG,
  tcpAck,
  tcpFlags,
  tcpHdrLen,
  tcpSeq,
  tcpWindow,
  udpLength,
  validateL4,
  verifyL4Checksum4,
  verifyL4Checksum6,
} from "../../src/packet/l4.ts";
import { ICMP4, ICMP6, IPPROTO } from "../../src/packet/proto.ts";
import { DROP } from "../../src/xlat/stats.ts";

const v4 = { src: "192.0.2.1", dst: "198.51.100.7" };
const v6 = { src: "2001:db8::1", dst: "64:ff9b::c633:6407" };

function p4(p: Uint8Array): Ipv4Info {
  const o = new Ipv4Info();
  assert.equal(parseIpv4(p, p.length, o), 0);
  return o;
}
function p6(p: Uint8Array): Ipv6Info {
  const o = new Ipv6Info();
  assert.equal(parseIpv6(p, p.length, o), 0);
  return o;
}

Deno.test("TCP accessors read what the builder wrote", () => {
  const p = tcp6({
    ...v6,
    sport: 40000,
    dport: 443,
    seq: 0xfffffff0,
    ack: 7,
    flags: TCP_FLAG.SYN | TCP_FLAG.ACK,
    window: 1000,
    tcpOptions: [2, 4, 5, 0xb4], // MSS 1460
  });
  const o = p6(p);
  assert.equal(srcPort(p, o.l4Off), 40000);
  assert.equal(dstPort(p, o.l4Off), 443);
  assert.equal(tcpSeq(p, o.l4Off), 0xfffffff0);
  assert.equal(tcpAck(p, o.l4Off), 7);
  assert.equal(tcpFlags(p, o.l4Off), 0x12);
  assert.equal(tcpWindow(p, o.l4Off), 1000);
  assert.equal(tcpHdrLen(p, o.l4Off), 24);
  assert.equal(validateL4(p, o.l4Off, o.l4Len, o.proto, true), 0);
  assert.equal(verifyL4Checksum6(p, o), 0);
});

Deno.test("UDP and ICMP accessors", () => {
  const u = udp4({ ...v4, sport: 53, dport: 5353, payload: "abcd" });
  const ou = p4(u);
  assert.equal(udpLength(u, ou.l4Off), 12);
  assert.equal(srcPort(u, ou.l4Off), 53);
  const e = icmp4Echo({ ...v4, ident: 0xbeef, seq: 3, payload: "ping" });
  const oe = p4(e);
  assert.equal(icmpType(e, oe.l4Off), ICMP4.ECHO_REQUEST);
  assert.equal(icmpCode(e, oe.l4Off), 0);
  assert.equal(icmpEchoId(e, oe.l4Off), 0xbeef);
  assert.equal(icmpEchoSeq(e, oe.l4Off), 3);
  const r = icmp6Echo({ ...v6, reply: true, ident: 1, seq: 2 });
  assert.equal(icmpType(r, 40), ICMP6.ECHO_REPLY);
});

Deno.test("RFC 793/768/792/4443: checksums of built packets verify, and corruption is caught", () => {
  const built: [string, Uint8Array, boolean][] = [
    ["tcp4", tcp4({ ...v4, sport: 1, dport: 2, payload: "odd" }), false],
    ["udp4", udp4({ ...v4, sport: 1, dport: 2, payload: "odd" }), false],
    ["icmp4", icmp4Echo({ ...v4, payload: "odd" }), false],
    ["tcp6", tcp6({ ...v6, sport: 1, dport: 2, payload: "odd" }), true],
    ["udp6", udp6({ ...v6, sport: 1, dport: 2, payload: "odd" }), true],
    ["icmp6", icmp6Echo({ ...v6, payload: "odd" }), true],
  ];
  for (const [name, p, is6] of built) {
    const verify = () => is6 ? verifyL4Checksum6(p, p6(p)) : verifyL4Checksum4(p, p4(p));
    assert.equal(verify(), 0, name);
    p[p.length - 1] ^= 0x40;
    assert.equal(verify(), DROP.bad_checksum, `${name} corrupted`);
    p[p.length - 1] ^= 0x40;
    assert.equal(verify(), 0, `${name} restored`);
  }
});

Deno.test("ICMPv6 checksum covers the pseudo-header (RFC 4443 2.3), ICMPv4's does not (RFC 792)", () => {
  const e6 = icmp6Echo({ ...v6 });
  e6[39] ^= 1; // destination address
  assert.equal(verifyL4Checksum6(e6, p6(e6)), DROP.bad_checksum);
  // ICMPv4: the same message to another destination has the same ICMP bytes.
  const a = icmp4Echo({ ...v4, ident: 5, payload: "x" });
  const b = icmp4Echo({ ...v4, dst: "198.51.100.6", ident: 5, payload: "x" });
  assert.deepEqual(a.subarray(20), b.subarray(20));
  assert.equal(verifyL4Checksum4(b, p4(b)), 0);
});

Deno.test("RFC 768: a zero UDP checksum means none over IPv4; RFC 8200 8.1: IPv6 must discard it", () => {
  const u4 = udp4({ ...v4, sport: 1, dport: 2, payload: "x", checksum: "zero" });
  assert.equal(verifyL4Checksum4(u4, p4(u4)), 0);
  const u6 = udp6({ ...v6, sport: 1, dport: 2, payload: "x", checksum: "zero" });
  assert.equal(verifyL4Checksum6(u6, p6(u6)), DROP.udp_zero_checksum);
});

Deno.test("builder checksum 'bad' is wrong in one's complement for every packet", () => {
  for (let i = 0; i < 300; i++) {
    const p = udp4({ ...v4, sport: i, dport: 2, payload: [i & 255], checksum: "bad" });
    assert.equal(verifyL4Checksum4(p, p4(p)), DROP.bad_checksum, `sport ${i}`);
  }
});

Deno.test("RFC 8200 8.1: with a Routing header the pseudo-header uses the final destination", () => {
  const p = udp6({
    ...v6,
    ext: [{ type: "routing", routingType: 0, addresses: ["2001:db8::a", "2001:db8::b"] }],
    sport: 1,
    dport: 2,
    payload: "r",
  });
  const o = p6(p);
  assert.equal(o.segmentsLeft, 2);
  assert.equal(verifyL4Checksum6(p, o), 0);
  // The same packet checked against the Destination field would fail.
  p[o.routingOff + 3] = 0;
  assert.equal(verifyL4Checksum6(p, p6(p)), DROP.bad_checksum);
});

Deno.test("setL4Checksum4/6 repair a corrupted checksum", () => {
  const a = tcp4({ ...v4, sport: 1, dport: 2, checksum: 0x1234 });
  const oa = p4(a);
  assert.equal(verifyL4Checksum4(a, oa), DROP.bad_checksum);
  setL4Checksum4(a, oa);
  assert.equal(verifyL4Checksum4(a, oa), 0);
  const b = udp6({ ...v6, sport: 1, dport: 2, checksum: "bad" });
  const ob = p6(b);
  setL4Checksum6(b, ob);
  assert.equal(verifyL4Checksum6(b, ob), 0);
});

Deno.test("fragments are not checksum-verified (the segment is not all there)", () => {
  const whole = udp4({ ...v4, sport: 1, dport: 2, payload: new Uint8Array(64), checksum: "bad" });
  for (const f of fragment4(whole, 48)) assert.equal(verifyL4Checksum4(f, p4(f)), 0);
});

Deno.test("validateL4 drop reasons", () => {
  const t = tcp4({ ...v4, sport: 1, dport: 2, dataOffset: 4 });
  const ot = p4(t);
  assert.equal(validateL4(t, ot.l4Off, ot.l4Len, ot.proto, true), DROP.bad_header);
  const t2 = tcp4({ ...v4, sport: 1, dport: 2, dataOffset: 6 });
  assert.equal(validateL4(t2, 20, 20, IPPROTO.TCP, true), DROP.truncated);
  assert.equal(validateL4(t2, 20, 19, IPPROTO.TCP, false), DROP.truncated);
  const u = udp4({ ...v4, sport: 1, dport: 2, payload: "abc", udpLen: 12 });
  assert.equal(validateL4(u, 20, 11, IPPROTO.UDP, true), DROP.truncated);
  assert.equal(validateL4(u, 20, 11, IPPROTO.UDP, false), 0); // first fragment
  const u7 = udp4({ ...v4, sport: 1, dport: 2, udpLen: 7 });
  assert.equal(validateL4(u7, 20, 8, IPPROTO.UDP, true), DROP.bad_header);
  const u10 = udp4({ ...v4, sport: 1, dport: 2, payload: "abc", udpLen: 10 });
  assert.equal(validateL4(u10, 20, 11, IPPROTO.UDP, true), DROP.bad_header);
  assert.equal(validateL4(u10, 20, 7, IPPROTO.ICMP, true), DROP.truncated);
  assert.equal(validateL4(u10, 20, 0, IPPROTO.ESP, true), 0);
});

Deno.test("ICMP errors carry the inner packet, which parses in inner mode", () => {
  const inner = udp4({ ...v4, sport: 1234, dport: 53, payload: new Uint8Array(600) });
  const err = icmp4Error({
    src: "203.0.113.1",
    dst: "192.0.2.1",
    type: ICMP4.DEST_UNREACH,
    code: 4,
    rest: 1400,
    inner: truncate(inner, 548),
  });
  const o = p4(err);
  assert.equal(verifyL4Checksum4(err, o), 0);
  assert.equal(icmpRest(err, o.l4Off), 1400);
  const i = new Ipv4Info();
  assert.equal(parseIpv4(err, o.l4Len - 8, i, o.l4Off + 8, true), 0);
  assert.equal(i.truncated, true);
  assert.equal(srcPort(err, i.l4Off), 1234);

  const inner6 = tcp6({ ...v6, sport: 1, dport: 80 });
  const err6 = icmp6Error({
    src: "2001:db8::ff",
    dst: v6.src,
    type: ICMP6.PACKET_TOO_BIG,
    rest: 1280,
    inner: inner6,
  });
  const o6 = p6(err6);
  assert.equal(verifyL4Checksum6(err6, o6), 0);
  const j = new Ipv6Info();
  assert.equal(parseIpv6(err6, o6.l4Len - 8, j, o6.l4Off + 8, true), 0);
  assert.equal(j.truncated, false);
  assert.equal(dstPort(err6, j.l4Off), 80);
});

Deno.test("generic icmp4 builder with body", () => {
  const p = icmp4({ ...v4, type: ICMP4.TIMESTAMP, body: new Uint8Array(12) });
  const o = p4(p);
  assert.equal(icmpType(p, o.l4Off), 13);
  assert.equal(o.l4Len, 20);
  assert.equal(verifyL4Checksum4(p, o), 0);
});

Deno.test("RFC 768: 'If the computed checksum is zero, it is transmitted as all ones'", () => {
  // Choose the payload word so that the one's complement sum is 0xffff (computed value 0).
  const probe = udp4({ ...v4, sport: 7, dport: 9, payload: [0, 0] });
  const c = (probe[26] << 8) | probe[27];
  const p = udp4({ ...v4, sport: 7, dport: 9, payload: [c >> 8, c & 255] });
  assert.equal((p[26] << 8) | p[27], 0xffff);
  const o = p4(p);
  assert.equal(verifyL4Checksum4(p, o), 0);
  p[26] = p[27] = 0x12;
  setL4Checksum4(p, o);
  assert.equal((p[26] << 8) | p[27], 0xffff);
  // The same holds for IPv6 (RFC 8200 8.1), where zero would mean "drop".
  const probe6 = udp6({ ...v6, sport: 7, dport: 9, payload: [0, 0] });
  const c6 = (probe6[46] << 8) | probe6[47];
  const q = udp6({ ...v6, sport: 7, dport: 9, payload: [c6 >> 8, c6 & 255] });
  assert.equal((q[46] << 8) | q[47], 0xffff);
  assert.equal(verifyL4Checksum6(q, p6(q)), 0);
});
