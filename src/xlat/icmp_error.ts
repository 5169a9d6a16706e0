// ICMP errors the translator originates back toward a packet's source (RFC 7915 4.4, 5.4):
// Time Exceeded, Fragmentation Needed / Packet Too Big, Parameter Problem, Source Route
// Failed. They leave through the same TUN device as translations.
import { checksum, pseudo6 } from "../packet/checksum.ts";
import type { PacketBatch } from "../packet/batch.ts";
import type { Ipv4Info } from "../packet/ipv4.ts";
import type { Ipv6Info } from "../packet/ipv6.ts";
import { IPPROTO, isIcmp4Error, isIcmp6Error } from "../packet/proto.ts";
import { DROP, SLOT } from "./stats.ts";
import type { XlatContext } from "./context.ts";
import { copyBytes } from "./bytes.ts";

/** RFC 1812 4.3.2.3: an ICMPv4 error carries as much of the original as fits 576 bytes. */
export const ICMP4_ERROR_MAX = 576;
/** RFC 4443 2.4 (c): an ICMPv6 error must not exceed the minimum IPv6 MTU. */
export const ICMP6_ERROR_MAX = 1280;

/**
 * RFC 1812 4.3.2.7: no ICMP error about an ICMP error, a non-first fragment, or a packet
 * whose source is not a unique host (0/8, 127/8, multicast, 240/4, broadcast) or whose
 * destination is multicast or broadcast.
 */
export function mayAnswer4(b: Uint8Array, i: Ipv4Info): boolean {
  if (i.fragOffset !== 0) return false;
  if (i.proto === IPPROTO.ICMP && (i.l4Len < 1 || isIcmp4Error(b[i.l4Off]))) return false;
  const s = i.src >>> 24, d = i.dst >>> 24;
  if (s === 0 || s === 127 || s >= 224) return false;
  return d < 224;
}

/**
 * RFC 4443 2.4 (e): no ICMPv6 error about an ICMPv6 error, a packet from the unspecified
 * or a multicast address, or (except Packet Too Big) a packet sent to multicast.
 */
export function mayAnswer6(b: Uint8Array, i: Ipv6Info, isPtb: boolean): boolean {
  if (
    i.proto === IPPROTO.ICMPV6 && i.fragOffset === 0 &&
    (i.l4Len < 1 || isIcmp6Error(b[i.l4Off]))
  ) return false;
  const s = i.off + 8;
  if (b[s] === 0xff) return false;
  let zero = true;
  for (let k = 0; k < 16; k++) {
    if (b[s + k] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return false;
  return isPtb || b[i.off + 24] !== 0xff;
}

/**
 * Emits an ICMPv4 error (type, code, bytes 4-7 `rest`) about the IPv4 packet in `b`
 * parsed into `i`, from the translator's ICMPv4 source to the packet's source.
 * Returns true when emitted.
 */
export function sendIcmp4Error(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv4Info,
  type: number,
  code: number,
  rest: number,
  out: PacketBatch,
  now: number,
): boolean {
  if (!mayAnswer4(b, i)) return false;
  if (!x.takeIcmpToken(now)) {
    x.stats.suppressed(DROP.icmp_error_rate, false);
    return false;
  }
  const slot = out.reserve();
  if (slot < 0) return false;
  const o = out.slots[slot];
  const quoted = Math.min(i.totalLen, ICMP4_ERROR_MAX - 28);
  const total = 28 + quoted;
  o[0] = 0x45;
  o[1] = 0xc0; // RFC 1812 4.3.2.5: Internetwork Control precedence for ICMP errors
  o[2] = total >> 8;
  o[3] = total & 255;
  const id = x.nextIpId();
  o[4] = id >> 8;
  o[5] = id & 255;
  o[6] = 0;
  o[7] = 0;
  o[8] = 64;
  o[9] = IPPROTO.ICMP;
  o[10] = 0;
  o[11] = 0;
  const s = x.icmpSrc4;
  o[12] = s >>> 24;
  o[13] = (s >>> 16) & 255;
  o[14] = (s >>> 8) & 255;
  o[15] = s & 255;
  copyBytes(o, 16, b, i.off + 12, 4);
  const hc = checksum(o, 0, 20);
  o[10] = hc >> 8;
  o[11] = hc & 255;
  o[20] = type;
  o[21] = code;
  o[22] = 0;
  o[23] = 0;
  o[24] = rest >>> 24;
  o[25] = (rest >>> 16) & 255;
  o[26] = (rest >>> 8) & 255;
  o[27] = rest & 255;
  copyBytes(o, 28, b, i.off, quoted);
  const c = checksum(o, 20, 8 + quoted);
  o[22] = c >> 8;
  o[23] = c & 255;
  out.commit(total);
  x.stats.v[SLOT.icmpErrorsSent]++;
  return true;
}

/**
 * Emits an ICMPv6 error about the IPv6 packet in `b` parsed into `i`, from the
 * translator's ICMPv6 source to the packet's source. Returns true when emitted.
 */
export function sendIcmp6Error(
  x: XlatContext,
  b: Uint8Array,
  i: Ipv6Info,
  type: number,
  code: number,
  rest: number,
  out: PacketBatch,
  now: number,
): boolean {
  if (!mayAnswer6(b, i, type === 2)) return false;
  if (!x.takeIcmpToken(now)) {
    x.stats.suppressed(DROP.icmp_error_rate, true);
    return false;
  }
  const slot = out.reserve();
  if (slot < 0) return false;
  const o = out.slots[slot];
  const quoted = Math.min(40 + i.payloadLen, ICMP6_ERROR_MAX - 48);
  const plen = 8 + quoted;
  o[0] = 0x60;
  o[1] = 0;
  o[2] = 0;
  o[3] = 0;
  o[4] = plen >> 8;
  o[5] = plen & 255;
  o[6] = IPPROTO.ICMPV6;
  o[7] = 64;
  copyBytes(o, 8, x.icmpSrc6, 0, 16);
  copyBytes(o, 24, b, i.off + 8, 16);
  o[40] = type;
  o[41] = code;
  o[42] = 0;
  o[43] = 0;
  o[44] = rest >>> 24;
  o[45] = (rest >>> 16) & 255;
  o[46] = (rest >>> 8) & 255;
  o[47] = rest & 255;
  copyBytes(o, 48, b, i.off, quoted);
  const c = checksum(o, 40, plen, pseudo6(o, 8, 24, IPPROTO.ICMPV6, plen));
  o[42] = c >> 8;
  o[43] = c & 255;
  out.commit(40 + plen);
  x.stats.v[SLOT.icmpErrorsSent]++;
  return true;
}
