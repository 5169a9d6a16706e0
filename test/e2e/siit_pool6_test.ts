// SIIT with pool6 only (no EAM): the IPv6 client holds an address under pool6
// (2001:db8:64::c633:6402 = pool6 + 198.51.100.2, RFC 6052 2.2), so both ends map
// statelessly through the one prefix.
import assert from "node:assert/strict";
import { whyNoNamespaces } from "../../src/io/netns.ts";
import { ping, udpAsk } from "../../src/lab/checks.ts";
import { LAB, LabTopology } from "../../src/lab/topology.ts";
import type { StatusDoc } from "../../src/status/snapshot.ts";

Deno.test({
  name: "SIIT pool6 only: ping and UDP both ways, RFC 6052 addresses on both sides (needs root)",
  ignore: whyNoNamespaces() !== null,
  async fn(t) {
    const lab = new LabTopology({ tag: "x64p6", variant: "pool6" });
    try {
      await lab.build();
      await lab.startAppliance();
      const doc = JSON.parse(await lab.statusGet("/status")) as StatusDoc;
      assert.deepEqual(doc.eam, []);

      await t.step("ping -6 from the client's pool6 address to the server", async () => {
        const p = await ping(lab.client, LAB.server6, { count: 3, src: LAB.clientPool6 });
        assert.equal(p.received, 3, p.output);
      });

      await t.step("ping from the server to 198.51.100.2 reaches the client", async () => {
        const p = await ping(lab.server, LAB.client4, { count: 3 });
        assert.equal(p.received, 3, p.output);
      });

      await t.step("without EAM the client's own 2001:db8:a::2 is untranslatable", async () => {
        const before = await lab.metrics();
        const p = await ping(lab.client, LAB.server6, { count: 2, src: LAB.client6 });
        assert.equal(p.received, 0, p.output);
        const after = await lab.metrics();
        const k = `xlat64_drops_total{direction="6to4",reason="untranslatable_src"}`;
        assert.ok((after.get(k) ?? 0) - (before.get(k) ?? 0) >= 2);
      });

      await t.step("UDP from the IPv4 server reaches the client's UDP echo", async () => {
        const u = await udpAsk(lab.server, LAB.client4, LAB.udpPort, 256, 3);
        assert.equal(u.received, 3);
      });
    } finally {
      await lab.cleanup();
    }
  },
});
