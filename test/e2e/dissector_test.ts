// Every translated packet is checked by dissectors we did not write: tshark (Wireshark 4.0,
// with IP/TCP/UDP checksum validation on; ICMP/ICMPv6 are always checked) and a scapy-based
// checker (tools/check_pcap.py) that also reassembles fragments and checks the packets
// quoted inside ICMP errors. The corpus itself is built with scapy (tools/corpus.py).
import assert from "node:assert/strict";
import fc from "fast-check";
import * as B from "../../src/packet/build.ts";
import { PcapWriter, writePcap } from "../../src/packet/pcap.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { toNat64EngineOptions } from "../../src/nat64/options.ts";
import { createEngine } from "../../src/io/engines.ts";
import { Stats } from "../../src/xlat/stats.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import {
  haveCommand,
  haveScapy,
  makeCorpus,
  run,
  runTool,
  SIIT_CONFIG,
  translatePcap,
} from "./tools/xlat_corpus.ts";

const ready = await haveCommand("tshark") && await haveScapy();

/** Wireshark's PROTO_CHECKSUM_E_BAD and _ILLEGAL; expert severities (epan/proto.h). */
const CK_BAD = 0;
const CK_ILLEGAL = 4;
const PI_WARN = 0x00400000;
const PI_ERROR = 0x00800000;
const SUSPECT = /length|checksum|malformed|bogus|truncat|invalid|exceed/i;

const FIELDS = [
  "frame.number",
  "ip.checksum.status",
  "tcp.checksum.status",
  "udp.checksum.status",
  "icmp.checksum.status",
  "icmpv6.checksum.status",
  "_ws.expert.severity",
  "_ws.expert.message",
  "_ws.malformed",
  "frame.len",
  "ip.hdr_len",
  "ip.len",
  "ipv6.plen",
  "icmp.type",
  "icmpv6.type",
];

const ints = (col: string) => col.split("|").filter((x) => x !== "").map(Number);

/**
 * An ICMP error whose quoted packet is cut short of its own length field. Wireshark 4.0
 * then still "verifies" the quoted TCP/UDP checksum over the bytes present and calls it
 * bad (seen with an 18-byte quoted TCP header whose checksum was correct for the full
 * segment); the scapy checker skips those, so tshark's verdict on them is ignored too.
 */
function quoteCut(cols: string[]): boolean {
  const [frameLen] = ints(cols[8]);
  const hdr = ints(cols[9]);
  const ipLen = ints(cols[10]);
  const plen = ints(cols[11]);
  const [t4] = ints(cols[12]);
  const [t6] = ints(cols[13]);
  if (t4 !== undefined && [3, 4, 5, 11, 12].includes(t4) && hdr.length >= 1 && ipLen.length >= 2) {
    return frameLen - hdr[0] - 8 < ipLen[1];
  }
  if (t6 !== undefined && t6 >= 1 && t6 <= 4 && plen.length >= 2) {
    return frameLen - 48 < 40 + plen[1];
  }
  return false;
}

/** Problems tshark reports in a pcap: bad/illegal checksums, errors, suspicious warnings. */
async function tsharkProblems(path: string): Promise<{ frames: number; problems: string[] }> {
  const args = [
    "-r",
    path,
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    // Random payloads on port 9 (discard) are data, not some application protocol.
    "-d",
    "udp.port==9,data",
    "-d",
    "tcp.port==9,data",
    "-T",
    "fields",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=|",
  ];
  for (const f of FIELDS) args.push("-e", f);
  const r = await run("tshark", args);
  assert.equal(r.code, 0, `tshark failed: ${r.stderr}`);
  const problems: string[] = [];
  const lines = r.stdout.split("\n").filter((l) => l.length > 0);
  for (const line of lines) {
    const [frame, ...cols] = line.split("\t");
    const cut = quoteCut(cols);
    const statuses = cols.slice(0, 5);
    statuses.forEach((s, k) => {
      if (cut && (k === 1 || k === 2)) return;
      for (const v of s.split("|").filter((x) => x !== "")) {
        const n = Number(v);
        if (n === CK_BAD || n === CK_ILLEGAL) {
          problems.push(`frame ${frame}: ${FIELDS[k + 1]} = ${n === CK_BAD ? "bad" : "illegal"}`);
        }
      }
    });
    const sev = cols[5].split("|").filter((x) => x !== "").map(Number);
    const msg = cols[6].split("|");
    sev.forEach((s, k) => {
      if (cut && /^Bad checksum/.test(msg[k] ?? "")) return; // the ICMP status above still counts
      if (s >= PI_ERROR || (s >= PI_WARN && SUSPECT.test(msg[k] ?? ""))) {
        problems.push(`frame ${frame}: expert: ${msg[k]}`);
      }
    });
    if (cols[7] !== "") problems.push(`frame ${frame}: malformed`);
  }
  return { frames: lines.length, problems };
}

async function scapyProblems(
  path: string,
): Promise<{ code: number; summary: Record<string, number>; lines: string[] }> {
  const r = await runTool("check_pcap.py", [path]);
  const lines = r.stdout.trim().split("\n");
  return { code: r.code, summary: JSON.parse(lines[lines.length - 1]), lines: lines.slice(0, -1) };
}

/** Flips one byte in the n-th record's packet (raw-IP pcap written by PcapWriter). */
function corrupt(pcap: Uint8Array, n: number, at: number): Uint8Array {
  const b = pcap.slice();
  const dv = new DataView(b.buffer);
  let o = 24;
  for (let i = 0; i < n; i++) o += 16 + dv.getUint32(o + 8, true);
  b[o + 16 + at] ^= 0x5a;
  return b;
}

Deno.test({
  name: "dissector: tshark and scapy find every checksum and length of translated packets valid",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xlat64-dissector-" });
    try {
      const corpus = await makeCorpus(dir);
      const { result, pcap } = translatePcap(SIIT_CONFIG, await Deno.readFile(corpus.pcap));
      const out = `${dir}/out.pcap`;
      await Deno.writeFile(out, pcap);

      // The check must not be vacuous: most cases translate, in both directions, with
      // ICMP errors (inner packets) and fragments among them.
      const emitted = result.perInput.reduce((n, p) => n + p.length, 0);
      const translatedCases = result.perInput.filter((p) => p.length > 0).length;
      assert.ok(translatedCases >= corpus.cases.length * 0.7, `only ${translatedCases} cases`);
      const outVersions = new Set(result.perInput.flat().map((p) => p[0] >> 4));
      assert.deepEqual([...outVersions].sort(), [4, 6]);

      const ts = await tsharkProblems(out);
      assert.equal(ts.frames, emitted, "tshark read every packet");
      assert.deepEqual(ts.problems, [], ts.problems.join("\n"));

      const sc = await scapyProblems(out);
      assert.deepEqual(sc.lines, [], sc.lines.join("\n"));
      assert.equal(sc.code, 0);
      assert.equal(sc.summary.packets, emitted);
      assert.ok(sc.summary.inner_packets >= 10, "ICMP errors with inner packets were checked");
      assert.ok(sc.summary.reassembled >= 2, "fragmented datagrams were reassembled");
      assert.ok(sc.summary.udp + sc.summary.tcp >= 20, "transport checksums were checked");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "dissector: both checkers flag a corrupted checksum, length and inner packet",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xlat64-dissector-neg-" });
    try {
      const corpus = await makeCorpus(dir);
      const { result, pcap } = translatePcap(SIIT_CONFIG, await Deno.readFile(corpus.pcap));
      const flat = result.perInput.flat();
      const find = (pred: (p: Uint8Array) => boolean) => {
        const k = flat.findIndex(pred);
        assert.ok(k >= 0);
        return k;
      };
      const udp6 = find((p) => p[0] >> 4 === 6 && p[6] === 17);
      const v4 = find((p) => p[0] >> 4 === 4 && p[9] === 6);
      const icmpErr4 = find((p) => p[0] >> 4 === 4 && p[9] === 1 && p[20] === 3);
      const cases: [string, number, number][] = [
        ["UDP payload byte", udp6, 50],
        ["IPv4 total length", v4, 3],
        ["inner IPv4 header of an ICMP error", icmpErr4, 28 + 8],
      ];
      for (const [what, k, at] of cases) {
        const bad = `${dir}/bad.pcap`;
        await Deno.writeFile(bad, corrupt(pcap, k, at));
        const ts = await tsharkProblems(bad);
        const sc = await scapyProblems(bad);
        assert.ok(sc.code !== 0 && sc.lines.length > 0, `scapy checker missed: ${what}`);
        assert.ok(ts.problems.length > 0, `tshark missed: ${what}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Random packets from our own builders (src/packet/build.ts), checked after translation by
// the same two outside dissectors: sizes, options, extension headers, ICMP errors with
// cut quotes. Seeded, so a failure names a reproducible packet.
const SEED = Number(Deno.env.get("DISSECTOR_SEED") ?? 7915);
const RUNS = Number(Deno.env.get("DISSECTOR_RUNS") ?? 400);
const H6 = "2001:db8:1::2";
const R6 = "2001:db8:1::3";
const S6 = "2001:db8:64::c633:6402";
const H4 = "192.0.2.2";
const S4 = "198.51.100.2";
const R4 = "198.51.100.9";
const data = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const port = fc.integer({ min: 1, max: 65535 });
const ext6 = fc.subarray(["hbh", "dst", "frag"] as const).map((xs) =>
  xs.map((t): B.Ext6 =>
    t === "frag" ? { type: "frag", offset: 0, mf: false, id: 77 } : { type: t, options: [1, 0] }
  )
);

function transport6(k: number, src: string, dst: string, d: Uint8Array, sp: number): Uint8Array {
  const base = { src, dst, sport: sp, dport: 9 };
  if (k === 0) return B.udp6({ ...base, payload: d });
  if (k === 1) return B.tcp6({ ...base, seq: sp * 3, payload: d });
  return B.icmp6Echo({ src, dst, ident: sp, seq: 1, reply: k === 3, payload: d });
}

function transport4(k: number, src: string, dst: string, d: Uint8Array, sp: number): Uint8Array {
  const base = { src, dst, df: true, sport: sp, dport: 9 };
  if (k === 0) return B.udp4({ ...base, payload: d });
  if (k === 1) return B.tcp4({ ...base, seq: sp * 3, payload: d });
  return B.icmp4Echo({ src, dst, df: true, ident: sp, seq: 1, reply: k === 3, payload: d });
}

const pkt6 = fc.record({
  k: fc.integer({ min: 0, max: 3 }),
  d: data(1400),
  sp: port,
  tc: fc.integer({ min: 0, max: 255 }),
  fl: fc.integer({ min: 0, max: 0xfffff }),
  ext: ext6,
}).map(({ k, d, sp, tc, fl, ext }) => {
  const t = transport6(k, H6, S6, d, sp);
  // Rebuild with the random header fields and extension headers around the same segment.
  return B.ipv6({ src: H6, dst: S6, tc, flowLabel: fl, ext, proto: t[6], payload: t.subarray(40) });
});

const err6 = fc.record({
  k: fc.integer({ min: 0, max: 3 }),
  d: data(1300),
  sp: port,
  cut: fc.integer({ min: 48, max: 1232 }),
  te: fc.constantFrom([1, 0], [1, 1], [1, 3], [1, 4], [2, 0], [3, 0], [4, 0], [4, 1]),
  rest: fc.integer({ min: 0, max: 39 }),
  mtu: fc.integer({ min: 1280, max: 9000 }),
}).map(({ k, d, sp, cut, te, rest, mtu }) =>
  B.icmp6Error({
    src: te[0] === 2 || te[0] === 3 ? R6 : H6,
    dst: S6,
    type: te[0],
    code: te[1],
    rest: te[0] === 2 ? mtu : te[0] === 4 ? rest : 0,
    inner: B.truncate(transport6(k, S6, H6, d, sp), cut),
  })
);

const pkt4 = fc.record({
  k: fc.integer({ min: 0, max: 3 }),
  d: data(1400),
  sp: port,
  tos: fc.integer({ min: 0, max: 255 }),
  df: fc.boolean(),
  opts: fc.constantFrom([], [1, 1, 1, 1], [7, 7, 4, 0, 0, 0, 0]),
}).map(({ k, d, sp, tos, df, opts }) => {
  const t = transport4(k, S4, H4, d, sp);
  return B.ipv4({
    src: S4,
    dst: H4,
    tos,
    df,
    id: sp,
    options: opts,
    proto: t[9],
    payload: t.subarray(20),
  });
});

const err4 = fc.record({
  k: fc.integer({ min: 0, max: 3 }),
  d: data(1300),
  sp: port,
  cut: fc.integer({ min: 28, max: 548 }),
  te: fc.constantFrom([3, 0], [3, 1], [3, 2], [3, 3], [3, 4], [3, 9], [3, 13], [11, 0], [11, 1], [
    12,
    0,
  ]),
  ptr: fc.integer({ min: 0, max: 19 }),
  mtu: fc.integer({ min: 0, max: 1500 }),
}).map(({ k, d, sp, cut, te, ptr, mtu }) =>
  B.icmp4Error({
    src: te[0] === 3 && te[1] === 3 ? S4 : R4,
    dst: H4,
    type: te[0],
    code: te[1],
    rest: te[0] === 3 && te[1] === 4 ? mtu : te[0] === 12 ? ptr << 24 : 0,
    inner: B.truncate(transport4(k, H4, S4, d, sp), cut),
  })
);

Deno.test({
  name:
    `dissector: random built packets (seed ${SEED}) translate to packets tshark and scapy accept`,
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xlat64-dissector-rnd-" });
    try {
      const inputs = fc.sample(fc.oneof(pkt6, err6, pkt4, err4), { seed: SEED, numRuns: RUNS });
      const input = writePcap(inputs.map((data, i) => ({ data, tsNs: (1e9 + i) * 1e9 })));
      const inPath = `${dir}/in.pcap`;
      await Deno.writeFile(inPath, input);
      const { result, pcap } = translatePcap(SIIT_CONFIG, input);
      const out = `${dir}/out.pcap`;
      await Deno.writeFile(out, pcap);
      const keep = Deno.env.get("DISSECTOR_KEEP"); // debugging: keep out.pcap and in.pcap
      if (keep) {
        await Deno.copyFile(out, keep);
        await Deno.copyFile(inPath, `${keep}.in`);
      }
      const emitted = result.perInput.reduce((n, p) => n + p.length, 0);
      assert.ok(emitted >= 300, `only ${emitted} packets emitted for ${inputs.length}`);

      // The inputs themselves are valid (else a problem below could be the builder's).
      const sin = await scapyProblems(inPath);
      assert.deepEqual(sin.lines, [], `builder produced bad input:\n${sin.lines.join("\n")}`);

      const ts = await tsharkProblems(out);
      assert.equal(ts.frames, emitted);
      assert.deepEqual(ts.problems, [], ts.problems.slice(0, 20).join("\n"));
      const sc = await scapyProblems(out);
      assert.deepEqual(sc.lines, [], sc.lines.slice(0, 20).join("\n"));
      assert.ok(sc.summary.inner_packets >= 100);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Stateful NAT64 rewrites ports and identifiers as well as addresses, in the packet and in
// the packet quoted by an ICMP error: flows are opened from IPv6, answered from IPv4
// (replies and ICMPv4 errors quoting the translated packets), and everything the engine
// emits goes to the outside dissectors.
const NAT64_CONFIG = `mode = "nat64"
[translator]
pool6 = "2001:db8:64::/96"
[[nat64.pool4]]
prefix = "192.0.2.2/32"
ports = "61001-65535"
protocols = ["tcp", "udp", "icmp"]
[dns]
listen = []
`;

const flow6 = fc.record({
  host: fc.integer({ min: 2, max: 200 }),
  server: fc.integer({ min: 1, max: 250 }),
  k: fc.integer({ min: 0, max: 2 }),
  d: data(1200),
  sp: fc.integer({ min: 1024, max: 65535 }),
  cut: fc.integer({ min: 28, max: 548 }),
  te: fc.constantFrom([3, 1], [3, 3], [3, 4], [3, 13], [11, 0], [12, 0]),
});

Deno.test({
  name: "dissector: NAT64 mode (flows from IPv6, replies and ICMPv4 errors from IPv4) emits " +
    "packets tshark and scapy accept",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xlat64-dissector-nat64-" });
    try {
      const cfg = parseConfig(NAT64_CONFIG, "nat64.toml");
      const engine = createEngine("nat64", toNat64EngineOptions(cfg), new Stats());
      const out = new PacketBatch(64);
      const w = new PcapWriter();
      let now = 1_000_000;
      let emitted = 0;
      const counts = { out4: 0, back6: 0, errors6: 0, errors4: 0 };
      const push = (pkt: Uint8Array): Uint8Array[] => {
        out.clear();
        engine.translate(pkt, pkt.length, out, now);
        const pkts = out.packets();
        for (const q of pkts) w.write(q, now * 1e6);
        emitted += pkts.length;
        now += 1;
        return pkts;
      };
      for (const f of fc.sample(flow6, { seed: SEED, numRuns: Math.max(150, RUNS / 2) })) {
        const h6 = `2001:db8:1::${f.host.toString(16)}`;
        const s4 = `198.51.100.${f.server}`;
        const s6 = `2001:db8:64::c633:64${f.server.toString(16).padStart(2, "0")}`;
        const first = f.k === 0
          ? B.udp6({ src: h6, dst: s6, sport: f.sp, dport: 9, payload: f.d })
          : f.k === 1
          ? B.tcp6({ src: h6, dst: s6, sport: f.sp, dport: 9, flags: TCP_FLAG.SYN, seq: f.sp })
          : B.icmp6Echo({ src: h6, dst: s6, ident: f.sp, seq: 1, payload: f.d });
        const v4 = push(first).filter((q) => q[0] >> 4 === 4 && (q[9] !== 1 || q[20] === 8));
        if (v4.length !== 1) continue;
        counts.out4++;
        const o = v4[0];
        const nat = (o[12] << 24 | o[13] << 16 | o[14] << 8 | o[15]) >>> 0;
        const natPort = (o[20] << 8) | o[21];
        // The server answers the translated packet...
        const reply = f.k === 0
          ? B.udp4({ src: s4, dst: nat, sport: 9, dport: natPort, df: true, payload: f.d })
          : f.k === 1
          ? B.tcp4({
            src: s4,
            dst: nat,
            sport: 9,
            dport: natPort,
            df: true,
            flags: TCP_FLAG.SYN | TCP_FLAG.ACK,
            seq: 77,
            ack: f.sp + 1,
          })
          : B.icmp4Echo({
            src: s4,
            dst: nat,
            reply: true,
            ident: (o[24] << 8) | o[25],
            seq: 1,
            payload: f.d,
          });
        const back = push(reply).filter((q) => q[0] >> 4 === 6);
        counts.back6 += back.length;
        for (const q of back) {
          // Back to the flow's own host and port (or echo identifier): RFC 6146 3.7.
          assert.deepEqual(q.subarray(24, 40), B.addr6(h6), "reply to the right host");
          assert.equal(f.k === 2 ? (q[44] << 8) | q[45] : (q[42] << 8) | q[43], f.sp);
        }
        if (back.length === 1 && f.k === 0) {
          // The IPv6 host refuses the reply: ICMPv6 Port Unreachable quoting it.
          const refuse = B.icmp6Error({ src: h6, dst: s6, type: 1, code: 4, inner: back[0] });
          counts.errors4 += push(refuse).filter((q) => q[0] >> 4 === 4 && q[9] === 1).length;
        }
        // ...and a router on the way reports an error about it, quoting it (cut short).
        const err = B.icmp4Error({
          src: "198.51.100.254",
          dst: nat,
          type: f.te[0],
          code: f.te[1],
          rest: f.te[0] === 3 && f.te[1] === 4 ? 1400 : f.te[0] === 12 ? 8 << 24 : 0,
          inner: B.truncate(o, f.cut),
        });
        for (const q of push(err).filter((q) => q[0] >> 4 === 6 && q[6] === 58)) {
          counts.errors6++;
          // The quoted packet is the flow's own IPv6 packet again (RFC 6146 3.5.3).
          assert.deepEqual(q.subarray(56, 72), B.addr6(h6), "error quotes the host's packet");
          const at = f.k === 2 ? 92 : 88; // echo identifier or source port of the quote
          if (q.length >= at + 2) {
            assert.equal(
              (q[at] << 8) | q[at + 1],
              f.sp,
              `quoted port/id, flow ${JSON.stringify({ ...f, d: f.d.length })}`,
            );
          }
        }
      }
      assert.ok(counts.out4 >= 100, `only ${counts.out4} flows translated to IPv4`);
      assert.ok(counts.back6 >= 80, `only ${counts.back6} replies translated back`);
      assert.ok(counts.errors6 >= 50, `only ${counts.errors6} ICMPv4 errors translated`);
      assert.ok(counts.errors4 >= 20, `only ${counts.errors4} ICMPv6 errors translated`);
      const path = `${dir}/nat64.pcap`;
      await Deno.writeFile(path, w.bytes());
      const ts = await tsharkProblems(path);
      assert.equal(ts.frames, emitted);
      assert.deepEqual(ts.problems, [], ts.problems.slice(0, 20).join("\n"));
      const sc = await scapyProblems(path);
      assert.deepEqual(sc.lines, [], sc.lines.slice(0, 20).join("\n"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
