import assert from "node:assert/strict";
import { parseIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import { buildRa, parseRa } from "../../src/discovery/pref64.ts";
import {
  announceIntervalMs,
  learnFromRa,
  raSourceProblem,
} from "../../src/discovery/ra_listener.ts";
import { PrefixSources } from "../../src/discovery/sources.ts";

Deno.test("RFC 4861 6.1.2: an RA must arrive with hop limit 255 from a link-local source", () => {
  assert.equal(raSourceProblem({ src: parseIPv6("fe80::1"), ifindex: 2, hopLimit: 255 }), null);
  assert.match(
    raSourceProblem({ src: parseIPv6("fe80::1"), ifindex: 2, hopLimit: 64 })!,
    /hop limit/,
  );
  assert.match(
    raSourceProblem({ src: parseIPv6("2001:db8::1"), ifindex: 2, hopLimit: 255 })!,
    /link-local/,
  );
});

Deno.test("RFC 8781 5: PREF64 from an RA feeds the pref64 source per router; lifetime 0 withdraws", () => {
  let now = 0;
  const s = new PrefixSources({ now: () => now });
  const ra = (lifetimeS: number) =>
    parseRa(buildRa({ pref64: [{ prefix: parsePrefix6("64:ff9b::/96"), lifetimeS }] }));
  assert.equal(learnFromRa(s, { from: "fe80::1", ifindex: 3, ra: ra(600) }), true);
  assert.deepEqual(s.status().learned.map((l) => [l.origin, l.expiresInS]), [["fe80::1%3", 600]]);
  now = 10;
  assert.equal(learnFromRa(s, { from: "fe80::1", ifindex: 3, ra: ra(0) }), true);
  assert.equal(s.active(), null);
});

Deno.test("RFC 8781 4.1 / RFC 4861 6.2.1: RAs go out every third of the PREF64 lifetime, 4..1800 s", () => {
  assert.equal(announceIntervalMs(1800), 600_000);
  assert.equal(announceIntervalMs(8), 4_000);
  assert.equal(announceIntervalMs(65528), 1_800_000);
});
