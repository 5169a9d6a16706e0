// What the translator asks of address mapping, per address it rewrites. The flags say
// where the address sits, because RFC 7757 hairpinning and RFC 6791 pools depend on it.

/** The address is in the packet inside an ICMP error. */
export const AX_INNER = 1;
/** The outer packet is an ICMP error (denylist not applied to its source; RFC 6791 pool). */
export const AX_ICMP_ERROR = 2;
/** The packet is being hairpinned (RFC 7757 4.2): EAM is skipped for this address. */
export const AX_NO_EAM = 4;

export interface AddrXlat {
  /** 4->6: writes the IPv6 form of `v4` to o[off..off+16]; returns 0 or a DROP reason.
   *  `v4` is the address's 32 bits, as uint32 or as int32: the translator passes int32
   *  (`| 0`), which V8 never boxes; a uint32 from 2^31 up would be a heap number per call. */
  v4to6(v4: number, o: Uint8Array, off: number, isSrc: boolean, flags: number): number;
  /** 6->4: the IPv4 form (uint32) of b[off..off+16], or -1 - (DROP reason). */
  v6to4(b: Uint8Array, off: number, isSrc: boolean, flags: number): number;
  /** RFC 7757: is this IPv4 address (uint32 or int32 bits) the IPv4 side of an EAM entry
   *  (hairpin candidate)? */
  isEam4(v4: number): boolean;
}
