// DNS64 throughput: dnsperf on loopback against xlat64 and Unbound's dns64 module, same
// upstream (Unbound -> NSD test zone), same query files, servers pinned to CPU 0 and
// dnsperf to CPU 1. Prints qps, latency and the xlat64/Unbound ratio per query mix.
//   deno run -A --unstable-net bench/dns_bench.ts [seconds] [fast|slow] [rounds]
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
  latencyMs: number;
  lost: number;
}

async function dnsperf(port: number, file: string, secs: number): Promise<Result> {
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
  return {
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
      xs.push(await dnsperf(xlatPort, file, seconds));
      us.push(await dnsperf(lab.unbound64Port!, file, seconds));
    }
    const median = (rs: Result[]) => [...rs].sort((a, b) => a.qps - b.qps)[rs.length >> 1];
    const x = median(xs), u = median(us);
    rows.push(
      `${mix.padEnd(10)} xlat64 ${x.qps.toFixed(0).padStart(7)} qps ${
        x.latencyMs.toFixed(3)
      } ms lost ${x.lost} | ` +
        `unbound-dns64 ${u.qps.toFixed(0).padStart(7)} qps ${
          u.latencyMs.toFixed(3)
        } ms lost ${u.lost} | ratio ${(x.qps / u.qps).toFixed(2)}`,
    );
  }
  console.log(rows.join("\n"));
} finally {
  serve.kill("SIGTERM");
  await serve.status;
  await lab.close();
}
