// One place that decides how an address crosses the translator: EAM first (RFC 7757:
// an EAM match takes precedence; the RFC 6052 algorithm is the fallback), then the
// RFC 6052 prefix, with the denylist and the Well-Known Prefix rule (RFC 6052 3.1)
// applied to the RFC 6052 path only: an explicit mapping is the operator's deliberate
// choice.
//
// Result convention (no allocation, one number):
//   map4to6 returns 0 on success (16 bytes written at out[off]) or a DROP index from
//     src/xlat/stats.ts (> 0 for every reason used here, so `if (r !== 0) drop(r)`).
//   map6to4 returns the IPv4 address (uint32, >= 0) on success, or -(1 + DROP index)
//     on failure: `if (r < 0) drop(-r - 1)`.
// Reasons: untranslatable_src / untranslatable_dst (no EAM and no pool6, or not under
// pool6), denylisted, wkp_non_global.
import type { Prefix6 } from "./ip.ts";
import type { EamHairpinMode } from "../xlat/options.ts";
import { DROP } from "../xlat/stats.ts";
import { Denylist4 } from "./denylist.ts";
import { EamTable } from "./eam.ts";
import { assertPool6, embed4, extract4 } from "./rfc6052.ts";
import { isGlobal4, isWkp } from "./special.ts";

/**
 * Flag for map4to6/map6to4: skip the EAM table (RFC 7757 4.2 hairpinning). Same value
 * as AX_NO_EAM in src/xlat/addr_xlat.ts.
 */
export const NO_EAM = 4;
/** Flag: skip the denylist (Jool does so for the source of an ICMP error it translates). */
export const NO_DENYLIST = 8;
/** src/xlat/addr_xlat.ts AX_ICMP_ERROR: the outer packet is an ICMP error. */
const AX_ICMP_ERROR = 2;

/** How the last successful call translated (AddressMapper.via). */
export const VIA_EAM = 1;
export const VIA_RFC6052 = 2;

/** Decode a map6to4 result into a DROP index, or -1 when it is an address. */
export const dropOf64 = (r: number): number => (r < 0 ? -r - 1 : -1);

export class AddressMapper {
  readonly pool6: Prefix6 | null;
  readonly eam: EamTable;
  readonly denylist: Denylist4;
  readonly wkpStrict: boolean;
  readonly hairpinMode: EamHairpinMode;
  /** hairpinMode === "intrinsic", as a boolean for the per-packet checks. */
  readonly intrinsicHairpin: boolean;
  readonly #simpleHairpin: boolean;
  /** VIA_EAM or VIA_RFC6052 after a successful call; 0 after a failed one. */
  via = 0;
  readonly #wkpCheck: boolean;
  /** An empty EAM table is not probed at all (the common NAT64-prefix-only setup). */
  readonly #hasEam: boolean;
  /** map6to4's result as int32 bits. */
  #bits4 = 0;
  /** pool6 is a /96: its first three words as int32, for a word-wise extract. */
  readonly #pool96: boolean;
  readonly #w0: number;
  readonly #w1: number;
  readonly #w2: number;

  /** Throws AddressError if pool6 is not a valid RFC 6052 prefix. */
  constructor(
    pool6: Prefix6 | null,
    eam: EamTable = new EamTable(),
    denylist: Denylist4 = new Denylist4(),
    wkpStrict = true,
    hairpinMode: EamHairpinMode = "intrinsic",
  ) {
    if (pool6) assertPool6(pool6);
    this.pool6 = pool6;
    this.eam = eam;
    this.denylist = denylist;
    this.wkpStrict = wkpStrict;
    this.hairpinMode = hairpinMode;
    this.intrinsicHairpin = hairpinMode === "intrinsic";
    this.#simpleHairpin = hairpinMode === "simple";
    this.#wkpCheck = wkpStrict && pool6 !== null && isWkp(pool6);
    this.#hasEam = eam.size > 0;
    this.#pool96 = pool6 !== null && pool6.len === 96;
    const a = pool6 ? pool6.addr : new Uint8Array(16);
    this.#w0 = readInt(a, 0);
    this.#w1 = readInt(a, 4);
    this.#w2 = readInt(a, 8);
  }

  /** IPv4 -> IPv6. Returns 0 or a DROP index (see the module comment). `v4`: uint32, or
   *  the same 32 bits as int32 (what the translator passes: never boxed by V8). */
  map4to6(v4: number, out: Uint8Array, off: number, isSource: boolean, flags = 0): number {
    this.via = 0;
    if (
      this.#hasEam && (flags & NO_EAM) === 0 && this.eam.near4(v4) &&
      this.eam.lookup4(v4, out, off)
    ) {
      this.via = VIA_EAM;
      return 0;
    }
    const p = this.pool6;
    if (p === null) return isSource ? DROP.untranslatable_src : DROP.untranslatable_dst;
    if ((flags & NO_DENYLIST) === 0 && this.denylist.has(v4)) return DROP.denylisted;
    // RFC 6052 3.1: "Address translators MUST NOT translate packets in which an address
    // is composed of the Well-Known Prefix and a non-global IPv4 address".
    if (this.#wkpCheck && !isGlobal4(v4)) return DROP.wkp_non_global;
    embed4(p, v4, out, off);
    this.via = VIA_RFC6052;
    return 0;
  }

  /** IPv6 -> IPv4. Returns the IPv4 address (>= 0) or -(1 + DROP index). */
  map6to4(b: Uint8Array, off: number, isSource: boolean, flags = 0): number {
    // Small enough to be inlined into the caller, so that the uint32 (a heap number in
    // V8 from 2^31 up) is never returned across a call; `| 0` keeps the merge below
    // numeric (a tagged call result merged with a uint32 would box it per packet).
    const r = this.#map6to4(b, off, isSource, flags) | 0;
    return r === 0 ? this.#bits4 >>> 0 : r;
  }

  /** map6to4's work: 0 with the address in #bits4 (int32 bits), or -(1 + DROP index). */
  #map6to4(b: Uint8Array, off: number, isSource: boolean, flags: number): number {
    this.via = 0;
    // The address is read once as words, for the EAM probe and the /96 prefix compare.
    const a0 = readInt(b, off), a1 = readInt(b, off + 4);
    const a2 = readInt(b, off + 8), a3 = readInt(b, off + 12);
    if (this.#hasEam && (flags & NO_EAM) === 0 && this.eam.near6(a0)) {
      const i = this.eam.find6w(a0, a1, a2, a3);
      if (i >= 0) {
        this.#bits4 = this.eam.ipv4Bits(i, a0, a1, a2, a3);
        this.via = VIA_EAM;
        return 0;
      }
    }
    const untranslatable = -1 - (isSource ? DROP.untranslatable_src : DROP.untranslatable_dst);
    const p = this.pool6;
    if (p === null) return untranslatable;
    let v4: number;
    if (this.#pool96) {
      // Word 2 holds the u-octet (RFC 6052 2.2), zero in the prefix (assertPool6).
      if (a0 !== this.#w0 || a1 !== this.#w1 || a2 !== this.#w2) return untranslatable;
      v4 = a3;
    } else {
      v4 = extract4(p, b, off);
      if (v4 < 0) return untranslatable;
      v4 |= 0;
    }
    if ((flags & NO_DENYLIST) === 0 && this.denylist.has(v4)) return -1 - DROP.denylisted;
    if (this.#wkpCheck && !isGlobal4(v4)) return -1 - DROP.wkp_non_global; // RFC 6052 3.1
    this.#bits4 = v4;
    this.via = VIA_RFC6052;
    return 0;
  }

  /**
   * The translator's AddrXlat interface (src/xlat/addr_xlat.ts): `flags` are its AX_*
   * bits. AX_NO_EAM skips EAM; AX_ICMP_ERROR with isSrc skips the denylist (the source
   * of an ICMP error is a router, which may sit in denied space); AX_INNER changes
   * nothing here.
   */
  v4to6(v4: number, o: Uint8Array, off: number, isSrc: boolean, flags: number): number {
    return this.map4to6(v4, o, off, isSrc, axFlags(isSrc, flags));
  }

  v6to4(b: Uint8Array, off: number, isSrc: boolean, flags: number): number {
    return this.map6to4(b, off, isSrc, axFlags(isSrc, flags));
  }

  isEam4(v4: number): boolean {
    return this.#hasEam && this.eam.near4(v4) && this.eam.contains4(v4);
  }

  /**
   * Intrinsic hairpinning (RFC 7757 4.2.2, Jool's eam-hairpin-mode "intrinsic"): does
   * this IPv6 address reach, through the RFC 6052 prefix, an IPv4 address that an EAM
   * maps back into IPv6? Then the translated IPv4 packet is bound for an IPv6 node behind
   * this same translator and must be translated straight back to IPv6 (4->6 with the
   * hairpin rules below) instead of being sent out on the IPv4 side.
   * The translator asks this of the outer destination of packets that are not ICMPv6
   * errors, and of the inner source of ICMPv6 errors. Always false in other modes.
   */
  isHairpin64(b: Uint8Array, off: number): boolean {
    const p = this.pool6;
    if (!this.intrinsicHairpin || p === null || !this.#hasEam) return false;
    if (this.eam.contains6(b, off)) return false; // EAM-translated, not via RFC 6052
    const v4 = extract4(p, b, off);
    return v4 >= 0 && this.eam.contains4(v4);
  }

  /**
   * Is this IPv4->IPv6 translation a hairpin one? "simple" (RFC 7757 4.2.1): every
   * IPv4 packet is treated so, which amounts to "an IPv4 source covered by an EAM is an
   * IPv6 node of ours whose packet came back round, so translate it with RFC 6052";
   * "intrinsic": only packets isHairpin64 marked; "off": never (EAM hairpinning then
   * breaks: the receiving IPv6 node sees the sender's own IPv6 address as source and
   * answers it directly, bypassing the prefix the sender used).
   * When true the translator maps with NO_EAM: the outer source (for an ICMPv4 error,
   * only when its outer source equals its inner destination) and the inner destination.
   * The outer destination and the inner source still use EAM.
   */
  isHairpin46(markedIntrinsic: boolean): boolean {
    return this.#simpleHairpin || (this.intrinsicHairpin && markedIntrinsic);
  }
}

const readInt = (b: Uint8Array, o: number): number =>
  (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

const axFlags = (isSrc: boolean, flags: number): number =>
  (flags & NO_EAM) | (isSrc && (flags & AX_ICMP_ERROR) !== 0 ? NO_DENYLIST : 0);
