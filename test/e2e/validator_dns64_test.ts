// DNS64 with local validation (RFC 8683 4.1.3/4.1.4) through the real query handler, with
// Unbound (over NSD, on loopback) as upstream: AAAA is synthesized only from a secure or
// provably insecure A; bogus data becomes SERVFAIL with the RFC 8914 Extended DNS Error;
// AD only on secure, non-synthesized data; DO=1 CD=1 clients get the raw records.
import assert from "node:assert/strict";
import { parseIp } from "../../src/dns/acl.ts";
import { buildCore } from "../../src/dns/core.ts";
import { startDnsServer } from "../../src/dns/server.ts";
import { DNS64_DEFAULTS, DNS_DEFAULTS } from "../../src/dns/options.ts";
import { parseTrustAnchors } from "../../src/dns/validator/anchors.ts";
import { ValidatorMetrics } from "../../src/dns/validator/metrics.ts";
import {
  decodeMessage,
  EDNS_DO,
  encodeMessage,
  FLAG,
  getEdns,
  type Message,
  optRecord,
  RCODE,
  rcodeOf,
  TYPE,
} from "../../src/dns/wire.ts";
import { buildHierarchy } from "../fixtures/dnssec/hierarchy.ts";
import { haveLdns } from "../fixtures/dnssec/signer.ts";

const have = (cmd: string) => {
  try {
    new Deno.Command(cmd, { args: ["-h"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
};
const ready = haveLdns && have("nsd") && have("unbound") && have("dig");

function query(name: string, type: number, o: { do?: boolean; cd?: boolean; ad?: boolean } = {}) {
  return encodeMessage({
    id: 7,
    flags: FLAG.RD | (o.cd ? FLAG.CD : 0) | (o.ad ? FLAG.AD : 0),
    question: [{ name, type, class: 1 }],
    answer: [],
    authority: [],
    additional: [optRecord({
      udpSize: 1232,
      extRcode: 0,
      version: 0,
      flags: o.do ? EDNS_DO : 0,
      options: new Uint8Array(0),
    })],
  });
}

/** The INFO-CODEs of the RFC 8914 options in a response. */
function edeCodes(m: Message): number[] {
  const o = getEdns(m)?.options ?? new Uint8Array(0);
  const out: number[] = [];
  for (let p = 0; p + 4 <= o.length;) {
    const code = (o[p] << 8) | o[p + 1], len = (o[p + 2] << 8) | o[p + 3];
    if (code === 15 && len >= 2) out.push((o[p + 4] << 8) | o[p + 5]);
    p += 4 + len;
  }
  return out;
}

const v6 = (d: Uint8Array) =>
  [...Array(8)].map((_, i) => ((d[2 * i] << 8) | d[2 * i + 1]).toString(16)).join(":");

Deno.test({
  name: "RFC 8683 4.1.3: DNS64 validates A itself, synthesizes from secure/insecure data only",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const h = await buildHierarchy();
    try {
      const metrics = new ValidatorMetrics();
      const core = buildCore(
        { ...DNS_DEFAULTS, upstream: [{ host: h.unbound.host, port: h.unbound.port }], listen: [] },
        DNS64_DEFAULTS,
        undefined,
        {
          anchors: parseTrustAnchors(h.rootDs),
          clockSkew: 300,
          nsec3MaxIterations: 150,
          metrics,
        },
      );
      const client = parseIp("127.0.0.1");
      const ask = async (
        name: string,
        type: number,
        o: { do?: boolean; cd?: boolean; ad?: boolean } = {},
      ) => {
        const out = await core.handler.handle(query(name, type, o), client, "c", "udp");
        const d = decodeMessage(out!);
        assert.ok(d.ok);
        return d.msg;
      };
      const ad = (m: Message) => (m.flags & FLAG.AD) !== 0;

      await t.step("secure A: synthesized AAAA, never with AD (RFC 6147 5.5)", async () => {
        const m = await ask("www.sec.test.", TYPE.AAAA, { do: true, ad: true });
        assert.equal(rcodeOf(m.flags), RCODE.NOERROR);
        assert.deepEqual(
          m.answer.filter((r) => r.type === TYPE.AAAA).map((r) => v6(r.data)),
          ["64:ff9b:0:0:0:0:c000:201"],
        );
        assert.equal(ad(m), false);
      });
      await t.step("secure A asked for itself: AD set (DO=1), RRSIG kept", async () => {
        const m = await ask("www.sec.test.", TYPE.A, { do: true });
        assert.equal(ad(m), true);
        assert.ok(m.answer.some((r) => r.type === TYPE.RRSIG));
        const plain = await ask("www.sec.test.", TYPE.A);
        assert.equal(ad(plain), false, "no AD for a client that set neither DO nor AD");
        assert.ok(!plain.answer.some((r) => r.type === TYPE.RRSIG));
      });
      await t.step("real AAAA in a secure zone: passed on with AD", async () => {
        const m = await ask("both.sec.test.", TYPE.AAAA, { do: true });
        assert.deepEqual(
          m.answer.filter((r) => r.type === TYPE.AAAA).map((r) => v6(r.data)),
          ["2001:db8:0:0:0:0:0:2"],
        );
        assert.equal(ad(m), true);
      });
      await t.step("insecure A (unsigned delegation): synthesized, no AD", async () => {
        const m = await ask("www.unsigned.test.", TYPE.AAAA, { do: true });
        assert.deepEqual(
          m.answer.filter((r) => r.type === TYPE.AAAA).map((r) => v6(r.data)),
          ["64:ff9b:0:0:0:0:c000:2c9"],
        );
        assert.equal(ad(m), false);
      });
      const bogus: [string, number, number][] = [
        ["www.badsig.test.", TYPE.AAAA, 6],
        ["www.expired.test.", TYPE.AAAA, 7],
        ["www.future.test.", TYPE.A, 8],
        ["www.nokey.test.", TYPE.AAAA, 9],
        ["www.stripped.test.", TYPE.AAAA, 10],
        ["gone.badnsec.test.", TYPE.AAAA, 12],
        ["www.downgrade.test.", TYPE.A, 12],
      ];
      for (const [name, type, code] of bogus) {
        await t.step(
          `bogus ${name} type ${type}: SERVFAIL with EDE ${code} (RFC 8914)`,
          async () => {
            const m = await ask(name, type);
            assert.equal(rcodeOf(m.flags), RCODE.SERVFAIL);
            assert.equal(m.answer.length, 0, "nothing synthesized from bogus data");
            assert.deepEqual(edeCodes(m), [code]);
          },
        );
      }
      await t.step("DO=1 CD=1: raw records and signatures, no synthesis, no SERVFAIL", async () => {
        const m = await ask("www.sec.test.", TYPE.AAAA, { do: true, cd: true });
        assert.equal(m.answer.filter((r) => r.type === TYPE.AAAA).length, 0);
        assert.ok(m.authority.some((r) => r.type === TYPE.NSEC));
        const b = await ask("www.badsig.test.", TYPE.A, { do: true, cd: true });
        assert.equal(rcodeOf(b.flags), RCODE.NOERROR);
        assert.ok(b.answer.some((r) => r.type === TYPE.RRSIG));
      });
      await t.step("RFC 9276 3.2: too many NSEC3 iterations: insecure, EDE 27, no AD", async () => {
        const m = await ask("nx.it200.test.", TYPE.A, { do: true });
        assert.equal(rcodeOf(m.flags), RCODE.NXDOMAIN);
        assert.equal(ad(m), false);
        assert.deepEqual(edeCodes(m), [27]);
      });
      await t.step("Ed448 zone: insecure, synthesized, EDE 1 (unsupported algorithm)", async () => {
        const m = await ask("www.ed448.test.", TYPE.AAAA, { do: true });
        assert.equal(m.answer.filter((r) => r.type === TYPE.AAAA).length, 1);
        assert.equal(ad(m), false);
        const a = await ask("www.ed448.test.", TYPE.A, { do: true });
        assert.deepEqual(edeCodes(a), [1]);
      });
      await t.step("/metrics: verdicts by state and bogus reason", () => {
        const fam = metrics.families();
        const states = fam.find((f) => f.name === "xlat64_dnssec_validations_total")!;
        const val = (s: string) => states.samples.find((x) => x.labels.state === s)!.value;
        assert.ok(val("secure") >= 3 && val("insecure") >= 2 && val("bogus") >= 7);
        const bog = fam.find((f) => f.name === "xlat64_dnssec_bogus_total")!;
        const reason = (r: string) => bog.samples.find((x) => x.labels.reason === r)!.value;
        assert.ok(reason("signature_expired") >= 1 && reason("rrsigs_missing") >= 1);
      });
      await t.step(
        "over UDP sockets: dig sees the EDE, /metrics has the validator's families",
        async () => {
          const quiet = { debug() {}, info() {}, warn() {}, error() {} };
          const srv = await startDnsServer({
            dns: {
              ...DNS_DEFAULTS,
              listen: [{ host: "127.0.0.1", port: 0 }],
              upstream: [{ host: h.unbound.host, port: h.unbound.port }],
              fastPath: false,
            },
            dns64: DNS64_DEFAULTS,
            validation: {
              anchors: parseTrustAnchors(h.rootDs),
              clockSkew: 300,
              nsec3MaxIterations: 150,
            },
          }, quiet);
          try {
            const port = String(srv.addresses[0].port);
            const dig = async (...args: string[]) =>
              new TextDecoder().decode(
                (await new Deno.Command("dig", {
                  args: ["@127.0.0.1", "-p", port, ...args],
                  stdout: "piped",
                })
                  .output()).stdout,
              );
            const out = await dig("+dnssec", "www.expired.test.", "AAAA");
            assert.match(out, /status: SERVFAIL/);
            assert.match(out, /EDE: 7 \(Signature Expired\)/);
            const ok = await dig("+dnssec", "www.sec.test.", "A");
            assert.match(ok, /flags: qr rd ra ad;/);
            const names = srv.metrics().map((f) => f.name);
            assert.ok(names.includes("xlat64_dnssec_validations_total"));
            assert.ok(names.includes("xlat64_dnssec_bogus_total"));
          } finally {
            await srv.close();
          }
        },
      );
      await t.step(
        "xlat64 run with [validator] enabled: EDE over UDP, /metrics over HTTP",
        async () => {
          const free = () => {
            const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
            const p = (l.addr as Deno.NetAddr).port;
            l.close();
            return p;
          };
          const [dnsPort, httpPort] = [free(), free()];
          const conf = `${h.dir}/xlat64.toml`;
          await Deno.writeTextFile(
            conf,
            `mode = "none"
[dns]
listen = ["127.0.0.1:${dnsPort}"]
upstream = ["127.0.0.1:${h.unbound.port}"]
[validator]
enabled = true
trust-anchors = "${h.anchorFile}"
auto-trust-anchor-file = "${h.dir}/auto.key"
[status]
listen = "127.0.0.1:${httpPort}"
`,
          );
          const main = new URL("../../main.ts", import.meta.url).pathname;
          const proc = new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", main, "run", "--config", conf],
            stdout: "null",
            stderr: "piped",
          }).spawn();
          try {
            let metrics = "";
            for (let i = 0; i < 100 && !metrics; i++) {
              await new Promise((r) => setTimeout(r, 100));
              metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text())
                .catch(() => "");
            }
            const dig = await new Deno.Command("dig", {
              args: ["@127.0.0.1", "-p", String(dnsPort), "+dnssec", "www.stripped.test.", "A"],
              stdout: "piped",
            }).output();
            const out = new TextDecoder().decode(dig.stdout);
            assert.match(out, /status: SERVFAIL/);
            assert.match(out, /EDE: 10 \(RRSIGs Missing\)/);
            metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text());
            assert.match(metrics, /xlat64_dnssec_bogus_total\{reason="rrsigs_missing"\} 1/);
            // RFC 5011: the root's key was recorded as trusted in the state file.
            let state = "";
            for (let i = 0; i < 50 && !state.includes(";;state=valid"); i++) {
              state = await Deno.readTextFile(`${h.dir}/auto.key`).catch(() => "");
              if (!state) await new Promise((r) => setTimeout(r, 50));
            }
            assert.match(state, /;;state=valid/);
          } finally {
            proc.kill("SIGTERM");
            await proc.status;
            await proc.stderr.cancel();
          }
        },
      );
      await t.step("RFC 8683 4.4: the upstream is itself a DNS64 (Unbound dns64)", async () => {
        const core64 = buildCore(
          {
            ...DNS_DEFAULTS,
            upstream: [{ host: h.unbound64.host, port: h.unbound64.port }],
            listen: [],
          },
          DNS64_DEFAULTS,
          undefined,
          { anchors: parseTrustAnchors(h.rootDs), clockSkew: 300, nsec3MaxIterations: 150 },
        );
        const ask64 = async (name: string, type: number) => {
          const out = await core64.handler.handle(
            query(name, type, { do: true }),
            client,
            "c",
            "udp",
          );
          return (decodeMessage(out!) as { ok: true; msg: Message }).msg;
        };
        const m = await ask64("www.sec.test.", TYPE.AAAA);
        assert.deepEqual(
          m.answer.filter((r) => r.type === TYPE.AAAA).map((r) => v6(r.data)),
          ["64:ff9b:0:0:0:0:c000:201"],
        );
        assert.equal(ad(m), false);
        assert.equal(ad(await ask64("www.sec.test.", TYPE.A)), true);
        assert.equal(rcodeOf((await ask64("www.badsig.test.", TYPE.AAAA)).flags), RCODE.SERVFAIL);
      });
    } finally {
      await h.close();
    }
  },
});
