// The NAT64 pipeline (RFC 6146 3.4-3.8) end to end over built packets and a virtual clock.
import assert from "node:assert/strict";
import { formatIPv6, parseIPv6 } from "../../src/addr/ip.ts";
import * as build from "../../src/packet/build.ts";
import { IPPROTO } from "../../src/packet/proto.ts";
import { pseudo4, pseudo6, sum16 } from "../../src/packet/checksum.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { P_TCP, P_UDP } from "../../src/nat64/pool4.ts";
import { TCP } from "../../src/nat64/tcp_fsm.ts";
import { DEFAULT_TIMEOUTS } from "../../src/nat64/timeouts.ts";
import { SLOT } from "../../src/xlat/stats.ts";
import { Nat64Harness, p6, read4, read6, u16 } from "./nat64_engine_helpers.ts";
import { pool4, staticBib, v4, v6 } from "./nat64_helpers.ts";

const H = "2001:db8:a::1";
const H2 = "2001:db8:a::2";
const Z = "203.0.113.9";
const T = "198.51.100.1";
const canon = (s: string): string => formatIPv6(parseIPv6(s));
const { SYN, ACK, FIN, RST } = TCP_FLAG;

const udpOut = (sport = 5000, dport = 53, src = H, dst = Z) =>
  build.udp6({ src, dst: p6(dst), sport, dport, payload: "query" });
const udpIn = (dport: number, sport = 53, src = Z) =>
  build.udp4({ src, dst: T, sport, dport, payload: "answer" });
const tcpOut = (flags: number, sport = 40000, dport = 80) =>
  build.tcp6({ src: H, dst: p6(Z), sport, dport, flags });
const tcpIn = (flags: number, dport: number, sport = 80, src = Z) =>
  build.tcp4({ src, dst: T, sport, dport, flags });

Deno.test("RFC 6146 3.5.1/3.7: IPv6 UDP leaves from a pool4 transport address; the reply returns to the host", () => {
  const h = new Nat64Harness();
  const o = read4(h.one(udpOut()));
  assert.equal(o.src, T);
  assert.equal(o.dst, Z);
  assert.equal(o.dport, 53);
  assert.ok(o.sport >= 61001 && o.sport <= 65535);
  assert.equal(o.sport & 1, 5000 & 1, "parity kept (RFC 6146 3.5.1.1)");
  const r = read6(h.one(udpIn(o.sport)));
  assert.equal(r.src, canon(p6(Z)));
  assert.equal(r.dst, canon(H));
  assert.equal(r.sport, 53);
  assert.equal(r.dport, 5000);
  // Endpoint-independent mapping (RFC 4787 REQ-1): another destination, same binding.
  const o2 = read4(h.one(udpOut(5000, 123, H, "192.0.2.200")));
  assert.equal(o2.sport, o.sport);
  assert.equal(h.e.tables.sessionCount, 2);
  assert.equal(h.e.tables.bibCount, 1);
});

Deno.test("RFC 6146 3.5.1: endpoint-independent filtering lets any IPv4 peer reach a bound UDP port", () => {
  const h = new Nat64Harness();
  const o = read4(h.one(udpOut()));
  const r = read6(h.one(udpIn(o.sport, 9999, "192.0.2.77")));
  assert.equal(r.dst, canon(H));
  assert.equal(r.src, canon(p6("192.0.2.77")));
});

Deno.test("RFC 6146 3.5.1: address-dependent filtering drops other peers with ICMP code 13", () => {
  const h = new Nat64Harness({ addressDependentFiltering: true });
  const o = read4(h.one(udpOut()));
  const out = h.run(udpIn(o.sport, 9999, "192.0.2.77"));
  assert.equal(h.drops("filtered", false), 1);
  assert.equal(out.length, 1);
  const e = read4(out[0]);
  assert.equal(e.proto, IPPROTO.ICMP);
  assert.equal(e.dst, "192.0.2.77");
  assert.deepEqual([out[0][e.l4], out[0][e.l4 + 1]], [3, 13]);
  // Same address, other port: allowed.
  read6(h.one(udpIn(o.sport, 9999)));
});

Deno.test("RFC 6146 3.5.1: unsolicited IPv4 UDP is dropped (no BIB) with ICMP Port Unreachable", () => {
  const h = new Nat64Harness();
  const out = h.run(udpIn(61001));
  assert.equal(h.drops("no_bib", false), 1);
  assert.equal(out.length, 1);
  const e = read4(out[0]);
  assert.deepEqual([out[0][e.l4], out[0][e.l4 + 1]], [3, 3]);
  assert.equal(e.dst, Z);
  assert.equal(h.stats.v[SLOT.icmpErrorsSent], 1, "each generated error is counted once");
});

Deno.test("static BIB: an IPv4 peer reaches the IPv6 server; its answer uses the static binding", () => {
  const h = new Nat64Harness({ staticBib: [staticBib("udp", T, 7000, "2001:db8:b::2", 53)] });
  const r = read6(h.one(udpIn(7000, 1111)));
  assert.equal(r.dst, canon("2001:db8:b::2"));
  assert.equal(r.dport, 53);
  const o = read4(h.one(build.udp6({ src: "2001:db8:b::2", dst: p6(Z), sport: 53, dport: 1111 })));
  assert.equal(o.sport, 7000);
  assert.equal(o.src, T);
});

Deno.test("RFC 6146 3.5.1: UDP sessions expire after the UDP timeout (5 min); the BIB entry goes with them", () => {
  const h = new Nat64Harness();
  const o = read4(h.one(udpOut(), 0));
  h.one(udpIn(o.sport), 4 * 60_000); // refreshes
  h.one(udpIn(o.sport), 4 * 60_000 + DEFAULT_TIMEOUTS.udp - 1000);
  assert.equal(h.run(udpIn(o.sport), 4 * 60_000 + 2 * DEFAULT_TIMEOUTS.udp + 1000).length, 1); // ICMP
  assert.equal(h.drops("no_bib", false), 1);
  assert.equal(h.e.tables.sessionCount, 0);
  assert.equal(h.e.tables.bibCount, 0);
});

Deno.test("RFC 6146 3.5.3: ICMP echo: identifier mapped out and back, checksums valid, 60 s lifetime", () => {
  const h = new Nat64Harness();
  const o = h.one(build.icmp6Echo({ src: H, dst: p6(Z), ident: 0x1234, seq: 7, payload: "ping" }));
  const s = read4(o);
  assert.equal(s.proto, IPPROTO.ICMP);
  assert.equal(o[s.l4], 8);
  const id = u16(o, s.l4 + 4);
  const bib = h.e.tables.findBib6(2, v6(H), 0, 0x1234)!;
  assert.equal(id, bib.port4);
  const r = h.one(
    build.icmp4Echo({ src: Z, dst: T, reply: true, ident: id, seq: 7, payload: "ping" }),
  );
  const rs = read6(r);
  assert.equal(r[rs.l4], 129);
  assert.equal(u16(r, rs.l4 + 4), 0x1234);
  assert.equal(rs.dst, canon(H));
  h.run(build.icmp4Echo({ src: Z, dst: T, reply: true, ident: id }), 62_000);
  assert.equal(h.drops("no_bib", false), 1, "expired after 60 s");
});

Deno.test("RFC 6146 3.5.2.2: TCP open from IPv6 (V6 INIT -> ESTABLISHED), close (FINs), TRANS expiry", () => {
  const h = new Nat64Harness();
  const syn = read4(h.one(tcpOut(SYN), 0));
  const bib = h.e.tables.findBib4(P_TCP, v4(T), syn.sport)!;
  const s = h.e.tables.findSession(bib, v4(Z), 80)!;
  assert.equal(s.state, TCP.V6_INIT);
  const sa = read6(h.one(tcpIn(SYN | ACK, syn.sport), 10));
  assert.equal(sa.dport, 40000);
  assert.equal(s.state, TCP.ESTABLISHED);
  assert.equal(s.expires, 10 + DEFAULT_TIMEOUTS.tcpEst);
  h.one(tcpOut(FIN | ACK), 1000);
  assert.equal(s.state, TCP.V6_FIN_RCV);
  h.one(tcpIn(FIN | ACK, syn.sport), 2000);
  assert.equal(s.state, TCP.V4_FIN_V6_FIN_RCV);
  assert.equal(s.expires, 2000 + DEFAULT_TIMEOUTS.tcpTrans);
  h.one(tcpOut(ACK), 3000);
  assert.equal(s.expires, 2000 + DEFAULT_TIMEOUTS.tcpTrans, "not extended after both FINs");
  h.run(tcpIn(ACK, syn.sport), 2000 + DEFAULT_TIMEOUTS.tcpTrans + 1000);
  assert.equal(h.e.tables.sessionCount, 0);
  assert.equal(h.drops("no_bib", false), 1);
});

Deno.test("RFC 6146 3.5.2.2: RST moves ESTABLISHED to TRANS (4 min); a later packet revives it", () => {
  const h = new Nat64Harness();
  const syn = read4(h.one(tcpOut(SYN), 0));
  h.one(tcpIn(SYN | ACK, syn.sport), 0);
  const s = h.e.tables.findSession(h.e.tables.findBib4(P_TCP, v4(T), syn.sport)!, v4(Z), 80)!;
  h.one(tcpIn(RST, syn.sport), 1000);
  assert.equal(s.state, TCP.TRANS);
  assert.equal(s.expires, 1000 + DEFAULT_TIMEOUTS.tcpTrans);
  h.one(tcpOut(ACK), 2000);
  assert.equal(s.state, TCP.ESTABLISHED);
  h.one(tcpIn(RST, syn.sport), 3000);
  h.run(tcpOut(ACK), 3000 + DEFAULT_TIMEOUTS.tcpTrans + 1000);
  assert.equal(h.e.tables.sessionCount, 0, "TRANS session expired after 4 min");
  assert.equal(h.drops("no_session", true), 1, "non-SYN without a session is dropped");
});

Deno.test("RFC 6146 3.5.2.2: a non-SYN IPv6 segment without a session is dropped (CLOSED)", () => {
  const h = new Nat64Harness();
  assert.equal(h.run(tcpOut(ACK)).length, 0);
  assert.equal(h.drops("no_session", true), 1);
  assert.equal(h.e.tables.bibCount, 0);
});

Deno.test("RFC 6146 3.5.2.2: an unsolicited V4 SYN is held 6 s, then answered with ICMP Port Unreachable", () => {
  const h = new Nat64Harness();
  assert.equal(h.run(tcpIn(SYN, 62000), 0).length, 0);
  assert.equal(h.e.syns.size, 1);
  assert.equal(h.run(tcpIn(SYN, 62000), 3000).length, 0, "retransmission waits with it");
  h.e.tick(5_999);
  assert.equal(h.e.pendingCount, 0, "no ICMP error before 6 s");
  h.e.tick(6_000);
  assert.equal(h.e.pendingCount, 1);
  assert.equal(h.drops("syn_timeout", false), 1);
  const out = h.run(udpOut(), 6_100); // the queued error leaves with the next batch
  assert.equal(out.length, 2);
  const e = read4(out[0]);
  assert.equal(e.dst, Z);
  assert.deepEqual([out[0][e.l4], out[0][e.l4 + 1]], [3, 3]);
});

Deno.test("RFC 6146 3.5.2.2: drop-externally-initiated-tcp drops an unsolicited V4 SYN at once", () => {
  const h = new Nat64Harness({ dropExternallyInitiatedTcp: true });
  assert.equal(h.run(tcpIn(SYN, 62000)).length, 0);
  assert.equal(h.e.syns.size, 0);
  assert.equal(h.drops("no_bib", false), 1);
});

Deno.test("RFC 6146 3.5.2.2: simultaneous open: a held V4 SYN, then the V6 SYN -> ESTABLISHED, no ICMP", () => {
  const h = new Nat64Harness({ addressDependentFiltering: true });
  const syn = read4(h.one(tcpOut(SYN, 40000, 80), 0)); // binding T:t exists, session to Z:80
  const peer = "192.0.2.50";
  assert.equal(h.run(tcpIn(SYN, syn.sport, 4444, peer), 100).length, 0, "ADF: held, not passed");
  assert.equal(h.e.syns.size, 1);
  const o = read4(
    h.one(build.tcp6({ src: H, dst: p6(peer), sport: 40000, dport: 4444, flags: SYN }), 200),
  );
  assert.equal(o.sport, syn.sport);
  const s = h.e.tables.findSession(h.e.tables.findBib4(P_TCP, v4(T), syn.sport)!, v4(peer), 4444)!;
  assert.equal(s.state, TCP.ESTABLISHED);
  h.e.tick(10_000);
  assert.equal(h.e.pendingCount, 0);
  assert.equal(h.drops("syn_timeout", false), 0);
});

Deno.test("RFC 6146 3.5.2.2: V4 SYN to a static BIB entry opens V4 INIT; the V6 SYN+ACK establishes", () => {
  const h = new Nat64Harness({ staticBib: [staticBib("tcp", T, 8080, "2001:db8:b::2", 80)] });
  const r = read6(h.one(tcpIn(SYN, 8080, 5555)));
  assert.equal(r.dport, 80);
  const bib = h.e.tables.findBib4(P_TCP, v4(T), 8080)!;
  const s = h.e.tables.findSession(bib, v4(Z), 5555)!;
  assert.equal(s.state, TCP.V4_INIT);
  const o = read4(
    h.one(
      build.tcp6({ src: "2001:db8:b::2", dst: p6(Z), sport: 80, dport: 5555, flags: SYN | ACK }),
    ),
  );
  assert.equal(o.sport, 8080);
  assert.equal(s.state, TCP.ESTABLISHED);
});

Deno.test("RFC 6146 3.8: hairpinning: an IPv6 host reaches another through its pool4 binding", () => {
  const h = new Nat64Harness({ staticBib: [staticBib("udp", T, 7000, "2001:db8:b::2", 53)] });
  const out = h.run(build.udp6({ src: H, dst: p6(T), sport: 5000, dport: 7000, payload: "hi" }));
  assert.equal(out.length, 1, h.dropNames());
  const r = read6(out[0]);
  assert.equal(r.dst, canon("2001:db8:b::2"));
  assert.equal(r.dport, 53);
  const bibA = h.e.tables.findBib6(P_UDP, v6(H), 0, 5000)!;
  assert.equal(r.src, canon(p6(T)));
  assert.equal(r.sport, bibA.port4);
  // The answer goes back the same way.
  const back = read6(
    h.one(build.udp6({ src: "2001:db8:b::2", dst: p6(T), sport: 53, dport: bibA.port4 })),
  );
  assert.equal(back.dst, canon(H));
  assert.equal(back.dport, 5000);
});

Deno.test("RFC 6146 3.4/3.7: an ICMPv4 error about a translated packet reaches the host with the inner tuple restored", () => {
  const h = new Nat64Harness();
  const sent = h.one(udpOut());
  const o = read4(sent);
  const err = build.icmp4Error({ src: "192.0.2.254", dst: T, type: 3, code: 3, inner: sent });
  const out = h.one(err);
  const e = read6(out);
  assert.equal(e.proto, IPPROTO.ICMPV6);
  assert.equal(out[e.l4], 1);
  assert.equal(e.dst, canon(H));
  assert.equal(e.src, canon(p6("192.0.2.254")));
  // Inner packet: the host's original 5-tuple.
  const inner = out.subarray(e.l4 + 8);
  const ii = read6(inner);
  assert.equal(ii.src, canon(H));
  assert.equal(ii.sport, 5000);
  assert.equal(ii.dst, canon(p6(Z)));
  assert.equal(ii.dport, 53);
  void o;
});

Deno.test("RFC 6146 3.4/3.7: an ICMPv6 error about a packet sent to the host reaches the IPv4 peer", () => {
  const h = new Nat64Harness({ staticBib: [staticBib("udp", T, 7000, "2001:db8:b::2", 53)] });
  const delivered = h.one(udpIn(7000, 1111));
  const err = build.icmp6Error({
    src: "2001:db8:b::2",
    dst: p6(Z),
    type: 1,
    code: 4,
    inner: delivered,
  });
  const out = h.one(err);
  const e = read4(out);
  assert.equal(e.src, T, "from the NAT64's pool4 address");
  assert.equal(e.dst, Z);
  assert.deepEqual([out[e.l4], out[e.l4 + 1]], [3, 3]);
  const ii = read4(out.subarray(e.l4 + 8));
  assert.equal(ii.src, Z);
  assert.equal(ii.sport, 1111);
  assert.equal(ii.dst, T);
  assert.equal(ii.dport, 7000);
});

Deno.test("ICMP errors without a session are dropped and create nothing (RFC 6146 3.5)", () => {
  const h = new Nat64Harness();
  const inner = build.udp4({ src: T, dst: Z, sport: 61002, dport: 53 });
  assert.equal(h.run(build.icmp4Error({ src: Z, dst: T, type: 3, code: 3, inner })).length, 0);
  assert.equal(h.drops("no_bib", false), 1);
  assert.equal(h.e.tables.bibCount, 0);
});

Deno.test("RFC 6146 3.5.1: pool4 exhausted: drop, counter, ICMPv6 Destination Unreachable code 3", () => {
  const h = new Nat64Harness({ pool4: [pool4(`${T}/32`, 61000, 61001)] });
  h.one(udpOut(1000));
  h.one(udpOut(1001));
  const out = h.run(udpOut(1002));
  assert.equal(h.drops("pool4_exhausted", true), 1);
  assert.equal(out.length, 1);
  const e = read6(out[0]);
  assert.deepEqual([out[0][e.l4], out[0][e.l4 + 1]], [1, 3]);
  assert.equal(e.dst, canon(H));
  assert.equal(h.e.tables.bibCount, 2);
});

Deno.test("RFC 6888 REQ-4: a host over its session limit is refused; others go on; no BIB leaks", () => {
  const h = new Nat64Harness({ maxSessionsPerHost: 2 });
  h.one(udpOut(1000, 1));
  h.one(udpOut(1000, 2));
  h.run(udpOut(1001, 3));
  assert.equal(h.drops("session_limit", true), 1);
  assert.equal(h.e.tables.bibCount, 1, "the BIB made for the refused packet is released");
  h.one(udpOut(1000, 1, H2));
});

Deno.test("RFC 6888 REQ-3: a host over its port limit is refused", () => {
  const h = new Nat64Harness({ maxPortsPerHost: 1 });
  h.one(udpOut(1000));
  h.run(udpOut(1001));
  assert.equal(h.drops("port_limit", true), 1);
});

/** Reassembles translated fragments (either family) into the L4 datagram, checking its
 *  checksum against the pseudo-header of the first fragment's addresses. */
function reassemble(frags: Uint8Array[]): { l4: Uint8Array; ok: boolean } {
  const parts: [number, Uint8Array][] = [];
  let first: Uint8Array | null = null;
  for (const f of frags) {
    if (f[0] >> 4 === 4) {
      const hl = (f[0] & 15) << 2;
      const off = (u16(f, 6) & 0x1fff) << 3;
      parts.push([off, f.subarray(hl, u16(f, 2))]);
      if (off === 0) first = f;
    } else {
      const off = u16(f, 42) & 0xfff8;
      parts.push([off, f.subarray(48, 40 + u16(f, 4))]);
      if (off === 0) first = f;
    }
  }
  parts.sort((a, b) => a[0] - b[0]);
  const n = parts.reduce((m, [o, p]) => Math.max(m, o + p.length), 0);
  const l4 = new Uint8Array(n);
  for (const [o, p] of parts) l4.set(p, o);
  const f = first!;
  const init = f[0] >> 4 === 4
    ? pseudo4(f, 12, 16, IPPROTO.UDP, n)
    : pseudo6(f, 8, 24, IPPROTO.UDP, n);
  return { l4, ok: sum16(l4, 0, n, init) === 0xffff };
}

const bigUdp6 = () =>
  build.udp6({ src: H, dst: p6(Z), sport: 5000, dport: 53, payload: new Uint8Array(300).fill(7) });

Deno.test("RFC 6146 3.4: IPv6 fragments are translated one by one; the first carries the mapped port", () => {
  const h = new Nat64Harness();
  const frags = build.fragment6(bigUdp6(), 150, 77);
  const out: Uint8Array[] = [];
  for (const f of frags) out.push(...h.run(f));
  assert.equal(out.length, frags.length, h.dropNames());
  for (const o of out) assert.equal(o[0] >> 4, 4);
  const { l4, ok } = reassemble(out);
  assert.ok(ok, "UDP checksum of the reassembled datagram");
  const bib = h.e.tables.findBib6(P_UDP, v6(H), 0, 5000)!;
  assert.equal(u16(l4, 0), bib.port4);
  assert.equal(u16(l4, 2), 53);
  assert.equal(l4.length, 308);
});

Deno.test("RFC 6146 3.4: out-of-order fragments wait for the first, then follow it", () => {
  const h = new Nat64Harness();
  const frags = build.fragment6(bigUdp6(), 150, 78);
  for (let k = frags.length - 1; k > 0; k--) assert.equal(h.run(frags[k], 10 * k).length, 0);
  const out = h.run(frags[0], 50);
  assert.equal(out.length, frags.length, h.dropNames());
  assert.ok(reassemble(out).ok);
});

Deno.test("RFC 6146 3.4: fragments whose first never comes are dropped after 2 s (bounded)", () => {
  const h = new Nat64Harness();
  const frags = build.fragment6(bigUdp6(), 150, 79);
  for (const f of frags.slice(1)) h.run(f, 0);
  h.run(udpOut(1, 1), 2500);
  assert.equal(h.drops("nat64_fragment", true), frags.length - 1);
  assert.equal(h.e.frags.held, 0);
  assert.equal(h.run(frags[0], 2600).length, 1, "the first alone still goes through");
});

Deno.test("RFC 6146 3.4: IPv4 fragments of a reply reach the host with the original port", () => {
  const h = new Nat64Harness();
  const o = read4(h.one(udpOut(5000, 53)));
  const reply = build.udp4({
    src: Z,
    dst: T,
    sport: 53,
    dport: o.sport,
    id: 4242,
    payload: new Uint8Array(600).fill(9),
  });
  const frags = build.fragment4(reply, 200);
  const out: Uint8Array[] = [];
  for (const f of [frags[1], frags[0], ...frags.slice(2)]) out.push(...h.run(f));
  assert.equal(out.length, frags.length, h.dropNames());
  const { l4, ok } = reassemble(out);
  assert.ok(ok);
  assert.equal(u16(l4, 2), 5000);
  for (const p of out) assert.equal(formatIPv6(p.subarray(24, 40)), canon(H));
});

Deno.test("reconfigure keeps sessions and applies new timeouts", () => {
  const h = new Nat64Harness();
  const o = read4(h.one(udpOut(), 0));
  const opts = h.e.opts;
  h.e.reconfigure({
    ...opts,
    nat64: { ...opts.nat64, timeouts: { ...opts.nat64.timeouts, udp: 10 * 60_000 } },
  });
  h.one(udpIn(o.sport), 1000);
  h.one(udpIn(o.sport), 1000 + 9 * 60_000);
  assert.throws(() =>
    h.e.reconfigure({ ...opts, nat64: { ...opts.nat64, addressDependentFiltering: true } })
  );
});

Deno.test("gauges: BIB entries, sessions per protocol, hosts, held SYNs, pool4 capacity", () => {
  const h = new Nat64Harness();
  h.one(udpOut(1000, 1));
  h.one(udpOut(1000, 2));
  h.one(tcpOut(SYN));
  h.one(build.icmp6Echo({ src: H2, dst: p6(Z), ident: 1 }));
  h.run(tcpIn(SYN, 62222));
  assert.deepEqual(h.e.gauges(), {
    bibs: { tcp: 1, udp: 1, icmp: 1 },
    sessions: { tcp: 1, udp: 2, icmp: 1 },
    pool4Capacity: { tcp: 4535, udp: 4535, icmp: 4535 },
    pool4Used: { tcp: 1, udp: 1, icmp: 1 },
    hosts: 2,
    heldSyns: 1,
    pcpMappings: 0,
  });
});
