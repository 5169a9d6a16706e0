// Translator-level behaviour: dispatch, counters, hairpinning (RFC 7757 4.2), size limits
// across steps, and the output batch running full.
import assert from "node:assert/strict";
import * as B from "../../src/packet/build.ts";
import { formatIPv6, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import { checkPacket, Harness } from "./xlat_helpers.ts";
import { SLOT } from "../../src/xlat/stats.ts";

const EAM = [{ ipv4: parsePrefix4("192.0.2.0/24"), ipv6: parsePrefix6("2001:db8:e::/120") }];
const u16 = (p: Uint8Array, o: number) => (p[o] << 8) | p[o + 1];

Deno.test("version nibble other than 4 or 6 is dropped as bad_version; empty input as truncated", () => {
  const h = new Harness();
  assert.equal(h.run(new Uint8Array([0x50, 0, 0, 0])).length, 0);
  assert.equal(h.drops("bad_version", false), 1);
  assert.equal(h.run(new Uint8Array(0)).length, 0);
  assert.equal(h.drops("truncated", false), 1);
});

Deno.test("RFC 7757 4.2.1 simple hairpinning: the IPv4 form coming back is translated with RFC 6052 for its EAM source", () => {
  const h = new Harness({ eam: EAM, eamHairpinMode: "simple" });
  // 192.0.2.1 (EAM for 2001:db8:e::1) -> 192.0.2.2: the kernel looped it back to us.
  const p = h.run(B.udp4({ src: "192.0.2.1", dst: "192.0.2.2", sport: 1, dport: 2 }))[0];
  assert.equal(checkPacket(p), null);
  assert.equal(formatIPv6(p, 8), "2001:db8:46::c000:201");
  assert.equal(formatIPv6(p, 24), "2001:db8:e::2");
  // Mode "off": EAM for both.
  const h2 = new Harness({ eam: EAM, eamHairpinMode: "off" });
  const q = h2.run(B.udp4({ src: "192.0.2.1", dst: "192.0.2.2", sport: 1, dport: 2 }))[0];
  assert.equal(formatIPv6(q, 8), "2001:db8:e::1");
});

Deno.test("RFC 7757 4.2.2 intrinsic hairpinning of an ICMPv6 error about a hairpinned packet", () => {
  const h = new Harness({ eam: EAM, eamHairpinMode: "intrinsic" });
  // 2001:db8:e::2 answers a packet that 2001:db8:e::1 sent to it through pool6
  // (it arrived from 2001:db8:46::c000:201) with Port Unreachable.
  const inner = B.udp6({
    src: "2001:db8:46::c000:201",
    dst: "2001:db8:e::2",
    sport: 7,
    dport: 8,
    payload: "q",
  });
  const err = B.icmp6Error({
    src: "2001:db8:e::2",
    dst: "2001:db8:46::c000:201",
    type: 1,
    code: 4,
    inner,
  });
  const out = h.run(err);
  assert.equal(out.length, 1, h.dropNames().join());
  const p = out[0];
  assert.equal(checkPacket(p), null);
  assert.equal(p[0] >> 4, 6);
  assert.equal(p[40], 1);
  assert.equal(p[41], 4);
  assert.equal(formatIPv6(p, 24), "2001:db8:e::1", "back to the original sender");
  assert.equal(
    formatIPv6(p, 48 + 8),
    "2001:db8:e::1",
    "inner source: the sender as it knows itself",
  );
  assert.equal(
    formatIPv6(p, 48 + 24),
    "2001:db8:46::c000:202",
    "inner destination: what it sent to",
  );
});

Deno.test("an ICMPv4 error bigger than the IPv6 MTU with DF set is still translated (cut to 1280), not refused", () => {
  const h = new Harness({ ipv6Mtu: 1280 });
  const inner = B.udp4({
    src: "192.0.2.33",
    dst: "198.51.100.7",
    sport: 1,
    dport: 2,
    payload: new Uint8Array(1400),
  });
  const e = B.icmp4Error({
    src: "203.0.113.1",
    dst: "192.0.2.33",
    df: true,
    type: 3,
    code: 3,
    inner,
  });
  const out = h.run(e);
  assert.equal(out.length, 1);
  assert.equal(out[0].length, 1280);
  assert.equal(out[0][0] >> 4, 6);
});

Deno.test("6->4 too big: non-first fragments are dropped without a Packet Too Big", () => {
  const h = new Harness({ ipv4Mtu: 576 });
  const whole = B.udp6({
    src: "2001:db8:46::c000:221",
    dst: "2001:db8:46::c633:6407",
    sport: 1,
    dport: 2,
    payload: new Uint8Array(2000),
  });
  const frags = B.fragment6(whole, 1280, 1);
  const first = h.run(frags[0]);
  assert.equal(first.length, 1);
  assert.equal(first[0][40], 2);
  assert.equal((u16(first[0], 44) << 16) | u16(first[0], 46), 1280);
  assert.equal(h.run(frags[1]).length, 0);
  assert.equal(h.drops("too_big", true), 2);
});

Deno.test("a full output batch drops with no_output_space and never overruns", () => {
  const h = new Harness({ lowestIpv6Mtu: 1280 });
  const small = new PacketBatch(2, 65536);
  const pkt = B.udp4({
    src: "198.51.100.7",
    dst: "192.0.2.33",
    df: false,
    sport: 1,
    dport: 2,
    payload: new Uint8Array(3000),
  });
  h.t.translate(pkt, pkt.length, small, 0);
  assert.equal(small.count, 0);
  assert.equal(h.drops("no_output_space", false), 1);
});

Deno.test("counters: packets and bytes in and out per direction", () => {
  const h = new Harness();
  const p4 = B.udp4({ src: "198.51.100.7", dst: "192.0.2.33", sport: 1, dport: 2, payload: "x" });
  const p6 = B.udp6({
    src: "2001:db8:46::c000:221",
    dst: "2001:db8:46::c633:6407",
    sport: 1,
    dport: 2,
    payload: "x",
  });
  const o6 = h.run(p4)[0];
  const o4 = h.run(p6)[0];
  const v = h.stats.v;
  assert.deepEqual(
    [v[SLOT.in46Packets], v[SLOT.in46Bytes], v[SLOT.out46Packets], v[SLOT.out46Bytes]],
    [1, p4.length, 1, o6.length],
  );
  assert.deepEqual(
    [v[SLOT.in64Packets], v[SLOT.in64Bytes], v[SLOT.out64Packets], v[SLOT.out64Bytes]],
    [1, p6.length, 1, o4.length],
  );
});

Deno.test("generated ICMP errors come from the RFC 6791 IPv4 address / its pool6 form", () => {
  const h = new Harness({
    pool6: parsePrefix6("2001:db8:46::/96"),
    rfc6791v4: parsePrefix4("192.0.0.8/32"),
  });
  const e4 =
    h.run(B.udp4({ src: "198.51.100.7", dst: "192.0.2.33", ttl: 1, sport: 1, dport: 2 }))[0];
  assert.deepEqual([...e4.subarray(12, 16)], [192, 0, 0, 8]);
  const e6 = h.run(
    B.udp6({
      src: "2001:db8:46::c000:221",
      dst: "2001:db8:46::c633:6407",
      hopLimit: 1,
      sport: 1,
      dport: 2,
    }),
  )[0];
  assert.equal(formatIPv6(e6, 8), "2001:db8:46::c000:8");
});
