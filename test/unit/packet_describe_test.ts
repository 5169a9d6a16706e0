import assert from "node:assert/strict";
import {
  fragment6,
  icmp4Error,
  icmp6Echo,
  icmp6Error,
  ipv4,
  tcp4,
  truncate,
  udp4,
  udp6,
} from "../../src/packet/build.ts";
import { describe } from "../../src/packet/describe.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { ICMP4, ICMP6 } from "../../src/packet/proto.ts";

Deno.test("describe: one line per packet, with the fields an operator looks at", () => {
  const inner = udp4({
    src: "192.0.2.1",
    dst: "198.51.100.2",
    sport: 1234,
    dport: 53,
    payload: "q",
  });
  const cases: [Uint8Array, string][] = [
    [inner, "IPv4 192.0.2.1 > 198.51.100.2 ttl 64: UDP 1234 > 53 len 1"],
    [
      tcp4({
        src: "192.0.2.1",
        dst: "192.0.2.2",
        df: true,
        id: 9,
        sport: 1,
        dport: 80,
        seq: 5,
        flags: TCP_FLAG.SYN,
      }),
      "IPv4 192.0.2.1 > 192.0.2.2 ttl 64 id 9 DF: TCP 1 > 80 [S] seq 5 ack 0 len 0",
    ],
    [
      icmp6Echo({ src: "2001:db8::1", dst: "64:ff9b::c000:201", hopLimit: 3, ident: 7, seq: 1 }),
      "IPv6 2001:db8::1 > 64:ff9b::c000:201 hlim 3: ICMPv6 echo-request code 0 id 7 seq 1 len 0",
    ],
    [
      icmp4Error({
        src: "203.0.113.1",
        dst: "192.0.2.1",
        type: ICMP4.DEST_UNREACH,
        code: 4,
        rest: 1400,
        inner: truncate(inner, 28),
      }),
      "IPv4 203.0.113.1 > 192.0.2.1 ttl 64: ICMP unreachable code 4 mtu 1400 " +
      "{IPv4 192.0.2.1 > 198.51.100.2 ttl 64 (cut at 28 of 29): UDP 1234 > 53 len 1}",
    ],
    [
      icmp6Error({
        src: "2001:db8::ff",
        dst: "2001:db8::1",
        type: ICMP6.PARAM_PROBLEM,
        rest: 40,
        inner: udp6({ src: "2001:db8::1", dst: "::2", ext: [{ type: "hbh" }], sport: 1, dport: 2 }),
      }),
      "IPv6 2001:db8::ff > 2001:db8::1 hlim 64: ICMPv6 param-problem code 0 pointer 40 " +
      "{IPv6 2001:db8::1 > ::2 hlim 64 [hbh]: UDP 1 > 2 len 0}",
    ],
    [
      ipv4({ src: "192.0.2.1", dst: "192.0.2.2", proto: 17, ipChecksum: "bad" }),
      "IPv4 invalid (bad_checksum)",
    ],
    [new Uint8Array([0x60, 0, 0]), "IPv6 invalid (truncated)"],
    [new Uint8Array(3), "not IP (3 bytes)"],
  ];
  for (const [p, want] of cases) assert.equal(describe(p), want);
  const frags = fragment6(
    udp6({ src: "::1", dst: "::2", sport: 1, dport: 2, payload: new Uint8Array(2000) }),
    1280,
    3,
  );
  assert.equal(describe(frags[0]), "IPv6 ::1 > ::2 hlim 64 [frag 0+ id 3]: UDP 1 > 2 len 2000");
  assert.equal(describe(frags[1]), "IPv6 ::1 > ::2 hlim 64 [frag 1232 id 3]: proto 17 len 776");
});
