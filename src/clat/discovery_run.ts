// Prefix discovery as the appliance and `xlat64 discover` run it: the discovery loops of
// src/discovery fed from the config and the host (default route, resolvers), reporting
// every change of the active PLAT prefix.
import { formatIPv6, parseIPv6, type Prefix6 } from "../addr/ip.ts";
import type { Config } from "../config/types.ts";
import {
  type DiscoveryOptions,
  type DiscoveryStatus,
  type RunningDiscovery,
  startDiscovery,
} from "../discovery/discovery.ts";
import { listenRas, type RaEvent } from "../discovery/ra_listener.ts";
import type { Query } from "../discovery/rfc7050.ts";
import type { SourceKind } from "../discovery/sources.ts";
import { DnsMetrics } from "../dns/metrics.ts";
import { type HostPort, nameserversFromResolvConf } from "../dns/options.ts";
import { UpstreamClient } from "../dns/upstream.ts";
export { formatDiscovery } from "./status_text.ts";
import { closeFd, icmp6Open, icmp6Send, ifIndex } from "../io/ffi.ts";
import type { KernelRoute } from "../io/netconf.ts";

/** What discovery needs to know about the host beyond the config. */
export interface HostFacts {
  readonly routes: readonly KernelRoute[];
  readonly resolvConf: string;
}

/** (name, type) -> answer records through plain upstream resolvers (RFC 7050 2.2). */
export function upstreamQuery(servers: readonly HostPort[], timeoutMs = 1500): Query {
  const client = new UpstreamClient(
    { servers, timeoutMs, attempts: 2, udpSize: 1232 },
    new DnsMetrics(),
  );
  return async (name, type) => {
    const m = await client.query({ name, type, dnssecOk: false, checkingDisabled: false });
    if (!m) throw new Error(`no answer from ${servers.map((s) => s.host).join(", ")}`);
    return m.answer;
  };
}

/** The resolvers RFC 7050 asks: the [dns] upstreams (the network's DNS64 in a CLAT). */
export function discoveryResolvers(cfg: Config, resolvConf: string): HostPort[] {
  const out: HostPort[] = [];
  for (const u of cfg.dns.upstream) {
    if (u === "resolv.conf") out.push(...nameserversFromResolvConf(resolvConf));
    else out.push({ host: u.host, port: u.port });
  }
  return out;
}

/** The configured prefixes that count as "static": clat.plat-prefix, else translator.pool6. */
export function staticPrefixes(cfg: Config): Prefix6[] {
  if (cfg.mode === "clat" && cfg.clat.platPrefix !== "discover") return [cfg.clat.platPrefix];
  return cfg.translator.pool6 ? [cfg.translator.pool6] : [];
}

const ipv6Default = (routes: readonly KernelRoute[]) =>
  routes.find((r) => r.family === 6 && r.dst === "default");

/** RFC 4861 6.3.7: a Router Solicitation, so a router answers at once, not at its next RA. */
export function sendRouterSolicitation(ifname: string): void {
  const fd = icmp6Open(ifname);
  try {
    const rs = new Uint8Array(8);
    rs[0] = 133;
    icmp6Send(fd, rs, parseIPv6("ff02::2") as Uint8Array<ArrayBuffer>, ifIndex(ifname));
  } finally {
    closeFd(fd);
  }
}

export function discoveryOptions(
  cfg: Config,
  host: HostFacts,
  overrides: Partial<DiscoveryOptions> = {},
): DiscoveryOptions {
  const d = cfg.discovery;
  const def = ipv6Default(host.routes);
  const ifname = d.interface ?? def?.dev ?? null;
  const resolvers = discoveryResolvers(cfg, host.resolvConf);
  return {
    methods: d.methods as SourceKind[],
    staticPrefixes: staticPrefixes(cfg),
    interface: ifname,
    pcpServer: d.pcpServer ?? def?.gateway ?? null,
    pcpClientAddress: d.pcpClientAddress,
    query: resolvers.length > 0 ? upstreamQuery(resolvers) : undefined,
    trustedDomains: d.trustedDomains.length > 0 ? [...d.trustedDomains] : undefined,
    io: {
      listenRas: (name: string, onRa: (ev: RaEvent) => void, o: { signal?: AbortSignal }) => {
        const run = listenRas(name, onRa, o);
        setTimeout(() => {
          try {
            sendRouterSolicitation(name);
          } catch { /* the listener reports socket trouble itself */ }
        }, 50);
        return run;
      },
    },
    ...overrides,
  };
}

/** The host's routes and resolv.conf, read once. */
export async function hostFacts(readRoutes: () => Promise<KernelRoute[]>): Promise<HostFacts> {
  let resolvConf = "";
  try {
    resolvConf = await Deno.readTextFile("/etc/resolv.conf");
  } catch { /* no resolvers: RFC 7050 is off */ }
  let routes: KernelRoute[] = [];
  try {
    routes = await readRoutes();
  } catch { /* no routes known: interface and PCP server only from config */ }
  return { routes, resolvConf };
}

/** Runs every configured method for `seconds` and returns what each found. */
export async function discoverFor(
  cfg: Config,
  host: HostFacts,
  seconds: number,
  overrides: Partial<DiscoveryOptions> = {},
): Promise<DiscoveryStatus> {
  const run = startDiscovery(discoveryOptions(cfg, host, { retryS: seconds + 1, ...overrides }));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const st = run.status();
  await run.stop();
  return st;
}

/** A running discovery that reports changes of the primary prefix. */
export function startPrefixDiscovery(
  cfg: Config,
  host: HostFacts,
  onPrefix: (p: Prefix6 | null, all: readonly Prefix6[], source: SourceKind | null) => void,
  onError: (method: string, e: unknown) => void,
): RunningDiscovery {
  return startDiscovery(discoveryOptions(cfg, host, {
    onChange: (a) =>
      onPrefix(
        a?.prefixes[0]?.prefix ?? null,
        a?.prefixes.map((x) => x.prefix) ?? [],
        a?.source ?? null,
      ),
    onError,
  }));
}

export const prefixText = (p: Prefix6 | null): string =>
  p ? `${formatIPv6(p.addr)}/${p.len}` : "none";
