// RFC 7050: learning the NAT64 prefix (Pref64::/n) from the DNS64's synthesized AAAA records
// of ipv4only.arpa. The search is pure; discover7050 drives it through an injected query.
import { formatPrefix6, type Prefix6, prefix6 } from "../addr/ip.ts";
import { embed4, extract4 } from "../addr/rfc6052.ts";
import { ip6ArpaName } from "../dns/reverse.ts";
import { isSubdomain, rdataName, type ResourceRecord, TYPE } from "../dns/wire.ts";

export const IPV4ONLY_ARPA = "ipv4only.arpa.";
/** RFC 7050 2.2: the well-known IPv4 addresses 192.0.0.170 and 192.0.0.171. */
export const WKA_170 = 0xc00000aa;
export const WKA_171 = 0xc00000ab;
/** RFC 6052 2.2 prefix lengths, in the order they are tried. */
const LENGTHS = [96, 64, 56, 48, 40, 32] as const;

function prefixOf(a: Uint8Array, len: number): Prefix6 {
  const p = new Uint8Array(16);
  p.set(a.subarray(0, len >> 3));
  return prefix6(p, len);
}

/** Every RFC 6052 position at which `addr` embeds 192.0.0.170 or .171. */
export function wkaPositions(addr: Uint8Array): { prefix: Prefix6; wka: number }[] {
  const out: { prefix: Prefix6; wka: number }[] = [];
  for (const len of LENGTHS) {
    const p = prefixOf(addr, len);
    const v = extract4(p, addr, 0); // -1 when the u-octet (bits 64-71) is not zero
    if (v === WKA_170 || v === WKA_171) out.push({ prefix: p, wka: v });
  }
  return out;
}

export interface Found7050 {
  prefixes: Prefix6[];
  /** Addresses where the WKA sat at several positions and no pairing settled which. */
  ambiguous: Uint8Array[];
  /** Addresses with no WKA at any position (not synthesized by RFC 6052). */
  ignored: Uint8Array[];
}

/**
 * RFC 7050 3: find Pref64::/n in the AAAA answers for ipv4only.arpa. Each address is
 * searched for a WKA at every RFC 6052 position. A WKA found at one position gives the
 * prefix. When it is found at several (the prefix itself contains the WKA bits), the
 * other WKA settles it: the right position is the one where the same prefix also
 * embeds the other WKA in another answer. Several distinct prefixes are all returned
 * (3: "the node SHOULD use all of them"), ordered as first seen.
 */
export function findPrefixes(addrs: readonly Uint8Array[]): Found7050 {
  const positions = addrs.map(wkaPositions);
  const seen = new Map<string, Set<number>>();
  for (const ps of positions) {
    for (const { prefix, wka } of ps) {
      const k = formatPrefix6(prefix);
      if (!seen.has(k)) seen.set(k, new Set());
      seen.get(k)!.add(wka);
    }
  }
  const paired = (p: Prefix6) => seen.get(formatPrefix6(p))!.size === 2;
  const out = new Map<string, Prefix6>();
  const found: Found7050 = { prefixes: [], ambiguous: [], ignored: [] };
  positions.forEach((ps, i) => {
    if (ps.length === 0) return void found.ignored.push(addrs[i]);
    const pick = ps.length === 1 ? ps : ps.filter((x) => paired(x.prefix));
    if (pick.length !== 1) return void found.ambiguous.push(addrs[i]);
    out.set(formatPrefix6(pick[0].prefix), pick[0].prefix);
  });
  found.prefixes = [...out.values()];
  return found;
}

/** The address Pref64::192.0.0.170 whose PTR names the NAT64 (RFC 7050 3.1). */
export function wkaAddress(p: Prefix6, wka = WKA_170): Uint8Array {
  const a = new Uint8Array(16);
  embed4(p, wka, a, 0);
  return a;
}

/** RFC 7050 3.1 step 1: the PTR query name for Pref64::WKA. */
export const validationPtrName = (p: Prefix6): string => ip6ArpaName(wkaAddress(p));

/** RFC 7050 3.1 step 2: is the NAT64's FQDN inside a domain the node trusts? */
export function isTrustedName(fqdn: string, trustedDomains: readonly string[]): boolean {
  return trustedDomains.some((d) => isSubdomain(fqdn, d));
}

/**
 * RFC 7050 3.1 step 3: among the AAAA answers for the trusted FQDN, one must equal
 * Pref64::WKA; the prefix is then taken as validated.
 */
export function aaaaConfirms(p: Prefix6, aaaa: readonly Uint8Array[]): boolean {
  const want = wkaAddress(p);
  return aaaa.some((a) => a.length === 16 && a.every((x, i) => x === want[i]));
}

/** (name, type) -> answer-section records; DNSSEC validation is the resolver's job. */
export type Query = (name: string, type: number) => Promise<ResourceRecord[]>;

export interface Discovery7050 {
  prefixes: Prefix6[];
  /** Seconds until discovery should run again: the smallest AAAA TTL used (RFC 7050 3). */
  ttlS: number;
  /** Prefixes dropped by section 3.1 validation, with why. */
  rejected: { prefix: Prefix6; reason: string }[];
}

export interface Discover7050Options {
  /** Turn on RFC 7050 3.1 validation with these trusted NAT64 domains. */
  trustedDomains?: string[];
  /** Seconds before trying again when nothing was found. */
  retryS?: number;
  /** Floor on the re-discovery interval, so a TTL of 0 does not spin. */
  minTtlS?: number;
}

const aaaaOf = (rrs: ResourceRecord[]): ResourceRecord[] =>
  rrs.filter((r) => r.type === TYPE.AAAA && r.data.length === 16);

export async function discover7050(q: Query, o: Discover7050Options = {}): Promise<Discovery7050> {
  const retryS = o.retryS ?? 300, minTtlS = o.minTtlS ?? 10;
  const rrs = aaaaOf(await q(IPV4ONLY_ARPA, TYPE.AAAA));
  const found = findPrefixes(rrs.map((r) => r.data));
  const result: Discovery7050 = { prefixes: [], ttlS: retryS, rejected: [] };
  for (const p of found.prefixes) {
    if (o.trustedDomains) {
      const why = await validate(q, p, o.trustedDomains);
      if (why) {
        result.rejected.push({ prefix: p, reason: why });
        continue;
      }
    }
    result.prefixes.push(p);
  }
  if (result.prefixes.length > 0) {
    const used = rrs.filter((r) =>
      result.prefixes.some((p) => wkaPositions(r.data).some((x) => sameP(x.prefix, p)))
    );
    result.ttlS = Math.max(minTtlS, Math.min(...used.map((r) => r.ttl)));
  }
  return result;
}

const sameP = (a: Prefix6, b: Prefix6) => a.len === b.len && formatPrefix6(a) === formatPrefix6(b);

/** RFC 7050 3.1; null when the prefix passes, else the reason. */
async function validate(q: Query, p: Prefix6, trusted: string[]): Promise<string | null> {
  const ptrs = (await q(validationPtrName(p), TYPE.PTR)).filter((r) => r.type === TYPE.PTR);
  if (ptrs.length === 0) return "no PTR for Pref64::WKA";
  for (const ptr of ptrs) {
    let name: string;
    try {
      name = rdataName(ptr.data);
    } catch {
      continue;
    }
    if (!isTrustedName(name, trusted)) continue;
    const aaaa = aaaaOf(await q(name, TYPE.AAAA)).map((r) => r.data);
    if (aaaaConfirms(p, aaaa)) return null;
  }
  return "no PTR name in a trusted domain maps back to Pref64::WKA";
}
