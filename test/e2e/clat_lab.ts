// 464XLAT in namespaces: an IPv4-only client, a CLAT host, an IPv6-only link, a PLAT
// (xlat64 NAT64 or TAYGA) and an IPv4-only server, with real tools to drive traffic.
//
//   cli (192.168.77.2) -- clat (xlat64 clat) -- 2001:db8:1::/64 -- plat -- srv (198.51.100.2)
import assert from "node:assert/strict";
import type { Background, NetLab, Netns } from "../../src/io/netns.ts";

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
export const SERVER = "198.51.100.2";
export const PLAT_PREFIX = "2001:db8:64::/96";
export const TP = "2001:db8:c1a7::/64";
export const CLAT6 = "2001:db8:1::c1a7";

export type ClatVariant = "dedicated" | "single";

export interface Lab464 {
  readonly cli: Netns;
  readonly clat: Netns;
  readonly plat: Netns;
  readonly srv: Netns;
  readonly dir: string;
  clatApp?: Background;
  platApp?: Background;
}

export async function waitFor(
  what: string,
  f: () => boolean | Promise<boolean>,
  ms = 15_000,
  bg?: Background,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    if (bg?.exited) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${ms} ms${bg ? `\n${bg.output()}` : ""}`);
}

/** The four namespaces, links and routes; no translator runs yet. */
export async function build464(lab: NetLab): Promise<Lab464> {
  const [cli, clat, plat, srv] = [
    await lab.netns("cli"),
    await lab.netns("clat"),
    await lab.netns("plat"),
    await lab.netns("srv"),
  ];
  await lab.veth(cli, "c0", clat, "l0");
  await lab.veth(clat, "w0", plat, "w1");
  await lab.veth(plat, "s1", srv, "s0");
  await cli.addr("c0", "192.168.77.2/24");
  await clat.addr("l0", "192.168.77.1/24");
  await cli.route("0.0.0.0/0", { via: "192.168.77.1" });
  await clat.addr("w0", "2001:db8:1::2/64");
  await plat.addr("w1", "2001:db8:1::1/64");
  await clat.route("::/0", { via: "2001:db8:1::1" });
  // The dedicated /64 is routed to the CLAT host (as DHCPv6-PD would).
  await plat.route(TP, { via: "2001:db8:1::2" });
  await plat.addr("s1", "198.51.100.1/24");
  await srv.addr("s0", `${SERVER}/24`);
  await srv.route("0.0.0.0/0", { via: "198.51.100.1" });
  return { cli, clat, plat, srv, dir: await Deno.makeTempDir({ prefix: "xlat64-464-" }) };
}

export function clatConfig(
  v: ClatVariant,
  o: { plat?: string; dns?: string; extra?: string } = {},
): string {
  const side = v === "dedicated"
    ? `translation-prefix = "${TP}"\nlan = ["192.168.77.0/24"]`
    : `ipv6-address = "${CLAT6}"`;
  return `mode = "clat"
[tun]
name = "cl0"
workers = 1
[translator]
wkp-strict = false
[clat]
${side}
plat-prefix = "${o.plat ?? PLAT_PREFIX}"
[dns]
${o.dns ?? "listen = []"}
[status]
listen = "127.0.0.1:18064"
${o.extra ?? ""}`;
}

export function nat64Config(
  o: { pool6?: string; dns?: string; extra?: string } = {},
): string {
  return `mode = "nat64"
[tun]
name = "pl0"
workers = 1
[translator]
pool6 = "${o.pool6 ?? PLAT_PREFIX}"
[[nat64.pool4]]
prefix = "192.0.2.1/32"
ports = "61001-65535"
protocols = ["tcp", "udp", "icmp"]
[dns]
${o.dns ?? "listen = []"}
[status]
listen = "127.0.0.1:18065"
${o.extra ?? ""}`;
}

const healthy = (ns: Netns, port: number) => async () =>
  (await ns.exec(["curl", "-sf", `http://127.0.0.1:${port}/healthz`])).code === 0;

export async function status(ns: Netns, port = 18064): Promise<Record<string, unknown>> {
  return JSON.parse(await ns.run(["curl", "-sf", `http://127.0.0.1:${port}/status`]));
}

/** Starts xlat64 with `config` in `ns` and waits until it is healthy. */
export async function startXlat64(
  l: Lab464,
  ns: Netns,
  name: string,
  config: string,
  port: number,
): Promise<Background> {
  const path = `${l.dir}/${name}.toml`;
  await Deno.writeTextFile(path, config);
  const bg = ns.spawn([Deno.execPath(), "run", "-A", MAIN, "run", "--config", path]);
  await waitFor(`${name} healthy`, healthy(ns, port), 20_000, bg);
  return bg;
}

/** The server's UDP echo on 7007: answers each datagram reversed. */
export function startUdpEcho(l: Lab464): void {
  l.srv.spawn([
    "python3",
    "-c",
    "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n" +
    `s.bind(("${SERVER}",7007))\nwhile True:\n  d,a=s.recvfrom(65535)\n  s.sendto(d[::-1],a)\n`,
  ]);
}

/** The server side: HTTP on 8080 (small page and a 4 MB file) and a UDP echo on 7007. */
export async function startServers(l: Lab464): Promise<{ sha: string }> {
  const www = `${l.dir}/www`;
  await Deno.mkdir(www);
  await Deno.writeTextFile(`${www}/hello.txt`, "hello over 464XLAT\n");
  const big = new Uint8Array(4 << 20);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  await Deno.writeFile(`${www}/big.bin`, big);
  const sha = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", big)));
  l.srv.spawn(["python3", "-m", "http.server", "-b", SERVER, "8080"], { cwd: www });
  startUdpEcho(l);
  await waitFor(
    "HTTP server",
    async () => (await l.srv.exec(["curl", "-sf", `http://${SERVER}:8080/hello.txt`])).code === 0,
  );
  return { sha };
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** A UDP round trip from `ns`: sends `msg`, expects it reversed. */
export async function udpEcho(ns: Netns, dst: string, msg: string): Promise<string> {
  const r = await ns.exec([
    "python3",
    "-c",
    "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.settimeout(2)\n" +
    "for i in range(3):\n  s.sendto(sys.argv[2].encode(),(sys.argv[1],7007))\n" +
    "  try:\n    print(s.recv(65535).decode());break\n  except socket.timeout:\n    pass\n",
    dst,
    msg,
  ], { timeoutMs: 10_000 });
  return r.stdout.trim();
}

/** ping, curl to an IPv4 literal, UDP, and a 4 MB TCP transfer from the IPv4-only client. */
export async function checkIpv4Reach(l: Lab464, sha: string): Promise<void> {
  const ping = await l.cli.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", SERVER], {
    timeoutMs: 10_000,
  });
  assert.equal(ping.code, 0, `ping ${SERVER}:\n${ping.stdout}${ping.stderr}`);
  const page = await l.cli.exec(["curl", "-sS", "-m", "10", `http://${SERVER}:8080/hello.txt`]);
  assert.equal(page.stdout, "hello over 464XLAT\n", page.stderr);
  assert.equal(await udpEcho(l.cli, SERVER, "udp-464xlat"), "talx464-pdu");
  const got = await l.cli.exec([
    "sh",
    "-c",
    `curl -sS -m 30 http://${SERVER}:8080/big.bin | sha256sum`,
  ], { timeoutMs: 40_000 });
  assert.equal(got.stdout.split(" ")[0], sha, `4 MB transfer: ${got.stderr}`);
}
