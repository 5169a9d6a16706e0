import assert from "node:assert/strict";
import {
  icmpErr4to6,
  icmpErr6to4,
  icmpInfo4to6,
  icmpInfo6to4,
  paramPtr4to6,
  paramPtr6to4,
  UNMAPPED,
} from "../../src/xlat/icmp_map.ts";
import {
  fragmentPayloadSize,
  mtu4FromPtb,
  mtu6FromFragNeeded,
  plateauBelow,
  RFC1191_PLATEAUS,
} from "../../src/xlat/mtu.ts";

const tc = (t: number, c: number) => (t << 8) | c;

Deno.test("RFC 7915 4.2: Echo Request and Echo Reply (Type 8 and Type 0): Adjust the Type values to 128 and 129", () => {
  assert.equal(icmpInfo4to6(8), tc(128, 0));
  assert.equal(icmpInfo4to6(0), tc(129, 0));
  for (const t of [13, 14, 15, 16, 17, 18, 9, 10]) assert.equal(icmpInfo4to6(t), UNMAPPED);
});

Deno.test("RFC 7915 4.2: Destination Unreachable code table", () => {
  const want: Record<number, number> = {
    0: tc(1, 0),
    1: tc(1, 0),
    2: tc(4, 1), // "Set the Type to 4, and the Code to 1 ... Pointer 6"
    3: tc(1, 4),
    4: tc(2, 0),
    5: tc(1, 0),
    6: tc(1, 0),
    7: tc(1, 0),
    8: tc(1, 0),
    9: tc(1, 1),
    10: tc(1, 1),
    11: tc(1, 0),
    12: tc(1, 0),
    13: tc(1, 1),
    14: UNMAPPED, // "Code 14 (Host Precedence Violation): Silently drop."
    15: tc(1, 1),
  };
  for (const [code, v] of Object.entries(want)) assert.equal(icmpErr4to6(3, Number(code)), v);
  assert.equal(icmpErr4to6(3, 16), UNMAPPED);
});

Deno.test("RFC 7915 4.2: Time Exceeded copies the code; Redirect, Source Quench, Alt Host dropped", () => {
  assert.equal(icmpErr4to6(11, 1), tc(3, 1));
  for (const t of [4, 5, 6]) assert.equal(icmpErr4to6(t, 0), UNMAPPED);
  assert.equal(icmpErr4to6(12, 0), tc(4, 0));
  assert.equal(icmpErr4to6(12, 2), tc(4, 0));
  assert.equal(icmpErr4to6(12, 1), UNMAPPED); // "Code 1 (Missing a Required Option): Silently drop"
});

Deno.test("RFC 7915 4.2 Figure 3: Parameter Problem pointer values", () => {
  const m = [0, 1, 4, 4, -1, -1, -1, -1, 7, 6, -1, -1, 8, 8, 8, 8, 24, 24, 24, 24];
  m.forEach((v, i) => assert.equal(paramPtr4to6(i), v));
  assert.equal(paramPtr4to6(20), UNMAPPED);
});

Deno.test("RFC 7915 5.2: ICMPv6 informational and error types", () => {
  assert.equal(icmpInfo6to4(128), tc(8, 0));
  assert.equal(icmpInfo6to4(129), tc(0, 0));
  for (const t of [130, 131, 132, 133, 134, 135, 136, 137]) assert.equal(icmpInfo6to4(t), UNMAPPED);
  assert.equal(icmpErr6to4(1, 0), tc(3, 1));
  assert.equal(icmpErr6to4(1, 1), tc(3, 10));
  assert.equal(icmpErr6to4(1, 2), tc(3, 1));
  assert.equal(icmpErr6to4(1, 3), tc(3, 1));
  assert.equal(icmpErr6to4(1, 4), tc(3, 3));
  assert.equal(icmpErr6to4(1, 5), UNMAPPED);
  assert.equal(icmpErr6to4(2, 0), tc(3, 4));
  assert.equal(icmpErr6to4(3, 1), tc(11, 1));
  assert.equal(icmpErr6to4(4, 0), tc(12, 0));
  assert.equal(icmpErr6to4(4, 1), tc(3, 2)); // "Type 3 (Destination Unreachable), Code 2"
  assert.equal(icmpErr6to4(4, 2), UNMAPPED);
});

Deno.test("RFC 7915 5.2 Figure 6: Parameter Problem pointer values", () => {
  const want = [0, 1, -1, -1, 2, 2, 9, 8];
  want.forEach((v, i) => assert.equal(paramPtr6to4(i), v));
  for (let i = 8; i < 24; i++) assert.equal(paramPtr6to4(i), 12);
  for (let i = 24; i < 40; i++) assert.equal(paramPtr6to4(i), 16);
  assert.equal(paramPtr6to4(40), UNMAPPED);
});

Deno.test("RFC 7915 4.2: PTB MTU = minimum(advertised MTU+20, MTU_of_IPv6_nexthop, MTU_of_IPv4_nexthop+20)", () => {
  assert.equal(mtu6FromFragNeeded(1400, 1500, 1500, 1500, RFC1191_PLATEAUS), 1420);
  assert.equal(mtu6FromFragNeeded(1480, 1500, 1450, 1500, RFC1191_PLATEAUS), 1450);
  assert.equal(mtu6FromFragNeeded(1480, 1500, 9000, 1400, RFC1191_PLATEAUS), 1420);
  // never below 1280
  assert.equal(mtu6FromFragNeeded(576, 1500, 1500, 1500, RFC1191_PLATEAUS), 1280);
});

Deno.test("RFC 7915 4.2: MTU 0 'MUST use the plateau values specified in [RFC1191]'", () => {
  assert.equal(plateauBelow(RFC1191_PLATEAUS, 1500), 1492);
  assert.equal(mtu6FromFragNeeded(0, 1500, 9000, 9000, RFC1191_PLATEAUS), 1512);
  assert.equal(mtu6FromFragNeeded(0, 4000, 9000, 9000, RFC1191_PLATEAUS), 2022);
});

Deno.test("RFC 7915 5.2: FN MTU = minimum(advertised MTU-20, MTU_of_IPv4_nexthop, MTU_of_IPv6_nexthop-20), -28 with a Fragment Header", () => {
  assert.equal(mtu4FromPtb(1400, false, 1500, 1500), 1380);
  assert.equal(mtu4FromPtb(1400, true, 1500, 1500), 1372);
  assert.equal(mtu4FromPtb(1500, false, 1300, 1500), 1300);
  assert.equal(mtu4FromPtb(1500, false, 1500, 1400), 1380);
  assert.equal(fragmentPayloadSize(1280), 1232);
});
