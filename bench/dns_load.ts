// DNS64 throughput: dnsperf on loopback against xlat64 and Unbound's dns64 module, same
// upstream (Unbound -> NSD test zone), same query files, servers pinned to CPU 0 and
// dnsperf to CPU 1. Prints qps, latency and the xlat64/Unbound ratio per query mix.
//   deno run -A --unstable-net bench/dns_load.ts [seconds] [fast|slow] [rounds]
import { freePort, have, startLab, ZONE } from "../test/e2e/dns_lab.ts";

const seconds = Number(Deno.args[0] ?? 5);
const mode = Deno.args[1] ?? "fast";
const rounds = Number(Deno.args[2] ?? 3);
for (const bin of ["dnsperf", "taskset", "nsd", "unbound", "dig"]) {
  if (!have(bin)) {
    console.error(
      `dns_bench: ${bin} not found (apt-get install dnsperf nsd unbound dnsutils util-linux)`,
    );
    Deno.exit(2);
  }
}

const MIXES: Record<string, string[]> = {
  // Cached mix of what clients ask: AAAA (real and synthesized), A, NODATA, NXDOMAIN.
  warm: [
    "v4only AAAA",
    "dual AAAA",
    "v6only AAAA",
    "v4only A",
    "dual A",
    "alias AAAA",
    "txtonly AAAA",
    "mixed AAAA",
    "nothere AAAA",
    "ns A",
  ],
  // Every query needs a synthesized answer (A-only names, CNAME chains).
  synthesis: ["v4only AAAA", "alias AAAA", "mixed AAAA", "mid AAAA", "shortttl AAAA", "big AAAA"],
};

async function run(cmd: string[], quiet = true): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: quiet ? "piped" : "inherit",
  }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

interface Result {
  qps: number;
  perCpu: number;
  latencyMs: number;
  lost: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc (all threads). */
function cpuSeconds(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ ticks
}

async function dnsperf(port: number, file: string, secs: number, pid?: number): Promise<Result> {
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const out = await run([
    "taskset",
    "-c",
    "1",
    "dnsperf",
    "-s",
    "127.0.0.1",
    "-p",
    String(port),
    "-d",
    file,
    "-c",
    "2",
    "-q",
    "100",
    "-l",
    String(secs),
    "-t",
    "2",
  ]);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const cpu = pid ? cpuSeconds(pid) - cpu0 : NaN;
  return {
    // Queries answered per CPU second of the server: steadier than qps on a shared machine.
    perCpu: num(/Queries completed:\s+(\d+)/) / cpu,
    qps: num(/Queries per second:\s+([\d.]+)/),
    latencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
  };
}

const lab = await startLab({ dns64Unbound: true, taskset: "0" });
const dir = lab.dir;
const xlatPort = freePort();
const serve = new Deno.Command("taskset", {
  args: [
    "-c",
    "0",
    Deno.execPath(),
    "run",
    "-A",
    "--unstable-net",
    new URL("./dns_serve.ts", import.meta.url).pathname,
    String(xlatPort),
    String(lab.unboundPort),
    mode,
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
try {
  const reader = serve.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const unboundPid = Number(
    (await Deno.readTextFile(`${lab.dir}/unbound-${lab.unbound64Port}.pid`)).trim(),
  );
  reader.releaseLock();
  serve.stdout.cancel();
  console.log(
    `xlat64: ${first.trim()}; Unbound dns64 on ${lab.unbound64Port}; median of ${rounds} ` +
      `alternating ${seconds}s runs; dnsperf -c 2 -q 100 on CPU 1, servers on CPU 0`,
  );
  const rows: string[] = [];
  for (const [mix, names] of Object.entries(MIXES)) {
    const file = `${dir}/${mix}.txt`;
    await Deno.writeTextFile(
      file,
      names.map((n) => `${n.split(" ")[0]}.${ZONE} ${n.split(" ")[1]}`).join("\n") + "\n",
    );
    // Warm both caches, then measure.
    await dnsperf(xlatPort, file, 1);
    await dnsperf(lab.unbound64Port!, file, 1);
    // Alternate the two servers over several rounds and keep the median of each: the
    // machine is shared, so single runs swing by tens of percent.
    const xs: Result[] = [], us: Result[] = [];
    for (let r = 0; r < rounds; r++) {
      xs.push(await dnsperf(xlatPort, file, seconds, serve.pid));
      us.push(await dnsperf(lab.unbound64Port!, file, seconds, unboundPid));
    }
    const median = (rs: Result[]) => [...rs].sort((a, b) => a.qps - b.qps)[rs.length >> 1];
    const x = median(xs), u = median(us);
    const perCpu = (rs: Result[]) =>
      [...rs].map((r) => r.perCpu).sort((a, b) => a - b)[rs.length >> 1];
    const xc = perCpu(xs), uc = perCpu(us);
    const f = (n: number) => n.toFixed(0).padStart(7);
    rows.push(
      `${mix.padEnd(10)} xlat64 ${f(x.qps)} qps ${x.latencyMs.toFixed(3)} ms lost ${x.lost} ` +
        `${f(xc)} q/cpu-s | unbound-dns64 ${f(u.qps)} qps ${u.latencyMs.toFixed(3)} ms ` +
        `lost ${u.lost} ${f(uc)} q/cpu-s | ratio qps ${(x.qps / u.qps).toFixed(2)} ` +
        `per-cpu ${(xc / uc).toFixed(2)}`,
    );
  }
  console.log(rows.join("\n"));
} finally {
  serve.kill("SIGTERM");
  await serve.status;
  await lab.close();
}
