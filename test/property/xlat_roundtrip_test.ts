// Round trips through the translator preserve payload and semantics: 4->6->4 and
// 6->4->6 with pool6 addresses (so both directions map), and every emitted packet has
// correct lengths and checksums.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as B from "../../src/packet/build.ts";
import { embed4 } from "../../src/addr/rfc6052.ts";
import { parsePrefix6 } from "../../src/addr/ip.ts";
import { checkPacket, Harness, one } from "../unit/xlat_helpers.ts";

const POOL6 = parsePrefix6("2001:db8:46::/96");
// Global unicast IPv4 outside the built-in denylist (0/8, 127/8, 169.254/16, 224/4, ...).
const v4 = fc.integer({ min: 0x01000000, max: 0x7effffff });
const v6of = (a: number) => {
  const o = new Uint8Array(16);
  embed4(POOL6, a, o, 0);
  return o;
};
const payload = fc.uint8Array({ minLength: 0, maxLength: 1200 });

type Kind = "udp" | "tcp" | "echo";
const kind = fc.constantFrom<Kind>("udp", "tcp", "echo");

function build4(
  k: Kind,
  src: number,
  dst: number,
  ttl: number,
  tos: number,
  id: number,
  data: Uint8Array,
) {
  const base = { src, dst, ttl, tos, id, df: true };
  if (k === "udp") return B.udp4({ ...base, sport: id & 0xffff, dport: 53, payload: data });
  if (k === "tcp") {
    return B.tcp4({ ...base, sport: 1 + (id & 0x7fff), dport: 443, seq: id * 7, payload: data });
  }
  return B.icmp4Echo({ ...base, ident: id & 0xffff, seq: ttl, payload: data });
}

function build6(
  k: Kind,
  src: Uint8Array,
  dst: Uint8Array,
  hop: number,
  tc: number,
  id: number,
  data: Uint8Array,
) {
  const base = { src, dst, hopLimit: hop, tc };
  if (k === "udp") return B.udp6({ ...base, sport: id & 0xffff, dport: 53, payload: data });
  if (k === "tcp") {
    return B.tcp6({ ...base, sport: 1 + (id & 0x7fff), dport: 443, seq: id * 7, payload: data });
  }
  return B.icmp6Echo({ ...base, ident: id & 0xffff, seq: hop, payload: data });
}

/** L4 bytes equal, checksum fields aside where one's complement has two zeros. */
function sameL4(a: Uint8Array, b: Uint8Array, csumAt: number) {
  assert.equal(a.length, b.length);
  for (let k = 0; k < a.length; k++) {
    if (k === csumAt || k === csumAt + 1) continue;
    assert.equal(a[k], b[k], `L4 byte ${k}`);
  }
}
const csumAt = (k: Kind) => (k === "udp" ? 6 : k === "tcp" ? 16 : 2);

/** Kind, source, destination, TTL/Hop Limit, TOS/traffic class, id, payload. */
const packetArbs = [
  kind,
  v4,
  v4,
  fc.integer({ min: 3, max: 255 }),
  fc.integer({ min: 0, max: 255 }),
  fc.integer({ min: 0, max: 0xffff }),
  payload,
] as const;

Deno.test("property: 4->6->4 preserves addresses, TOS, payload; TTL drops by one per pass", () => {
  const h = new Harness({ pool6: POOL6, ipv6Mtu: 9000, ipv4Mtu: 9000 });
  fc.assert(
    fc.property(
      ...packetArbs,
      (k, s, d, ttl, tos, id, data) => {
        const p4 = build4(k, s, d, ttl, tos, id, data);
        const q = one(h, one(h, p4));
        assert.deepEqual([...q.subarray(12, 20)], [...p4.subarray(12, 20)]);
        assert.equal(q[1], tos);
        assert.equal(q[8], ttl - 2);
        assert.equal(q[9], p4[9]);
        sameL4(q.subarray(20), p4.subarray(20), csumAt(k));
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: 6->4->6 preserves addresses, traffic class, payload", () => {
  const h = new Harness({ pool6: POOL6, ipv6Mtu: 9000, ipv4Mtu: 9000 });
  fc.assert(
    fc.property(
      ...packetArbs,
      (k, s, d, hop, tc, id, data) => {
        const p6 = build6(k, v6of(s), v6of(d), hop, tc, id, data);
        const q = one(h, one(h, p6));
        assert.deepEqual([...q.subarray(8, 40)], [...p6.subarray(8, 40)]);
        assert.equal(((q[0] & 15) << 4) | (q[1] >> 4), tc);
        assert.equal(q[7], hop - 2);
        assert.equal(q[6], p6[6]);
        sameL4(q.subarray(40), p6.subarray(40), csumAt(k));
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: IPv4 without DF over the lowest IPv6 MTU -> IPv6 fragments -> IPv4 fragments reassemble to the original datagram", () => {
  const h = new Harness({ pool6: POOL6, lowestIpv6Mtu: 1280 });
  fc.assert(
    fc.property(
      v4,
      v4,
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ minLength: 1300, maxLength: 4000 }),
      (s, d, id, data) => {
        const p4 = B.udp4({ src: s, dst: d, id, df: false, sport: 1, dport: 2, payload: data });
        const frags6 = h.run(p4);
        assert.ok(frags6.length >= 2);
        const buf = new Uint8Array(p4.length - 20);
        let got = 0;
        let last = false;
        for (const f of frags6) {
          assert.ok(f.length <= 1280);
          assert.equal(checkPacket(f), null);
          const q = one(h, f);
          const w = (q[6] << 8) | q[7];
          assert.equal((q[4] << 8) | q[5], id);
          const off = (w & 0x1fff) * 8;
          buf.set(q.subarray(20), off);
          got += q.length - 20;
          if ((w & 0x2000) === 0) last = true;
        }
        assert.ok(last);
        assert.equal(got, buf.length);
        assert.deepEqual([...buf], [...p4.subarray(20)]);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("property: ICMP errors round-trip 4->6->4 with their inner packets intact", () => {
  const h = new Harness({ pool6: POOL6, ipv6Mtu: 9000, ipv4Mtu: 9000 });
  fc.assert(
    fc.property(
      kind,
      v4,
      v4,
      v4,
      fc.constantFrom([3, 3, 3], [3, 1, 1], [11, 0, 0], [11, 1, 1], [3, 13, 10], [3, 0, 1]),
      fc.uint8Array({ maxLength: 200 }),
      (k, r, s, d, [t, c, back4], data) => {
        const inner = build4(k, s, d, 9, 0, 1, data);
        const e = B.icmp4Error({ src: r, dst: s, type: t, code: c, inner: B.truncate(inner, 548) });
        const q = one(h, one(h, e));
        assert.equal(q[20], t);
        assert.equal(q[21], back4, "code via ICMPv6 (RFC 7915 4.2 then 5.2)");
        const qi = q.subarray(28);
        const ei = e.subarray(28);
        assert.equal(qi.length, ei.length);
        // Inner IPv4 header: Identification and flags are not carried by IPv6.
        assert.deepEqual([...qi.subarray(12, 20)], [...ei.subarray(12, 20)]);
        sameL4(qi.subarray(20), ei.subarray(20), csumAt(k));
      },
    ),
    { numRuns: 300 },
  );
});
