// What the stateless translator needs to know, already parsed and validated
// (src/config maps the TOML [translator] section onto this).
import type { Prefix4, Prefix6 } from "../addr/ip.ts";

export type EamHairpinMode = "off" | "simple" | "intrinsic";

export interface EamEntry {
  readonly ipv4: Prefix4;
  readonly ipv6: Prefix6;
}

export interface XlatOptions {
  /** RFC 6052 translation prefix (lengths 32, 40, 48, 56, 64, 96); null: EAM-only SIIT. */
  readonly pool6: Prefix6 | null;
  /** RFC 7757 Explicit Address Mappings. */
  readonly eam: readonly EamEntry[];
  readonly eamHairpinMode: EamHairpinMode;
  /** IPv4 prefixes never translated, on top of the built-in list (0/8, 127/8, ...). */
  readonly denylist4: readonly Prefix4[];
  /** RFC 6052 3.1: no non-global IPv4 under 64:ff9b::/96. */
  readonly wkpStrict: boolean;
  /** RFC 7915 4: IPv4 packets without DF are fragmented to fit this IPv6 MTU. */
  readonly lowestIpv6Mtu: number;
  /** Next-hop MTUs of each side, for Packet Too Big / Fragmentation Needed generation. */
  readonly ipv4Mtu: number;
  readonly ipv6Mtu: number;
  /** RFC 1191 plateaus, used when an ICMPv4 Fragmentation Needed carries MTU 0. */
  readonly mtuPlateaus: readonly number[];
  /** RFC 7915 4.5: compute zero IPv4 UDP checksums (unfragmented packets only). */
  readonly amendUdpChecksumZero: boolean;
  /** RFC 7915 4.1/5.1: traffic class / TOS are copied unless reset. */
  readonly resetTrafficClass: boolean;
  readonly resetTos: boolean;
  readonly newTos: number;
  /** RFC 6791: source for ICMPv6 errors from untranslatable IPv6 sources. */
  readonly rfc6791v4: Prefix4 | null;
  /** Source for ICMPv4 errors from untranslatable IPv4 sources (the reverse case). */
  readonly rfc6791v6: Prefix6 | null;
  /** Pick RFC 6791 addresses at random rather than deterministically from the packet. */
  readonly rfc6791Randomize: boolean;
}
