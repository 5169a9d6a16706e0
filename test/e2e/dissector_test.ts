// Every translated packet is checked by dissectors we did not write: tshark (Wireshark 4.0,
// with IP/TCP/UDP checksum validation on; ICMP/ICMPv6 are always checked) and a scapy-based
// checker (tools/check_pcap.py) that also reassembles fragments and checks the packets
// quoted inside ICMP errors. The corpus itself is built with scapy (tools/corpus.py).
import assert from "node:assert/strict";
import {
  haveCommand,
  haveScapy,
  makeCorpus,
  PYTHON,
  run,
  SIIT_CONFIG,
  TOOLS,
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
];

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
    const statuses = cols.slice(0, 5);
    statuses.forEach((s, k) => {
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
  const r = await run(PYTHON, ["-W", "ignore", `${TOOLS}check_pcap.py`, path]);
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
