// The parsed, validated configuration every part of xlat64 reads. Keys are the camelCase
// forms of the TOML's kebab-case keys; addresses and prefixes are already parsed.
import type { Prefix4, Prefix6 } from "../addr/ip.ts";
import type { EamEntry, EamHairpinMode } from "../xlat/options.ts";
import type { AclEntry, PortRange, SocketAddr, TransportAddr4, TransportAddr6 } from "./values.ts";

export type { AclEntry, PortRange, SocketAddr, TransportAddr4, TransportAddr6 };

export type Mode = "siit" | "nat64" | "clat" | "none";
export const MODES = ["siit", "nat64", "clat", "none"] as const;
export type Protocol = "tcp" | "udp" | "icmp";
export const PROTOCOLS = ["tcp", "udp", "icmp"] as const;
export type DiscoveryMethod = "static" | "pref64" | "pcp" | "rfc7050";
export const DISCOVERY_METHODS = ["static", "pref64", "pcp", "rfc7050"] as const;
export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "fatal";
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;
export type LogFormat = "text" | "json";
export const LOG_FORMATS = ["text", "json"] as const;

export interface TunConfig {
  readonly name: string;
  readonly mtu: number;
  readonly workers: number;
  readonly manage: boolean;
}

export interface TranslatorConfig {
  /** Resolved: omitted means 64:ff9b::/96 in nat64 mode and null (EAM-only) otherwise. */
  readonly pool6: Prefix6 | null;
  readonly lowestIpv6Mtu: number;
  readonly ipv4Mtu: number;
  readonly ipv6Mtu: number;
  /** Sorted descending, without duplicates. */
  readonly mtuPlateaus: readonly number[];
  readonly wkpStrict: boolean;
  readonly amendUdpChecksumZero: boolean;
  /** RFC 7915 4.1: IPv4->IPv6 traffic class 0 instead of the TOS. */
  readonly resetTrafficClass: boolean;
  /** RFC 7915 5.1: IPv6->IPv4 TOS set to newTos instead of the traffic class. */
  readonly resetTos: boolean;
  readonly newTos: number;
  readonly rfc6791v4Prefix: Prefix4 | null;
  readonly rfc6791v6Prefix: Prefix6 | null;
  readonly rfc6791v4Randomize: boolean;
  readonly eamHairpinMode: EamHairpinMode;
  readonly denylist4: readonly Prefix4[];
  readonly eam: readonly EamEntry[];
}

export interface Pool4Entry {
  readonly prefix: Prefix4;
  readonly ports: PortRange;
  readonly protocols: readonly Protocol[];
}

export interface StaticBibEntry {
  readonly protocol: Protocol;
  readonly ipv4: TransportAddr4;
  readonly ipv6: TransportAddr6;
}

export interface Nat64Config {
  readonly pool4: readonly Pool4Entry[];
  readonly bib: readonly StaticBibEntry[];
  /** Seconds. RFC 6146 3.5.1: UDP session lifetime, at least 120. */
  readonly udpTimeout: number;
  /** Seconds. RFC 6146 3.5.2.2: established TCP idle timeout, at least 7440. */
  readonly tcpEstTimeout: number;
  /** Seconds. RFC 6146 3.5.2.2: transitory TCP timeout, at least 240. */
  readonly tcpTransTimeout: number;
  /** Seconds. RFC 6146 3.5.2.2: wait for a matching SYN before answering an inbound SYN. */
  readonly tcpIncomingSynTimeout: number;
  /** Seconds. RFC 6146 3.5.3: ICMP query session lifetime, at least 60. */
  readonly icmpTimeout: number;
  /** RFC 6888 REQ-4: sessions per IPv6 host; 0 means no limit. */
  readonly maxSessionsPerHost: number;
  /** RFC 6888 REQ-3: dynamic BIB entries (ports) per IPv6 host, all protocols; 0: no limit. */
  readonly maxPortsPerHost: number;
  /** RFC 6146 3.5.2.2 / RFC 4787: address-dependent instead of endpoint-independent filtering. */
  readonly addressDependentFiltering: boolean;
  /** Drop inbound IPv4 SYNs that match no BIB entry instead of waiting (RFC 6146 3.5.2.2). */
  readonly dropExternallyInitiatedTcp: boolean;
  /** RFC 6888 REQ-12: one log line per BIB/session creation and deletion. */
  readonly logSessions: boolean;
  /** Where the BIB and sessions are saved across restarts; null: not saved. */
  readonly snapshotFile: string | null;
  /** Seconds between snapshots (also written on SIGTERM). */
  readonly snapshotInterval: number;
}

export interface ClatConfig {
  readonly ipv4Address: number;
  /** Dedicated /64 (RFC 6877 6.3); null: single-address mode with NAT44. */
  readonly translationPrefix: Prefix6 | null;
  /** The one IPv6 address used in single-address mode. */
  readonly ipv6Address: Uint8Array | null;
  /**
   * ipv6-address = "auto": the appliance picks one in the uplink's /64 at start and on
   * reload (src/clat/auto_address.ts); ipv6Address stays null until then.
   */
  readonly ipv6AddressAuto: boolean;
  readonly platPrefix: Prefix6 | "discover";
  /** Dedicated mode: IPv4 LAN prefixes mapped into the translation prefix; []: the /29 of ipv4Address. */
  readonly lan: readonly Prefix4[];
  /** Metric of the IPv4 default route via the CLAT: high, so native IPv4 wins. */
  readonly routeMetric: number;
  /** MSS clamp for translated SYNs; 0: translator.ipv6-mtu - 60. */
  readonly mssClamp: number;
  /** Install short-lived A -> AAAA mappings for dual-stack names seen by the DNS proxy. */
  readonly dynamicEam: boolean;
  /** Seconds a dynamic mapping lives (at most; the AAAA TTL when shorter). */
  readonly dynamicEamTtl: number;
}

export interface DiscoveryConfig {
  readonly methods: readonly DiscoveryMethod[];
  /** Where RAs are heard; null: the interface of the default route. */
  readonly interface: string | null;
  /** PCP server address (canonical text); null: the default router. */
  readonly pcpServer: string | null;
  readonly announcePref64: readonly string[];
  /** Seconds, RFC 8781 4: multiple of 8, at most 65528. */
  readonly pref64Lifetime: number;
  /** RFC 7050 3.1 validation against these NAT64 domains; []: no validation. */
  readonly trustedDomains: readonly string[];
  /** Our address in PCP requests (RFC 6887 8.1); null: a global IPv6 address of ours. */
  readonly pcpClientAddress: string | null;
}

/** A DNS upstream: an address, or "resolv.conf" (the nameservers in /etc/resolv.conf). */
export type Upstream = SocketAddr | "resolv.conf";

export interface DnsConfig {
  readonly listen: readonly SocketAddr[];
  readonly upstream: readonly Upstream[];
  readonly allow: readonly AclEntry[];
  /** Per upstream attempt. */
  readonly upstreamTimeoutMs: number;
  /** Attempts per upstream before failing over to the next. */
  readonly upstreamAttempts: number;
  /** Cached DNS messages; 0 turns the cache off. */
  readonly cacheSize: number;
  /** Per-client queries per second; 0 means no limit. */
  readonly rateLimit: number;
  readonly rateBurst: number;
  /** Idle DNS-over-TCP connections close after this (RFC 7766 6.2.3). */
  readonly tcpIdleTimeoutMs: number;
  /** Serve UDP through the shim's recvmmsg/sendmmsg in a worker. */
  readonly fastPath: boolean;
  /** RFC 8683 3.1.2: A queries go to the upstream DNS64 as AAAA (clat mode). */
  readonly aaaaOnlyUpstream: boolean;
}

export interface Dns64Config {
  /** Resolved: omitted means [translator.pool6] (or [] without one); [] turns DNS64 off. */
  readonly prefixes: readonly Prefix6[];
  readonly clients: readonly AclEntry[];
  /** IPv4-only ACL: which A records may be synthesized (RFC 6147 5.1.4-5.1.6). */
  readonly mapped: readonly AclEntry[];
  /** AAAA records in these prefixes count as absent (RFC 6147 5.1.4). */
  readonly exclude: readonly Prefix6[];
  /** Names (and all names below them) never synthesized. */
  readonly excludeDomains: readonly string[];
  /** RFC 6147 5.5: synthesize even for DO=1 CD=1 queries. */
  readonly breakDnssec: boolean;
}

export interface ValidatorConfig {
  readonly enabled: boolean;
  readonly trustAnchors: string;
  /** Seconds of tolerance on RRSIG validity windows. */
  readonly clockSkew: number;
  /** RFC 9276 3.2: above this many NSEC3 iterations answers are insecure. */
  readonly nsec3MaxIterations: number;
  /** RFC 5011 state file (trust anchors tracked and rewritten there); null: off. */
  readonly autoTrustAnchorFile: string | null;
}

export interface PcpConfig {
  readonly listen: readonly SocketAddr[];
  /** Client prefixes served; empty: every request gets NOT_AUTHORIZED. */
  readonly allow: readonly Prefix6[];
  /** Seconds: bounds on the MAP lifetime granted (RFC 6887 15). */
  readonly minLifetime: number;
  readonly maxLifetime: number;
}

export interface StatusConfig {
  /** null: the status endpoint is off (`listen = ""`). */
  readonly listen: SocketAddr | null;
}

export interface LogConfig {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

export interface Config {
  readonly mode: Mode;
  readonly tun: TunConfig;
  readonly translator: TranslatorConfig;
  readonly nat64: Nat64Config;
  readonly clat: ClatConfig;
  readonly discovery: DiscoveryConfig;
  readonly dns: DnsConfig;
  readonly dns64: Dns64Config;
  readonly validator: ValidatorConfig;
  readonly pcp: PcpConfig;
  readonly status: StatusConfig;
  readonly log: LogConfig;
}
