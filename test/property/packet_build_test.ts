// Builders and parsers agree: whatever the builders make, the parsers accept with the same
// fields, and every checksum verifies (RFC 791 header checksum, RFC 768/793 pseudo-header
// checksums, RFC 1071 arithmetic).
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ChecksumMode,
  type Ext6,
  fragment4,
  fragment6,
  icmp4Echo,
  icmp6Echo,
  type Ipv4Fields,
  type Ipv6Fields,
  tcp4,
  tcp6,
  udp4,
  udp6,
} from "../../src/packet/build.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import {
  dstPort,
  srcPort,
  validateL4,
  verifyL4Checksum4,
  verifyL4Checksum6,
} from "../../src/packet/l4.ts";
import { IPPROTO } from "../../src/packet/proto.ts";
import { writePcap } from "../../src/packet/pcap.ts";
import { DROP } from "../../src/xlat/stats.ts";

const a4 = fc.integer({ min: 0, max: 0xffffffff });
const a6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const port = fc.integer({ min: 0, max: 65535 });
const payload = fc.uint8Array({ maxLength: 300 });
type Kind = "udp" | "tcp" | "icmp";
const kind = fc.constantFrom<Kind>("udp", "tcp", "icmp");

/** L4 of a built packet: UDP/TCP ports, or an ICMP Echo's identifier and sequence. */
interface L4 {
  sport: number;
  dport: number;
  payload: Uint8Array;
  checksum?: ChecksumMode;
}

function build4(k: Kind, ip: Ipv4Fields, l4: L4): Uint8Array {
  if (k === "udp") return udp4({ ...ip, ...l4 });
  if (k === "tcp") return tcp4({ ...ip, ...l4 });
  return icmp4Echo({ ...ip, ...l4, ident: l4.sport, seq: l4.dport });
}

function build6(k: Kind, ip: Ipv6Fields, l4: L4): Uint8Array {
  if (k === "udp") return udp6({ ...ip, ...l4 });
  if (k === "tcp") return tcp6({ ...ip, ...l4 });
  return icmp6Echo({ ...ip, ...l4, ident: l4.sport, seq: l4.dport });
}

const ip4 = fc.record({
  src: a4,
  dst: a4,
  ttl: fc.integer({ min: 0, max: 255 }),
  tos: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 65535 }),
  df: fc.boolean(),
  options: fc.uint8Array({ maxLength: 40 }),
});

// RFC 8200 4.1 recommended order: Hop-by-Hop, Destination, Routing, Fragment, Destination.
const ext6: fc.Arbitrary<Ext6[]> = fc.record({
  hbh: fc.option(fc.uint8Array({ maxLength: 30 }), { nil: undefined }),
  dst1: fc.option(fc.uint8Array({ maxLength: 30 }), { nil: undefined }),
  routing: fc.option(
    fc.record({
      routingType: fc.constantFrom(0, 2, 4),
      addresses: fc.array(a6, { minLength: 1, maxLength: 3 }),
      segmentsLeft: fc.integer({ min: 0, max: 3 }),
    }),
    { nil: undefined },
  ),
  frag: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  dst2: fc.option(fc.uint8Array({ maxLength: 30 }), { nil: undefined }),
}).map((r) => {
  const e: Ext6[] = [];
  if (r.hbh) e.push({ type: "hbh", options: r.hbh });
  if (r.dst1) e.push({ type: "dst", options: r.dst1 });
  if (r.routing) e.push({ type: "routing", ...r.routing });
  if (r.frag !== undefined) e.push({ type: "frag", id: r.frag });
  if (r.dst2) e.push({ type: "dst", options: r.dst2 });
  return e;
});

Deno.test("property: IPv4 builders -> parseIpv4 accepts, fields round-trip, checksums verify", () => {
  const o = new Ipv4Info();
  fc.assert(
    fc.property(ip4, kind, port, port, payload, (ip, k, sport, dport, pl) => {
      const p = build4(k, ip, { sport, dport, payload: pl });
      assert.equal(parseIpv4(p, p.length, o), 0);
      assert.equal(o.src, ip.src);
      assert.equal(o.dst, ip.dst);
      assert.equal(o.ttl, ip.ttl);
      assert.equal(o.tos, ip.tos);
      assert.equal(o.id, ip.id);
      assert.equal(o.df, ip.df);
      assert.equal(o.hdrLen, 20 + Math.ceil(ip.options.length / 4) * 4);
      assert.equal(o.totalLen, p.length);
      assert.equal(o.l4Off + o.l4Len, p.length);
      assert.equal(validateL4(p, o.l4Off, o.l4Len, o.proto, true), 0);
      assert.equal(verifyL4Checksum4(p, o), 0);
      if (k !== "icmp") {
        assert.equal(srcPort(p, o.l4Off), sport);
        assert.equal(dstPort(p, o.l4Off), dport);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: IPv6 builders with RFC 8200 4.1-ordered chains -> parsed, checksums verify", () => {
  const o = new Ipv6Info();
  fc.assert(
    fc.property(
      a6,
      a6,
      ext6,
      kind,
      port,
      port,
      payload,
      fc.integer({ min: 0, max: 0xfffff }),
      (src, dst, ext, k, sport, dport, pl, flowLabel) => {
        const ip = { src, dst, ext, flowLabel };
        const p = build6(k, ip, { sport, dport, payload: pl });
        assert.equal(parseIpv6(p, p.length, o), 0);
        const want = k === "udp" ? IPPROTO.UDP : k === "tcp" ? IPPROTO.TCP : IPPROTO.ICMPV6;
        assert.equal(o.proto, want);
        assert.equal(p[o.protoFieldOff], want);
        assert.equal(o.flowLabel, flowLabel);
        assert.equal(o.hasHopByHop, ext.some((e) => e.type === "hbh"));
        assert.equal(o.fragOff >= 0, ext.some((e) => e.type === "frag"));
        assert.equal(o.routingOff >= 0, ext.some((e) => e.type === "routing"));
        assert.equal(o.l4Off, 40 + o.extLen);
        assert.equal(o.l4Off + o.l4Len, p.length);
        assert.deepEqual(p.subarray(o.srcOff, o.srcOff + 16), src);
        assert.equal(validateL4(p, o.l4Off, o.l4Len, o.proto, true), 0);
        assert.equal(verifyL4Checksum6(p, o), 0);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: checksum 'bad' is always caught", () => {
  const o4 = new Ipv4Info();
  const o6 = new Ipv6Info();
  fc.assert(
    fc.property(a4, a4, a6, a6, kind, payload, (s4, d4, s6, d6, k, pl) => {
      const c = { checksum: "bad" as const, payload: pl, sport: 1, dport: 2 };
      const p4 = build4(k, { src: s4, dst: d4 }, c);
      assert.equal(parseIpv4(p4, p4.length, o4), 0);
      assert.equal(verifyL4Checksum4(p4, o4), DROP.bad_checksum);
      const p6 = build6(k, { src: s6, dst: d6 }, c);
      assert.equal(parseIpv6(p6, p6.length, o6), 0);
      assert.equal(verifyL4Checksum6(p6, o6), DROP.bad_checksum);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: RFC 791 fragments parse, tile the payload, and reassemble to the original", () => {
  const o = new Ipv4Info();
  fc.assert(
    fc.property(
      ip4,
      fc.uint8Array({ minLength: 1, maxLength: 1500 }),
      fc.integer({ min: 68, max: 1500 }),
      (ip, pl, mtu) => {
        const whole = udp4({ ...ip, df: false, sport: 1, dport: 2, payload: pl });
        const frags = fragment4(whole, mtu);
        const hl = 20 + Math.ceil(ip.options.length / 4) * 4;
        const data = new Uint8Array(whole.length - hl);
        let next = 0;
        frags.forEach((f, i) => {
          assert.ok(f.length <= mtu);
          assert.equal(parseIpv4(f, f.length, o), 0);
          assert.equal(o.fragOffset, next);
          assert.equal(o.mf, i < frags.length - 1);
          assert.equal(o.isFragment, frags.length > 1);
          if (o.mf) assert.equal(o.l4Len % 8, 0); // RFC 791: offsets count 8-octet units
          data.set(f.subarray(o.l4Off, o.l4Off + o.l4Len), o.fragOffset);
          next += o.l4Len;
        });
        assert.equal(next, data.length);
        assert.deepEqual(data, whole.subarray(hl));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: RFC 8200 4.5 fragments parse, keep the per-fragment headers, reassemble", () => {
  const o = new Ipv6Info();
  fc.assert(
    fc.property(
      a6,
      a6,
      fc.boolean(),
      fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      fc.integer({ min: 1280, max: 1500 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (src, dst, hbh, pl, mtu, id) => {
        const whole = udp6({
          src,
          dst,
          ext: hbh ? [{ type: "hbh" }] : [],
          sport: 1,
          dport: 2,
          payload: pl,
        });
        const unfrag = hbh ? 48 : 40;
        const frags = fragment6(whole, mtu, id);
        const data = new Uint8Array(whole.length - unfrag);
        let next = 0;
        frags.forEach((f, i) => {
          assert.ok(f.length <= mtu);
          assert.equal(parseIpv6(f, f.length, o), 0);
          assert.equal(o.hasHopByHop, hbh);
          assert.equal(o.fragOff, unfrag);
          assert.equal(o.fragId, id);
          assert.equal(o.fragOffset, next);
          assert.equal(o.mf, i < frags.length - 1);
          assert.equal(o.proto, IPPROTO.UDP);
          data.set(f.subarray(o.l4Off, o.l4Off + o.l4Len), o.fragOffset);
          next += o.l4Len;
        });
        assert.equal(next, data.length);
        assert.deepEqual(data, whole.subarray(unfrag));
      },
    ),
    { numRuns: 200 },
  );
});

function hasTshark(): boolean {
  try {
    return new Deno.Command("tshark", { args: ["-v"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
const haveTshark = hasTshark();

Deno.test({
  name:
    `property: tshark (an independent dissector) finds every checksum good in 300 random built packets${
      haveTshark ? "" : " (skipped: tshark not installed)"
    }`,
  ignore: !haveTshark,
  fn() {
    // Well-formed option TLVs only: random bytes would be (rightly) malformed options.
    const v4opts = fc.constantFrom<number[]>([], [1, 1, 1, 1], [7, 7, 4, 0, 0, 0, 0], [
      148,
      4,
      0,
      0,
    ]);
    const v6opts = fc.constantFrom<number[]>([], [1, 2, 0, 0], [5, 2, 0, 0], [1, 0]);
    const ext = fc.record({
      hbh: fc.option(v6opts, { nil: undefined }),
      dst1: fc.option(v6opts, { nil: undefined }),
      routing: fc.option(
        fc.record({
          routingType: fc.constantFrom(0, 2, 4),
          addresses: fc.array(a6, { minLength: 1, maxLength: 3 }),
          segmentsLeft: fc.integer({ min: 0, max: 3 }),
        }),
        { nil: undefined },
      ),
      frag: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    }).map((r) => {
      const e: Ext6[] = [];
      if (r.hbh) e.push({ type: "hbh", options: r.hbh });
      if (r.dst1) e.push({ type: "dst", options: r.dst1 });
      if (r.routing) {
        // Type 2 carries exactly one address (RFC 6275 6.4).
        const rt = r.routing.routingType === 2
          ? { ...r.routing, addresses: r.routing.addresses.slice(0, 1), segmentsLeft: 1 }
          : r.routing;
        e.push({ type: "routing", ...rt });
      }
      if (r.frag !== undefined) e.push({ type: "frag", id: r.frag });
      return e;
    });
    const pkt = fc.oneof(
      fc.tuple(ip4, v4opts, kind, port, port, payload).map(([ip, options, k, sport, dport, pl]) => {
        return build4(k, { ...ip, options }, { sport, dport, payload: pl });
      }),
      fc.tuple(a6, a6, ext, kind, port, port, payload).map(([src, dst, e, k, sport, dport, pl]) => {
        return build6(k, { src, dst, ext: e }, { sport, dport, payload: pl });
      }),
    );
    const pkts = fc.sample(pkt, { numRuns: 300, seed: 64 });
    const path = Deno.makeTempFileSync({ suffix: ".pcap" });
    try {
      Deno.writeFileSync(path, writePcap(pkts));
      const fields = ["ip.checksum.status", "udp.checksum.status", "tcp.checksum.status"]
        .concat(["icmp.checksum.status", "icmpv6.checksum.status", "_ws.malformed"]);
      const out = new Deno.Command("tshark", {
        args: [
          ...["-r", path, "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"],
          ...["-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=,"],
          ...fields.flatMap((f) => ["-e", f]),
        ],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const lines = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
      assert.equal(lines.length, pkts.length);
      lines.forEach((line, n) => {
        const [ip, ...rest] = line.split(",");
        const l4 = rest.slice(0, 4).filter((s) => s !== "");
        // Wireshark checksum status: 1 good, 0 bad.
        assert.deepEqual(l4, ["1"], `packet ${n}: ${line}`);
        assert.ok(ip === "" || ip === "1", `packet ${n}: ${line}`);
        // Random payloads may look like a broken application protocol; only the IP and
        // transport layers must be well-formed.
        const bad = /Malformed Packet: (IPv6|IPv4|IP|TCP|UDP|ICMP|ICMPv6)\]/.exec(rest[4] ?? "");
        assert.equal(bad, null, `packet ${n} malformed: ${line}`);
      });
    } finally {
      Deno.removeSync(path);
    }
  },
});
