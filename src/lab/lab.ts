// `xlat64 lab`: build a throwaway network in namespaces, run real clients through xlat64,
// print what happened, tear it all down (also on Ctrl-C).
import { whyNoNamespaces } from "../io/netns.ts";
import { DROP_REASONS } from "../xlat/stats.ts";
import { table } from "../status/human.ts";
import {
  type CheckResult,
  dnsCheck,
  httpCheck,
  pingCheck,
  traceroute,
  udpCheck,
} from "./checks.ts";
import {
  engineAvailable,
  LAB,
  type LabMode,
  LabTopology,
  type TopologyOptions,
  xlat64Argv,
} from "./topology.ts";

export interface LabOptions {
  /** Translator mode; "auto" (default): NAT64 when this build has its engine, else SIIT. */
  mode?: LabMode | "auto";
  /** Keep the lab up after the checks until Ctrl-C, to poke at it by hand. */
  keep?: boolean;
  /** Topology overrides (tests). */
  topology?: TopologyOptions;
  /** Where the report goes (default: console.log). */
  print?: (line: string) => void;
}

const mark = (ok: boolean | null) => ok === null ? "-" : ok ? "✔" : "✘";

function dnsBuilt(): boolean {
  try {
    Deno.statSync(new URL("../dns/server.ts", import.meta.url));
    return true;
  } catch {
    return false;
  }
}

async function tracerouteCheck(t: LabTopology): Promise<CheckResult> {
  const hops = await traceroute(t.client, LAB.server6);
  const reached = hops[hops.length - 1] === LAB.server6;
  const translated = hops.includes(LAB.xlat4As6);
  return {
    name: `traceroute -6 ${LAB.server6}`,
    ok: reached && translated,
    detail: `${hops.join(" > ")}${
      translated ? ` (${LAB.xlat4As6}: IPv4 Time Exceeded from ${LAB.xlat4}, translated)` : ""
    }`,
  };
}

async function metricsReport(t: LabTopology): Promise<string[]> {
  const m = await t.metrics();
  const rows: string[][] = [["counter", "4to6", "6to4"]];
  const get = (k: string) => String(m.get(k) ?? 0);
  for (const stage of ["in", "out"]) {
    rows.push([
      `packets ${stage}`,
      get(`xlat64_packets_total{direction="4to6",stage="${stage}"}`),
      get(`xlat64_packets_total{direction="6to4",stage="${stage}"}`),
    ]);
  }
  for (const r of DROP_REASONS) {
    const a = m.get(`xlat64_drops_total{direction="4to6",reason="${r}"}`) ?? 0;
    const b = m.get(`xlat64_drops_total{direction="6to4",reason="${r}"}`) ?? 0;
    if (a || b) rows.push([`drops ${r}`, String(a), String(b)]);
  }
  rows.push(["ICMP errors generated", String(m.get("xlat64_icmp_errors_sent_total") ?? 0), ""]);
  const dns64 = m.get("xlat64_dns64_synthesized_total");
  if (dns64 !== undefined) rows.push(["DNS64 answers synthesized", String(dns64), ""]);
  return table(rows, [1, 2]).split("\n");
}

export async function runLab(opts: LabOptions = {}): Promise<number> {
  const print = opts.print ?? ((l: string) => console.log(l));
  const why = whyNoNamespaces();
  if (why) {
    console.error(`xlat64 lab: ${why}; the lab builds network namespaces and a TUN device.`);
    return 1;
  }
  const want = opts.mode ?? "auto";
  if (want !== "auto") return (await runLabIn(want, opts, print)).code;
  if (await engineAvailable("nat64")) {
    const r = await runLabIn("nat64", opts, print);
    if (r.started) return r.code;
    print("\nThe NAT64 appliance did not start (above); running the SIIT lab instead.\n");
  }
  return (await runLabIn("siit", opts, print)).code;
}

async function runLabIn(
  mode: LabMode,
  opts: LabOptions,
  print: (line: string) => void,
): Promise<{ code: number; started: boolean }> {
  let started = false;
  const t = new LabTopology({ tag: "x64lab", mode, ...opts.topology });
  const removeSignals = t.lab.cleanupOnSignals((sig) =>
    console.error(`\n${sig}: tearing the lab down...`)
  );
  const results: CheckResult[] = [];
  const report = (r: CheckResult) => {
    results.push(r);
    print(`  ${mark(r.ok)} ${r.name}: ${r.detail}`);
  };
  try {
    const nat64 = t.mode === "nat64";
    print(
      `xlat64 lab: IPv6-only client <-> xlat64 (${nat64 ? "NAT64" : "SIIT"}) <-> IPv4-only server`,
    );
    print(
      `  client ${LAB.client6}   (is ${LAB.client4} to IPv4, ${nat64 ? "pool4" : "EAM"})`,
    );
    print(`  server ${LAB.server4}      (is ${LAB.server6} to IPv6, pool6 ${LAB.pool6})`);
    const t0 = performance.now();
    await t.build();
    await t.startAppliance();
    started = true;
    print(`  lab up in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    report(await pingCheck(`ping -6 ${LAB.server6} (client -> server)`, t.client, LAB.server6));
    if (nat64) {
      report({
        name: `ping ${LAB.client4} (server -> client)`,
        ok: null,
        detail: "NAT64 has no mapping for IPv4-initiated pings (RFC 6146 3.5.3)",
      });
    } else {
      report(await pingCheck(`ping ${LAB.client4} (server -> client)`, t.server, LAB.client4));
    }
    report(await httpCheck(t.client, `http://[${LAB.server6}]:${LAB.httpPort}/`, 1_000_000));
    report(await udpCheck(`UDP client -> server:${LAB.udpPort}`, t.client, LAB.server6, 512));
    report(
      await udpCheck(
        `UDP server -> client:${LAB.udpPort}${nat64 ? " (static BIB entry)" : ""}`,
        t.server,
        LAB.client4,
        512,
      ),
    );
    report(
      await udpCheck(`UDP 4000 bytes, fragmented, client -> server`, t.client, LAB.server6, 4000),
    );
    report(await tracerouteCheck(t));
    if (!dnsBuilt()) {
      report({ name: "DNS64", ok: null, detail: "not built yet" });
    } else {
      const r = await dnsCheck(t.client, LAB.xlat6, "web.lab.example", LAB.server6);
      const listening = (await t.xlat.exec(["ss", "-Hlun", "sport", "=", ":53"])).stdout.trim();
      if (!r.ok && !listening) {
        report({ ...r, ok: null, detail: "the appliance does not serve DNS in this mode yet" });
      } else report(r);
    }

    print("\n  /metrics after the checks:");
    for (const l of await metricsReport(t)) print(`    ${l}`);

    const failed = results.filter((r) => r.ok === false).length;
    const passed = results.filter((r) => r.ok === true).length;
    print(
      `\n${failed === 0 ? "✔" : "✘"} ${passed}/${passed + failed} checks passed` +
        (results.some((r) => r.ok === null) ? " (some skipped)" : ""),
    );
    if (failed > 0 && t.appliance) {
      const out = t.appliance.output().trim();
      if (out) print(`\nxlat64 output:\n${out.split("\n").slice(-20).join("\n")}`);
    }
    if (opts.keep) {
      print("\nThe lab stays up; Ctrl-C tears it down. Try:");
      print(`  ip netns exec ${t.client.name} ping -6 ${LAB.server6}`);
      print(`  ip netns exec ${t.xlat.name} curl -s ${LAB.statusUrl}/metrics`);
      print(`  ip netns exec ${t.xlat.name} ${xlat64Argv(["status"]).join(" ")}`);
      await new Promise(() => {}); // the signal handler cleans up and exits
    }
    return { code: failed === 0 ? 0 : 1, started };
  } catch (e) {
    console.error(`xlat64 lab: ${e instanceof Error ? e.message : String(e)}`);
    return { code: 1, started };
  } finally {
    await t.cleanup();
    removeSignals();
  }
}
