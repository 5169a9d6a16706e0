// Addresses, routes and forwarding sysctls the appliance needs around its TUN. With
// [tun] manage = true they are added with `ip` and exactly what was added is removed on
// shutdown; with manage = false the routing table is only checked and what is missing is
// logged (as TAYGA leaves it to the operator).
import {
  contains4,
  contains6,
  formatIPv4,
  formatIPv6,
  formatPrefix4,
  formatPrefix6,
  parsePrefix4,
  parsePrefix6,
  type Prefix4,
  type Prefix6,
} from "../addr/ip.ts";
import type { Config } from "../config/types.ts";

export interface RouteSpec {
  readonly family: 4 | 6;
  /** Canonical prefix text, e.g. "64:ff9b::/96", "0.0.0.0/0". */
  readonly prefix: string;
  readonly dev: string;
  /** Why the appliance needs it (for logs). */
  readonly why: string;
  /** Route metric (the CLAT's IPv4 default yields to native IPv4 with a high one). */
  readonly metric?: number;
  /** Route MTU (the CLAT: IPv6 MTU minus the header growth). */
  readonly mtu?: number;
}

/** Proxy Neighbor Discovery for one address (RFC 4861 7.2.8) on an uplink. */
export interface NeighProxySpec {
  readonly address: string;
  readonly dev: string;
  readonly why: string;
}

export interface AddrSpec {
  readonly family: 4 | 6;
  /** Address with prefix length, e.g. "192.0.0.1/32". */
  readonly cidr: string;
  readonly dev: string;
  readonly why: string;
}

export interface NetPlan {
  readonly routes: readonly RouteSpec[];
  readonly addresses: readonly AddrSpec[];
  /** Decisions worth telling the operator (EAM sides left alone and why). */
  readonly notes: readonly string[];
  /** Addresses to answer Neighbor Solicitations for on an uplink (CLAT single address). */
  readonly neighProxies?: readonly NeighProxySpec[];
}

/** A route as `ip -j route show table main` reports it. */
export interface KernelRoute {
  readonly family: 4 | 6;
  readonly dst: string;
  readonly dev?: string;
  readonly gateway?: string;
}

const FORWARDING = [
  { key: "net.ipv4.ip_forward", family: 4 },
  { key: "net.ipv6.conf.all.forwarding", family: 6 },
] as const;

type Parsed = { family: 4; p: Prefix4 } | { family: 6; p: Prefix6 };

function parseRouteDst(r: KernelRoute): Parsed | null {
  if (r.dst === "default") {
    return r.family === 4
      ? { family: 4, p: parsePrefix4("0.0.0.0/0") }
      : { family: 6, p: parsePrefix6("::/0") };
  }
  try {
    if (r.family === 4) {
      return { family: 4, p: parsePrefix4(r.dst.includes("/") ? r.dst : `${r.dst}/32`) };
    }
    return { family: 6, p: parsePrefix6(r.dst.includes("/") ? r.dst : `${r.dst}/128`) };
  } catch {
    return null; // e.g. "multicast ff00::/8" forms we do not need
  }
}

function overlaps4(a: Prefix4, b: Prefix4): boolean {
  return a.len <= b.len ? contains4(a, b.addr) : contains4(b, a.addr);
}
function overlaps6(a: Prefix6, b: Prefix6): boolean {
  return a.len <= b.len ? contains6(a, b.addr) : contains6(b, a.addr);
}

/**
 * Whether hosts in `p` are reached through another interface by a route more specific
 * than a default route (so they are real hosts there, not ones the TUN stands for).
 */
export function routedElsewhere(
  p: Prefix4 | Prefix6,
  family: 4 | 6,
  tun: string,
  existing: readonly KernelRoute[],
): KernelRoute | null {
  for (const r of existing) {
    if (r.family !== family || r.dev === tun || r.dst === "default") continue;
    const d = parseRouteDst(r);
    if (!d || d.p.len === 0) continue;
    const hit = family === 4
      ? overlaps4(d.p as Prefix4, p as Prefix4)
      : overlaps6(d.p as Prefix6, p as Prefix6);
    if (hit) return r;
  }
  return null;
}

const r4 = (p: Prefix4, dev: string, why: string): RouteSpec => ({
  family: 4,
  prefix: formatPrefix4(p),
  dev,
  why,
});
const r6 = (p: Prefix6, dev: string, why: string): RouteSpec => ({
  family: 6,
  prefix: formatPrefix6(p),
  dev,
  why,
});

/**
 * What the TUN needs for `cfg`, given the routes already in the main table.
 *
 * SIIT: pool6 stands for IPv4 hosts, so it goes into the TUN. An EAM entry maps hosts of
 * one family to addresses of the other; which side is real cannot be read from the entry,
 * so the side already routed through another interface (more specific than default) is
 * taken as real and the other side is routed into the TUN. If neither side is, the IPv4
 * side is routed (RFC 7757's usual case: IPv4 addresses for IPv6 servers); if both are,
 * neither. NAT64: pool6 and every pool4 prefix. CLAT: the translation prefix (or the
 * single IPv6 address), the CLAT IPv4 address on the TUN, and an IPv4 default route
 * when there is none.
 */
export function planNetwork(
  cfg: Config,
  tun: string,
  existing: readonly KernelRoute[],
): NetPlan {
  const routes: RouteSpec[] = [];
  const addresses: AddrSpec[] = [];
  const notes: string[] = [];
  const neighProxies: NeighProxySpec[] = [];
  const pool6 = cfg.translator.pool6;
  switch (cfg.mode) {
    case "siit": {
      if (pool6) routes.push(r6(pool6, tun, "pool6 (IPv4 hosts as seen from IPv6)"));
      for (const e of cfg.translator.eam) {
        const entry = `EAM ${formatPrefix4(e.ipv4)} <-> ${formatPrefix6(e.ipv6)}`;
        const real4 = routedElsewhere(e.ipv4, 4, tun, existing);
        const real6 = routedElsewhere(e.ipv6, 6, tun, existing);
        if (real4 && real6) {
          notes.push(
            `${entry}: both sides are routed elsewhere (${real4.dst} dev ${real4.dev}, ` +
              `${real6.dst} dev ${real6.dev}); adding no route for it`,
          );
        } else if (real6 || !real4) {
          routes.push(r4(e.ipv4, tun, `${entry} (IPv6 hosts as seen from IPv4)`));
          if (!real6) {
            notes.push(
              `${entry}: neither side is routed elsewhere; routing the IPv4 side into ` +
                `${tun} (IPv6 hosts behind it), the IPv6 side stays as routed`,
            );
          }
        }
        if (real4 && !real6) {
          routes.push(r6(e.ipv6, tun, `${entry} (IPv4 hosts as seen from IPv6)`));
        }
      }
      break;
    }
    case "nat64": {
      if (pool6) routes.push(r6(pool6, tun, "pool6 (IPv4 hosts as seen from IPv6)"));
      for (const p of cfg.nat64.pool4) routes.push(r4(p.prefix, tun, "NAT64 pool4"));
      break;
    }
    case "clat": {
      const c = cfg.clat;
      addresses.push({
        family: 4,
        cidr: `${formatIPv4(c.ipv4Address)}/32`,
        dev: tun,
        why: "CLAT IPv4 address (RFC 6877)",
      });
      if (c.translationPrefix) {
        routes.push(r6(c.translationPrefix, tun, "CLAT translation prefix (RFC 6877 6.3)"));
      } else if (c.ipv6Address) {
        routes.push({
          family: 6,
          prefix: `${formatIPv6(c.ipv6Address)}/128`,
          dev: tun,
          why: "CLAT IPv6 address",
        });
        // One address out of the uplink's own /64: the router finds it by Neighbor
        // Discovery, so the kernel answers for it there (RFC 8683 4.8).
        const uplink = cfg.discovery.interface ??
          existing.find((r) => r.family === 6 && r.dst === "default" && r.dev !== tun)?.dev;
        if (uplink) {
          neighProxies.push({
            address: formatIPv6(c.ipv6Address),
            dev: uplink,
            why: "CLAT IPv6 address (proxy ND)",
          });
        } else notes.push("no IPv6 uplink known: no proxy ND for the CLAT IPv6 address");
      }
      // Always present, at a metric that lets any native IPv4 default win (RFC 8683 4.8:
      // the CLAT stays out of the way when native IPv4 exists); the route MTU leaves room
      // for the IPv6 and fragment headers (RFC 7915 4, RFC 6877 6.5).
      routes.push({
        ...r4(parsePrefix4("0.0.0.0/0"), tun, "CLAT IPv4 default"),
        metric: c.routeMetric,
        mtu: cfg.translator.ipv6Mtu - 28,
      });
      if (existing.some((r) => r.family === 4 && r.dst === "default" && r.dev !== tun)) {
        notes.push(
          `a native IPv4 default route exists; the CLAT's (metric ${c.routeMetric}) yields to it`,
        );
      }
      break;
    }
    case "none":
      break;
  }
  // One route per prefix (an EAM may repeat pool4, say).
  const seen = new Set<string>();
  const unique = routes.filter((r) => !seen.has(r.prefix) && seen.add(r.prefix));
  return { routes: unique, addresses, notes, neighProxies };
}

/** Routes of `plan` that the main table lacks (exact prefix on the TUN). */
export function missingRoutes(plan: NetPlan, existing: readonly KernelRoute[]): RouteSpec[] {
  return plan.routes.filter((want) =>
    !existing.some((r) => {
      if (r.family !== want.family || r.dev !== want.dev) return false;
      const d = parseRouteDst(r);
      if (!d) return false;
      const text = d.family === 4 ? formatPrefix4(d.p) : formatPrefix6(d.p);
      return text === want.prefix;
    })
  );
}

// ---------------------------------------------------------------- applying with `ip`

/** Runs `ip` (tests substitute a fake). Resolves with exit status and stderr. */
export type IpRunner = (args: readonly string[]) => Promise<{ ok: boolean; stderr: string }>;

export const runIp: IpRunner = async (args) => {
  const r = await new Deno.Command("ip", { args: [...args], stdout: "null", stderr: "piped" })
    .output();
  return { ok: r.success, stderr: new TextDecoder().decode(r.stderr).trim() };
};

export async function readRoutes(): Promise<KernelRoute[]> {
  const out: KernelRoute[] = [];
  for (const family of [4, 6] as const) {
    const r = await new Deno.Command("ip", {
      args: ["-j", `-${family}`, "route", "show", "table", "main"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new Error(`ip route show failed: ${new TextDecoder().decode(r.stderr).trim()}`);
    }
    const text = new TextDecoder().decode(r.stdout).trim();
    const rows = (text ? JSON.parse(text) : []) as {
      dst: string;
      dev?: string;
      gateway?: string;
      type?: string;
    }[];
    for (const row of rows) {
      if (row.type && row.type !== "unicast") continue;
      out.push({ family, dst: row.dst, dev: row.dev, gateway: row.gateway });
    }
  }
  return out;
}

export interface SysctlIo {
  read(key: string): Promise<string>;
  write(key: string, value: string): Promise<void>;
}

// Interface names may contain dots: only the first three and the last separator are levels.
const sysctlPath = (key: string) => {
  const m = /^(net\.ipv[46]\.conf)\.(.+)\.([^.]+)$/.exec(key);
  return m
    ? `/proc/sys/${m[1].replaceAll(".", "/")}/${m[2]}/${m[3]}`
    : `/proc/sys/${key.replaceAll(".", "/")}`;
};
export const procSysctl: SysctlIo = {
  read: async (key) => (await Deno.readTextFile(sysctlPath(key))).trim(),
  write: (key, value) => Deno.writeTextFile(sysctlPath(key), `${value}\n`),
};

export interface NetLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * Applies a plan and remembers exactly what it added, so `teardown` removes only that.
 * Routes or addresses that already existed are left alone (and not removed later).
 */
export class NetConfigurator {
  readonly #routes: RouteSpec[] = [];
  readonly #addresses: AddrSpec[] = [];
  readonly #sysctls: { key: string; old: string }[] = [];
  readonly #proxies: NeighProxySpec[] = [];

  constructor(
    private readonly log: NetLog,
    private readonly ip: IpRunner = runIp,
    private readonly sysctl: SysctlIo = procSysctl,
  ) {}

  /** What this configurator added and still owns. */
  get added(): { routes: readonly RouteSpec[]; addresses: readonly AddrSpec[] } {
    return { routes: [...this.#routes], addresses: [...this.#addresses] };
  }

  /** Turn on IPv4/IPv6 forwarding where it is off (the TUN hands packets to the kernel). */
  async enableForwarding(): Promise<void> {
    for (const { key, family } of FORWARDING) {
      const old = await this.sysctl.read(key);
      if (old === "1") continue;
      await this.sysctl.write(key, "1");
      this.#sysctls.push({ key, old });
      this.log.info(
        `enabled ${key} (was ${old}); it is restored on shutdown` +
          (family === 6
            ? ". Note: with IPv6 forwarding on, interfaces with accept_ra=1 ignore Router " +
              "Advertisements (set accept_ra=2 where the host learns its IPv6 default route)"
            : ""),
      );
    }
  }

  /**
   * No IPv6 link-local address (hence no Router Solicitations or MLD reports) on the TUN:
   * the kernel would otherwise send those into the translator, which can only drop them.
   * Call before the link goes up; restored on teardown.
   */
  async quietTun(dev: string): Promise<void> {
    for (const [leaf, value] of [["addr_gen_mode", "1"], ["router_solicitations", "0"]]) {
      const key = `net.ipv6.conf.${dev}.${leaf}`;
      try {
        const old = await this.sysctl.read(key);
        if (old === value) continue;
        await this.sysctl.write(key, value);
        this.#sysctls.push({ key, old });
      } catch (e) {
        this.log.warn(`could not set ${key} = ${value}: ${(e as Error).message}`);
      }
    }
  }

  /** Log which forwarding sysctls are off (manage = false). */
  async checkForwarding(): Promise<string[]> {
    const off: string[] = [];
    for (const { key } of FORWARDING) {
      if (await this.sysctl.read(key) !== "1") off.push(key);
    }
    for (const key of off) this.log.warn(`${key} is off: translated packets will not be forwarded`);
    return off;
  }

  async addAddress(a: AddrSpec): Promise<void> {
    const args = [`-${a.family}`, "addr", "add", a.cidr, "dev", a.dev];
    if (a.family === 6) args.push("nodad");
    const r = await this.ip(args);
    if (r.ok) {
      this.#addresses.push(a);
      this.log.info(`added address ${a.cidr} dev ${a.dev} (${a.why})`);
    } else if (/File exists/i.test(r.stderr)) {
      this.log.info(`address ${a.cidr} dev ${a.dev} already present; leaving it as is`);
    } else {
      throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
    }
  }

  async addRoute(rt: RouteSpec): Promise<void> {
    const args = [`-${rt.family}`, "route", "add", rt.prefix, "dev", rt.dev];
    if (rt.metric !== undefined) args.push("metric", String(rt.metric));
    if (rt.mtu !== undefined) args.push("mtu", String(rt.mtu));
    const r = await this.ip(args);
    if (r.ok) {
      this.#routes.push(rt);
      this.log.info(`added route ${rt.prefix} dev ${rt.dev} (${rt.why})`);
    } else if (/File exists/i.test(r.stderr)) {
      this.log.warn(
        `route ${rt.prefix} already exists; leaving it as is (${rt.why} needs it on ${rt.dev})`,
      );
    } else {
      throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
    }
  }

  async removeRoute(rt: RouteSpec): Promise<void> {
    const args = [`-${rt.family}`, "route", "del", rt.prefix, "dev", rt.dev];
    if (rt.metric !== undefined) args.push("metric", String(rt.metric));
    const r = await this.ip(args);
    const i = this.#routes.findIndex((x) => x.prefix === rt.prefix && x.dev === rt.dev);
    if (i >= 0) this.#routes.splice(i, 1);
    if (r.ok) this.log.info(`removed route ${rt.prefix} dev ${rt.dev}`);
    else if (!/No such process|Cannot find device/i.test(r.stderr)) {
      this.log.warn(`could not remove route ${rt.prefix} dev ${rt.dev}: ${r.stderr}`);
    }
  }

  /** Add everything in `plan` (addresses first, so routes can use them). */
  async apply(plan: NetPlan): Promise<void> {
    for (const n of plan.notes) this.log.info(n);
    for (const a of plan.addresses) await this.addAddress(a);
    for (const rt of plan.routes) await this.addRoute(rt);
    for (const p of plan.neighProxies ?? []) await this.addNeighProxy(p);
  }

  /** proxy_ndp on the uplink and a proxy entry for the address; both undone on teardown. */
  async addNeighProxy(p: NeighProxySpec): Promise<void> {
    const key = `net.ipv6.conf.${p.dev}.proxy_ndp`;
    const old = await this.sysctl.read(key);
    if (old !== "1") {
      await this.sysctl.write(key, "1");
      this.#sysctls.push({ key, old });
    }
    const args = ["-6", "neigh", "add", "proxy", p.address, "dev", p.dev];
    const r = await this.ip(args);
    if (r.ok) {
      this.#proxies.push(p);
      this.log.info(`proxy ND for ${p.address} on ${p.dev} (${p.why})`);
    } else if (!/File exists/i.test(r.stderr)) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  }

  /**
   * Move to a new plan (config reload): remove our routes it no longer has, add its new
   * ones. Routes we did not create are never touched.
   */
  async update(plan: NetPlan): Promise<void> {
    const key = (r: RouteSpec) => `${r.prefix} ${r.dev}`;
    const want = new Set(plan.routes.map(key));
    const have = new Set(this.#routes.map(key));
    for (const rt of [...this.#routes]) if (!want.has(key(rt))) await this.removeRoute(rt);
    for (const n of plan.notes) this.log.info(n);
    for (const a of plan.addresses) {
      if (!this.#addresses.some((x) => x.cidr === a.cidr && x.dev === a.dev)) {
        await this.addAddress(a);
      }
    }
    for (const rt of plan.routes) if (!have.has(key(rt))) await this.addRoute(rt);
  }

  /** Remove exactly what we added, newest first, and restore the sysctls we changed. */
  async teardown(): Promise<void> {
    for (const p of this.#proxies.splice(0)) {
      await this.ip(["-6", "neigh", "del", "proxy", p.address, "dev", p.dev]);
    }
    for (const rt of [...this.#routes].reverse()) await this.removeRoute(rt);
    for (const a of [...this.#addresses].reverse()) {
      const r = await this.ip([`-${a.family}`, "addr", "del", a.cidr, "dev", a.dev]);
      if (r.ok) this.log.info(`removed address ${a.cidr} dev ${a.dev}`);
    }
    this.#addresses.length = 0;
    for (const s of this.#sysctls.reverse()) {
      try {
        await this.sysctl.write(s.key, s.old);
        this.log.info(`restored ${s.key} = ${s.old}`);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // the TUN went away with its settings
        this.log.warn(`could not restore ${s.key} = ${s.old}: ${(e as Error).message}`);
      }
    }
    this.#sysctls.length = 0;
  }
}
