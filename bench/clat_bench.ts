// CLAT engine micro benchmark: one packet per iteration, so "time/iter" is ns per packet.
// deno bench -A bench/clat_bench.ts
// Dedicated /64: one stateless translation. Single address: three hops (client IPv4 ->
// internal IPv6 -> NAT44 by the NAT64 engine -> NAT46), so it costs about three.
import * as B from "../src/packet/build.ts";
import { parseIPv6, parsePrefix4, parsePrefix6 } from "../src/addr/ip.ts";
import { PacketBatch } from "../src/packet/batch.ts";
import { Clat } from "../src/clat/engine.ts";
import type { ClatEngineOptions } from "../src/clat/options.ts";
import { Stats } from "../src/xlat/stats.ts";
import { nat64Section, xlatOptions } from "../test/fixtures/options.ts";

const PLAT = "2001:db8:64::";
const CLAT6 = "2001:db8:a::c1a7";
const opts = (dedicated: boolean): ClatEngineOptions => ({
  ...xlatOptions({ pool6: parsePrefix6(`${PLAT}/96`), eamHairpinMode: "off", rfc6791v4: null }),
  clat: {
    ipv4Address: 0xc0000001,
    translationPrefix: dedicated ? parsePrefix6("2001:db8:c1a7::/64") : null,
    ipv6Address: dedicated ? null : parseIPv6(CLAT6),
    lan4: [parsePrefix4("192.168.1.0/24")],
    nat44: nat64Section({ dropExternallyInitiatedTcp: true, maxHeldSyns: 0 }),
    mssClamp: 1440,
  },
});

const out = new PacketBatch(64, 65536);
const up = B.udp4({
  src: "192.168.1.10",
  dst: "8.8.8.8",
  sport: 40000,
  dport: 53,
  payload: "x".repeat(64),
});
const ded = new Clat(opts(true), new Stats());
const single = new Clat(opts(false), new Stats());
// Open the single-address binding once so both directions find it.
out.clear();
single.translate(up, up.length, out, 0);
const port = (out.slots[0][40] << 8) | out.slots[0][41];
const downDed = B.udp6({
  src: `${PLAT}8.8.8.8`,
  dst: "2001:db8:c1a7::c0a8:10a",
  sport: 53,
  dport: 40000,
  payload: "x".repeat(64),
});
const downSingle = B.udp6({
  src: `${PLAT}8.8.8.8`,
  dst: CLAT6,
  sport: 53,
  dport: port,
  payload: "x".repeat(64),
});

const run = (e: Clat, p: Uint8Array) => () => {
  out.clear();
  e.translate(p, p.length, out, 1);
};
Deno.bench("clat dedicated 4->6 UDP 64B", { group: "4to6", baseline: true }, run(ded, up));
Deno.bench("clat single   4->6 UDP 64B", { group: "4to6" }, run(single, up));
Deno.bench("clat dedicated 6->4 UDP 64B", { group: "6to4", baseline: true }, run(ded, downDed));
Deno.bench("clat single   6->4 UDP 64B", { group: "6to4" }, run(single, downSingle));
