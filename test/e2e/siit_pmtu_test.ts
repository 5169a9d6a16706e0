// Path MTU discovery across the translator: a large DF packet gets Fragmentation Needed
// or Packet Too Big with the MTU translated by the IP header size difference.
import assert from "node:assert/strict";
import { whyNoNamespaces } from "../../src/io/netns.ts";
import { ping } from "../../src/lab/checks.ts";
import { LAB, LabTopology } from "../../src/lab/topology.ts";

const ignore = whyNoNamespaces() !== null;

Deno.test({
  name:
    "RFC 7915 4.2: IPv4 Fragmentation Needed (MTU 1400) reaches the IPv6 client as Packet Too Big MTU 1420 (needs root)",
  ignore,
  async fn() {
    const lab = new LabTopology({ tag: "x64mtu4", mtu4: 1400, agents: false });
    try {
      await lab.build();
      await lab.startAppliance();
      // 1402 data + 8 ICMPv6 + 40 IPv6 = 1450: fits the client link, not the IPv4 link.
      const p = await ping(lab.client, LAB.server6, { count: 2, size: 1402, df: true });
      assert.match(p.output, /Packet too big: mtu=1420/);
      assert.match(
        await lab.client.run(["ip", "-6", "route", "get", LAB.server6]),
        /mtu 1420/,
      );
      // Fitting packets still pass.
      const small = await ping(lab.client, LAB.server6, { count: 2, size: 1300, df: true });
      assert.equal(small.received, 2, small.output);
    } finally {
      await lab.cleanup();
    }
  },
});

Deno.test({
  name:
    "RFC 7915 5.2: IPv6 Packet Too Big (MTU 1400) reaches the IPv4 server as Fragmentation Needed MTU 1380 (needs root)",
  ignore,
  async fn() {
    const lab = new LabTopology({ tag: "x64mtu6", mtu6: 1400, agents: false });
    try {
      await lab.build();
      await lab.startAppliance();
      // IPv4 1450 with DF becomes IPv6 1470, more than the client link's 1400.
      const p = await ping(lab.server, LAB.client4, { count: 2, size: 1422, df: true });
      // The router 2001:db8:a::1 has no IPv4 form: RFC 6791 source 192.0.0.8.
      assert.match(p.output, /From 192\.0\.0\.8 .*Frag needed and DF set \(mtu = 1380\)/);
      assert.match(await lab.server.run(["ip", "-4", "route", "get", LAB.client4]), /mtu 1380/);
      const small = await ping(lab.server, LAB.client4, { count: 2, size: 1300, df: true });
      assert.equal(small.received, 2, small.output);
    } finally {
      await lab.cleanup();
    }
  },
});
