// One TCP connection through the engine, driven by random segments from both sides and
// random waits, against a reference model written from RFC 6146 3.5.2.2: which segments
// pass, the session's state, and when it expires (lifetimes on the wheel's 1 s ticks).
import assert from "node:assert/strict";
import fc from "fast-check";
import * as build from "../../src/packet/build.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { P_TCP } from "../../src/nat64/pool4.ts";
import { DEFAULT_TIMEOUTS } from "../../src/nat64/timeouts.ts";
import { Nat64Harness, p6, read4 } from "../unit/nat64_engine_helpers.ts";
import { v4 } from "../unit/nat64_helpers.ts";

const { SYN, FIN, RST, ACK } = TCP_FLAG;
const EST = DEFAULT_TIMEOUTS.tcpEst, TRANS = DEFAULT_TIMEOUTS.tcpTrans;
type St = "V6 INIT" | "ESTABLISHED" | "V4 FIN RCV" | "V6 FIN RCV" | "BOTH FIN" | "TRANS";
const NAMES = [
  "CLOSED",
  "V4 INIT",
  "V6 INIT",
  "ESTABLISHED",
  "V4 FIN RCV",
  "V6 FIN RCV",
  "BOTH FIN",
  "TRANS",
];

type Step = { k: "pkt"; v6: boolean; flags: number } | { k: "wait"; ms: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant("pkt" as const),
      v6: fc.boolean(),
      flags: fc.constantFrom(SYN, SYN | ACK, ACK, FIN | ACK, RST, RST | ACK),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("wait" as const),
      ms: fc.constantFrom(0, 999, 30_000, TRANS + 1000, EST + 1000),
    }),
    weight: 1,
  },
);

Deno.test("TCP property: the engine follows the RFC 6146 3.5.2.2 state machine and lifetimes", () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const h = new Nat64Harness({ dropExternallyInitiatedTcp: true });
      let now = 0;
      let st: St | null = null;
      let exp = 0;
      let port4 = 61001;
      h.e.tick(0);
      for (const s of steps) {
        if (s.k === "wait") {
          now += s.ms;
          h.e.tick(now);
          if (st !== null && Math.floor(exp / 1000) < Math.floor(now / 1000)) st = null;
          continue;
        }
        const syn = (s.flags & SYN) !== 0, fin = (s.flags & FIN) !== 0, rst = (s.flags & RST) !== 0;
        const pkt = s.v6
          ? build.tcp6({
            src: "2001:db8:a::1",
            dst: p6("203.0.113.9"),
            sport: 40000,
            dport: 80,
            flags: s.flags,
          })
          : build.tcp4({
            src: "203.0.113.9",
            dst: "198.51.100.1",
            sport: 80,
            dport: port4,
            flags: s.flags,
          });
        const out = h.run(pkt, now);
        // The model.
        let pass = true;
        if (st === null) {
          if (s.v6 && syn) st = "V6 INIT", exp = now + TRANS;
          else pass = false;
        } else if (st === "V6 INIT") {
          if (!s.v6 && syn) st = "ESTABLISHED", exp = now + EST;
          else if (s.v6 && syn) exp = now + TRANS;
        } else if (st === "ESTABLISHED") {
          if (rst) st = "TRANS", exp = now + TRANS;
          else if (fin) st = s.v6 ? "V6 FIN RCV" : "V4 FIN RCV", exp = now + EST;
          else exp = now + EST;
        } else if (st === "V4 FIN RCV") {
          if (s.v6 && fin) st = "BOTH FIN", exp = now + TRANS;
          else exp = now + EST;
        } else if (st === "V6 FIN RCV") {
          if (!s.v6 && fin) st = "BOTH FIN", exp = now + TRANS;
          else exp = now + EST;
        } else if (st === "TRANS") {
          if (!rst) st = "ESTABLISHED", exp = now + EST;
        }
        assert.equal(out.length, pass ? 1 : 0, `pass ${JSON.stringify(s)} in ${st}`);
        if (pass && s.v6) port4 = read4(out[0]).sport;
        const bib = h.e.tables.findBib4(P_TCP, v4("198.51.100.1"), port4);
        const sess = bib && h.e.tables.findSession(bib, v4("203.0.113.9"), 80);
        assert.equal(sess ? NAMES[sess.state] : null, st);
        if (sess) assert.equal(sess.expires, exp);
      }
    }),
    { numRuns: 400 },
  );
});
