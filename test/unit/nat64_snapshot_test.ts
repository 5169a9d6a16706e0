import assert from "node:assert/strict";
import * as build from "../../src/packet/build.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { parseSnapshot, SnapshotError } from "../../src/nat64/snapshot.ts";
import { P_TCP, P_UDP } from "../../src/nat64/pool4.ts";
import { TCP } from "../../src/nat64/tcp_fsm.ts";
import { Nat64Harness, p6, read4, read6 } from "./nat64_engine_helpers.ts";
import { staticBib, v4, v6 } from "./nat64_helpers.ts";

const T = "198.51.100.1";
const Z = "203.0.113.9";
const STATIC = [staticBib("udp", T, 7000, "2001:db8:b::2", 53)];

function busy(): { h: Nat64Harness; udpPort: number; tcpPort: number } {
  const h = new Nat64Harness({ staticBib: STATIC });
  const u = read4(
    h.one(build.udp6({ src: "2001:db8:a::1", dst: p6(Z), sport: 5000, dport: 53 }), 1000),
  );
  const t = read4(
    h.one(
      build.tcp6({
        src: "2001:db8:a::2",
        dst: p6(Z),
        sport: 40000,
        dport: 80,
        flags: TCP_FLAG.SYN,
      }),
      1000,
    ),
  );
  h.one(
    build.tcp4({ src: Z, dst: T, sport: 80, dport: t.sport, flags: TCP_FLAG.SYN | TCP_FLAG.ACK }),
    1000,
  );
  h.one(build.udp4({ src: Z, dst: T, sport: 1111, dport: 7000 }), 1000); // session on the static entry
  return { h, udpPort: u.sport, tcpPort: t.sport };
}

Deno.test("snapshot: round trip restores BIB, sessions, TCP state and time left on a new clock", () => {
  const { h, udpPort, tcpPort } = busy();
  const bytes = h.e.snapshot(61_000); // 60 s into a 5 min UDP session
  const snap = parseSnapshot(bytes);
  assert.equal(snap.bibs.length, 3);
  assert.equal(snap.sessions.length, 3);

  const h2 = new Nat64Harness({ staticBib: STATIC });
  const r = h2.e.restore(bytes, 5_000_000); // another process, another clock origin
  assert.deepEqual(r, { bibs: 2, sessions: 3, pcpMappings: 0, skipped: 0 });
  const tb = h2.e.tables;
  const ub = tb.findBib6(P_UDP, v6("2001:db8:a::1"), 0, 5000)!;
  assert.equal(ub.port4, udpPort);
  const us = tb.findSession(ub, v4(Z), 53)!;
  assert.equal(us.expires, 5_000_000 + 4 * 60_000);
  const tbib = tb.findBib4(P_TCP, v4(T), tcpPort)!;
  assert.equal(tb.findSession(tbib, v4(Z), 80)!.state, TCP.ESTABLISHED);
  // Flows continue through the restored engine.
  const back = read6(h2.one(build.udp4({ src: Z, dst: T, sport: 53, dport: udpPort }), 5_000_100));
  assert.equal(back.dport, 5000);
  assert.equal(back.dst, "2001:db8:a::1");
  // A fresh binding never collides with a restored one.
  const o = read4(h2.one(build.udp6({ src: "2001:db8:a::3", dst: p6(Z), sport: 5000, dport: 53 })));
  assert.notEqual(o.sport, udpPort);
});

Deno.test("snapshot: expired sessions are not written; restore skips static entries no longer configured", () => {
  const { h } = busy();
  const late = parseSnapshot(h.e.snapshot(1000 + 5 * 60_000 + 1));
  assert.equal(late.sessions.length, 1, "only the TCP established session is still alive");
  const h2 = new Nat64Harness(); // no static entries now
  const r = h2.e.restore(h.e.snapshot(2000), 0);
  assert.equal(r.skipped, 2, "the static entry and its session");
  assert.equal(r.sessions, 2);
});

Deno.test("snapshot: corrupt, truncated or foreign bytes are refused with a reason", () => {
  const { h } = busy();
  const bytes = h.e.snapshot(2000);
  const flipped = bytes.slice();
  flipped[20] ^= 1;
  assert.throws(() => parseSnapshot(flipped), /checksum/);
  assert.throws(() => parseSnapshot(bytes.slice(0, bytes.length - 1)), /bytes/);
  assert.throws(() => parseSnapshot(new Uint8Array(30)), /magic/);
  assert.throws(() => parseSnapshot(new Uint8Array(3)), SnapshotError);
  const v9 = bytes.slice();
  v9[4] = 9;
  assert.throws(() => parseSnapshot(v9), /version/);
});
