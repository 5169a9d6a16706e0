// RFC 8683 3.1.2 against a real DNS64: NSD -> Unbound (dns64 module) -> xlat64's proxy with
// [dns] aaaa-only-upstream. Every A answer the proxy gives must match what a plain
// (non-DNS64) Unbound says for A, while names with only A records cost one AAAA query.
import assert from "node:assert/strict";
import { parsePrefix6 } from "../../src/addr/ip.ts";
import { parseAcl } from "../../src/dns/acl.ts";
import { DNS64_DEFAULTS, DNS_DEFAULTS } from "../../src/dns/options.ts";
import { type DnsServerHandle, startDnsServer } from "../../src/dns/server.ts";
import { dig, have, startLab, ZONE } from "./dns_lab.ts";

const ready = have("nsd") && have("unbound") && have("dig");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const view = (r: Awaited<ReturnType<typeof dig>>) => ({
  status: r.status,
  records: r.answer.filter((x) => x[3] === "A" || x[3] === "CNAME").map((x) =>
    `${x[0]} ${x[3]} ${x[4]}`
  ).sort(),
});

Deno.test({
  name:
    "e2e RFC 8683 3.1.2 (only AAAA queries to the DNS64): A answers from Unbound dns64's AAAA equal plain A answers",
  ignore: !ready,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const lab = await startLab({ dns64Unbound: true });
    let srv: DnsServerHandle | null = null;
    try {
      srv = await startDnsServer({
        dns: {
          ...DNS_DEFAULTS,
          listen: [{ host: "127.0.0.1", port: 0 }],
          upstream: [{ host: "127.0.0.1", port: lab.unbound64Port! }],
          allow: parseAcl(["any"]),
          upstreamTimeoutMs: 1000,
          aaaaOnlyUpstream: true,
        },
        // The upstream is the DNS64: the proxy itself does not synthesize.
        dns64: { ...DNS64_DEFAULTS, prefixes: [] },
        platPrefixes: () => [parsePrefix6("64:ff9b::/96")],
      }, quiet);
      const port = srv.addresses[0].port;
      const names = ["v4only", "alias", "shortttl", "big", "mixed", "priv"];
      // Unbound passes mapped.'s ::ffff AAAA on as real (it has no RFC 6147 5.1.4 exclusion).
      const fallbacks = ["dual", "v6only", "outalias", "txtonly", "mapped"];
      for (const n of [...names, ...fallbacks, "nonexistent"]) {
        const name = `${n}.${ZONE}`;
        const got = view(await dig(port, [name, "A", "+tcp"]));
        const want = view(await dig(lab.unboundPort, [name, "A", "+tcp"]));
        assert.deepEqual(got, want, name);
      }
      const m = srv.metricsState;
      // A-only names (and NXDOMAIN) were answered from the AAAA query alone; real AAAA
      // or none at all sent the A query upstream as well.
      assert.equal(m.aFromAaaa, names.length + 1, `from AAAA ${m.aFromAaaa}`);
      assert.equal(m.aFromAaaaFallbacks, fallbacks.length, `fallbacks ${m.aFromAaaaFallbacks}`);
    } finally {
      await srv?.close();
      await lab.close();
    }
  },
});
