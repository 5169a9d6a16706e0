// What the DNS proxy and DNS64 need, parsed and validated. src/config maps the TOML
// [dns] and [dns64] sections onto Config; dnsOptionsFromConfig maps that onto these.
import { formatPrefix4, formatPrefix6, parsePrefix6, type Prefix6 } from "../addr/ip.ts";
import type { Config } from "../config/types.ts";
import type { Acl, AclEntry } from "./acl.ts";
import { parseAcl } from "./acl.ts";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface DnsOptions {
  /** UDP and TCP listeners; [] turns the DNS server off. */
  readonly listen: readonly HostPort[];
  /** Upstream resolvers tried in order (failover); "resolv.conf" already expanded. */
  readonly upstream: readonly HostPort[];
  /** RFC 5625 proxy ACL: clients outside it get REFUSED. */
  readonly allow: Acl;
  /** Per upstream attempt. */
  readonly upstreamTimeoutMs: number;
  /** Attempts per upstream before failing over to the next one. */
  readonly upstreamAttempts: number;
  /** Cached messages (upstream answers and final responses each). */
  readonly cacheMaxEntries: number;
  /** Bound on the bytes held by the response cache. */
  readonly cacheMaxBytes: number;
  /** Upper bound on any cached TTL, seconds. */
  readonly cacheMaxTtl: number;
  /** Per-client queries per second (token bucket); 0: no limit. */
  readonly rateLimit: number;
  readonly rateBurst: number;
  /** Idle TCP connections are closed after this (RFC 7766 6.2.3). */
  readonly tcpIdleMs: number;
  /** Our EDNS(0) UDP payload size, advertised and used upstream (1232: DNS flag day 2020). */
  readonly ednsUdpSize: number;
  /** Serve UDP through the recvmmsg/sendmmsg shim in a worker when the shim loads. */
  readonly fastPath: boolean;
  /**
   * RFC 8683 3.1.2: the upstream is a DNS64; A queries go upstream as AAAA and are
   * answered from synthesized AAAA under the PLAT prefixes (a real A query only when
   * none comes back).
   */
  readonly aaaaOnlyUpstream: boolean;
}

export interface Dns64Options {
  /** RFC 6052 prefixes to synthesize with; [] turns DNS64 off (plain proxy). */
  readonly prefixes: readonly Prefix6[];
  /** Clients that get synthesized answers; others get plain proxying. */
  readonly clients: Acl;
  /** RFC 6147 5.1.5: IPv4 addresses that may be synthesized (others are mapped out). */
  readonly mapped: Acl;
  /** RFC 6147 5.1.4: AAAA records in these prefixes count as absent. */
  readonly exclude: readonly Prefix6[];
  /** Names (and everything below them) never synthesized. */
  readonly excludeDomains: readonly string[];
  /** RFC 6147 5.5: synthesize even for DO=1 CD=1 queries. */
  readonly breakDnssec: boolean;
}

export const DNS_DEFAULTS: DnsOptions = {
  listen: [{ host: "::1", port: 53 }, { host: "127.0.0.1", port: 53 }],
  upstream: [],
  allow: parseAcl(["::1/128", "127.0.0.0/8"]),
  upstreamTimeoutMs: 1500,
  upstreamAttempts: 2,
  cacheMaxEntries: 10000,
  cacheMaxBytes: 16 * 1024 * 1024,
  cacheMaxTtl: 86400,
  rateLimit: 0,
  rateBurst: 0,
  tcpIdleMs: 10000,
  ednsUdpSize: 1232,
  fastPath: false,
  aaaaOnlyUpstream: false,
};

export const DNS64_DEFAULTS: Dns64Options = {
  prefixes: [parsePrefix6("64:ff9b::/96")],
  clients: parseAcl(["any"]),
  mapped: parseAcl(["!10.0.0.0/8", "!172.16.0.0/12", "!192.168.0.0/16", "any"]),
  exclude: [parsePrefix6("::ffff:0:0/96")],
  excludeDomains: [],
  breakDnssec: false,
};

/** Nameservers listed in resolv.conf text (port 53). */
export function nameserversFromResolvConf(text: string): HostPort[] {
  const out: HostPort[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1].replace(/%.*$/, "");
    out.push({ host, port: 53 });
  }
  return out;
}

type ConfigAclEntry = Config["dns"]["allow"][number];

function aclFromConfig(list: readonly ConfigAclEntry[]): Acl {
  const entries: AclEntry[] = list.map((e) => ({
    negate: !e.allow,
    m: e.kind === "any"
      ? { kind: "any" }
      : e.kind === "v4"
      ? { kind: "v4", p: e.prefix }
      : { kind: "v6", p: e.prefix },
  }));
  const text = list.map((e) =>
    `${e.allow ? "" : "!"}${
      e.kind === "any" ? "any" : e.kind === "v4" ? formatPrefix4(e.prefix) : formatPrefix6(e.prefix)
    }`
  );
  return { entries, text };
}

/**
 * Map the parsed config onto DnsOptions/Dns64Options. `resolvConf` is the text of
 * /etc/resolv.conf, read by the caller (this stays free of I/O).
 */
export function dnsOptionsFromConfig(
  cfg: Config,
  resolvConf = "",
): { dns: DnsOptions; dns64: Dns64Options } {
  const upstream: HostPort[] = [];
  for (const u of cfg.dns.upstream) {
    if (u === "resolv.conf") upstream.push(...nameserversFromResolvConf(resolvConf));
    else upstream.push({ host: u.host, port: u.port });
  }
  const d = cfg.dns;
  const dns: DnsOptions = {
    ...DNS_DEFAULTS,
    listen: d.listen.map((a) => ({ host: a.host, port: a.port })),
    upstream,
    allow: aclFromConfig(d.allow),
    upstreamTimeoutMs: d.upstreamTimeoutMs,
    upstreamAttempts: d.upstreamAttempts,
    cacheMaxEntries: d.cacheSize,
    rateLimit: d.rateLimit,
    rateBurst: d.rateBurst,
    tcpIdleMs: d.tcpIdleTimeoutMs,
    fastPath: d.fastPath,
    aaaaOnlyUpstream: d.aaaaOnlyUpstream,
  };
  const d64 = cfg.dns64;
  const dns64: Dns64Options = {
    prefixes: d64.prefixes,
    clients: aclFromConfig(d64.clients),
    mapped: aclFromConfig(d64.mapped),
    exclude: d64.exclude,
    excludeDomains: d64.excludeDomains,
    breakDnssec: d64.breakDnssec,
  };
  return { dns, dns64 };
}
