// RFC 4443 2.4 (f) / RFC 1812 4.3.2.8: ICMP errors the translator originates are rate
// limited; each one the limiter suppresses is counted under `icmp_error_rate`.
import assert from "node:assert/strict";
import * as B from "../../src/packet/build.ts";
import { SLOT } from "../../src/xlat/stats.ts";
import { Harness } from "./xlat_helpers.ts";

Deno.test("RFC 1812 4.3.2.8: ICMPv4 errors over the rate limit are counted as icmp_error_rate", () => {
  const h = new Harness({}, { icmpRate: { perSecond: 10, burst: 2 } });
  const pkt = B.udp4({ src: "198.51.100.1", dst: "192.0.2.1", ttl: 1, sport: 5, dport: 53 });
  const sent = [0, 0, 0, 0, 0].map(() => h.run(pkt, 1000).length);
  assert.deepEqual(sent, [1, 1, 0, 0, 0]);
  assert.equal(h.drops("icmp_error_rate", false), 3);
  assert.equal(h.drops("icmp_error_rate", true), 0);
  assert.equal(h.stats.v[SLOT.icmpErrorsSent], 2);
  // Every packet is dropped once (ttl_exceeded); the suppressed error adds no drop.
  assert.equal(h.drops("ttl_exceeded", false), 5);
  assert.equal(h.stats.v[SLOT.drops46], 5);
});

Deno.test("RFC 4443 2.4 (f): ICMPv6 errors over the rate limit are counted as icmp_error_rate", () => {
  const h = new Harness({}, { icmpRate: { perSecond: 10, burst: 1 } });
  const pkt = B.udp6({
    src: "2001:db8:46::c633:6401",
    dst: "2001:db8:46::c000:201",
    hopLimit: 1,
    sport: 5,
    dport: 53,
  });
  const sent = [0, 0, 0].map(() => h.run(pkt, 1000).length);
  assert.deepEqual(sent, [1, 0, 0]);
  assert.equal(h.drops("icmp_error_rate", true), 2);
  assert.equal(h.drops("icmp_error_rate", false), 0);
  assert.equal(h.stats.v[SLOT.drops64], 3);
  // Refilled after 100 ms at 10/s: sent again, nothing more suppressed.
  assert.equal(h.run(pkt, 1100).length, 1);
  assert.equal(h.drops("icmp_error_rate", true), 2);
});

Deno.test("errors RFC 1812 4.3.2.7 forbids are not rate-limit suppressions", () => {
  const h = new Harness({}, { icmpRate: { perSecond: 10, burst: 0 } });
  const pkt = B.udp4({ src: "224.0.0.1", dst: "192.0.2.1", ttl: 1, sport: 5, dport: 53 });
  assert.equal(h.run(pkt, 1000).length, 0);
  assert.equal(h.drops("icmp_error_rate", false), 0);
});
