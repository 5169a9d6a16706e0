// RFC 6146 3.7: after the RFC 7915 translation has put the session's addresses in, the
// host side's port (TCP/UDP) or ICMP identifier becomes the BIB's other side; checksums
// are updated incrementally (RFC 1624). In an ICMP error the inner packet's port changes
// and the error's own checksum is recomputed (it covers the inner packet).
import { adjust, checksum, pseudo6 } from "../packet/checksum.ts";
import { IPPROTO } from "../packet/proto.ts";

const rd16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 255;
}

/** Replaces the 16-bit field at `at` and fixes the checksum at `cs` (if inside `len`). */
function swap(o: Uint8Array, len: number, at: number, v: number, cs: number, udp: boolean) {
  if (at + 2 > len) return;
  const old = rd16(o, at);
  wr16(o, at, v);
  if (cs + 2 > len) return;
  const c = rd16(o, cs);
  if (udp && c === 0) return; // IPv4 "no checksum" stays so
  let n = adjust(c, old, v);
  if (udp && n === 0) n = 0xffff;
  wr16(o, cs, n);
}

/** Port / identifier of an L4 header at `l4` (proto as IPv4/IPv6 numbers). */
function swapL4(o: Uint8Array, len: number, l4: number, proto: number, dst: boolean, v: number) {
  if (proto === IPPROTO.TCP) swap(o, len, l4 + (dst ? 2 : 0), v, l4 + 16, false);
  else if (proto === IPPROTO.UDP) swap(o, len, l4 + (dst ? 2 : 0), v, l4 + 6, true);
  else if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
    swap(o, len, l4 + 4, v, l4 + 2, false);
  }
}

/** 6->4 result o[0..len): the source port (or identifier) becomes `port`. */
export function rewrite64(o: Uint8Array, len: number, port: number, error: boolean): void {
  if ((rd16(o, 6) & 0x1fff) !== 0) return; // later fragment: no L4 header
  const l4 = (o[0] & 15) << 2;
  if (!error) {
    swapL4(o, len, l4, o[9], false, port);
    return;
  }
  // ICMPv4 error: the inner packet went to the host, so its destination port changes.
  const inner = l4 + 8;
  if (inner + 20 > len) return;
  const il4 = inner + ((o[inner] & 15) << 2);
  swapL4(o, len, il4, o[inner + 9], true, port);
  wr16(o, l4 + 2, 0);
  wr16(o, l4 + 2, checksum(o, l4, len - l4));
}

/** 4->6 result o[0..len): the destination port (or identifier) becomes `port`. */
export function rewrite46(o: Uint8Array, len: number, port: number, error: boolean): void {
  let l4 = 40;
  let nh = o[6];
  if (nh === IPPROTO.FRAGMENT) {
    if ((rd16(o, 42) & 0xfff8) !== 0) return; // later fragment: no L4 header
    nh = o[40];
    l4 = 48;
  }
  if (!error) {
    swapL4(o, len, l4, nh, true, port);
    return;
  }
  // ICMPv6 error: the inner packet came from the host, so its source port changes.
  const inner = l4 + 8;
  if (inner + 40 > len) return;
  let il4 = inner + 40;
  let inh = o[inner + 6];
  if (inh === IPPROTO.FRAGMENT) {
    inh = o[il4];
    il4 += 8;
  }
  swapL4(o, len, il4, inh, false, port);
  const n = len - l4;
  wr16(o, l4 + 2, 0);
  wr16(o, l4 + 2, checksum(o, l4, n, pseudo6(o, 8, 24, IPPROTO.ICMPV6, n)));
}
