// NAT64 benchmarks.
//   deno bench -A bench/nat64_bench.ts          per-packet cost through the whole engine
//   deno run -A --v8-flags=--expose-gc bench/nat64_bench.ts --scale [N]
//                                               table scale: memory per session, session
//                                               creations/s, lookups/s at N (1M) sessions
import * as B from "../src/packet/build.ts";
import { parsePrefix4, parsePrefix6 } from "../src/addr/ip.ts";
import { PacketBatch } from "../src/packet/batch.ts";
import { adjust } from "../src/packet/checksum.ts";
import { Stats } from "../src/xlat/stats.ts";
import { Nat64 } from "../src/nat64/engine.ts";
import type { Nat64EngineOptions } from "../src/nat64/options.ts";
import { Nat64Tables } from "../src/nat64/tables.ts";
import { P_UDP } from "../src/nat64/pool4.ts";
import { DEFAULT_TIMEOUTS } from "../src/nat64/timeouts.ts";
import { nat64Section, xlatOptions } from "../test/fixtures/options.ts";

const POOL4 = { prefix: parsePrefix4("198.51.100.0/24"), ports: { min: 1024, max: 65535 } };

function engineOptions(): Nat64EngineOptions {
  return {
    ...xlatOptions({
      pool6: parsePrefix6("64:ff9b::/96"),
      eamHairpinMode: "off",
      ipv6Mtu: 1520,
      rfc6791v4: null,
    }),
    nat64: nat64Section({ pool4: [{ ...POOL4, protocols: ["tcp", "udp", "icmp"] }] }),
  };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function scale(n: number): void {
  const t = new Nat64Tables({ pool4: [{ ...POOL4, protocols: ["udp"] }], seed: 1 });
  const a6 = new Uint8Array(16);
  a6[0] = 0x20, a6[1] = 0x01, a6[2] = 0x0d, a6[3] = 0xb8;
  const HOSTS = 10_000;
  const host = (k: number) => {
    const h = k % HOSTS;
    a6[14] = h >> 8;
    a6[15] = h & 255;
  };
  const sport = (k: number) => 1024 + Math.floor(k / HOSTS);
  const remote = (k: number) => (0x08000000 + ((k * 2654435761) >>> 8)) >>> 0;
  t.expire(0);
  const addrs = new Float64Array(n), ports = new Uint16Array(n);
  gc();
  const m0 = Deno.memoryUsage().heapUsed;
  let t0 = performance.now();
  for (let k = 0; k < n; k++) {
    host(k);
    const bib = t.createBib6(P_UDP, a6, 0, sport(k), remote(k), 443, 0)!;
    t.createSession(bib, remote(k), 443, 0, DEFAULT_TIMEOUTS.udp);
    addrs[k] = bib.addr4;
    ports[k] = bib.port4;
  }
  const createMs = performance.now() - t0;
  gc();
  const m1 = Deno.memoryUsage().heapUsed;
  if (t.sessionCount !== n) throw new Error(`made ${t.sessionCount} sessions, wanted ${n}`);

  // 6->4 lookups: BIB by IPv6 transport address, then session by remote.
  const L = 2_000_000;
  let found = 0;
  t0 = performance.now();
  for (let j = 0; j < L; j++) {
    const k = (j * 7919) % n;
    host(k);
    const bib = t.findBib6(P_UDP, a6, 0, sport(k));
    if (bib !== null && t.findSession(bib, remote(k), 443) !== null) found++;
  }
  const look6Ms = performance.now() - t0;
  // 4->6 lookups: BIB by IPv4 transport address, then session.
  t0 = performance.now();
  for (let j = 0; j < L; j++) {
    const k = (j * 7919) % n;
    const bib = t.findBib4(P_UDP, addrs[k], ports[k]);
    if (bib !== null && t.findSession(bib, remote(k), 443) !== null) found++;
  }
  const look4Ms = performance.now() - t0;
  if (found < 2 * L) throw new Error(`lookups missed: ${2 * L - found}`);

  // Expiry of everything (one sweep over the wheel).
  t0 = performance.now();
  t.expire(DEFAULT_TIMEOUTS.udp + 2000);
  const expireMs = performance.now() - t0;

  const per = (m1 - m0) / n; // typed arrays live outside the V8 heap
  console.log(`sessions:            ${n.toLocaleString("en")} (one BIB entry each, 10k hosts)`);
  console.log(`heap per session:    ${per.toFixed(0)} bytes (BIB + session + indexes)`);
  console.log(`session creation:    ${(n / createMs * 1000).toFixed(0)} /s`);
  console.log(`6->4 lookups:        ${(L / look6Ms * 1000).toFixed(0)} /s (BIB by IPv6 + session)`);
  console.log(`4->6 lookups:        ${(L / look4Ms * 1000).toFixed(0)} /s (BIB by IPv4 + session)`);
  console.log(`expire all:          ${expireMs.toFixed(0)} ms (${t.sessionCount} left)`);
}

if (Deno.args.includes("--scale")) {
  const i = Deno.args.indexOf("--scale");
  scale(Number(Deno.args[i + 1] ?? 1_000_000) || 1_000_000);
} else {
  const stats = new Stats();
  const e = new Nat64(engineOptions(), stats, { seed: 1 });
  const out = new PacketBatch(64, 65536);
  const payload = new Uint8Array(64 - 48);
  const udpOut = B.udp6({
    src: "2001:db8::1",
    dst: "64:ff9b::808:808",
    sport: 5000,
    dport: 53,
    payload,
  });
  out.clear();
  e.translate(udpOut, udpOut.length, out, 0);
  const bib = e.tables.findBib6(P_UDP, B.addr6("2001:db8::1"), 0, 5000)!;
  const udpIn2 = B.udp4({ src: "8.8.8.8", dst: bib.addr4, sport: 53, dport: bib.port4, payload });
  const tcpOut = B.tcp6({
    src: "2001:db8::2",
    dst: "64:ff9b::808:808",
    sport: 6000,
    dport: 80,
    flags: 0x02,
  });
  e.translate(tcpOut, tcpOut.length, out, 0);
  const tcpAck = B.tcp6({
    src: "2001:db8::2",
    dst: "64:ff9b::808:808",
    sport: 6000,
    dport: 80,
    flags: 0x10,
  });
  let now = 0;
  let sp = 1024;
  const fresh = B.udp6({
    src: "2001:db8::3",
    dst: "64:ff9b::808:808",
    sport: 1024,
    dport: 53,
    payload,
  });

  Deno.bench("nat64 UDP 6->4, existing session", () => {
    out.clear();
    e.translate(udpOut, udpOut.length, out, now += 0.01);
  });
  Deno.bench("nat64 UDP 4->6, existing session", () => {
    out.clear();
    e.translate(udpIn2, udpIn2.length, out, now += 0.01);
  });
  Deno.bench("nat64 TCP 6->4 ACK, V6 INIT session", () => {
    out.clear();
    e.translate(tcpAck, tcpAck.length, out, now += 0.01);
  });
  Deno.bench("nat64 UDP 6->4, new BIB + session each packet", () => {
    const old = sp;
    sp = sp >= 65535 ? 1024 : sp + 1;
    fresh[40] = sp >> 8;
    fresh[41] = sp & 255;
    const c = adjust((fresh[46] << 8) | fresh[47], old, sp);
    fresh[46] = c >> 8;
    fresh[47] = c & 255;
    out.clear();
    e.translate(fresh, fresh.length, out, now += 0.01);
  });
}
