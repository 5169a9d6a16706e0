// Warm-cache cost of DNSSEC validation in xlat64's DNS64 (issue #7): dnsperf on loopback
// against xlat64 with [validator] off and on (default UDP path and fast-path = true),
// and against Unbound with "dns64 validator iterator" as the reference. All serve the
// same private signed hierarchy (ldns-signzone, NSD; test/fixtures/dnssec/hierarchy.ts)
// with the same trust anchor, and get the same query files: A and AAAA for secure names,
// most AAAA synthesized from a secure A. Servers on CPU 0, dnsperf on CPU 1.
//   deno run -A bench/validator_load.ts [seconds=2] [rounds=3]    (about 80 s in all)
import { freePort, have } from "../test/e2e/dns_lab.ts";
import { buildHierarchy, type Hierarchy } from "../test/fixtures/dnssec/hierarchy.ts";
import { haveLdns } from "../test/fixtures/dnssec/signer.ts";
import { dnsperf, medianByQps, type PerfResult } from "./dnsperf.ts";

const seconds = Number(Deno.args[0] ?? 2);
const rounds = Number(Deno.args[1] ?? 3);
for (const bin of ["dnsperf", "taskset", "nsd", "unbound", "dig"]) {
  if (!have(bin)) {
    console.error(
      `validator_load: ${bin} not found (apt-get install dnsperf nsd unbound dnsutils)`,
    );
    Deno.exit(2);
  }
}
if (!haveLdns) {
  console.error("validator_load: ldns-signzone not found (apt-get install ldnsutils)");
  Deno.exit(2);
}

// Secure names only: ECDSA/NSEC, RSA/NSEC3, Ed25519, a wildcard and a CNAME across zones.
// AAAA for A-only names are synthesized (the AAAA NODATA and the A both validated).
const QUERIES = [
  "www.sec.test. A",
  "www.sec.test. AAAA",
  "both.sec.test. A",
  "both.sec.test. AAAA",
  "www.n3.test. A",
  "www.n3.test. AAAA",
  "www.ed.test. A",
  "www.ed.test. AAAA",
  "x.wild.sec.test. AAAA",
  "cname.sec.test. AAAA",
];
// Stub clients (no EDNS) and DNSSEC-aware ones (DO=1: AD and RRSIGs in the answers).
const MIXES: Record<string, string[]> = { plain: [], "do=1": ["-D"] };

interface Server {
  label: string;
  port: number;
  pid: number;
  validation: boolean;
  fast: boolean | null;
  stop(): Promise<void>;
  log(): string;
  /** Sums of xlat64's counters from /metrics (null for Unbound). */
  counters(): Promise<Counters | null>;
}

const COUNTERS = {
  queries: "xlat64_dns_queries_total",
  cacheHits: "xlat64_dns_cache_hits_total",
  fastPath: "xlat64_dns_fast_path_answers_total",
  upstream: "xlat64_dns_upstream_latency_seconds_count",
  validations: "xlat64_dnssec_validations_total",
} as const;
type Counters = Record<keyof typeof COUNTERS, number>;

/** Sum each counter over its labels in a Prometheus text exposition. */
function sumCounters(text: string): Counters {
  const out = Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as Counters;
  for (const line of text.split("\n")) {
    const m = /^([a-z0-9_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    for (const [k, name] of Object.entries(COUNTERS)) {
      if (m[1] === name) out[k as keyof Counters] += Number(m[2]);
    }
  }
  return out;
}

async function dig(port: number, args: string[]): Promise<string> {
  const out = await new Deno.Command("dig", {
    args: ["@127.0.0.1", "-p", String(port), "+time=2", "+tries=1", ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** xlat64 run --config, DNS only (mode = "none"), pinned to CPU 0. */
async function startXlat64(
  h: Hierarchy,
  validation: boolean,
  fast: boolean | null,
): Promise<Server> {
  const port = freePort();
  const httpPort = freePort();
  const conf = `${h.dir}/xlat64-${port}.toml`;
  await Deno.writeTextFile(
    conf,
    `mode = "none"
[dns]
listen = ["127.0.0.1:${port}"]
upstream = ["127.0.0.1:${h.unbound.port}"]
${fast === null ? "" : `fast-path = ${fast}`}
[dns64]
prefixes = ["64:ff9b::/96"]
[validator]
enabled = ${validation}
trust-anchors = "${h.anchorFile}"
[status]
listen = "127.0.0.1:${httpPort}"
[log]
level = "warning"
`,
  );
  const main = new URL("../main.ts", import.meta.url).pathname;
  const proc = new Deno.Command("taskset", {
    args: ["-c", "0", Deno.execPath(), "run", "-A", main, "run", "--config", conf],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const drain = (async () => {
    for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) log += chunk;
  })();
  const stop = async () => {
    try {
      proc.kill("SIGTERM");
    } catch { /* already gone */ }
    await proc.status;
    await drain.catch(() => {});
  };
  for (let i = 0; i < 100; i++) {
    if (/status: NOERROR/.test(await dig(port, ["www.sec.test.", "A"]))) {
      const label = `xlat64 validation ${validation ? "on " : "off"} ` +
        `fast-path ${fast === null ? "default" : fast}`;
      const counters = async () =>
        sumCounters(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
      return { label, port, pid: proc.pid, validation, fast, stop, log: () => log, counters };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`xlat64 on ${port} did not come up: ${log}`);
}

/** Unbound's pid, found by its config file on its command line (its pidfile is off). */
function pidOf(confPath: string): number {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (cmd[0].endsWith("unbound") && cmd.includes(confPath)) return Number(e.name);
    } catch { /* exited meanwhile */ }
  }
  throw new Error(`no unbound process with ${confPath}`);
}

// Children inherit this process's CPU set: NSD, both Unbounds and every xlat64 land on
// CPU 0; dnsperf is started on CPU 1 by taskset.
await new Deno.Command("taskset", {
  args: ["-a", "-p", "-c", "0", String(Deno.pid)],
  stdout: "null",
})
  .output();
const t0 = performance.now();
const h = await buildHierarchy();
const servers: Server[] = [];
try {
  const built = performance.now();
  for (const fast of [null, true]) {
    for (const validation of [false, true]) servers.push(await startXlat64(h, validation, fast));
  }
  const unbound: Server = {
    label: "unbound dns64 validator iterator",
    port: h.unbound64.port,
    pid: pidOf(`${h.dir}/unbound64.conf`),
    validation: true,
    fast: null,
    stop: () => Promise.resolve(),
    log: () => "",
    counters: () => Promise.resolve(null),
  };
  servers.push(unbound);

  // Same answers everywhere before measuring: synthesized AAAA from the secure A, and AD
  // on the A for DO=1 from every validating server.
  for (const s of servers) {
    const aaaa = await dig(s.port, ["+short", "www.sec.test.", "AAAA"]);
    if (aaaa.trim() !== "64:ff9b::c000:201") {
      throw new Error(`${s.label}: www.sec.test. AAAA is ${JSON.stringify(aaaa)}`);
    }
    const a = await dig(s.port, ["+dnssec", "www.sec.test.", "A"]);
    if (!/flags: qr rd ra ad;/.test(a)) throw new Error(`${s.label}: no AD on a secure A:\n${a}`);
  }
  const file = `${h.dir}/queries.txt`;
  await Deno.writeTextFile(file, QUERIES.join("\n") + "\n");
  console.log(
    `signed hierarchy built in ${((built - t0) / 1000).toFixed(1)} s; ${QUERIES.length} ` +
      `queries (A and AAAA, secure names); median of ${rounds} alternating ${seconds}s runs; ` +
      `dnsperf -c 2 -q 100 on CPU 1, servers on CPU 0`,
  );
  const f = (n: number, w = 7, d = 0) => n.toFixed(d).padStart(w);
  for (const [mix, flags] of Object.entries(MIXES)) {
    for (const s of servers) await dnsperf({ port: s.port, file, seconds: 1, flags });
    const runs = new Map<Server, PerfResult[]>(servers.map((s) => [s, []]));
    const before = await Promise.all(servers.map((s) => s.counters()));
    for (let r = 0; r < rounds; r++) {
      for (const s of servers) {
        runs.get(s)!.push(await dnsperf({ port: s.port, file, seconds, pid: s.pid, flags }));
      }
    }
    const after = await Promise.all(servers.map((s) => s.counters()));
    const med = new Map([...runs].map(([s, rs]) => [s, medianByQps(rs)]));
    const ub = med.get(unbound)!;
    console.log(
      `\nmix ${mix}\n${
        "server".padEnd(44)
      }     qps  avg ms  q/cpu-s  on/off  on/off cpu  vs unbound  vs unbound cpu`,
    );
    for (const s of servers) {
      const m = med.get(s)!;
      const off = servers.find((o) => o !== unbound && !o.validation && o.fast === s.fast);
      const hasOff = s !== unbound && s.validation && off !== undefined;
      const onOff = hasOff ? m.qps / med.get(off)!.qps : NaN;
      const onOffCpu = hasOff ? m.perCpu / med.get(off)!.perCpu : NaN;
      const ratio = (n: number, w: number) => Number.isNaN(n) ? "-".padStart(w) : f(n, w, 2);
      const codes = /^NOERROR \d+ \(100\.00%\)$/.test(m.rcodes) ? "" : `  [${m.rcodes}]`;
      const lost = m.lost > 0 ? `  lost ${m.lost}` : "";
      console.log(
        `${s.label.padEnd(44)} ${f(m.qps)} ${f(m.latencyMs, 7, 3)} ${f(m.perCpu, 8)} ` +
          `${ratio(onOff, 7)} ${ratio(onOffCpu, 11)} ${f(m.qps / ub.qps, 11, 2)} ` +
          `${f(m.perCpu / ub.perCpu, 14, 2)}` +
          codes + lost,
      );
    }
    // Where the measured queries were answered: the response cache (main thread or
    // fast-path worker) or the slow path, and how many validations they cost.
    console.log("during the measured runs:");
    servers.forEach((s, i) => {
      const a = after[i], b = before[i];
      if (!a || !b) return;
      const d = (k: keyof Counters) => a[k] - b[k];
      const pct = (k: keyof Counters) => `${(100 * d(k) / d("queries")).toFixed(1)}%`;
      console.log(
        `  ${s.label.padEnd(42)} queries ${d("queries")}, cache hits ${pct("cacheHits")}, ` +
          `fast-path answers ${pct("fastPath")}, upstream queries ${d("upstream")}, ` +
          `validations ${d("validations")}`,
      );
    });
  }
  for (const s of servers) {
    if (/fast path unavailable/.test(s.log())) console.log(`note: ${s.label}: fast path off`);
  }
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} finally {
  for (const s of servers) await s.stop();
  await h.close();
}
