import assert from "node:assert/strict";
import { icmp4Echo, icmp6Echo, tcp6, udp4, udp6 } from "../../src/packet/build.ts";
import {
  LINKTYPE,
  PcapError,
  PcapReader,
  PcapWriter,
  readPcap,
  writePcap,
} from "../../src/packet/pcap.ts";

const u4 = udp4({ src: "192.0.2.1", dst: "198.51.100.2", sport: 1000, dport: 53, payload: "abc" });
const t6 = tcp6({ src: "2001:db8::1", dst: "2001:db8::2", sport: 5, dport: 80, payload: "x" });
const e6 = icmp6Echo({ src: "2001:db8::1", dst: "2001:db8::2", ident: 7, seq: 9 });

function hasTool(name: string): boolean {
  try {
    return new Deno.Command(name, { args: ["-v"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}
const haveTshark = hasTool("tshark");
const haveText2pcap = hasTool("text2pcap") && hasTool("editcap");

Deno.test("writePcap then readPcap returns the same packets and µs timestamps", () => {
  const file = writePcap([
    { data: u4, tsNs: 1_700_000_000_123_456_000 },
    { data: t6, tsNs: 5_000 },
    e6,
  ]);
  const got = readPcap(file);
  assert.equal(got.length, 3);
  assert.deepEqual(got.map((p) => [...p.data]), [[...u4], [...t6], [...e6]]);
  assert.deepEqual(got.map((p) => [p.tsSec, p.tsNsFrac]), [[1_700_000_000, 123_456_000], [
    0,
    5_000,
  ], [0, 0]]);
  assert.equal(got[0].tsNs, 1_700_000_000_123_456_000);
  assert.equal(got[1].origLen, t6.length);
  assert.deepEqual(got.map((p) => p.index), [0, 1, 2]);
});

Deno.test("reads a hand-made big-endian nanosecond file (pcap-savefile(5) layout)", () => {
  const h = new Uint8Array(24 + 16 + e6.length);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, 0xa1b23c4d); // ns magic, big-endian
  dv.setUint16(4, 2);
  dv.setUint16(6, 4);
  dv.setUint32(16, 65535);
  dv.setUint32(20, 229); // LINKTYPE_IPV6
  dv.setUint32(24, 1234);
  dv.setUint32(28, 999_999_999);
  dv.setUint32(32, e6.length);
  dv.setUint32(36, e6.length + 100);
  h.set(e6, 40);
  const r = new PcapReader(h);
  assert.equal(r.bigEndian, true);
  assert.equal(r.nanos, true);
  assert.equal(r.linkType, 229);
  assert.equal(r.snaplen, 65535);
  const p = r.next();
  assert.ok(p);
  assert.equal(p.tsSec, 1234);
  assert.equal(p.tsNsFrac, 999_999_999);
  assert.equal(p.tsNs, 1234_999_999_999);
  assert.equal(p.origLen, e6.length + 100);
  assert.deepEqual([...p.data], [...e6]);
  assert.equal(r.next(), null);
});

Deno.test("every writer format (byte order x resolution) reads back", () => {
  for (const bigEndian of [false, true]) {
    for (const nanos of [false, true]) {
      const w = new PcapWriter(undefined, { bigEndian, nanos });
      w.write(u4, 1_600_000_000_000_000_123);
      const r = new PcapReader(w.bytes());
      assert.equal(r.bigEndian, bigEndian);
      assert.equal(r.nanos, nanos);
      const p = r.next()!;
      assert.equal(p.tsSec, 1_600_000_000);
      // 1.6e18 is not exact in a double: the fraction comes back within 256 ns.
      assert.ok(Math.abs(p.tsNsFrac - (nanos ? 123 : 0)) <= 256, `${bigEndian} ${nanos}`);
      assert.deepEqual([...p.data], [...u4]);
    }
  }
});

function eth(type: number, payload: Uint8Array, tags: number[] = []): Uint8Array {
  const f = new Uint8Array(14 + 4 * tags.length + payload.length);
  f.fill(0xaa, 0, 12);
  let o = 12;
  for (const t of tags) {
    f[o] = t >> 8;
    f[o + 1] = t & 255;
    f[o + 3] = 5; // VLAN id 5
    o += 4;
  }
  f[o] = type >> 8;
  f[o + 1] = type & 255;
  f.set(payload, o + 2);
  return f;
}

function file(linkType: number, frames: Uint8Array[]): Uint8Array {
  const w = new PcapWriter(undefined, { linkType });
  for (const f of frames) w.write(f);
  return w.bytes();
}

Deno.test("Ethernet: strips 14 bytes, skips 802.1Q/802.1ad tags, skips non-IP frames", () => {
  const arp = eth(0x0806, new Uint8Array(28));
  const r = new PcapReader(file(LINKTYPE.ETHERNET, [
    eth(0x0800, u4),
    arp,
    eth(0x86dd, t6, [0x8100]),
    eth(0x86dd, e6, [0x88a8, 0x8100]),
    eth(0x0800, u4).subarray(0, 13), // cut inside the header
  ]));
  const got = [...r];
  assert.deepEqual(got.map((p) => [...p.data]), [[...u4], [...t6], [...e6]]);
  assert.deepEqual(got.map((p) => p.index), [0, 2, 3]);
  assert.equal(r.skipped, 2);
});

Deno.test("Ethernet with trailing padding keeps the padding (IP Total Length bounds the packet)", () => {
  const padded = new Uint8Array(u4.length + 6);
  padded.set(u4);
  const [p] = readPcap(file(LINKTYPE.ETHERNET, [eth(0x0800, padded)]));
  assert.equal(p.data.length, u4.length + 6);
});

Deno.test("Linux cooked captures: SLL (16-byte header) and SLL2 (20-byte header)", () => {
  const sll = (proto: number, p: Uint8Array) => {
    const f = new Uint8Array(16 + p.length);
    f[14] = proto >> 8;
    f[15] = proto & 255;
    f.set(p, 16);
    return f;
  };
  const sll2 = (proto: number, p: Uint8Array) => {
    const f = new Uint8Array(20 + p.length);
    f[0] = proto >> 8;
    f[1] = proto & 255;
    f.set(p, 20);
    return f;
  };
  const a = readPcap(file(LINKTYPE.LINUX_SLL, [sll(0x86dd, t6), sll(0x0806, u4), sll(0x800, u4)]));
  assert.deepEqual(a.map((p) => [...p.data]), [[...t6], [...u4]]);
  const b = readPcap(file(LINKTYPE.LINUX_SLL2, [sll2(0x0800, u4), sll2(0x88cc, u4)]));
  assert.deepEqual(b.map((p) => [...p.data]), [[...u4]]);
});

Deno.test("raw link types 101, 12, 228, 229; raw records without an IP version are skipped", () => {
  for (const lt of [LINKTYPE.RAW, LINKTYPE.DLT_RAW]) {
    const r = new PcapReader(file(lt, [u4, new Uint8Array([0x50, 1, 2]), e6]));
    assert.deepEqual([...r].map((p) => p.data.length), [u4.length, e6.length], `linktype ${lt}`);
    assert.equal(r.skipped, 1);
  }
  assert.equal(readPcap(file(LINKTYPE.IPV4, [u4])).length, 1);
  assert.equal(readPcap(file(LINKTYPE.IPV6, [t6])).length, 1);
});

Deno.test("PcapError names the byte offset of truncation and garbage", () => {
  const good = writePcap([u4, t6]);
  const throwsAt = (b: Uint8Array, offset: number, re: RegExp) =>
    assert.throws(() => readPcap(b), (e: unknown) => {
      assert.ok(e instanceof PcapError, String(e));
      assert.equal(e.offset, offset);
      assert.match(e.message, re);
      return true;
    });
  throwsAt(new Uint8Array(0), 0, /too short/);
  throwsAt(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n12345678"), 0, /bad magic/);
  throwsAt(Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0]), 0, /pcapng/);
  throwsAt(good.subarray(0, 20), 20, /truncated file header/);
  throwsAt(good.subarray(0, 24 + 10), 24, /truncated record header/);
  throwsAt(good.subarray(0, 24 + 16 + 5), 24, /runs past the end/);
  const secondRec = 24 + 16 + u4.length;
  throwsAt(good.subarray(0, good.length - 1), secondRec, /runs past the end/);
  const huge = good.slice();
  new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
  throwsAt(huge, 32, /implausible/);
  const badFrac = good.slice();
  new DataView(badFrac.buffer).setUint32(24 + 4, 1_000_000, true);
  throwsAt(badFrac, 28, /timestamp/);
  const badLink = good.slice();
  new DataView(badLink.buffer).setUint32(20, 147, true);
  throwsAt(badLink, 20, /link type 147/);
  const badVer = good.slice();
  badVer[4] = 3;
  throwsAt(badVer, 4, /version 3/);
});

Deno.test("PcapWriter streams to a Deno.FsFile", () => {
  const path = Deno.makeTempFileSync({ suffix: ".pcap" });
  try {
    const f = Deno.openSync(path, { write: true, truncate: true });
    try {
      const w = new PcapWriter(f);
      for (let i = 0; i < 100; i++) w.write(i % 2 ? u4 : t6, i * 1000);
      assert.equal(w.count, 100);
      assert.throws(() => w.bytes());
    } finally {
      f.close();
    }
    const got = readPcap(Deno.readFileSync(path));
    assert.equal(got.length, 100);
    assert.equal(got[99].tsNs, 99_000);
    assert.deepEqual([...got[99].data], [...u4]);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test({
  name: `tshark reads our raw-IP pcap: fields and good checksums${
    haveTshark ? "" : " (skipped: tshark not installed)"
  }`,
  ignore: !haveTshark,
  fn() {
    const path = Deno.makeTempFileSync({ suffix: ".pcap" });
    try {
      const bad = udp6({
        src: "2001:db8::1",
        dst: "2001:db8::2",
        sport: 1,
        dport: 2,
        checksum: "bad",
      });
      const e4 = icmp4Echo({ src: "192.0.2.9", dst: "192.0.2.10", ident: 0x77, seq: 1 });
      Deno.writeFileSync(
        path,
        writePcap([{ data: u4, tsNs: 1_700_000_000_123_456_000 }, t6, e6, bad, e4]),
      );
      const out = new Deno.Command("tshark", {
        args: [
          ...["-r", path, "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"],
          ...["-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=,"],
          ...["-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.dst", "-e", "udp.dstport"],
          ...["-e", "tcp.dstport", "-e", "icmpv6.echo.identifier", "-e", "ip.checksum.status"],
          ...["-e", "udp.checksum.status", "-e", "tcp.checksum.status"],
          ...["-e", "icmpv6.checksum.status", "-e", "icmp.checksum.status"],
        ],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
      // Checksum status: 1 good, 0 bad (Wireshark's proto_checksum_enum).
      assert.deepEqual(lines, [
        "1700000000.123456000,192.0.2.1,,53,,,1,1,,,",
        "0.000000000,,2001:db8::2,,80,,,,1,,",
        "0.000000000,,2001:db8::2,,,0x0007,,,,1,",
        "0.000000000,,2001:db8::2,2,,,,0,,,",
        "0.000000000,192.0.2.9,,,,,1,,,,1",
      ]);
    } finally {
      Deno.removeSync(path);
    }
  },
});

Deno.test({
  name: `reads files made by text2pcap/editcap (Ethernet, nanosecond)${
    haveText2pcap ? "" : " (skipped: text2pcap/editcap not installed)"
  }`,
  ignore: !haveText2pcap,
  fn() {
    const dir = Deno.makeTempDirSync();
    try {
      const hex = (p: Uint8Array) =>
        "0000 " + [...p].map((x) => x.toString(16).padStart(2, "0")).join(" ") + "\n";
      Deno.writeFileSync(`${dir}/a.txt`, new TextEncoder().encode(hex(t6)));
      const run = (cmd: string, args: string[]) => {
        const o = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).outputSync();
        assert.ok(o.success, `${cmd}: ${new TextDecoder().decode(o.stderr)}`);
      };
      // Ethernet frame with ethertype 0x86dd prepended by text2pcap.
      run("text2pcap", ["-q", "-F", "pcap", "-e", "0x86dd", `${dir}/a.txt`, `${dir}/eth.pcap`]);
      const eth = new PcapReader(Deno.readFileSync(`${dir}/eth.pcap`));
      assert.equal(eth.linkType, LINKTYPE.ETHERNET);
      assert.deepEqual([...eth].map((p) => [...p.data]), [[...t6]]);
      Deno.writeFileSync(`${dir}/raw.pcap`, writePcap([{ data: u4, tsNs: 42_000_123_000 }]));
      run("editcap", ["-F", "nsecpcap", `${dir}/raw.pcap`, `${dir}/ns.pcap`]);
      const ns = new PcapReader(Deno.readFileSync(`${dir}/ns.pcap`));
      assert.equal(ns.nanos, true);
      const [p] = [...ns];
      assert.equal(p.tsNs, 42_000_123_000);
      assert.deepEqual([...p.data], [...u4]);
      run("editcap", ["-F", "pcapng", `${dir}/raw.pcap`, `${dir}/ng.pcapng`]);
      assert.throws(() => readPcap(Deno.readFileSync(`${dir}/ng.pcapng`)), /pcapng/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
