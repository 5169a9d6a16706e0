// Differential test on a private signed hierarchy (NSD + Unbound on loopback, signed with
// ldns at test time): for every case, xlat64's verdict equals Unbound's (AD bit /
// SERVFAIL) and delv's, with the same private root as trust anchor; bogus cases carry
// the expected reason. Needs nsd, unbound, delv (bind9-dnsutils) and ldnsutils.
import assert from "node:assert/strict";
import { DnsMetrics } from "../../src/dns/metrics.ts";
import { UpstreamClient } from "../../src/dns/upstream.ts";
import { parseTrustAnchors } from "../../src/dns/validator/anchors.ts";
import { type ValidationState, Validator } from "../../src/dns/validator/validator.ts";
import { FLAG, RCODE, rcodeOf } from "../../src/dns/wire.ts";
import { buildHierarchy, CASES, type Expect } from "../fixtures/dnssec/hierarchy.ts";
import { haveLdns } from "../fixtures/dnssec/signer.ts";

const have = (cmd: string) => {
  try {
    new Deno.Command(cmd, { args: ["-h"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
};
const ready = haveLdns && have("nsd") && have("unbound") && have("delv");

async function delvVerdict(
  h: { unbound: { port: number } },
  conf: string,
  name: string,
  type: number,
): Promise<Expect> {
  const out = await new Deno.Command("delv", {
    args: ["@127.0.0.1", "-p", String(h.unbound.port), "-a", conf, "+root=.", name, `TYPE${type}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  // delv prints one line per RRset of the chain: the answer is as good as its worst one.
  if (/resolution failed: (?!ncache)/.test(text) && !/negative response/.test(text)) return "bogus";
  if (/unsigned answer/.test(text)) return "insecure";
  if (/fully validated/.test(text)) return "secure";
  return "bogus";
}

Deno.test({
  name:
    "RFC 4035 4.3 / RFC 8683 4.1.3: verdicts on a private signed hierarchy equal Unbound's and delv's",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const h = await buildHierarchy();
    try {
      const metrics = new DnsMetrics();
      const up = new UpstreamClient({
        servers: [{ host: h.unbound.host, port: h.unbound.port }],
        timeoutMs: 3000,
        attempts: 2,
        udpSize: 1232,
      }, metrics);
      const query = (name: string, type: number) =>
        up.query({ name, type, dnssecOk: true, checkingDisabled: true });
      const v = new Validator({
        anchors: parseTrustAnchors(h.rootDs),
        query,
        now: () => Date.now(),
      });
      const [, , , , tag, alg, dt, digest] = h.rootDs.trim().split(/\s+/);
      const delvConf = `${h.dir}/delv.conf`;
      await Deno.writeTextFile(
        delvConf,
        `trust-anchors {\n "." static-ds ${tag} ${alg} ${dt} "${digest}";\n};\n`,
      );
      for (const c of CASES) {
        await t.step(
          `${c.what}: ${c.name} type ${c.type} is ${c.expect}${c.reason ? ` (${c.reason})` : ""}`,
          async () => {
            const resp = await query(c.name, c.type);
            assert.ok(resp, "upstream answered");
            const verdict = await v.verdict(c.name, c.type, resp);
            const ours: ValidationState = verdict.state;
            // Unbound validating (no CD): AD for secure, SERVFAIL for bogus.
            const plain = await up.query({
              name: c.name,
              type: c.type,
              dnssecOk: true,
              checkingDisabled: false,
            });
            const unbound: Expect = !plain || rcodeOf(plain.flags) === RCODE.SERVFAIL
              ? "bogus"
              : (plain.flags & FLAG.AD) !== 0
              ? "secure"
              : "insecure";
            const delv = await delvVerdict(h, delvConf, c.name, c.type);
            assert.equal(ours, c.expect, `xlat64: ${JSON.stringify(verdict)}`);
            if (c.reason) assert.equal(verdict.reason, c.reason, verdict.detail);
            assert.equal(unbound, c.unbound ?? ours, "Unbound differs");
            assert.equal(delv, c.delv ?? ours, "delv differs");
          },
        );
      }
    } finally {
      await h.close();
    }
  },
});
