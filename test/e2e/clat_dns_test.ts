// RFC 8683 3.1.2 in the 464XLAT lab, through the appliance: the CLAT's DNS proxy
// ([dns] aaaa-only-upstream) answers the IPv4-only client's A query from the PLAT-side
// DNS64's synthesized AAAA, so the DNS64 never sees an A query; the answer is usable.
//
//   cli --A?--> CLAT proxy (192.168.77.1) --AAAA?--> PLAT DNS64 ([2001:db8:1::1]) --> NSD (srv)
import assert from "node:assert/strict";
import { NetLab, whyNoNamespaces } from "../../src/io/netns.ts";
import { have } from "./dns_lab.ts";
import {
  build464,
  clatConfig,
  nat64Config,
  PLAT_PREFIX,
  SERVER,
  startUdpEcho,
  startXlat64,
  udpEcho,
  waitFor,
} from "./clat_lab.ts";

const ZONE = `$ORIGIN lab.example.
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 120
@ NS ns
ns A ${SERVER}
srv A ${SERVER}
dual A ${SERVER}
dual AAAA 2001:db8:ffff::2
`;

const metric = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);

Deno.test({
  name:
    "clat DNS proxy, aaaa-only-upstream (RFC 8683 3.1.2): the DNS64 gets AAAA only, the client gets its A and reaches it (needs root)",
  ignore: whyNoNamespaces() !== null || !have("nsd") || !have("dig"),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4n");
    try {
      const l = await build464(lab);
      await l.clat.router();
      await Deno.writeTextFile(`${l.dir}/lab.zone`, ZONE);
      await Deno.writeTextFile(
        `${l.dir}/nsd.conf`,
        `server:\n  ip-address: ${SERVER}\n  port: 53\n  username: ""\n  chroot: ""\n` +
          `  zonesdir: "${l.dir}"\n  pidfile: "${l.dir}/nsd.pid"\n  database: ""\n` +
          `  xfrdfile: "${l.dir}/xfrd.state"\n  zonelistfile: "${l.dir}/zone.list"\n` +
          `  server-count: 1\n  verbosity: 0\nremote-control:\n  control-enable: no\n` +
          `zone:\n  name: "lab.example."\n  zonefile: "lab.zone"\n`,
      );
      l.srv.spawn(["nsd", "-d", "-c", `${l.dir}/nsd.conf`]);
      startUdpEcho(l);
      await waitFor(
        "NSD",
        async () =>
          (await l.srv.exec(["dig", `@${SERVER}`, "srv.lab.example.", "A", "+short", "+time=1"]))
            .stdout.trim() === SERVER,
      );
      l.platApp = await startXlat64(
        l,
        l.plat,
        "plat",
        nat64Config({
          dns: `listen = ["[2001:db8:1::1]:53"]\nupstream = ["${SERVER}"]\n` +
            `allow = ["2001:db8:1::/64"]\n[dns64]\nprefixes = ["${PLAT_PREFIX}"]`,
        }),
        18065,
      );
      l.clatApp = await startXlat64(
        l,
        l.clat,
        "clat",
        clatConfig("single", {
          dns: `listen = ["192.168.77.1:53"]\nupstream = ["[2001:db8:1::1]:53"]\n` +
            `allow = ["192.168.77.0/24"]\naaaa-only-upstream = true\n` +
            // The upstream is the DNS64; the CLAT's proxy does not synthesize itself.
            `[dns64]\nprefixes = []`,
        }),
        18064,
      );
      const dig = async (name: string) =>
        (await l.cli.run(["dig", "@192.168.77.1", name, "A", "+short", "+time=3"])).trim();
      assert.equal(await dig("srv.lab.example."), SERVER);
      // A dual-stack name: the DNS64 returns the real AAAA, so the proxy asks for A too.
      assert.equal(await dig("dual.lab.example."), SERVER);
      assert.equal(await udpEcho(l.cli, SERVER, "dns-ok"), "ko-snd");

      const clatM = await l.clat.run(["curl", "-sf", "http://127.0.0.1:18064/metrics"]);
      assert.equal(metric(clatM, /^xlat64_dns_a_from_aaaa_total (\d+)/m), 1, clatM);
      assert.equal(metric(clatM, /^xlat64_dns_a_from_aaaa_fallbacks_total (\d+)/m), 1);
      const platM = await l.plat.run(["curl", "-sf", "http://127.0.0.1:18065/metrics"]);
      const aAtPlat = metric(platM, /^xlat64_dns_queries_total\{type="A",transport="udp"\} (\d+)/m);
      assert.equal(aAtPlat, 1, "only the dual-stack name's fallback reached the DNS64 as A");
      assert.ok(
        metric(platM, /^xlat64_dns_queries_total\{type="AAAA",transport="udp"\} (\d+)/m) >= 2,
        platM,
      );
    } finally {
      await lab.cleanup();
    }
  },
});
