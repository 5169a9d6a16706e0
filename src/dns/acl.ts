// Address match lists in BIND's style: entries are tried in order, the first match
// decides, "!" negates an entry, "any"/"none" match everything/nothing, and an address
// that matches no entry is not allowed. Used for [dns] allow, [dns64] clients and
// [dns64] mapped (RFC 6147 5.1.5 mapped-out IPv4 ranges).
import {
  AddressError,
  contains4,
  contains6,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
  type Prefix4,
  type Prefix6,
} from "../addr/ip.ts";

export type IpAddr = { readonly v: 4; readonly a: number } | {
  readonly v: 6;
  readonly a: Uint8Array;
};

type Matcher =
  | { kind: "any" }
  | { kind: "none" }
  | { kind: "v4"; p: Prefix4 }
  | { kind: "v6"; p: Prefix6 };

export interface AclEntry {
  readonly negate: boolean;
  readonly m: Matcher;
}

export interface Acl {
  readonly entries: readonly AclEntry[];
  /** The list as written, for status output and errors. */
  readonly text: readonly string[];
}

export class AclError extends Error {}

/** Parse one BIND-like address match list. Throws AclError naming the bad entry. */
export function parseAcl(list: readonly string[]): Acl {
  const entries: AclEntry[] = [];
  for (const raw of list) {
    let s = raw.trim();
    const negate = s.startsWith("!");
    if (negate) s = s.slice(1).trim();
    let m: Matcher;
    if (s === "any") m = { kind: "any" };
    else if (s === "none") m = { kind: "none" };
    else {
      try {
        m = s.includes(":")
          ? { kind: "v6", p: parsePrefix6(s) }
          : { kind: "v4", p: parsePrefix4(s) };
      } catch (e) {
        const why = e instanceof AddressError ? e.message : String(e);
        throw new AclError(`bad address match list entry "${raw}": ${why}`);
      }
    }
    entries.push({ negate, m });
  }
  return { entries, text: [...list] };
}

const V4_MAPPED = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);

/** Parse a socket hostname ("192.0.2.1", "::1", "::ffff:192.0.2.1", "fe80::1%eth0"). */
export function parseIp(host: string): IpAddr | null {
  try {
    if (!host.includes(":")) return { v: 4, a: parseIPv4(host) };
    const pct = host.indexOf("%");
    const a = parseIPv6(pct >= 0 ? host.slice(0, pct) : host);
    return { v: 6, a };
  } catch {
    return null;
  }
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (a[i] !== V4_MAPPED[i]) return false;
  return true;
}

function matches(m: Matcher, ip: IpAddr): boolean {
  switch (m.kind) {
    case "any":
      return true;
    case "none":
      return false;
    case "v4":
      if (ip.v === 4) return contains4(m.p, ip.a);
      // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
      return isV4Mapped(ip.a) &&
        contains4(m.p, ((ip.a[12] << 24) | (ip.a[13] << 16) | (ip.a[14] << 8) | ip.a[15]) >>> 0);
    case "v6":
      return ip.v === 6 && contains6(m.p, ip.a);
  }
}

/** First matching entry decides; no match means "not allowed". */
export function aclAllows(acl: Acl, ip: IpAddr): boolean {
  for (const e of acl.entries) if (matches(e.m, ip)) return !e.negate;
  return false;
}

/** aclAllows for an IPv4 address given as a uint32 (hot path of RFC 6147 5.1.5). */
export function aclAllows4(acl: Acl, v4: number): boolean {
  for (const e of acl.entries) {
    const m = e.m;
    if (m.kind === "any" || (m.kind === "v4" && contains4(m.p, v4))) return !e.negate;
  }
  return false;
}
