// Real clients run through the lab, each reduced to figures a person can read.
import type { Netns } from "../io/netns.ts";
import { agentArgv, LAB } from "./topology.ts";

export interface CheckResult {
  readonly name: string;
  /** null: skipped (e.g. a part that is not built yet). */
  readonly ok: boolean | null;
  readonly detail: string;
}

export interface PingResult {
  readonly sent: number;
  readonly received: number;
  readonly avgMs: number | null;
  readonly output: string;
}

/** Summary lines of iputils ping. */
export function parsePing(out: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(out);
  return {
    sent: m ? Number(m[1]) : 0,
    received: m ? Number(m[2]) : 0,
    avgMs: rtt ? Number(rtt[1]) : null,
    output: out,
  };
}

export async function ping(
  ns: Netns,
  dst: string,
  o: { count?: number; size?: number; src?: string; df?: boolean; intervalS?: number } = {},
): Promise<PingResult> {
  const args = ["ping", dst.includes(":") ? "-6" : "-4", "-n", "-c", String(o.count ?? 3)];
  args.push("-i", String(o.intervalS ?? 0.2), "-W", "1");
  if (o.size !== undefined) args.push("-s", String(o.size));
  if (o.src) args.push("-I", o.src);
  if (o.df) args.push("-M", "do");
  args.push(dst);
  const r = await ns.exec(args, { timeoutMs: 20_000 });
  return parsePing(r.stdout + r.stderr);
}

export async function pingCheck(
  name: string,
  ns: Netns,
  dst: string,
  o: { count?: number; src?: string } = {},
): Promise<CheckResult> {
  const p = await ping(ns, dst, o);
  const ok = p.sent > 0 && p.received === p.sent;
  const rtt = p.avgMs !== null ? `, avg ${p.avgMs.toFixed(3)} ms` : "";
  return { name, ok, detail: `${p.received}/${p.sent} replies${rtt}` };
}

export async function httpCheck(ns: Netns, url: string, size: number): Promise<CheckResult> {
  const r = await ns.exec([
    "curl",
    "-sS",
    "-o",
    "/dev/null",
    "-m",
    "10",
    "-w",
    "%{http_code} %{size_download} %{time_total} %{speed_download}",
    `${url}?size=${size}`,
  ], { timeoutMs: 15_000 });
  const [code, bytes, secs, speed] = r.stdout.trim().split(" ");
  const ok = r.code === 0 && code === "200" && Number(bytes) === size;
  const detail = ok
    ? `HTTP ${code}, ${bytes} bytes in ${(Number(secs) * 1000).toFixed(1)} ms (${
      (Number(speed) * 8 / 1e6).toFixed(0)
    } Mbit/s)`
    : `curl exit ${r.code}: ${(r.stderr || r.stdout).trim()}`;
  return { name: `curl ${url}`, ok, detail };
}

export interface UdpResult {
  readonly sent: number;
  readonly received: number;
  readonly rttMs: readonly number[];
}

/** UDP datagrams of `size` bytes to the echo agent at host:port, one at a time. */
export async function udpAsk(
  ns: Netns,
  host: string,
  port: number,
  size: number,
  count: number,
): Promise<UdpResult> {
  const r = await ns.exec(
    agentArgv(["udp-ask", host, String(port), String(size), String(count)]),
    { timeoutMs: 30_000 },
  );
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as UdpResult;
  } catch {
    return { sent: count, received: 0, rttMs: [] };
  }
}

export async function udpCheck(
  name: string,
  ns: Netns,
  host: string,
  size: number,
  count = 3,
): Promise<CheckResult> {
  const u = await udpAsk(ns, host, LAB.udpPort, size, count);
  const avg = u.rttMs.length ? u.rttMs.reduce((a, b) => a + b, 0) / u.rttMs.length : 0;
  return {
    name,
    ok: u.received === u.sent && u.sent > 0,
    detail: `${u.received}/${u.sent} echoes of ${size} bytes${
      u.rttMs.length ? `, avg ${avg.toFixed(2)} ms` : ""
    }`,
  };
}

/** Hop addresses ("*" for no answer) of `traceroute -n -q 1`. */
export function parseTraceroute(out: string): string[] {
  const hops: string[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)/.exec(line);
    if (m) hops[Number(m[1]) - 1] = m[2];
  }
  return hops;
}

export async function traceroute(ns: Netns, dst: string, maxHops = 8): Promise<string[]> {
  const r = await ns.exec([
    "traceroute",
    dst.includes(":") ? "-6" : "-4",
    "-n",
    "-q",
    "1",
    "-w",
    "1",
    "-N",
    "1",
    "-m",
    String(maxHops),
    dst,
  ], { timeoutMs: 30_000 });
  return parseTraceroute(r.stdout);
}

export async function dnsCheck(ns: Netns, server: string, name: string, want: string) {
  const r = await ns.exec(
    ["dig", `@${server}`, "AAAA", name, "+short", "+time=2", "+tries=1"],
    { timeoutMs: 10_000 },
  );
  const got = r.stdout.trim().split("\n").filter(Boolean);
  const ok = r.code === 0 && got.includes(want);
  return {
    name: `DNS64: dig AAAA ${name} @${server}`,
    ok,
    detail: ok
      ? `synthesized ${want} (dig took ${r.ms.toFixed(0)} ms)`
      : `got ${got.join(", ") || "nothing"} (dig exit ${r.code})`,
  } satisfies CheckResult;
}
