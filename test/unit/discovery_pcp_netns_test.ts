// PCP across a real link (needs root): our server in one namespace, our client in another,
// an allowed client address and one outside the configured client prefix.
import assert from "node:assert/strict";
import { withLab } from "../../src/io/netns.ts";

const root = new URL("../../", import.meta.url);
const src = (p: string) => new URL(`src/${p}`, root).href;

const server = `
import { parsePrefix6, parseIPv4 } from "${src("addr/ip.ts")}";
import { PcpServer } from "${src("discovery/pcp_server.ts")}";
import { startPcpServer } from "${src("discovery/pcp_udp.ts")}";
let port = 61000;
const s = new PcpServer(
  { prefixes: [{ prefix: parsePrefix6("64:ff9b::/96") }], clients: [parsePrefix6("2001:db8:a::/64")] },
  {
    createMapping: (r) => ({ ok: true, externalAddress: parseIPv4("192.0.2.2"), externalPort: port++, lifetimeS: r.lifetimeS }),
    deleteMapping: () => 0,
  },
  () => performance.now() / 1000,
);
const running = startPcpServer(s, [{ host: "2001:db8:a::1", port: 5351 }]);
console.log("ready");
setTimeout(async () => { await running.close(); console.log(JSON.stringify(s.stats)); }, 6000);
`;

const client = `
import { parseIPv6, formatPrefix6 } from "${src("addr/ip.ts")}";
import { encodeRequest, mappedV4, OPCODE, prefix64Options, unmapV4 } from "${
  src("discovery/pcp.ts")
}";
import { pcpRequest } from "${src("discovery/pcp_udp.ts")}";
const out = {};
for (const me of ["2001:db8:a::5", "2001:db8:b::5"]) {
  const r = await pcpRequest({ hostname: "2001:db8:a::1" }, encodeRequest({
    opcode: OPCODE.MAP, lifetime: 600, clientAddress: parseIPv6(me),
    map: { nonce: new Uint8Array(12).fill(7), protocol: 6, internalPort: 80, externalPort: 0, externalAddress: mappedV4(0) },
    options: [],
  }), { bindHostname: me, irtMs: 300, retries: 3 });
  out[me] = { result: r.result, port: r.map?.externalPort, v4: r.map ? unmapV4(r.map.externalAddress) : null,
    prefix64: prefix64Options(r.options).map((p) => formatPrefix6(p.prefix)) };
}
console.log(JSON.stringify(out));
`;

Deno.test({
  name:
    "RFC 6887 / RFC 7225: MAP across namespaces; the server sees the real source and refuses outsiders (needs root)",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await withLab("d64pcp", async (lab) => {
      const plat = await lab.netns("plat");
      const host = await lab.netns("host");
      await lab.veth(plat, "p0", host, "h0");
      await plat.addr("p0", "2001:db8:a::1/64");
      await plat.ip("-6", "route", "add", "2001:db8:b::/64", "dev", "p0");
      await host.addr("h0", "2001:db8:a::5/64");
      await host.addr("h0", "2001:db8:b::5/64");
      const opts = { cwd: new URL(".", root).pathname };
      const srv = plat.spawn([Deno.execPath(), "eval", server], opts);
      const end = Date.now() + 15000;
      while (!srv.output().includes("ready")) {
        if (Date.now() > end || srv.exited) throw new Error(srv.output());
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = await host.exec([Deno.execPath(), "eval", client], { timeoutMs: 20000 });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
      assert.deepEqual(out["2001:db8:a::5"], {
        result: 0,
        port: 61000,
        v4: 0xc0000202,
        prefix64: ["64:ff9b::/96"],
      });
      assert.equal(out["2001:db8:b::5"].result, 2, "NOT_AUTHORIZED");
      assert.deepEqual(out["2001:db8:b::5"].prefix64, ["64:ff9b::/96"]);
    });
  },
});
