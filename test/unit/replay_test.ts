import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { formatReplaySummary, replay } from "../../src/io/replay.ts";
import { udp4, udp6 } from "../../src/packet/build.ts";
import { LINKTYPE, PcapError, PcapReader, PcapWriter } from "../../src/packet/pcap.ts";

const SIIT = parseConfig(
  `mode = "siit"\n[translator]\npool6 = "64:ff9b::/96"\n` +
    `[[translator.eam]]\nipv4 = "198.51.100.0/24"\nipv6 = "2001:db8:1::/120"`,
  "siit.toml",
);

async function withFiles(fn: (inPath: string, outPath: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "xlat64-replay-" });
  try {
    await fn(`${dir}/in.pcap`, `${dir}/out.pcap`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("replay streams a capture larger than its read chunk, in order, every packet", async () => {
  await withFiles(async (inPath, outPath) => {
    const f = await Deno.open(inPath, { write: true, create: true });
    // 7000 packets of ~1 KB: about 7 MB, so records straddle the 4 MiB chunk boundary.
    const n = 7000;
    try {
      const w = new PcapWriter(f, { nanos: true });
      const payload = new Uint8Array(1000);
      for (let i = 0; i < n; i++) {
        const p = i % 2 === 0
          ? udp6({ src: "2001:db8:1::7", dst: "64:ff9b::909:909", sport: i, dport: 53, payload })
          : udp4({ src: "9.9.9.9", dst: "198.51.100.7", sport: 53, dport: i, payload });
        w.write(p, 1e18 + i * 1000);
      }
    } finally {
      f.close();
    }
    const r = await replay(SIIT, inPath, outPath);
    assert.equal(r.read, n);
    assert.equal(r.written, n);
    assert.equal(r.dropped, 0);
    const out = [...new PcapReader(await Deno.readFile(outPath))];
    assert.equal(out.length, n);
    out.forEach((p, i) => {
      assert.equal(p.tsNs, 1e18 + i * 1000, `timestamp of packet ${i}`);
      assert.equal(p.data[0] >> 4, i % 2 === 0 ? 4 : 6, `family of packet ${i}`);
    });
  });
});

Deno.test("replay skips non-IP frames and counts them", async () => {
  await withFiles(async (inPath, outPath) => {
    const w = new PcapWriter(undefined, { linkType: LINKTYPE.ETHERNET });
    const arp = new Uint8Array(42);
    arp.set([0x08, 0x06], 12);
    w.write(arp, 0);
    const ip = udp4({ src: "9.9.9.9", dst: "198.51.100.7", sport: 1, dport: 2 });
    const eth = new Uint8Array(14 + ip.length);
    eth.set([0x08, 0x00], 12);
    eth.set(ip, 14);
    w.write(eth, 0);
    await Deno.writeFile(inPath, w.bytes());
    const r = await replay(SIIT, inPath, outPath);
    assert.deepEqual([r.read, r.written, r.skipped], [1, 1, 1]);
    assert.match(formatReplaySummary(r), /, 1 non-IP frame skipped$/);
  });
});

Deno.test("replay reports a truncated capture as a PcapError", async () => {
  await withFiles(async (inPath, outPath) => {
    const bytes = new PcapWriter(undefined).bytes();
    const w = new PcapWriter(undefined);
    w.write(udp4({ src: "9.9.9.9", dst: "198.51.100.7", sport: 1, dport: 2 }), 0);
    const whole = w.bytes();
    await Deno.writeFile(inPath, whole.subarray(0, whole.length - 3));
    await assert.rejects(replay(SIIT, inPath, outPath), PcapError);
    await Deno.writeFile(inPath, bytes.subarray(0, 10));
    await assert.rejects(replay(SIIT, inPath, outPath), PcapError);
  });
});

Deno.test("replay refuses mode none", async () => {
  const none = parseConfig(`mode = "none"`, "none.toml");
  await assert.rejects(replay(none, "/dev/null", "/dev/null"), /mode is "none"/);
});

Deno.test("replay summary names drops by reason", () => {
  const line = formatReplaySummary({
    read: 10,
    written: 9,
    dropped: 2,
    drops: { ttl_exceeded: 1, bad_checksum: 1 },
    icmpErrors: 1,
    skipped: 0,
  });
  assert.equal(
    line,
    "replay: 10 packets in, 9 out (1 ICMP error generated), 2 dropped " +
      "(ttl_exceeded: 1, bad_checksum: 1)",
  );
});
