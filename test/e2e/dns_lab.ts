// A throwaway DNS lab on loopback for e2e tests and benchmarks: NSD authoritative for a
// test zone, Unbound recursing to it (optionally with its dns64 module), each in the
// foreground with its own config in a temp dir. `close()` stops exactly what it started.

export const ZONE = "xl64.example.";

/** Test zone: A-only, AAAA-only, dual-stack, CNAME chains, RFC 1918 A, ::ffff AAAA, ... */
export function zoneText(): string {
  const big = Array.from({ length: 40 }, (_, i) => `big A 192.0.2.${100 + i}`).join("\n");
  return `$ORIGIN ${ZONE}
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 120
@ NS ns
ns A 127.0.0.1
v4only A 192.0.2.1
v6only AAAA 2001:db8::6
dual A 192.0.2.2
dual AAAA 2001:db8::2
alias CNAME mid
mid CNAME v4only
outalias CNAME v6only
priv A 10.0.0.1
mixed A 10.0.0.2
mixed A 198.51.100.7
mapped A 192.0.2.9
mapped AAAA ::ffff:192.0.2.9
txtonly TXT "hello"
shortttl 30 A 192.0.2.30
${big}
`;
}

const REVERSE_ZONE = `$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@ IN SOA ns.${ZONE} hostmaster.${ZONE} 1 3600 600 86400 120
@ NS ns.${ZONE}
1 PTR v4only.${ZONE}
`;

export const have = (bin: string): boolean => {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${bin}`], stdout: "null" })
      .outputSync()
      .success;
  } catch {
    return false;
  }
};

/** A port free for both TCP and UDP on 127.0.0.1 right now (the kernel picks it). */
export function freePort(): number {
  for (;;) {
    const t = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (t.addr as Deno.NetAddr).port;
    try {
      Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // UDP side taken: try another.
    } finally {
      t.close();
    }
  }
}

export interface Lab {
  dir: string;
  nsdPort: number;
  unboundPort: number;
  /** Unbound with dns64 (if asked for), same upstream. */
  unbound64Port: number | null;
  close(): Promise<void>;
}

async function waitUdp(port: number, name: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await new Deno.Command("dig", {
      args: ["@127.0.0.1", "-p", String(port), name, "SOA", "+time=1", "+tries=1", "+short"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (r.success && new TextDecoder().decode(r.stdout).trim() !== "") return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`DNS server on port ${port} did not come up`);
}

function unboundConf(
  dir: string,
  port: number,
  nsdPort: number,
  dns64: boolean,
  cpu?: string,
): string {
  return `server:
  interface: 127.0.0.1
  port: ${port}
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound-${port}.pid"
  use-syslog: no
  do-daemonize: no
  do-not-query-localhost: no
  num-threads: 1
  verbosity: 0
  module-config: "${dns64 ? "dns64 " : ""}iterator"
  ${dns64 ? "dns64-prefix: 64:ff9b::/96\n  dns64-synthall: no" : ""}
  local-zone: "2.0.192.in-addr.arpa." nodefault
  local-zone: "example." nodefault
  access-control: 127.0.0.0/8 allow
  msg-cache-size: 32m
  rrset-cache-size: 32m
stub-zone:
  name: "${ZONE}"
  stub-addr: 127.0.0.1@${nsdPort}
stub-zone:
  name: "2.0.192.in-addr.arpa."
  stub-addr: 127.0.0.1@${nsdPort}
remote-control:
  control-enable: no
${cpu ?? ""}`;
}

export async function startLab(
  opts: { dns64Unbound?: boolean; taskset?: string } = {},
): Promise<Lab> {
  const dir = await Deno.makeTempDir({ prefix: "xlat64-dns-" });
  const nsdPort = freePort();
  const unboundPort = freePort();
  const unbound64Port = opts.dns64Unbound ? freePort() : null;
  await Deno.writeTextFile(`${dir}/zone`, zoneText());
  await Deno.writeTextFile(`${dir}/rev`, REVERSE_ZONE);
  await Deno.writeTextFile(
    `${dir}/nsd.conf`,
    `server:
  ip-address: 127.0.0.1
  port: ${nsdPort}
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  database: ""
  xfrdfile: "${dir}/xfrd.state"
  zonelistfile: "${dir}/zone.list"
  server-count: 1
  rrl-ratelimit: 0
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: "${ZONE}"
  zonefile: "zone"
zone:
  name: "2.0.192.in-addr.arpa."
  zonefile: "rev"
`,
  );
  await Deno.writeTextFile(`${dir}/unbound.conf`, unboundConf(dir, unboundPort, nsdPort, false));
  if (unbound64Port) {
    await Deno.writeTextFile(
      `${dir}/unbound64.conf`,
      unboundConf(dir, unbound64Port, nsdPort, true),
    );
  }
  const procs: Deno.ChildProcess[] = [];
  const spawn = (cmd: string, args: string[]) => {
    const full = opts.taskset
      ? ["taskset", ["-c", opts.taskset, cmd, ...args]] as const
      : [cmd, args] as const;
    procs.push(
      new Deno.Command(full[0], { args: [...full[1]], stdout: "null", stderr: "null" }).spawn(),
    );
  };
  const close = async () => {
    for (const p of procs) {
      try {
        p.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await Promise.allSettled(procs.map((p) => p.status));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    spawn("nsd", ["-d", "-c", `${dir}/nsd.conf`]);
    spawn("unbound", ["-d", "-c", `${dir}/unbound.conf`]);
    if (unbound64Port) spawn("unbound", ["-d", "-c", `${dir}/unbound64.conf`]);
    await waitUdp(nsdPort, ZONE);
    await waitUdp(unboundPort, ZONE);
    if (unbound64Port) await waitUdp(unbound64Port, ZONE);
  } catch (e) {
    await close();
    throw e;
  }
  return { dir, nsdPort, unboundPort, unbound64Port, close };
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[][];
  authority: string[][];
  raw: string;
}

/** Run dig and parse the sections it prints (no +short: we need status and flags). */
export async function dig(port: number, args: string[]): Promise<DigResult> {
  const r = await new Deno.Command("dig", {
    args: ["@127.0.0.1", "-p", String(port), "+time=3", "+tries=1", "+nocmd", "+nostats", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const raw = new TextDecoder().decode(r.stdout);
  const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? "NONE";
  const flags = (/flags: ([a-z ]+);/.exec(raw)?.[1] ?? "").trim().split(/\s+/);
  const section = (name: string) => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(\\n\\n|$)`).exec(raw);
    if (!m) return [];
    return m[1].split("\n").filter((l) => l && !l.startsWith(";")).map((l) => l.split(/\s+/));
  };
  return { status, flags, answer: section("ANSWER"), authority: section("AUTHORITY"), raw };
}
