// Translator micro benchmark: one packet per iteration, so "time/iter" is ns per packet.
// deno bench -A bench/translate_bench.ts
// The hot path allocates nothing per packet; to check, loop translate() a few million
// times under `deno run --v8-flags=--trace-gc`: no Scavenge lines may appear once warm.
import * as B from "../src/packet/build.ts";
import { parsePrefix4, parsePrefix6 } from "../src/addr/ip.ts";
import { PacketBatch } from "../src/packet/batch.ts";
import { Translator } from "../src/xlat/translator.ts";
import { Stats } from "../src/xlat/stats.ts";
import { xlatOptions } from "../test/fixtures/options.ts";

const t = new Translator(
  xlatOptions({
    pool6: parsePrefix6("64:ff9b::/96"),
    eam: [{ ipv4: parsePrefix4("192.0.2.0/24"), ipv6: parsePrefix6("2001:db8:e::/120") }],
    ipv6Mtu: 1520,
  }),
  new Stats(),
);
const out = new PacketBatch(64, 65536);
// The common NAT64-prefix-only setup: no EAM (the mapper then never probes the table).
const plain = new Translator({ ...t.opts, eam: [] }, new Stats());

const H4 = "8.8.8.8", H6 = "64:ff9b::808:808";
const S4 = "192.0.2.7", S6 = "2001:db8:e::7";
const udp4 = B.udp4({
  src: H4,
  dst: S4,
  sport: 53,
  dport: 40000,
  payload: new Uint8Array(64 - 28),
});
const udp6 = B.udp6({
  src: S6,
  dst: H6,
  sport: 40000,
  dport: 53,
  payload: new Uint8Array(64 - 48),
});
const tcp4 = B.tcp4({
  src: H4,
  dst: S4,
  sport: 443,
  dport: 40000,
  df: true,
  payload: new Uint8Array(1500 - 40),
});
const tcp6 = B.tcp6({
  src: S6,
  dst: H6,
  sport: 40000,
  dport: 443,
  payload: new Uint8Array(1500 - 60),
});
const err4 = B.icmp4Error({
  src: "203.0.113.1",
  dst: S4,
  type: 11,
  code: 0,
  inner: B.truncate(
    B.udp4({ src: S4, dst: H4, sport: 40000, dport: 33434, payload: new Uint8Array(100) }),
    548,
  ),
});
const err6 = B.icmp6Error({
  src: "64:ff9b::cb00:7101",
  dst: S6,
  type: 1,
  code: 4,
  inner: B.udp6({ src: S6, dst: H6, sport: 40000, dport: 33434, payload: new Uint8Array(100) }),
});

function bench(name: string, pkt: Uint8Array, tr = t) {
  // Sanity: every case must translate to exactly one packet.
  out.clear();
  tr.translate(pkt, pkt.length, out, 0);
  if (out.count !== 1) throw new Error(`${name}: emitted ${out.count}`);
  // Warm up, so that the first case is not measured while the JIT is still tiering up.
  for (let k = 0; k < 100_000; k++) {
    out.clear();
    tr.translate(pkt, pkt.length, out, 0);
  }
  Deno.bench(name, () => {
    out.clear();
    tr.translate(pkt, pkt.length, out, 0);
  });
}

bench("4->6 UDP 64 bytes", udp4);
bench("6->4 UDP 64 bytes", udp6);
bench("4->6 TCP 1500 bytes", tcp4);
bench("6->4 TCP 1500 bytes", tcp6);
bench("4->6 ICMP Time Exceeded with inner UDP", err4);
bench("6->4 ICMPv6 Port Unreachable with inner UDP", err6);
bench(
  "4->6 UDP 64 bytes, no EAM",
  B.udp4({ src: H4, dst: "151.101.7.7", sport: 53, dport: 40000, payload: new Uint8Array(36) }),
  plain,
);
bench(
  "6->4 UDP 64 bytes, no EAM",
  B.udp6({
    src: "64:ff9b::9765:707",
    dst: H6,
    sport: 40000,
    dport: 53,
    payload: new Uint8Array(16),
  }),
  plain,
);

// The data path translates a batch of up to 64 packets per shim call; measuring 64 per
// iteration takes the harness's per-iteration overhead out (ns/packet = time/iter / 64).
function batch(name: string, pkt: Uint8Array, tr = t) {
  const outs = new PacketBatch(64, 2048);
  Deno.bench(`${name}, batch of 64 (ns/packet = time / 64)`, () => {
    outs.clear();
    for (let k = 0; k < 64; k++) tr.translate(pkt, pkt.length, outs, 0);
  });
}
batch("4->6 UDP 64 bytes", udp4);
batch("6->4 UDP 64 bytes", udp6);
