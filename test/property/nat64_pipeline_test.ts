// Property tests of the NAT64 pipeline: random flows out and back restore the host's
// tuple with valid checksums and endpoint-independent mappings; random and mutated
// packets never hit the internal_error path and everything emitted parses.
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv6, parseIPv6 } from "../../src/addr/ip.ts";
import * as build from "../../src/packet/build.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { Nat64Harness, p6, read4, read6, u16 } from "../unit/nat64_engine_helpers.ts";

const T = "198.51.100.1";

const flow = fc.record({
  host: fc.integer({ min: 1, max: 6 }),
  sport: fc.integer({ min: 0, max: 65535 }),
  remote: fc.tuple(
    fc.integer({ min: 20, max: 90 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 1, max: 254 }),
  ).map((a) => a.join(".")),
  dport: fc.integer({ min: 1, max: 65535 }),
  proto: fc.constantFrom("udp", "tcp", "icmp"),
});

Deno.test("NAT64 property: out and back restores the IPv6 tuple; mappings are endpoint-independent", () => {
  fc.assert(
    fc.property(fc.array(flow, { minLength: 1, maxLength: 25 }), (flows) => {
      const h = new Nat64Harness();
      const mapped = new Map<string, number>();
      let now = 0;
      for (const f of flows) {
        now += 10;
        const src = `2001:db8:a::${f.host}`;
        let out: Uint8Array;
        if (f.proto === "udp") {
          out = h.one(
            build.udp6({ src, dst: p6(f.remote), sport: f.sport, dport: f.dport, payload: "x" }),
            now,
          );
        } else if (f.proto === "tcp") {
          out = h.one(
            build.tcp6({
              src,
              dst: p6(f.remote),
              sport: f.sport,
              dport: f.dport,
              flags: TCP_FLAG.SYN,
            }),
            now,
          );
        } else {
          out = h.one(build.icmp6Echo({ src, dst: p6(f.remote), ident: f.sport, seq: 1 }), now);
        }
        const o = read4(out);
        assert.equal(o.src, T);
        assert.equal(o.dst, f.remote);
        const port4 = f.proto === "icmp" ? u16(out, o.l4 + 4) : o.sport;
        const key = `${f.proto} ${src} ${f.sport}`;
        if (mapped.has(key)) assert.equal(port4, mapped.get(key), "EIM: same binding");
        mapped.set(key, port4);
        if (f.proto !== "icmp") {
          assert.equal(o.dport, f.dport);
          if (f.sport >= 1024) assert.equal(port4 & 1, f.sport & 1, "parity");
        }
        let back: Uint8Array;
        if (f.proto === "udp") {
          back = h.one(
            build.udp4({ src: f.remote, dst: T, sport: f.dport, dport: port4, payload: "y" }),
            now,
          );
        } else if (f.proto === "tcp") {
          back = h.one(
            build.tcp4({
              src: f.remote,
              dst: T,
              sport: f.dport,
              dport: port4,
              flags: TCP_FLAG.SYN | TCP_FLAG.ACK,
            }),
            now,
          );
        } else {
          back = h.one(
            build.icmp4Echo({ src: f.remote, dst: T, ident: port4, reply: true, seq: 1 }),
            now,
          );
        }
        const r = read6(back);
        assert.equal(r.dst, formatIPv6(parseIPv6(src)));
        assert.equal(r.src, formatIPv6(parseIPv6(p6(f.remote))));
        if (f.proto === "icmp") assert.equal(u16(back, r.l4 + 4), f.sport);
        else {
          assert.equal(r.dport, f.sport);
          assert.equal(r.sport, f.dport);
        }
      }
      assert.equal(
        h.stats.drops("internal_error", true) + h.stats.drops("internal_error", false),
        0,
      );
    }),
    { numRuns: 150 },
  );
});

function assertParses(pkts: Uint8Array[]): void {
  for (const p of pkts) {
    const v = p[0] >> 4;
    if (v === 4) assert.equal(parseIpv4(p, p.length, new Ipv4Info()), 0, "emitted IPv4 parses");
    else {
      assert.equal(v, 6);
      assert.equal(parseIpv6(p, p.length, new Ipv6Info()), 0, "emitted IPv6 parses");
    }
  }
}

Deno.test("NAT64 fuzz: random and mutated packets never reach internal_error; output parses", () => {
  const seeds = [
    build.udp6({ src: "2001:db8:a::1", dst: p6("20.1.2.3"), sport: 5000, dport: 53, payload: "q" }),
    build.tcp6({
      src: "2001:db8:a::1",
      dst: p6("20.1.2.3"),
      sport: 5001,
      dport: 80,
      flags: TCP_FLAG.SYN,
    }),
    build.icmp6Echo({ src: "2001:db8:a::1", dst: p6("20.1.2.3"), ident: 9, seq: 1 }),
    build.udp4({ src: "20.1.2.3", dst: T, sport: 53, dport: 61001 }),
    build.tcp4({ src: "20.1.2.3", dst: T, sport: 80, dport: 61002, flags: TCP_FLAG.SYN }),
    build.icmp4Error({
      src: "20.1.2.3",
      dst: T,
      type: 3,
      code: 3,
      inner: build.udp4({ src: T, dst: "20.1.2.3", sport: 61001, dport: 53 }),
    }),
    build.icmp6Error({
      src: "2001:db8:a::1",
      dst: p6("20.1.2.3"),
      type: 1,
      code: 4,
      inner: build.udp6({ src: p6("20.1.2.3"), dst: "2001:db8:a::1", sport: 53, dport: 5000 }),
    }),
  ];
  seeds.push(
    ...build.fragment6(
      build.udp6({
        src: "2001:db8:a::1",
        dst: p6("20.1.2.3"),
        sport: 5002,
        dport: 53,
        payload: new Uint8Array(200),
      }),
      120,
      5,
    ),
    ...build.fragment4(
      build.udp4({
        src: "20.1.2.3",
        dst: T,
        sport: 53,
        dport: 61003,
        id: 6,
        payload: new Uint8Array(200),
      }),
      100,
    ),
  );
  const h = new Nat64Harness();
  for (const s of seeds) h.run(s);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 120 }),
        fc.tuple(
          fc.constantFrom(...seeds),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
          fc.option(fc.nat(), { nil: undefined }),
        ).map(([s, muts, cut]) => {
          const b = s.slice();
          for (const [i, v] of muts) b[i % b.length] = v;
          return cut === undefined ? b : b.slice(0, cut % (b.length + 1));
        }),
      ),
      fc.integer({ min: 0, max: 400_000 }),
      (pkt, dt) => {
        assertParses(h.run(pkt, h.now + dt));
      },
    ),
    { numRuns: 3000 },
  );
  assert.equal(h.stats.drops("internal_error", true) + h.stats.drops("internal_error", false), 0);
});
