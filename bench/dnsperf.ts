// Run dnsperf against a server on loopback (pinned to a core by taskset) and read its
// summary: the measuring half of the DNS load scripts.

export interface PerfResult {
  qps: number;
  /** Queries answered per CPU second of the server (NaN without a pid). */
  perCpu: number;
  latencyMs: number;
  lost: number;
  /** dnsperf's "Response codes:" line, e.g. "NOERROR 1000 (100.00%)". */
  rcodes: string;
}

export interface PerfRun {
  port: number;
  /** A dnsperf data file: one "name type" per line. */
  file: string;
  seconds: number;
  /** The server's pid, to count the CPU time it spent on the run. */
  pid?: number;
  /** CPU list for taskset (default "1": servers live on CPU 0). */
  cpu?: string;
  /** More dnsperf flags, e.g. ["-D"] for DO=1 queries. */
  flags?: readonly string[];
}

/** CPU seconds (user + system) a process has used so far, from /proc (all threads). */
export function cpuSeconds(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ ticks
}

export async function dnsperf(r: PerfRun): Promise<PerfResult> {
  const cpu0 = r.pid ? cpuSeconds(r.pid) : 0;
  const out = await new Deno.Command("taskset", {
    args: [
      "-c",
      r.cpu ?? "1",
      "dnsperf",
      "-s",
      "127.0.0.1",
      "-p",
      String(r.port),
      "-d",
      r.file,
      "-c",
      "2",
      "-q",
      "100",
      "-l",
      String(r.seconds),
      "-t",
      "2",
      ...(r.flags ?? []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const cpu = r.pid ? cpuSeconds(r.pid) - cpu0 : NaN;
  return {
    perCpu: num(/Queries completed:\s+(\d+)/) / cpu,
    qps: num(/Queries per second:\s+([\d.]+)/),
    latencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
    rcodes: /Response codes:\s+(.*)/.exec(text)?.[1].trim() ?? "",
  };
}

/** The run with the median qps (the machine is shared: single runs swing). */
export function medianByQps(rs: readonly PerfResult[]): PerfResult {
  return [...rs].sort((a, b) => a.qps - b.qps)[rs.length >> 1];
}
