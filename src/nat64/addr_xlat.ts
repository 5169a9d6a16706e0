// RFC 6146 3.6/3.7: the translator's address mapping during one NAT64 translation. The
// IPv6 host's side comes from the session (its IPv4 form is the BIB's pool4 address, its
// IPv6 address is the BIB's); the remote side is stateless RFC 6052 (pool6).
// "Host side": 6->4 outer source and inner destination, 4->6 outer destination and
// inner source (RFC 6146 3.4: an ICMP error's tuple is its inner packet's, reversed).
// An ICMPv6 error from a router on the IPv6 side thus leaves from the NAT64's own pool4
// address, as the router has no IPv4 form.
import { AddressMapper } from "../addr/mapper.ts";
import { Denylist4 } from "../addr/denylist.ts";
import { EamTable } from "../addr/eam.ts";
import type { Prefix4, Prefix6 } from "../addr/ip.ts";
import { AX_INNER } from "../xlat/addr_xlat.ts";

export class Nat64Mapper extends AddressMapper {
  /** 6->4: the IPv4 address the host's side becomes (the BIB's pool4 address). */
  local4 = 0;
  /** 4->6: the IPv6 address the host's side becomes (the BIB's IPv6 address). */
  readonly host6 = new Uint8Array(16);

  constructor(pool6: Prefix6, denylist4: readonly Prefix4[], wkpStrict: boolean) {
    super(pool6, new EamTable(), new Denylist4(denylist4), wkpStrict, "off");
  }

  override v6to4(b: Uint8Array, off: number, isSrc: boolean, flags: number): number {
    const host = (flags & AX_INNER) !== 0 ? !isSrc : isSrc;
    return host ? this.local4 : super.v6to4(b, off, isSrc, flags);
  }

  override v4to6(v4: number, o: Uint8Array, off: number, isSrc: boolean, flags: number): number {
    const host = (flags & AX_INNER) !== 0 ? isSrc : !isSrc;
    if (!host) return super.v4to6(v4, o, off, isSrc, flags);
    o.set(this.host6, off);
    return 0;
  }

  /** NAT64 hairpinning is RFC 6146 3.8's, done by the engine; RFC 7757's never applies. */
  override isHairpin64(): boolean {
    return false;
  }
  override isHairpin46(): boolean {
    return false;
  }
  override isEam4(): boolean {
    return false;
  }

  /** Loads host6 from the four words of a Host. */
  setHost6(a0: number, a1: number, a2: number, a3: number): void {
    const h = this.host6;
    h[0] = a0 >>> 24, h[1] = (a0 >>> 16) & 255, h[2] = (a0 >>> 8) & 255, h[3] = a0 & 255;
    h[4] = a1 >>> 24, h[5] = (a1 >>> 16) & 255, h[6] = (a1 >>> 8) & 255, h[7] = a1 & 255;
    h[8] = a2 >>> 24, h[9] = (a2 >>> 16) & 255, h[10] = (a2 >>> 8) & 255, h[11] = a2 & 255;
    h[12] = a3 >>> 24, h[13] = (a3 >>> 16) & 255, h[14] = (a3 >>> 8) & 255, h[15] = a3 & 255;
  }
}
