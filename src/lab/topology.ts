// The lab network: an IPv6-only client, the translator, an IPv4-only server, each in its
// own namespace, with xlat64 (`main.ts run`) in the middle. Shared by `xlat64 lab` and the
// end-to-end tests.
//
//   client (IPv6 only)            xlat (xlat64 + TUN "xlat64")            server (IPv4 only)
//   eth0 2001:db8:a::2/64 ── eth0 2001:db8:a::1/64   eth1 192.0.2.1/24 ── eth0 192.0.2.2/24
//
// SIIT: the server is 2001:db8:64::c000:202 to the client (pool6 2001:db8:64::/96, RFC 6052);
// the client is 198.51.100.2 to the server, by an EAM entry (RFC 7757) or, in the "pool6"
// variant, because it also holds 2001:db8:64::c633:6402 (pool6 + 198.51.100.2).
import { type Background, NetLab, type Netns } from "../io/netns.ts";

export const LAB = {
  pool6: "2001:db8:64::/96",
  client6: "2001:db8:a::2",
  xlat6: "2001:db8:a::1",
  /** The client's IPv4 representation (EAM, or embedded in its pool6 address). */
  client4: "198.51.100.2",
  client4Net: "198.51.100.0/24",
  /** The client's address under pool6 (pool6 variant). */
  clientPool6: "2001:db8:64::c633:6402",
  server4: "192.0.2.2",
  xlat4: "192.0.2.1",
  /** The server as the client sees it: pool6 + 192.0.2.2. */
  server6: "2001:db8:64::c000:202",
  /** 192.0.2.1 (the translator box's IPv4 router) as the client sees it. */
  xlat4As6: "2001:db8:64::c000:201",
  /** RFC 6791 source for ICMP errors from IPv6 routers that have no IPv4 form. */
  rfc6791v4: "192.0.0.8",
  tun: "xlat64",
  httpPort: 8080,
  udpPort: 7007,
  statusListen: "127.0.0.1:8064",
  statusUrl: "http://127.0.0.1:8064",
} as const;

export type Variant = "eam" | "pool6";
export type LabMode = "siit" | "nat64";

export interface TopologyOptions {
  /** Translator mode. Default "siit". */
  readonly mode?: LabMode;
  /** How the client gets an IPv4 representation. Default "eam". */
  readonly variant?: Variant;
  /** MTU of the client-side link (default 1500). */
  readonly mtu6?: number;
  /** MTU of the server-side link (default 1500). */
  readonly mtu4?: number;
  /** Start the HTTP, UDP echo and DNS agents. Default true. */
  readonly agents?: boolean;
  /** TOML appended to the generated config. */
  readonly extraToml?: string;
  /** nat64 mode: replaces the generated [[nat64.pool4]]/[[nat64.bib]] entries. */
  readonly nat64Toml?: string;
  /** Log level of the appliance. Default "warning". */
  readonly logLevel?: string;
  /** Namespace name tag. */
  readonly tag?: string;
  /** The translator's command line for a config file (default: `xlat64 run --config`). */
  readonly command?: (configPath: string) => string[];
}

const here = (p: string) => new URL(p, import.meta.url);

/** Where main.ts is, when running from source; null in a compiled binary. */
export function mainModule(): string | null {
  const u = here("../../main.ts");
  if (u.protocol !== "file:") return null;
  try {
    Deno.statSync(u);
    return u.pathname;
  } catch {
    return null;
  }
}

/** `deno run` with the project's deno.json (import map) whatever the working directory. */
export function denoRun(): string[] {
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--unstable-net",
    "--config",
    here("../../deno.json").pathname,
  ];
}

/** argv that runs the xlat64 CLI with `args`. */
export function xlat64Argv(args: readonly string[]): string[] {
  const main = mainModule();
  return main ? [...denoRun(), main, ...args] : [Deno.execPath(), ...args];
}

export function agentArgv(args: readonly string[]): string[] {
  return [...denoRun(), here("./agent.ts").pathname, ...args];
}

export function labConfig(o: TopologyOptions = {}): string {
  const mode = o.mode ?? "siit";
  const variant = o.variant ?? "eam";
  let modeToml: string;
  if (mode === "nat64" && o.nat64Toml !== undefined) {
    modeToml = o.nat64Toml;
  } else if (mode === "nat64") {
    // RFC 6146: the client shares 198.51.100.2; UDP 7007 is mapped statically so the
    // IPv4 server can reach the client's echo (IPv4-initiated traffic needs a BIB entry).
    modeToml = `[[nat64.pool4]]
prefix = "${LAB.client4}/32"
ports = "61001-65535"
protocols = ["tcp", "udp", "icmp"]
[[nat64.bib]]
protocol = "udp"
ipv4 = "${LAB.client4}#${LAB.udpPort}"
ipv6 = "${LAB.client6}#${LAB.udpPort}"
`;
  } else {
    modeToml = variant === "eam"
      ? `[[translator.eam]]\nipv4 = "${LAB.client4}/32"\nipv6 = "${LAB.client6}/128"\n`
      : "";
  }
  return `# xlat64 lab (${mode === "nat64" ? "nat64" : `siit, ${variant}`})
mode = "${mode}"

[tun]
name = "${LAB.tun}"
workers = 1
manage = true                  # xlat64 routes pool6 and the IPv4 side into its TUN

[translator]
pool6 = "${LAB.pool6}"
wkp-strict = false
${mode === "siit" ? modeToml : ""}
${mode === "nat64" ? modeToml : ""}
[dns]
listen = ["[${LAB.xlat6}]:53"]
upstream = ["${LAB.server4}"]
allow = ["2001:db8:a::/64", "::1/128"]

[status]
listen = "${LAB.statusListen}"

[log]
level = "${o.logLevel ?? "warning"}"
${o.extraToml ?? ""}`;
}

/** Whether this build has a data-path engine for `mode` (NAT64 lands after SIIT). */
export async function engineAvailable(mode: LabMode): Promise<boolean> {
  try {
    const [{ createEngine }, { parseConfig, toXlatOptions }, { Stats }] = await Promise.all([
      import("../io/engines.ts"),
      import("../config/mod.ts"),
      import("../xlat/stats.ts"),
    ]);
    const cfg = parseConfig(labConfig({ mode }), "lab.toml");
    // src/nat64/options.ts (when built) knows the options every mode's engine takes.
    const nat64Options = new URL("../nat64/options.ts", import.meta.url).href;
    const engineOptions = await import(nat64Options)
      .then((m: { engineOptions?: (c: typeof cfg) => unknown }) => m.engineOptions)
      .catch(() => undefined);
    const options = engineOptions ? engineOptions(cfg) : toXlatOptions(cfg);
    createEngine(mode, options as ReturnType<typeof toXlatOptions>, new Stats());
    return true;
  } catch {
    return false;
  }
}

export class LabTopology {
  readonly lab: NetLab;
  client!: Netns;
  xlat!: Netns;
  server!: Netns;
  appliance: Background | null = null;
  configPath = "";
  readonly agents: Background[] = [];

  constructor(readonly opts: TopologyOptions = {}) {
    this.lab = new NetLab(opts.tag ?? "x64lab");
  }

  get mode(): LabMode {
    return this.opts.mode ?? "siit";
  }
  get variant(): Variant {
    return this.opts.mode === "nat64" ? "eam" : this.opts.variant ?? "eam";
  }
  /** The client's source address for translated traffic. */
  get clientSrc6(): string {
    return this.variant === "eam" ? LAB.client6 : LAB.clientPool6;
  }

  /** Namespaces, links, addresses, routes (everything but the appliance's TUN). */
  async build(): Promise<void> {
    const { lab } = this;
    this.client = await lab.netns("cli");
    this.xlat = await lab.netns("xlt");
    this.server = await lab.netns("srv");
    await lab.veth(this.client, "eth0", this.xlat, "eth0", { mtu: this.opts.mtu6 });
    await lab.veth(this.xlat, "eth1", this.server, "eth0", { mtu: this.opts.mtu4 });
    await this.xlat.router();
    // Kernel ICMP error rate limits (per destination, 1/s; a new destination starts with no
    // tokens on recent kernels) would make traceroute and PMTU checks flaky.
    for (const ns of [this.client, this.xlat, this.server]) {
      await ns.sysctl("net.ipv4.icmp_ratelimit", 0);
      await ns.sysctl("net.ipv6.icmp.ratelimit", 0);
    }
    // No link-local address on the TUN: its router solicitations and MLD reports would be
    // counted as untranslatable packets and blur the exact counts the e2e tests check.
    await this.xlat.sysctl("net.ipv6.conf.default.addr_gen_mode", 1);
    // The TUN still joins ff02::2 (forwarding on) and reports it; repeat that at once.
    await this.xlat.sysctl("net.ipv6.conf.default.mldv2_unsolicited_report_interval", 10);

    // IPv6-only client: no IPv4 at all besides loopback.
    await this.client.addr("eth0", `${LAB.client6}/64`);
    if (this.variant === "pool6") await this.client.addr("eth0", `${LAB.clientPool6}/128`);
    await this.client.route("default", { via: LAB.xlat6 });

    await this.xlat.addr("eth0", `${LAB.xlat6}/64`);
    await this.xlat.addr("eth1", `${LAB.xlat4}/24`);
    if (this.variant === "pool6") {
      await this.xlat.route(`${LAB.clientPool6}/128`, { via: LAB.client6 });
    }

    // IPv4-only server.
    await this.server.sysctl("net.ipv6.conf.all.disable_ipv6", 1);
    await this.server.addr("eth0", `${LAB.server4}/24`);
    await this.server.route("default", { via: LAB.xlat4 });

    if (this.opts.agents ?? true) await this.startAgents();
  }

  async startAgents(): Promise<void> {
    const start = async (ns: Netns, args: string[]) => {
      const bg = ns.spawn(agentArgv(args));
      this.agents.push(bg);
      await waitFor(() => bg.output().includes("ready") || bg.exited, 15_000);
      if (!bg.output().includes("ready")) {
        throw new Error(`agent ${args[0]} did not start: ${bg.output().trim()}`);
      }
    };
    await Promise.all([
      start(this.server, ["http", "0.0.0.0", String(LAB.httpPort)]),
      start(this.server, ["udp-echo", "0.0.0.0", String(LAB.udpPort)]),
      start(this.server, ["dns", "0.0.0.0", "53", LAB.server4]),
      start(this.client, ["udp-echo", "::", String(LAB.udpPort)]),
    ]);
  }

  /** Writes the config, starts `xlat64 run` in the xlat namespace, routes to its TUN. */
  async startAppliance(): Promise<void> {
    this.configPath = await Deno.makeTempFile({ prefix: "xlat64-lab-", suffix: ".toml" });
    const path = this.configPath;
    this.lab.atCleanup(() => Deno.remove(path));
    await Deno.writeTextFile(this.configPath, labConfig(this.opts));
    const argv = this.opts.command?.(this.configPath) ??
      xlat64Argv(["run", "--config", this.configPath]);
    this.appliance = this.xlat.spawn(argv);
    const app = this.appliance;
    await Promise.race([
      this.xlat.waitLink(LAB.tun, 30_000),
      app.done.then(() => {
        throw new Error(`xlat64 exited at start:\n${app.output().trim()}`);
      }),
    ]);
    const healthy = await waitFor(async () => {
      if (app.exited) return true;
      const r = await this.xlat.exec(["curl", "-sf", "-m", "1", `${LAB.statusUrl}/healthz`]);
      return r.code === 0;
    }, 30_000);
    if (app.exited || !healthy) {
      throw new Error(`xlat64 did not become healthy:\n${app.output().trim()}`);
    }
    // xlat64 adds these itself ([tun] manage); pool6-only SIIT cannot know where IPv6
    // hosts' IPv4 forms live, so the lab routes 198.51.100.0/24 for the pool6 variant.
    await this.xlat.up(LAB.tun);
    await this.ensureRoute(LAB.pool6);
    await this.ensureRoute(this.variant === "eam" ? `${LAB.client4}/32` : LAB.client4Net);
  }

  async ensureRoute(prefix: string): Promise<void> {
    const fam = prefix.includes(":") ? "-6" : "-4";
    const have = await this.xlat.run(["ip", fam, "route", "show", prefix, "dev", LAB.tun]);
    if (!have.trim()) await this.xlat.route(prefix, { dev: LAB.tun });
  }

  /** GET a status path from inside the translator namespace (the endpoint is on its loopback). */
  async statusGet(path: string): Promise<string> {
    return await this.xlat.run(["curl", "-sS", "-m", "5", `${LAB.statusUrl}${path}`]);
  }

  /** Parsed /metrics: "name{labels}" -> value. */
  async metrics(): Promise<Map<string, number>> {
    return parseExposition(await this.statusGet("/metrics"));
  }

  /** Waits until the translator's input counters stay unchanged for `quietMs`. */
  async quiet(quietMs = 300, timeoutMs = 5000): Promise<void> {
    const seen = async () => {
      const m = await this.metrics();
      return [...m].filter(([k]) => k.startsWith("xlat64_packets_total")).map(([, v]) => v)
        .join();
    };
    let last = await seen();
    let since = Date.now();
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      const now = await seen();
      if (now !== last) [last, since] = [now, Date.now()];
      else if (Date.now() - since >= quietMs) return;
    }
  }

  /** Resident set size of the appliance process in KiB (VmRSS), or null. */
  async applianceRssKiB(): Promise<number | null> {
    if (!this.appliance) return null;
    // `ip netns exec` execs the command, so the child's pid is the deno process.
    try {
      const s = await Deno.readTextFile(`/proc/${this.appliance.pid}/status`);
      const m = /VmRSS:\s+(\d+) kB/.exec(s);
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }

  async cleanup(): Promise<void> {
    await this.lab.cleanup();
  }
}

/** "name{labels} value" lines into a map; HELP/TYPE comments skipped. */
export function parseExposition(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 50,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return await cond();
}
