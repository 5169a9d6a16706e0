// Supervisor decisions that need no system: which capabilities stay, which config
// changes a reload cannot apply.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { Appliance, capabilitiesToKeep, restartOnlyChanges } from "../../src/io/supervisor.ts";

const cfg = (text: string) => parseConfig(text, "t.toml");

Deno.test("supervisor: keeps CAP_NET_ADMIN only when it manages routes", () => {
  const managed = cfg(`mode = "siit"\n[translator]\npool6 = "64:ff9b::/96"\n[dns]\nlisten = []\n`);
  assert.deepEqual(capabilitiesToKeep(managed), ["NET_ADMIN"]);
  const unmanaged = cfg(
    `mode = "siit"\n[tun]\nmanage = false\n[translator]\npool6 = "64:ff9b::/96"\n[dns]\nlisten = []\n`,
  );
  assert.deepEqual(capabilitiesToKeep(unmanaged), []);
});

Deno.test("supervisor: keeps CAP_NET_BIND_SERVICE for ports below 1024, NET_RAW for RAs", () => {
  const dns = cfg(`mode = "none"\n[dns]\nlisten = ["127.0.0.1:53"]\n`);
  assert.deepEqual(capabilitiesToKeep(dns), ["NET_BIND_SERVICE"]);
  const high = cfg(`mode = "none"\n[dns]\nlisten = ["127.0.0.1:5353"]\n`);
  assert.deepEqual(capabilitiesToKeep(high), []);
  const clat = cfg(
    `mode = "clat"\n[tun]\nmanage = false\n[clat]\ntranslation-prefix = "2001:db8:c1a7::/64"\n` +
      `[dns]\nlisten = []\n`,
  );
  assert.deepEqual(capabilitiesToKeep(clat), ["NET_RAW"]);
  const announce = cfg(
    `mode = "none"\n[translator]\npool6 = "64:ff9b::/96"\n[discovery]\n` +
      `announce-pref64 = ["eth0"]\n[dns]\nlisten = ["127.0.0.1:5300"]\n`,
  );
  assert.deepEqual(capabilitiesToKeep(announce), ["NET_RAW"]);
});

Deno.test("supervisor: mode, TUN shape and status address need a restart", () => {
  const a = cfg(`mode = "siit"\n[translator]\npool6 = "64:ff9b::/96"\n[dns]\nlisten = []\n`);
  assert.deepEqual(restartOnlyChanges(a, a), []);
  const b = cfg(
    // clat with a dedicated prefix is stateless, so it may run several workers.
    `mode = "clat"\n[translator]\npool6 = "64:ff9b::/96"\n[tun]\nworkers = 2\nmtu = 1500\n` +
      `[clat]\ntranslation-prefix = "2001:db8:c1a7::/64"\n[dns]\nlisten = []\n` +
      `[status]\nlisten = "127.0.0.1:9"\n`,
  );
  assert.deepEqual(restartOnlyChanges(a, b), ["mode", "tun.workers", "status.listen"]);
});

Deno.test("supervisor: the Appliance status source reflects the config before workers run", () => {
  const c = cfg(
    `mode = "siit"\n[translator]\npool6 = "2001:db8:46::/96"\n` +
      `[[translator.eam]]\nipv4 = "198.51.100.0/24"\nipv6 = "2001:db8:6::/120"\n` +
      `[dns]\nlisten = []\n`,
  );
  const app = new Appliance(c);
  assert.equal(app.mode, "siit");
  assert.equal(app.prefixes().length, 1);
  assert.equal(app.prefixes()[0].len, 96);
  assert.equal(app.eam().length, 1);
  assert.deepEqual(app.workers(), []);
  assert.equal(app.stats().v.reduce((a, b) => a + b, 0), 0);
  assert.deepEqual([...app.metrics.collect()].map((f) => f.samples.length), [0, 0, 0, 0, 0]);
});
