// clat.ipv6-address = "auto" in the 464XLAT lab: the single-address CLAT picks its own
// address in the uplink's /64 (2001:db8:1::/64, where the host is 2001:db8:1::2), answers
// for it by proxy ND, and the IPv4-only client reaches the IPv4-only server through it.
import assert from "node:assert/strict";
import { parseIPv6 } from "../../src/addr/ip.ts";
import { NetLab, whyNoNamespaces } from "../../src/io/netns.ts";
import {
  build464,
  CLAT6,
  clatConfig,
  nat64Config,
  SERVER,
  startUdpEcho,
  startXlat64,
  udpEcho,
} from "./clat_lab.ts";

Deno.test({
  name:
    'clat.ipv6-address = "auto": a fresh address in the uplink /64, proxy ND, ping and UDP (needs root)',
  ignore: whyNoNamespaces() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4a");
    try {
      const l = await build464(lab);
      await l.clat.router();
      startUdpEcho(l);
      l.platApp = await startXlat64(l, l.plat, "plat", nat64Config(), 18065);
      const cfg = clatConfig("single").replace(
        `ipv6-address = "${CLAT6}"`,
        'ipv6-address = "auto"',
      );
      assert.match(cfg, /ipv6-address = "auto"/);
      l.clatApp = await startXlat64(l, l.clat, "clat", cfg, 18064);
      const proxies = await l.clat.run(["ip", "-6", "neigh", "show", "proxy"]);
      const picked = /^(2001:db8:1:\S+) dev w0/m.exec(proxies)?.[1];
      assert.ok(picked, `a proxy ND entry in 2001:db8:1::/64 on w0: ${proxies}`);
      const a = parseIPv6(picked);
      assert.notDeepEqual(a, parseIPv6("2001:db8:1::2"), "not the host's own address");
      assert.notDeepEqual(a, parseIPv6("2001:db8:1::1"), "not the router's");
      assert.match(l.clatApp.output(), new RegExp(`"auto": ${picked} on w0`));
      const ping = await l.cli.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", SERVER], {
        timeoutMs: 10_000,
      });
      assert.equal(ping.code, 0, `ping ${SERVER}:\n${ping.stdout}${ping.stderr}`);
      assert.equal(await udpEcho(l.cli, SERVER, "auto-addr"), "rdda-otua");
      // The PLAT saw the traffic come from the picked address.
      const neigh = await l.plat.run(["ip", "-6", "neigh", "show", "dev", "w1"]);
      assert.match(neigh, new RegExp(picked));
    } finally {
      await lab.cleanup();
    }
  },
});
