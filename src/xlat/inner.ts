// The packet inside an ICMP error (RFC 7915 4.3, 5.3): translated like an outer packet
// (addresses, header, L4 checksum) but without TTL/Hop Limit decrement, usually cut
// short, and never itself an ICMP error.
import { adjust, fold, pseudo6, sum16 } from "../packet/checksum.ts";
import { parseIpv4 } from "../packet/ipv4.ts";
import { parseIpv6 } from "../packet/ipv6.ts";
import { IPPROTO, isIcmp4Error, isIcmp6Error } from "../packet/proto.ts";
import { icmpInfo4to6, icmpInfo6to4 } from "./icmp_map.ts";
import { DROP } from "./stats.ts";
import { AX_INNER, AX_NO_EAM } from "./addr_xlat.ts";
import type { XlatContext } from "./context.ts";
import { copyBytes, get16, put16, put32 } from "./bytes.ts";
import { setIpv4HeaderChecksum } from "../packet/ipv4.ts";

/** Encodes a drop reason as a negative result. */
export const fail = (reason: number): number => -1 - reason;

/**
 * RFC 7915 4.3: translates the IPv4 packet quoted at b[off..off+len) into IPv6 at
 * o[oOff..), writing at most `max` bytes. Returns the bytes written or fail(reason).
 */
export function innerV4toV6(
  x: XlatContext,
  b: Uint8Array,
  off: number,
  len: number,
  o: Uint8Array,
  oOff: number,
  max: number,
): number {
  const i = x.inner4;
  let r = parseIpv4(b, len, i, off, true);
  if (r !== 0) return fail(r);
  const proto = i.proto;
  const first = i.fragOffset === 0;
  if (proto === IPPROTO.ICMP && first && i.l4Len >= 1 && isIcmp4Error(b[i.l4Off])) {
    return fail(DROP.unsupported_icmp); // an error about an error is never sent (RFC 1812)
  }
  r = x.addr.v4to6(i.src, o, oOff + 8, true, AX_INNER);
  if (r !== 0) return fail(r);
  // RFC 7757 4.2: the inner destination of a hairpinned error is the hairpinning node.
  r = x.addr.v4to6(i.dst, o, oOff + 24, false, AX_INNER | (x.hairpin ? AX_NO_EAM : 0));
  if (r !== 0) return fail(r);

  const frag = i.isFragment;
  const hl = frag ? 48 : 40;
  const nh = proto === IPPROTO.ICMP ? IPPROTO.ICMPV6 : proto;
  const tc = x.opts.resetTrafficClass ? 0 : i.tos;
  o[oOff] = 0x60 | (tc >> 4);
  o[oOff + 1] = (tc & 15) << 4;
  o[oOff + 2] = 0;
  o[oOff + 3] = 0;
  put16(o, oOff + 4, (i.totalLen - i.hdrLen + (frag ? 8 : 0)) & 0xffff);
  o[oOff + 6] = frag ? IPPROTO.FRAGMENT : nh;
  o[oOff + 7] = i.ttl;
  if (frag) {
    const f = oOff + 40;
    o[f] = nh;
    o[f + 1] = 0;
    put16(o, f + 2, i.fragOffset | (i.mf ? 1 : 0));
    o[f + 4] = 0;
    o[f + 5] = 0;
    put16(o, f + 6, i.id);
  }
  const avail = Math.min(i.l4Len, max - hl);
  if (avail < 0) return fail(DROP.truncated);
  const p = oOff + hl;
  copyBytes(o, p, b, i.l4Off, avail);
  if (!first) return hl + avail;

  if (proto === IPPROTO.TCP || proto === IPPROTO.UDP) {
    adjustL4Checksum(o, p, avail, proto, sum16(b, i.off + 12, 8), sum16(o, oOff + 8, 32));
  } else if (proto === IPPROTO.ICMP && avail >= 4) {
    const t = o[p];
    const nt = icmpInfo4to6(t) >> 8;
    if (nt < 0) return fail(DROP.unsupported_icmp);
    o[p] = nt;
    const icmpLen = i.totalLen - i.hdrLen;
    const newSum = fold(
      (nt << 8) + o[p + 1] + pseudo6(o, oOff + 8, oOff + 24, IPPROTO.ICMPV6, icmpLen),
    );
    put16(o, p + 2, adjust(get16(o, p + 2), (t << 8) + o[p + 1], newSum));
  }
  return hl + avail;
}

/**
 * RFC 7915 5.3: translates the IPv6 packet quoted at b[off..off+len) into IPv4 at
 * o[oOff..), writing at most `max` bytes. Returns the bytes written or fail(reason).
 */
export function innerV6toV4(
  x: XlatContext,
  b: Uint8Array,
  off: number,
  len: number,
  o: Uint8Array,
  oOff: number,
  max: number,
): number {
  const i = x.inner6;
  const r = parseIpv6(b, len, i, off, true);
  if (r !== 0) return fail(r);
  const proto = i.proto;
  const first = i.fragOffset === 0;
  if (proto === IPPROTO.ICMPV6 && first && i.l4Len >= 1 && isIcmp6Error(b[i.l4Off])) {
    return fail(DROP.unsupported_icmp);
  }
  const s = x.addr.v6to4(b, i.off + 8, true, AX_INNER);
  if (s < 0) return s;
  const d = x.addr.v6to4(b, i.off + 24, false, AX_INNER);
  if (d < 0) return d;
  const l4Total = i.payloadLen - i.extLen;
  if (l4Total < 0) return fail(DROP.bad_header);
  const totalLen = 20 + l4Total;
  const frag = i.fragOff >= 0;

  o[oOff] = 0x45;
  o[oOff + 1] = x.opts.resetTos ? x.opts.newTos : i.tc;
  put16(o, oOff + 2, totalLen & 0xffff);
  put16(o, oOff + 4, frag ? i.fragId & 0xffff : 0);
  put16(
    o,
    oOff + 6,
    frag ? (i.mf ? 0x2000 : 0) | (i.fragOffset >> 3) : totalLen > 1260 ? 0x4000 : 0,
  );
  o[oOff + 8] = i.hopLimit;
  o[oOff + 9] = proto === IPPROTO.ICMPV6 ? IPPROTO.ICMP : proto;
  put32(o, oOff + 12, s);
  put32(o, oOff + 16, d);
  setIpv4HeaderChecksum(o, oOff, 20);

  const avail = Math.min(i.l4Len, max - 20);
  if (avail < 0) return fail(DROP.truncated);
  const p = oOff + 20;
  copyBytes(o, p, b, i.l4Off, avail);
  if (!first) return 20 + avail;

  if (proto === IPPROTO.TCP || proto === IPPROTO.UDP) {
    adjustL4Checksum(o, p, avail, proto, sum16(b, i.off + 8, 32), sum16(o, oOff + 12, 8));
  } else if (proto === IPPROTO.ICMPV6 && avail >= 4) {
    const t = o[p];
    const nt = icmpInfo6to4(t) >> 8;
    if (nt < 0) return fail(DROP.unsupported_icmp);
    o[p] = nt;
    const oldSum = fold(
      (t << 8) + o[p + 1] + pseudo6(b, i.off + 8, i.off + 24, IPPROTO.ICMPV6, l4Total),
    );
    put16(o, p + 2, adjust(get16(o, p + 2), oldSum, (nt << 8) + o[p + 1]));
  }
  return 20 + avail;
}

/**
 * RFC 7915 4.5/5.5 for a quoted TCP/UDP header at o[p..p+avail): its checksum, when quoted
 * and not a zero (absent) UDP one, updated for the new pseudo-header addresses (RFC 1624).
 */
function adjustL4Checksum(
  o: Uint8Array,
  p: number,
  avail: number,
  proto: number,
  oldAddrSum: number,
  newAddrSum: number,
): void {
  const udp = proto === IPPROTO.UDP;
  const co = p + (udp ? 6 : 16);
  if (avail < co - p + 2) return;
  const old = get16(o, co);
  if (udp && old === 0) return;
  const c = adjust(old, oldAddrSum, newAddrSum);
  put16(o, co, c === 0 && udp ? 0xffff : c);
}
