// What the CLAT engine needs (RFC 6877), from [clat], [translator] and [nat64]; plain data
// so it crosses to the data-path workers.
import {
  contains4,
  contains6,
  parseIPv6,
  type Prefix4,
  prefix4,
  type Prefix6,
  prefix6,
} from "../addr/ip.ts";
import type { Config } from "../config/types.ts";
import { toXlatOptions } from "../config/xlat.ts";
import { type Nat64Options, nat64Options } from "../nat64/options.ts";
import type { EamEntry, XlatOptions } from "../xlat/options.ts";

export interface ClatOptions {
  /** The CLAT's own IPv4 address (RFC 7335: from 192.0.0.0/29). */
  readonly ipv4Address: number;
  /** Dedicated prefix (RFC 6877 6.3), normally a /64; null: single-address mode. */
  readonly translationPrefix: Prefix6 | null;
  /** Single-address mode: the one IPv6 address IPv4 traffic leaves from. */
  readonly ipv6Address: Uint8Array | null;
  /** Dedicated mode: the IPv4 LAN prefixes mapped into the translation prefix. */
  readonly lan4: readonly Prefix4[];
  /** Single-address mode: the NAT44 (timeouts and limits; pool4 is set by the engine). */
  readonly nat44: Nat64Options;
  /** Clamp the MSS of SYNs to this (0: off). */
  readonly mssClamp: number;
}

/** XlatOptions (pool6 = the PLAT prefix, eam = bypass mappings) plus [clat]. */
export type ClatEngineOptions = XlatOptions & { readonly clat: ClatOptions };

/** Ports the NAT44 hands out on the CLAT IPv4 address (all but the well-known ones). */
export const NAT44_PORTS = { min: 1024, max: 65535 } as const;

/**
 * Where an IPv4 LAN prefix sits in the translation prefix: its address in the low 32 bits
 * (the mapping is one-to-one and leaves room for any LAN prefixes, RFC 6877 6.3).
 */
export function lanEam(lan: Prefix4, tp: Prefix6): EamEntry {
  const a = new Uint8Array(16);
  a.set(tp.addr.subarray(0, 12));
  a[12] = lan.addr >>> 24;
  a[13] = (lan.addr >>> 16) & 255;
  a[14] = (lan.addr >>> 8) & 255;
  a[15] = lan.addr & 255;
  return { ipv4: lan, ipv6: prefix6(a, 96 + lan.len) };
}

/**
 * The LAN prefixes of dedicated mode: configured, else the /29 of the CLAT address; the
 * CLAT address itself always (the host's own IPv4 traffic leaves from it).
 */
export function lanPrefixes(cfg: Config): Prefix4[] {
  const c = cfg.clat;
  if (c.lan.length === 0) return [prefix4((c.ipv4Address & 0xfffffff8) >>> 0, 29)];
  const own = c.lan.some((p) => contains4(p, c.ipv4Address));
  return own ? [...c.lan] : [...c.lan, prefix4(c.ipv4Address, 32)];
}

/**
 * The IPv4 MTU of the CLAT's side: the IPv6 MTU minus 20 (header growth), minus 8 more
 * for the fragment header packets without DF need (RFC 6145/7915 4; RFC 8683 4.8).
 */
export const clatIpv4Mtu = (ipv6Mtu: number): number => ipv6Mtu - 28;

export function toClatEngineOptions(cfg: Config, plat: Prefix6 | null = null): ClatEngineOptions {
  const x = toXlatOptions(cfg);
  const c = cfg.clat;
  return {
    ...x,
    pool6: plat ?? x.pool6,
    // The LAN side holds real IPv4 hosts: RFC 7757 hairpinning never applies.
    eamHairpinMode: "off",
    clat: {
      ipv4Address: c.ipv4Address,
      translationPrefix: c.translationPrefix,
      ipv6Address: c.ipv6Address,
      lan4: lanPrefixes(cfg),
      nat44: nat64Options(cfg.nat64),
      mssClamp: c.mssClamp || x.ipv6Mtu - 60,
    },
  };
}

/**
 * Why the CLAT's IPv6 side would collide with the host's own addresses (the kernel would
 * deliver the return traffic locally instead of to the TUN), or null.
 */
export function clatCollision(
  cfg: Config,
  addrs: readonly { readonly name: string; readonly address: string; readonly family: string }[],
): string | null {
  const c = cfg.clat;
  for (const a of addrs) {
    if (a.family !== "IPv6") continue;
    let v: Uint8Array;
    try {
      v = parseIPv6(a.address.replace(/%.*$/, ""));
    } catch {
      continue;
    }
    if (c.ipv6Address && v.every((x, i) => x === c.ipv6Address![i])) {
      return `clat.ipv6-address ${a.address} is already an address of ${a.name}; ` +
        "pick one the host does not use (it must reach xlat64, not the host)";
    }
    if (c.translationPrefix && contains6(c.translationPrefix, v)) {
      return `clat.translation-prefix contains ${a.address} of ${a.name}; the dedicated prefix ` +
        "must not hold the host's own addresses (RFC 6877 6.3)";
    }
  }
  return null;
}
