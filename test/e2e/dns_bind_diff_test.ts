// Differential test: xlat64's DNS64 and BIND 9's dns64, both forwarding to the same
// Unbound (-> NSD test zone), asked the same 60+ questions with dig; answers must agree
// on RCODE and on the answer RRsets (types and data). Documented divergences are listed
// in KNOWN_DIFFERENCES and checked to still differ the way we say.
import assert from "node:assert/strict";
import { DNS64_DEFAULTS, DNS_DEFAULTS } from "../../src/dns/options.ts";
import { startDnsServer } from "../../src/dns/server.ts";
import { dig, type DigResult, freePort, have, startLab, ZONE } from "./dns_lab.ts";

const ready = have("nsd") && have("unbound") && have("dig") && have("named");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function namedConf(dir: string, port: number, upstream: number): string {
  // peers.md: with `forward only` BIND skips its automatic ipv4only.arpa zones, so they
  // get forward zones with empty forwarders (answered by BIND itself, RFC 8880 7.2).
  return `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion yes;
  allow-query { any; };
  allow-recursion { any; };
  forward only;
  forwarders { 127.0.0.1 port ${upstream}; };
  dnssec-validation no;
  minimal-responses yes;
  max-udp-size 4096;
  dns64 64:ff9b::/96 {
    clients { any; };
    mapped { !10.0.0.0/8; !172.16.0.0/12; !192.168.0.0/16; any; };
    exclude { ::ffff:0:0/96; };
  };
};
zone "ipv4only.arpa" { type forward; forwarders { }; };
zone "170.0.0.192.in-addr.arpa" { type forward; forwarders { }; };
zone "171.0.0.192.in-addr.arpa" { type forward; forwarders { }; };
`;
}

const NAMES = [
  "v4only",
  "v6only",
  "dual",
  "alias",
  "mid",
  "outalias",
  "priv",
  "mixed",
  "mapped",
  "txtonly",
  "nothere",
  "sub.nothere",
  "shortttl",
  "ns",
  "big",
];

interface Case {
  args: string[];
  label: string;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const n of NAMES) {
    for (const t of ["AAAA", "A", "TXT"]) {
      out.push({ args: [`${n}.${ZONE}`, t], label: `${n} ${t}` });
    }
    out.push({ args: [`${n}.${ZONE}`, "AAAA", "+dnssec"], label: `${n} AAAA +dnssec` });
  }
  out.push({ args: ["-x", "64:ff9b::c000:201"], label: "PTR 64:ff9b::192.0.2.1" });
  out.push({ args: ["-x", "64:ff9b::c000:202"], label: "PTR 64:ff9b::192.0.2.2 (no PTR record)" });
  out.push({ args: ["-x", "2001:db8::6"], label: "PTR outside the prefix" });
  out.push({ args: ["ipv4only.arpa", "MX"], label: "ipv4only.arpa MX" });
  for (const n of ["v4only", "alias"]) {
    out.push({ args: [`${n}.${ZONE}`, "AAAA", "+dnssec", "+cd"], label: `${n} AAAA +dnssec +cd` });
    out.push({ args: [`${n}.${ZONE}`, "AAAA", "+cd"], label: `${n} AAAA +cd` });
  }
  out.push({ args: ["ipv4only.arpa", "A"], label: "ipv4only.arpa A" });
  out.push({ args: ["ipv4only.arpa", "AAAA"], label: "ipv4only.arpa AAAA" });
  return out;
}

/** What must agree: RCODE and the answer records (type + data, owner lower-cased), sorted. */
function essence(r: DigResult): string {
  const rows = r.answer.map((f) => `${f[0].toLowerCase()} ${f[3]} ${f.slice(4).join(" ")}`).sort();
  return `${r.status}\n${rows.join("\n")}`;
}

/**
 * Where we differ from BIND on purpose, and how:
 * - DO=1 CD=1 AAAA for an A-only name: RFC 6147 5.5 says the client validates and
 *   synthesizes itself, so we pass the empty AAAA answer through; BIND 9.18 synthesizes
 *   when the data is unsigned (peers.md).
 */
const KNOWN_DIFFERENCES: ReadonlyMap<string, (bind: DigResult, ours: DigResult) => boolean> =
  new Map([
    ["v4only AAAA +dnssec +cd", (b, x) => b.answer.length === 1 && x.answer.length === 0],
    ["alias AAAA +dnssec +cd", (b, x) => b.answer.length === 3 && x.answer.length === 2],
  ]);

Deno.test({
  name: "differential vs BIND 9 dns64: same RCODE and answer RRsets on 60+ questions",
  ignore: !ready,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const lab = await startLab();
    const bindPort = freePort();
    await Deno.writeTextFile(
      `${lab.dir}/named.conf`,
      namedConf(lab.dir, bindPort, lab.unboundPort),
    );
    const named = new Deno.Command("named", {
      args: ["-g", "-c", `${lab.dir}/named.conf`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const srv = await startDnsServer({
      dns: {
        ...DNS_DEFAULTS,
        listen: [{ host: "127.0.0.1", port: 0 }],
        upstream: [{ host: "127.0.0.1", port: lab.unboundPort }],
      },
      dns64: DNS64_DEFAULTS,
    }, quiet);
    try {
      let up = false;
      for (let i = 0; i < 50 && !up; i++) {
        up = (await dig(bindPort, ["ipv4only.arpa", "A"])).status === "NOERROR";
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(up, "named did not come up");
      const all = cases();
      assert.ok(all.length >= 60, `${all.length} cases`);
      const diffs: string[] = [];
      let synthesized = 0;
      for (const c of all) {
        const args = [...c.args, "+bufsize=4096"];
        const [b, x] = [await dig(bindPort, args), await dig(srv.addresses[0].port, args)];
        const same = essence(b) === essence(x);
        if (essence(x).includes("AAAA 64:ff9b::")) synthesized++;
        if (Deno.env.get("DNS_DIFF_VERBOSE")) {
          console.log(c.label, "\n", essence(b), "\n", essence(x));
        }
        const known = KNOWN_DIFFERENCES.get(c.label);
        if (known) {
          assert.ok(
            known(b, x),
            `${c.label} no longer differs as documented:\n${essence(b)}\n${essence(x)}`,
          );
          continue;
        }
        if (!same) {
          diffs.push(
            `${c.label}:\n  bind:   ${essence(b).replace(/\n/g, " | ")}\n  xlat64: ${
              essence(x).replace(/\n/g, " | ")
            }`,
          );
        }
      }
      assert.deepEqual(diffs, [], diffs.join("\n"));
      // The comparison covered real synthesis, not only pass-through answers.
      assert.ok(synthesized >= 10, `only ${synthesized} synthesized answers`);
    } finally {
      await srv.close();
      try {
        named.kill("SIGTERM");
      } catch { /* gone */ }
      await named.stderr.cancel();
      await named.status;
      await lab.close();
    }
  },
});
