// createEngine("nat64", ...) with options built from a parsed config.
import assert from "node:assert/strict";
import { defaultConfig, parseConfig, toXlatOptions } from "../../src/config/mod.ts";
import { createEngine } from "../../src/io/engines.ts";
import { toNat64EngineOptions } from "../../src/nat64/options.ts";
import { Nat64 } from "../../src/nat64/engine.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import * as build from "../../src/packet/build.ts";
import { Stats } from "../../src/xlat/stats.ts";
import { read4 } from "./nat64_engine_helpers.ts";

Deno.test("createEngine(nat64) runs the default config: IPv6 UDP leaves from the default pool4", () => {
  const cfg = defaultConfig();
  const e = createEngine("nat64", toNat64EngineOptions(cfg), new Stats());
  assert.ok(e instanceof Nat64);
  const out = new PacketBatch(4, 2048);
  const p = build.udp6({ src: "2001:db8::1", dst: "64:ff9b::808:808", sport: 4000, dport: 53 });
  e.translate(p, p.length, out, 0);
  assert.equal(out.count, 1);
  const o = read4(out.packets()[0]);
  assert.match(o.src, /^192\.168\.255\.[0-3]$/);
  assert.equal(o.dst, "8.8.8.8");
  assert.ok(o.sport >= 61001);
});

Deno.test("createEngine(nat64) without the nat64 section fails with a clear message", () => {
  assert.throws(
    () => createEngine("nat64", toXlatOptions(defaultConfig()), new Stats()),
    /toNat64EngineOptions/,
  );
});

Deno.test("config [nat64] keys reach the engine: timeouts in ms, limits, filtering, static BIB", () => {
  const cfg = parseConfig(
    `mode = "nat64"
[translator]
pool6 = "64:ff9b::/96"
[nat64]
udp-timeout = 600
max-sessions-per-host = 7
address-dependent-filtering = true
[[nat64.pool4]]
prefix = "192.0.2.1/32"
ports = "2000-3000"
[[nat64.bib]]
protocol = "udp"
ipv4 = "192.0.2.1#2000"
ipv6 = "2001:db8::5#53"
`,
    "test.toml",
  );
  const e = createEngine("nat64", toNat64EngineOptions(cfg), new Stats()) as Nat64;
  assert.equal(e.tables.timeouts.udp, 600_000);
  assert.equal(e.tables.timeouts.tcpIncomingSyn, 6000);
  assert.equal(e.tables.maxSessionsPerHost, 7);
  assert.equal(e.tables.adf, true);
  assert.equal(e.tables.bibCount, 1);
});
