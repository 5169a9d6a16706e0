// The TOML shape as a zod schema: kebab-case keys, defaults, per-key parsing. Cross-key
// rules (mode requirements, overlaps) live in semantic.ts. Unknown keys are errors.
import { z } from "zod";
import {
  DISCOVERY_METHODS,
  LOG_FORMATS,
  LOG_LEVELS,
  MODES,
  PROTOCOLS,
  type SocketAddr,
  type Upstream,
} from "./types.ts";
import {
  aclValue,
  domainNameValue,
  interfaceNameValue,
  ipAddrValue,
  ipv4Value,
  ipv6Value,
  pool6Value,
  portRangeValue,
  prefix4Value,
  prefix6Value,
  socketAddrValue,
  transport4Value,
  transport6Value,
  ValueError,
} from "./values.ts";

/** Known keys per section, for "did you mean" hints; array elements are written "[]". */
export const KNOWN_KEYS = new Map<string, readonly string[]>();

function section<S extends z.ZodRawShape>(path: string, shape: S) {
  KNOWN_KEYS.set(path, Object.keys(shape));
  return z.strictObject(shape);
}

/** A string key parsed by `fn`; a ValueError becomes the issue's reason. */
function parsed<T>(fn: (s: string) => T) {
  return z.string().transform((s, ctx): T => {
    try {
      return fn(s);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      ctx.issues.push({ code: "custom", message: e.message, input: s });
      return z.NEVER;
    }
  });
}

/** A string that may be "" to mean "none". */
function optionalParsed<T>(fn: (s: string) => T) {
  return parsed((s) => s === "" ? null : fn(s));
}

const bool = (d: boolean) => z.boolean().default(d);
const int = (min: number, max: number, d: number) => z.int().min(min).max(max).default(d);

export const RFC1191_PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

const tun = section("tun", {
  name: parsed(interfaceNameValue).prefault("xlat64"),
  mtu: int(1280, 65535, 65535),
  workers: int(1, 64, 1),
  manage: bool(true),
}).prefault({});

const eam = section("translator.eam[]", {
  ipv4: parsed(prefix4Value),
  ipv6: parsed(prefix6Value),
});

const translator = section("translator", {
  "pool6": parsed(pool6Value).optional(),
  "lowest-ipv6-mtu": int(1280, 65535, 1280),
  "ipv4-mtu": int(68, 65535, 1500),
  "ipv6-mtu": int(1280, 65535, 1500),
  "mtu-plateaus": z.array(z.int().min(68).max(65535)).min(1).prefault(RFC1191_PLATEAUS),
  "wkp-strict": bool(true),
  "amend-udp-checksum-zero": bool(false),
  "reset-traffic-class": bool(false),
  "reset-tos": bool(false),
  "new-tos": int(0, 255, 0),
  "rfc6791v4-prefix": optionalParsed(prefix4Value).prefault("192.0.0.8/32"),
  "rfc6791v6-prefix": optionalParsed(prefix6Value).prefault(""),
  "rfc6791v4-randomize": bool(false),
  "eam-hairpin-mode": z.enum(["off", "simple", "intrinsic"]).prefault("intrinsic"),
  "denylist4": z.array(parsed(prefix4Value)).prefault([]),
  "eam": z.array(eam).prefault([]),
}).prefault({}).transform((t) => ({
  pool6: t.pool6,
  lowestIpv6Mtu: t["lowest-ipv6-mtu"],
  ipv4Mtu: t["ipv4-mtu"],
  ipv6Mtu: t["ipv6-mtu"],
  mtuPlateaus: [...new Set(t["mtu-plateaus"])].sort((a, b) => b - a),
  wkpStrict: t["wkp-strict"],
  amendUdpChecksumZero: t["amend-udp-checksum-zero"],
  resetTrafficClass: t["reset-traffic-class"],
  resetTos: t["reset-tos"],
  newTos: t["new-tos"],
  rfc6791v4Prefix: t["rfc6791v4-prefix"],
  rfc6791v6Prefix: t["rfc6791v6-prefix"],
  rfc6791v4Randomize: t["rfc6791v4-randomize"],
  eamHairpinMode: t["eam-hairpin-mode"],
  denylist4: t.denylist4,
  eam: t.eam,
}));

const protocol = z.enum(PROTOCOLS);

const pool4 = section("nat64.pool4[]", {
  prefix: parsed(prefix4Value),
  ports: z.union([z.int(), z.string()]).transform((v, ctx) => {
    try {
      return portRangeValue(String(v));
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      ctx.issues.push({ code: "custom", message: e.message, input: v });
      return z.NEVER;
    }
  }).prefault("61001-65535"),
  protocols: z.array(protocol).min(1).prefault([...PROTOCOLS]),
});

const bib = section("nat64.bib[]", {
  protocol,
  ipv4: parsed(transport4Value),
  ipv6: parsed(transport6Value),
});

const nat64 = section("nat64", {
  "pool4": z.array(pool4).prefault([]),
  "bib": z.array(bib).prefault([]),
  // RFC 6146 3.5.1: "MUST NOT be less than 2 minutes"; 5 minutes recommended.
  "udp-timeout": int(120, 86400 * 7, 300),
  // RFC 6146 3.5.2.2 (after RFC 5382): at least 2 hours 4 minutes.
  "tcp-est-timeout": int(7440, 86400 * 7, 7440),
  // RFC 6146 3.5.2.2: TCP_TRANS at least 4 minutes.
  "tcp-trans-timeout": int(240, 86400, 240),
  // RFC 6146 3.5.2.2: TCP_INCOMING_SYN is 6 seconds.
  "tcp-incoming-syn-timeout": int(1, 3600, 6),
  // RFC 6146 3.5.3: ICMP_DEFAULT at least 60 seconds.
  "icmp-timeout": int(60, 86400, 60),
  "max-sessions-per-host": int(0, 1 << 24, 0),
  "max-ports-per-host": int(0, 1 << 24, 0),
  "address-dependent-filtering": bool(false),
  "drop-externally-initiated-tcp": bool(false),
  "log-sessions": bool(false),
  "snapshot-file": z.string().prefault(""),
  "snapshot-interval": int(1, 86400, 60),
}).prefault({}).transform((n) => ({
  pool4: n.pool4,
  bib: n.bib,
  udpTimeout: n["udp-timeout"],
  tcpEstTimeout: n["tcp-est-timeout"],
  tcpTransTimeout: n["tcp-trans-timeout"],
  tcpIncomingSynTimeout: n["tcp-incoming-syn-timeout"],
  icmpTimeout: n["icmp-timeout"],
  maxSessionsPerHost: n["max-sessions-per-host"],
  maxPortsPerHost: n["max-ports-per-host"],
  addressDependentFiltering: n["address-dependent-filtering"],
  dropExternallyInitiatedTcp: n["drop-externally-initiated-tcp"],
  logSessions: n["log-sessions"],
  snapshotFile: n["snapshot-file"] === "" ? null : n["snapshot-file"],
  snapshotInterval: n["snapshot-interval"],
}));

const clat = section("clat", {
  "ipv4-address": parsed(ipv4Value).prefault("192.0.0.1"),
  "translation-prefix": parsed(pool6Value).optional(),
  "ipv6-address": parsed((s) => s === "auto" ? "auto" as const : ipv6Value(s)).optional(),
  "plat-prefix": parsed((s) => s === "discover" ? "discover" as const : pool6Value(s))
    .prefault("discover"),
  "lan": z.array(parsed(prefix4Value)).prefault([]),
  "route-metric": int(0, 0xffffffff, 2048),
  "mss-clamp": int(0, 65535, 0),
  "dynamic-eam": bool(false),
  "dynamic-eam-ttl": int(1, 86400, 300),
}).prefault({}).transform((c) => ({
  ipv4Address: c["ipv4-address"],
  translationPrefix: c["translation-prefix"] ?? null,
  ipv6Address: c["ipv6-address"] instanceof Uint8Array ? c["ipv6-address"] : null,
  ipv6AddressAuto: c["ipv6-address"] === "auto",
  platPrefix: c["plat-prefix"],
  lan: c.lan,
  routeMetric: c["route-metric"],
  mssClamp: c["mss-clamp"],
  dynamicEam: c["dynamic-eam"],
  dynamicEamTtl: c["dynamic-eam-ttl"],
}));

const discovery = section("discovery", {
  "methods": z.array(z.enum(DISCOVERY_METHODS)).prefault([...DISCOVERY_METHODS]),
  "interface": optionalParsed(interfaceNameValue).prefault(""),
  "pcp-server": optionalParsed(ipAddrValue).prefault(""),
  "announce-pref64": z.array(parsed(interfaceNameValue)).prefault([]),
  // RFC 8781 4: the lifetime is carried in units of 8 seconds in 13 bits.
  "pref64-lifetime": z.int().min(8).max(65528).multipleOf(8).prefault(1800),
  "trusted-domains": z.array(parsed(domainNameValue)).prefault([]),
  "pcp-client-address": optionalParsed(ipAddrValue).prefault(""),
}).prefault({}).transform((d) => ({
  methods: d.methods,
  interface: d.interface,
  pcpServer: d["pcp-server"],
  announcePref64: d["announce-pref64"],
  pref64Lifetime: d["pref64-lifetime"],
  trustedDomains: d["trusted-domains"],
  pcpClientAddress: d["pcp-client-address"],
}));

const dns = section("dns", {
  "listen": z.array(parsed((s) => socketAddrValue(s, 53))).prefault(["[::1]:53", "127.0.0.1:53"]),
  "upstream": z.array(
    parsed((s): Upstream => s === "resolv.conf" ? "resolv.conf" : socketAddrValue(s, 53)),
  ).prefault(["resolv.conf"]),
  "allow": z.array(parsed((s) => aclValue(s, 46))).prefault(["::1/128", "127.0.0.0/8"]),
  "upstream-timeout-ms": int(100, 60000, 1500),
  "upstream-attempts": int(1, 10, 2),
  "cache-size": int(0, 10_000_000, 10000),
  "rate-limit": int(0, 10_000_000, 0),
  "rate-burst": int(0, 10_000_000, 0),
  "tcp-idle-timeout-ms": int(100, 3_600_000, 10000),
  "fast-path": bool(true),
  "aaaa-only-upstream": bool(false),
}).prefault({}).transform((d) => ({
  listen: d.listen,
  upstream: d.upstream,
  allow: d.allow,
  upstreamTimeoutMs: d["upstream-timeout-ms"],
  upstreamAttempts: d["upstream-attempts"],
  cacheSize: d["cache-size"],
  rateLimit: d["rate-limit"],
  rateBurst: d["rate-burst"],
  tcpIdleTimeoutMs: d["tcp-idle-timeout-ms"],
  fastPath: d["fast-path"],
  aaaaOnlyUpstream: d["aaaa-only-upstream"],
}));

const dns64 = section("dns64", {
  "prefixes": z.array(parsed(pool6Value)).optional(),
  "clients": z.array(parsed((s) => aclValue(s, 46))).prefault(["any"]),
  "mapped": z.array(parsed((s) => aclValue(s, 4)))
    .prefault(["!10.0.0.0/8", "!172.16.0.0/12", "!192.168.0.0/16", "any"]),
  "exclude": z.array(parsed(prefix6Value)).prefault(["::ffff:0:0/96"]),
  "exclude-domains": z.array(parsed(domainNameValue)).prefault([]),
  "break-dnssec": bool(false),
}).prefault({}).transform((d) => ({
  prefixes: d.prefixes,
  clients: d.clients,
  mapped: d.mapped,
  exclude: d.exclude,
  excludeDomains: d["exclude-domains"],
  breakDnssec: d["break-dnssec"],
}));

const validator = section("validator", {
  "enabled": bool(false),
  "trust-anchors": z.string().min(1).prefault("/usr/share/dns/root.ds"),
  // Seconds of tolerance on RRSIG inception/expiration (RFC 4035 5.3.1 clocks).
  "clock-skew": int(0, 86400, 300),
  // RFC 9276 3.2: NSEC3 answers with more iterations are treated as insecure.
  "nsec3-max-iterations": int(0, 2500, 150),
  // RFC 5011: where the tracked trust anchor state is kept ("" = no automatic updates).
  "auto-trust-anchor-file": z.string().prefault(""),
}).prefault({}).transform((v) => ({
  enabled: v.enabled,
  trustAnchors: v["trust-anchors"],
  clockSkew: v["clock-skew"],
  nsec3MaxIterations: v["nsec3-max-iterations"],
  autoTrustAnchorFile: v["auto-trust-anchor-file"] === "" ? null : v["auto-trust-anchor-file"],
}));

const pcp = section("pcp", {
  // RFC 6887 19.1: PCP server port 5351.
  "listen": z.array(parsed((s): SocketAddr => socketAddrValue(s, 5351))).prefault([]),
  // Client source prefixes served; others get NOT_AUTHORIZED (RFC 6887 7.4). IPv6 only:
  // PCP clients of a NAT64 are its IPv6 hosts.
  "allow": z.array(parsed(prefix6Value)).prefault([]),
  // RFC 6887 15: the server may bound the lifetime a client asks for.
  "min-lifetime": int(1, 86400 * 7, 120),
  "max-lifetime": int(1, 86400 * 7, 86400),
}).prefault({}).transform((p) => ({
  listen: p.listen,
  allow: p.allow,
  minLifetime: p["min-lifetime"],
  maxLifetime: p["max-lifetime"],
}));

const status = section("status", {
  listen: optionalParsed((s) => socketAddrValue(s)).prefault("127.0.0.1:8064"),
}).prefault({});

const log = section("log", {
  level: z.enum(LOG_LEVELS).prefault("info"),
  format: z.enum(LOG_FORMATS).prefault("text"),
}).prefault({});

export const configSchema = section("", {
  mode: z.enum(MODES).prefault("nat64"),
  tun,
  translator,
  nat64,
  clat,
  discovery,
  dns,
  dns64,
  validator,
  pcp,
  status,
  log,
});

/** What the schema yields before semantic.ts resolves mode-dependent defaults. */
export type ParsedConfig = z.output<typeof configSchema>;
