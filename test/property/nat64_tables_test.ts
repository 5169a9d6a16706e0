// The tables against a plain reference model (string-keyed Maps), with index keys masked
// to 2 bits so that nearly every entry shares a chain: creation, lookup both ways,
// refresh, expiry and the per-host counters must agree with the model.
import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePrefix4 } from "../../src/addr/ip.ts";
import { Nat64Tables } from "../../src/nat64/tables.ts";
import type { ProtoIndex } from "../../src/nat64/pool4.ts";

type Op =
  | { k: "out"; host: number; port: number; proto: number; remote: number; rport: number }
  | { k: "time"; dt: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant("out" as const),
      host: fc.integer({ min: 1, max: 2 }),
      port: fc.integer({ min: 1000, max: 1002 }),
      proto: fc.integer({ min: 0, max: 2 }),
      remote: fc.integer({ min: 1, max: 2 }),
      rport: fc.integer({ min: 1, max: 2 }),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("time" as const),
      dt: fc.integer({ min: 0, max: 70_000 }),
    }),
    weight: 1,
  },
);

Deno.test("tables property: with colliding keys, lookups, refresh and expiry match a reference model", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 150 }), fc.constantFrom(0, 3), (ops, mask) => {
      const t = new Nat64Tables({
        pool4: [{
          prefix: parsePrefix4("198.51.100.0/31"),
          ports: { min: 2000, max: 2100 },
          protocols: ["tcp", "udp", "icmp"],
        }],
        timeouts: {
          udp: 60_000,
          tcpEst: 60_000,
          tcpTrans: 60_000,
          tcpIncomingSyn: 6000,
          icmp: 60_000,
        },
        keyMask: mask,
        seed: 1,
        tickMs: 1000,
      });
      const bibs = new Map<string, string>(); // "proto host port" -> "addr port"
      const sessions = new Map<string, number>(); // "proto host port remote rport" -> expires
      let now = 0;
      t.expire(now);
      for (const o of ops) {
        if (o.k === "time") {
          now += o.dt;
          t.expire(now);
          // The model: a session is gone once the wheel tick of its expiry has passed.
          for (const [k, e] of sessions) {
            if (Math.floor(e / 1000) < Math.floor(now / 1000)) sessions.delete(k);
          }
          for (const k of bibs.keys()) {
            if (![...sessions.keys()].some((s) => s.startsWith(k + " "))) bibs.delete(k);
          }
          continue;
        }
        const a6 = new Uint8Array(16);
        a6[0] = 0x20, a6[15] = o.host;
        const proto = o.proto as ProtoIndex;
        const bk = `${proto} ${o.host} ${o.port}`;
        let b = t.findBib6(proto, a6, 0, o.port);
        assert.equal(b !== null, bibs.has(bk), `BIB ${bk}`);
        if (b === null) {
          b = t.createBib6(proto, a6, 0, o.port, o.remote, o.rport, now)!;
          assert.ok(b);
          bibs.set(bk, `${b.addr4} ${b.port4}`);
        } else {
          assert.equal(`${b.addr4} ${b.port4}`, bibs.get(bk));
        }
        assert.equal(t.findBib4(proto, b.addr4, b.port4), b);
        const sk = `${bk} ${o.remote} ${o.rport}`;
        const s = t.findSession(b, o.remote, o.rport);
        assert.equal(s !== null, sessions.has(sk), `session ${sk}`);
        if (s === null) t.createSession(b, o.remote, o.rport, now, 60_000);
        else t.touch(s, now, 60_000);
        sessions.set(sk, now + 60_000);
        assert.equal(t.sessionCount, sessions.size);
        assert.equal(t.bibCount, bibs.size);
      }
      const hosts = new Set([...bibs.keys()].map((k) => k.split(" ")[1]));
      assert.equal(t.hostCount, hosts.size);
    }),
    { numRuns: 300 },
  );
});
