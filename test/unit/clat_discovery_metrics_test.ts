// PLAT prefix discovery in /metrics: prefixes per source, the prefix in use, changes.
import assert from "node:assert/strict";
import { formatPrefix6 } from "../../src/addr/ip.ts";
import { discoveryFamilies } from "../../src/clat/discovery_metrics.ts";
import { startPrefixControl } from "../../src/clat/plat_prefix.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { DiscoveryStatus } from "../../src/discovery/discovery.ts";
import { renderExposition } from "../../src/status/metrics.ts";

const learned = (prefix: string, source: "pref64" | "pcp" | "rfc7050" | "static") => ({
  prefix,
  source,
  origin: "x",
  learnedAgoS: 1,
  expiresInS: null,
});

Deno.test("discoveryFamilies: xlat64_discovery_prefixes{source} for every method, the active prefix, changes", () => {
  const st: DiscoveryStatus = {
    precedence: ["static", "pref64", "pcp", "rfc7050"],
    active: { source: "pref64", prefixes: ["2001:db8:64::/96", "2001:db8:65::/96"] },
    learned: [
      learned("2001:db8:64::/96", "pref64"),
      learned("2001:db8:65::/96", "pref64"),
      learned("64:ff9b::/96", "rfc7050"),
    ],
    methods: {},
  };
  const f = Object.fromEntries(discoveryFamilies(st, 3).map((x) => [x.name, x]));
  const per = Object.fromEntries(
    f.xlat64_discovery_prefixes.samples.map((s) => [s.labels.source, s.value]),
  );
  assert.deepEqual(per, { static: 0, pref64: 2, pcp: 0, rfc7050: 1 });
  assert.deepEqual(f.xlat64_discovery_active_prefix.samples, [
    { labels: { prefix: "2001:db8:64::/96", source: "pref64" }, value: 1 },
  ]);
  assert.equal(f.xlat64_discovery_changes_total.type, "counter");
  assert.equal(f.xlat64_discovery_changes_total.samples[0].value, 3);
  const none = discoveryFamilies({ ...st, active: null, learned: [] }, 0);
  assert.deepEqual(none[1].samples, []);
});

Deno.test("prefix control: a static clat.plat-prefix shows in /metrics as one change from source static", async () => {
  const cfg = parseConfig(
    `mode = "clat"\n[clat]\ntranslation-prefix = "2001:db8:c1a7::/64"\n` +
      `plat-prefix = "2001:db8:64::/96"\n[discovery]\nmethods = ["static"]\n[dns]\nlisten = []\n`,
    "t",
  );
  const applied: unknown[] = [];
  const pc = await startPrefixControl(cfg, {
    apply: (o) => {
      applied.push(o);
      return Promise.resolve();
    },
    config: () => cfg,
    readRoutes: () => Promise.resolve([]),
    log: { info() {}, warn() {}, error() {} },
  });
  try {
    const text = renderExposition(pc.families());
    assert.match(text, /xlat64_discovery_prefixes\{source="static"\} 1/);
    assert.match(
      text,
      /xlat64_discovery_active_prefix\{prefix="2001:db8:64::\/96",source="static"\} 1/,
    );
    assert.match(text, /xlat64_discovery_changes_total 1/);
    // [dns] aaaa-only-upstream extracts A records with these.
    assert.deepEqual(pc.known().map(formatPrefix6), ["2001:db8:64::/96"]);
  } finally {
    await pc.stop();
  }
  assert.equal(applied.length, 1);
});
