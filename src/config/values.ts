// Parsers for the string-valued config keys (addresses, prefixes, port ranges, ACLs).
// Each throws a ValueError whose message is the reason shown after the key path.
import {
  AddressError,
  formatIPv4,
  formatIPv6,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
  type Prefix4,
  type Prefix6,
} from "../addr/ip.ts";
import { assertPool6, isValidPrefixLength } from "../addr/rfc6052.ts";

export class ValueError extends Error {}

/** A socket address to bind or connect to; `host` is the canonical IP text (no brackets). */
export interface SocketAddr {
  readonly family: 4 | 6;
  readonly host: string;
  readonly port: number;
}

/** A transport address as written in a static BIB entry ("192.0.2.2#2000"). */
export interface TransportAddr4 {
  readonly addr: number;
  readonly port: number;
}
export interface TransportAddr6 {
  readonly addr: Uint8Array;
  readonly port: number;
}

/** Inclusive port (or ICMP identifier) range. */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** One ACL element, first match wins: "any", "!any", "10.0.0.0/8", "!2001:db8::/32". */
export type AclEntry =
  & { readonly allow: boolean }
  & (
    | { readonly kind: "any" }
    | { readonly kind: "v4"; readonly prefix: Prefix4 }
    | { readonly kind: "v6"; readonly prefix: Prefix6 }
  );

function rethrow<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AddressError) throw new ValueError(e.message);
    throw e;
  }
}

export const prefix4Value = (s: string): Prefix4 => rethrow(() => parsePrefix4(s));
export const prefix6Value = (s: string): Prefix6 => rethrow(() => parsePrefix6(s));
export const ipv4Value = (s: string): number => rethrow(() => parseIPv4(s));
export const ipv6Value = (s: string): Uint8Array => rethrow(() => parseIPv6(s));

/** An RFC 6052 translation prefix (pool6, DNS64 prefixes, PLAT prefix). */
export function pool6Value(s: string): Prefix6 {
  const p = prefix6Value(s);
  if (!isValidPrefixLength(p.len)) {
    throw new ValueError(
      `prefix length ${p.len} is not one of 32, 40, 48, 56, 64, 96 (RFC 6052 2.2)`,
    );
  }
  rethrow(() => assertPool6(p));
  return p;
}

export function portValue(s: string): number {
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) > 65535) {
    throw new ValueError(`port "${s}" is not a number from 0 to 65535`);
  }
  return Number(s);
}

/** "61001-65535" or a single port "5000". */
export function portRangeValue(s: string): PortRange {
  const m = /^\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?$/.exec(s);
  if (!m) throw new ValueError(`"${s}" is not a port range like "61001-65535"`);
  const min = portValue(m[1]);
  const max = m[2] === undefined ? min : portValue(m[2]);
  if (min > max) throw new ValueError(`port range "${s}" is empty (${min} > ${max})`);
  return { min, max };
}

/** "192.0.2.0:53", "[2001:db8::1]:53", or a bare address (then `defaultPort`). */
export function socketAddrValue(s: string, defaultPort?: number): SocketAddr {
  let host: string, portText: string | undefined;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
  if (bracket) {
    [host, portText] = [bracket[1], bracket[2]];
    const addr = formatIPv6(ipv6Value(host));
    if (portText === undefined && defaultPort === undefined) {
      throw new ValueError(`"${s}" needs a port, like "[${addr}]:53"`);
    }
    return {
      family: 6,
      host: addr,
      port: portText === undefined ? defaultPort! : portValue(portText),
    };
  }
  const colons = s.split(":").length - 1;
  if (colons > 1) {
    // A bare IPv6 address: a port would be ambiguous without brackets.
    if (defaultPort === undefined) {
      throw new ValueError(`"${s}": write IPv6 with a port as "[address]:port"`);
    }
    return { family: 6, host: formatIPv6(ipv6Value(s)), port: defaultPort };
  }
  if (colons === 1) [host, portText] = s.split(":");
  else host = s;
  const addr = formatIPv4(ipv4Value(host));
  if (portText === undefined && defaultPort === undefined) {
    throw new ValueError(`"${s}" needs a port, like "${addr}:8064"`);
  }
  return {
    family: 4,
    host: addr,
    port: portText === undefined ? defaultPort! : portValue(portText),
  };
}

function splitTransport(s: string): [string, number] {
  const hash = s.lastIndexOf("#");
  if (hash < 0) throw new ValueError(`"${s}" is not a transport address like "192.0.2.2#2000"`);
  return [s.slice(0, hash), portValue(s.slice(hash + 1))];
}

export function transport4Value(s: string): TransportAddr4 {
  const [a, port] = splitTransport(s);
  return { addr: ipv4Value(a), port };
}

export function transport6Value(s: string): TransportAddr6 {
  const [a, port] = splitTransport(s);
  return { addr: ipv6Value(a), port };
}

/** An ACL element; `families` limits which address families it may name. */
export function aclValue(s: string, families: 4 | 6 | 46): AclEntry {
  const allow = !s.startsWith("!");
  const body = allow ? s : s.slice(1);
  if (body === "any") return { allow, kind: "any" };
  if (body.includes(":")) {
    if (families === 4) throw new ValueError(`"${s}": only IPv4 prefixes are allowed here`);
    return { allow, kind: "v6", prefix: prefix6Value(body) };
  }
  if (families === 6) throw new ValueError(`"${s}": only IPv6 prefixes are allowed here`);
  return { allow, kind: "v4", prefix: prefix4Value(body) };
}

/** Linux interface name: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace. */
export function interfaceNameValue(s: string): string {
  if (s.length === 0 || s.length > 15) {
    throw new ValueError(`interface name "${s}" must be 1 to 15 characters long`);
  }
  if (/[\s/:]/.test(s) || s === "." || s === "..") {
    throw new ValueError(`interface name "${s}" may not contain '/', ':' or whitespace`);
  }
  return s;
}

/** IPv4 or IPv6 address in canonical text form. */
export function ipAddrValue(s: string): string {
  return s.includes(":") ? formatIPv6(ipv6Value(s)) : formatIPv4(ipv4Value(s));
}

/** A domain name in presentation form, lower-cased, without the trailing dot. */
export function domainNameValue(s: string): string {
  const name = s.toLowerCase().replace(/\.$/, "");
  if (name.length === 0 || name.length > 253) {
    throw new ValueError(`"${s}" is not a domain name (1 to 253 characters)`);
  }
  for (const label of name.split(".")) {
    if (label.length === 0 || label.length > 63 || !/^[a-z0-9_-]+$/.test(label)) {
      throw new ValueError(`"${s}" is not a domain name (bad label "${label}")`);
    }
  }
  return name;
}
