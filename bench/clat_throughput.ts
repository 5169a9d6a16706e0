// CLAT throughput side by side (a load script, not a test): TAYGA 0.9.2 as a CLAT
// (stateless, one map entry for the client) against xlat64's CLAT in both variants.
//
//   cl (IPv4-only client 192.168.77.2) -- rt (the CLAT) -- sv (the PLAT side)
//
// sv stands in for the PLAT and the IPv4 server behind it: it holds the server's address
// under the PLAT prefix (2001:db8:64::198.51.100.2) natively, so only the CLAT translates.
// Columns: UDP packets/s delivered at 64-byte payloads (iperf3 -u, unpaced), TCP goodput
// (iperf3), and the CLAT's CPU time per delivered UDP packet (/proc/PID/stat). The CLAT
// is pinned to CPU 0, traffic to CPU 1.
//
//   sudo deno run -A bench/clat_throughput.ts [--seconds 3] [--only tayga,dedicated,single]
//
// Needs root, tayga, iperf3, taskset, iproute2. Shared machines: run it rarely.
import { NetLab, type Netns } from "../src/io/netns.ts";

const args = Deno.args;
const opt = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : d;
};
const SECONDS = Number(opt("seconds", "3"));
const ONLY = opt("only", "tayga,dedicated,single").split(",");
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const HZ = 100;
const PLAT = "2001:db8:64::/96";
const TP = "2001:db8:c1a7::/64";
const SERVER4 = "198.51.100.2";
const SERVER6 = "2001:db8:64::c633:6402";
const CLIENT4 = "192.168.77.2";
const CLIENT6 = "2001:db8:c1a7::c0a8:4d02"; // CLIENT4 in the low 32 bits of TP
const TUN = "clat0";
const PIN = (cpu: string) => ["nice", "-n", "-15", "taskset", "-c", cpu];

interface IperfJson {
  error?: string;
  end?: {
    sum?: { packets: number; lost_packets: number; seconds: number };
    sum_received?: { bits_per_second: number };
  };
}

interface Row {
  name: string;
  pps?: number;
  tcpGbps?: number;
  cpuUs?: number;
  note?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  // utime + stime of the whole process: its threads (the data-path worker) included.
  return Number(f[11]) + Number(f[12]);
}

async function topology(lab: NetLab): Promise<{ cl: Netns; rt: Netns; sv: Netns }> {
  const cl = await lab.netns("cl"), rt = await lab.netns("rt"), sv = await lab.netns("sv");
  await lab.veth(cl, "c0", rt, "r0");
  await lab.veth(rt, "r1", sv, "s0");
  await rt.router();
  await cl.addr("c0", `${CLIENT4}/24`);
  await rt.addr("r0", "192.168.77.1/24");
  await cl.route("0.0.0.0/0", { via: "192.168.77.1" });
  await rt.addr("r1", "2001:db8:64::1/96");
  await sv.addr("s0", `${SERVER6}/96`);
  await sv.route(TP, { via: "2001:db8:64::1" });
  return { cl, rt, sv };
}

async function measure(
  t: { cl: Netns; sv: Netns },
  name: string,
  pid: number,
): Promise<Row> {
  let ok = false;
  for (let i = 0; i < 20 && !ok; i++) {
    ok = (await t.cl.exec(["ping", "-c", "1", "-W", "1", SERVER4])).code === 0;
    if (!ok) await sleep(250);
  }
  if (!ok) return { name, note: "no path" };
  const iperf = async (extra: string[]) => {
    const srv = t.sv.spawn([...PIN("1"), "iperf3", "-s", "-1", "-p", "5201"]);
    await sleep(400);
    const c0 = cpuTicks(pid);
    const r = await t.cl.exec([
      ...PIN("1"),
      "iperf3",
      "-c",
      SERVER4,
      "-p",
      "5201",
      "-t",
      `${SECONDS}`,
      "-J",
      ...extra,
    ]);
    const ticks = cpuTicks(pid) - c0;
    await srv.stop(2000).catch(() => {});
    return { j: JSON.parse(r.stdout || "{}") as IperfJson, ticks };
  };
  // iperf3 occasionally fails to start a test on a loaded machine: one retry.
  const twice = async (extra: string[], ok: (j: IperfJson) => boolean) => {
    const a = await iperf(extra).catch(() => null);
    if (a && ok(a.j)) return a;
    await sleep(500);
    return await iperf(extra).catch(() => null);
  };
  const u = await twice(["-u", "-b", "0", "-l", "64"], (j) => j.end?.sum !== undefined);
  const tc = await twice([], (j) => j.end?.sum_received !== undefined);
  const s = u?.j.end?.sum;
  const delivered = s ? s.packets - s.lost_packets : 0;
  return {
    name,
    pps: s ? delivered / s.seconds : undefined,
    tcpGbps: tc?.j.end?.sum_received ? tc.j.end.sum_received.bits_per_second / 1e9 : undefined,
    cpuUs: u && delivered > 0 ? (u.ticks / HZ) * 1e6 / delivered : undefined,
    note: s ? undefined : `iperf3 UDP failed: ${u?.j.error ?? "no result"}`,
  };
}

async function tayga(t: { cl: Netns; rt: Netns; sv: Netns }, dir: string): Promise<Row> {
  const conf = `${dir}/tayga.conf`;
  await Deno.writeTextFile(
    conf,
    `tun-device ${TUN}\nipv4-addr 192.0.0.2\nipv6-addr 2001:db8:c1a7::1\nprefix ${PLAT}\n` +
      `map ${CLIENT4} ${CLIENT6}\ndata-dir ${dir}\n`,
  );
  await t.rt.run(["tayga", "-c", conf, "--mktun"]);
  await t.rt.up(TUN);
  await t.rt.ip("-4", "route", "add", "0.0.0.0/0", "dev", TUN);
  await t.rt.ip("-6", "route", "add", TP, "dev", TUN);
  const bg = t.rt.spawn([...PIN("0"), "tayga", "-c", conf, "-d"]);
  try {
    await sleep(500);
    return await measure(t, "TAYGA (CLAT)", bg.pid);
  } finally {
    await bg.stop();
    await t.rt.ip("link", "del", TUN).catch(() => {});
  }
}

async function xlat64(
  t: { cl: Netns; rt: Netns; sv: Netns },
  dir: string,
  variant: "dedicated" | "single",
): Promise<Row> {
  const side = variant === "dedicated"
    ? `translation-prefix = "${TP}"\nlan = ["192.168.77.0/24"]`
    : `ipv6-address = "2001:db8:c1a7::7"`;
  const path = `${dir}/clat-${variant}.toml`;
  await Deno.writeTextFile(
    path,
    `mode = "clat"\n[tun]\nname = "${TUN}"\nworkers = 1\n[translator]\nwkp-strict = false\n` +
      `[clat]\n${side}\nplat-prefix = "${PLAT}"\n[discovery]\nmethods = ["static"]\n` +
      `[dns]\nlisten = []\n[status]\nlisten = ""\n[log]\nlevel = "warning"\n`,
  );
  const bg = t.rt.spawn([...PIN("0"), Deno.execPath(), "run", "-A", MAIN, "run", "-c", path]);
  try {
    await t.rt.waitLink(TUN, 20_000);
    await sleep(1500);
    return await measure(t, `xlat64 CLAT ${variant}`, bg.pid);
  } finally {
    await bg.stop();
  }
}

const fmt = (n: number | undefined, d = 0) => n === undefined ? "-" : n.toFixed(d);

async function main(): Promise<void> {
  const lab = new NetLab("cbt");
  const dir = await Deno.makeTempDir({ prefix: "xlat64-clat-bench-" });
  const rows: Row[] = [];
  try {
    const t = await topology(lab);
    if (ONLY.includes("tayga")) rows.push(await tayga(t, dir));
    if (ONLY.includes("dedicated")) rows.push(await xlat64(t, dir, "dedicated"));
    if (ONLY.includes("single")) rows.push(await xlat64(t, dir, "single"));
  } finally {
    await lab.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  console.log(`CLAT throughput, ${SECONDS} s per run (iperf3; CLAT on CPU 0, traffic on CPU 1)`);
  console.log(
    `${"".padEnd(26)}${"UDP64 pps".padStart(12)}${"TCP Gb/s".padStart(10)}` +
      `${"CPU µs/pkt".padStart(12)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(26)}${fmt(r.pps).padStart(12)}${fmt(r.tcpGbps, 2).padStart(10)}` +
        `${fmt(r.cpuUs, 2).padStart(12)}${r.note ? `  ${r.note}` : ""}`,
    );
  }
}

if (import.meta.main) await main();
