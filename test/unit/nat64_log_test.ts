import assert from "node:assert/strict";
import * as build from "../../src/packet/build.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { formatLogLine } from "../../src/nat64/log_line.ts";
import { Nat64Harness, p6, read4 } from "./nat64_engine_helpers.ts";

Deno.test("RFC 6888 REQ-12: one log line per BIB/session creation and deletion, with both sides", () => {
  const lines: string[] = [];
  const h = new Nat64Harness({}, { log: (k, b, s) => lines.push(formatLogLine(k, b, s)) });
  const o = read4(
    h.one(
      build.tcp6({
        src: "2001:db8:a::1",
        dst: p6("203.0.113.9"),
        sport: 40000,
        dport: 80,
        flags: TCP_FLAG.SYN,
      }),
      0,
    ),
  );
  assert.deepEqual(lines, [
    `nat64 bib-add tcp 2001:db8:a::1#40000 198.51.100.1#${o.sport}`,
    `nat64 session-add tcp 2001:db8:a::1#40000 198.51.100.1#${o.sport} 203.0.113.9#80`,
  ]);
  h.e.tick(0);
  h.e.tick(4 * 60_000 + 1000); // V6 INIT lives TCP_TRANS
  assert.deepEqual(lines.slice(2), [
    `nat64 session-del tcp 2001:db8:a::1#40000 198.51.100.1#${o.sport} 203.0.113.9#80 state=V6 INIT`,
    `nat64 bib-del tcp 2001:db8:a::1#40000 198.51.100.1#${o.sport}`,
  ]);
});

Deno.test("session logging is off by default (no hook, no lines)", () => {
  const h = new Nat64Harness();
  assert.equal(h.e.tables.log, null);
});
