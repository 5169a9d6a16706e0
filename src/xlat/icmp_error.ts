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
import { copyBytes, put16, put32 } from "./bytes.ts";

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

/** An output slot for an error the rate limit lets through (RFC 4443 2.4 (f), RFC 1812
 *  4.3.2.8; a suppressed one is counted), or -1. */
function reserveError(x: XlatContext, out: PacketBatch, now: number, v6: boolean): number {
  if (!x.takeIcmpToken(now)) {
    x.stats.suppressed(DROP.icmp_error_rate, v6);
    return -1;
  }
  return out.reserve();
}

/** An ICMP or ICMPv6 header (RFC 792, RFC 4443 2.1) at o[p..p+8), its checksum zero until
 *  the message is summed. `rest`: bytes 4-7 (MTU, pointer, RFC 4884 length). */
export function putIcmpHeader(
  o: Uint8Array,
  p: number,
  type: number,
  code: number,
  rest: number,
): void {
  o[p] = type;
  o[p + 1] = code;
  o[p + 2] = 0;
  o[p + 3] = 0;
  put32(o, p + 4, rest);
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
  const slot = reserveError(x, out, now, false);
  if (slot < 0) return false;
  const o = out.slots[slot];
  const quoted = Math.min(i.totalLen, ICMP4_ERROR_MAX - 28);
  const total = 28 + quoted;
  o[0] = 0x45;
  o[1] = 0xc0; // RFC 1812 4.3.2.5: Internetwork Control precedence for ICMP errors
  put16(o, 2, total);
  put16(o, 4, x.nextIpId());
  o[6] = 0;
  o[7] = 0;
  o[8] = 64;
  o[9] = IPPROTO.ICMP;
  o[10] = 0;
  o[11] = 0;
  put32(o, 12, x.icmpSrc4);
  copyBytes(o, 16, b, i.off + 12, 4);
  put16(o, 10, checksum(o, 0, 20));
  putIcmpHeader(o, 20, type, code, rest);
  copyBytes(o, 28, b, i.off, quoted);
  put16(o, 22, checksum(o, 20, 8 + quoted));
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
  const slot = reserveError(x, out, now, true);
  if (slot < 0) return false;
  const o = out.slots[slot];
  const quoted = Math.min(40 + i.payloadLen, ICMP6_ERROR_MAX - 48);
  const plen = 8 + quoted;
  o[0] = 0x60;
  o[1] = 0;
  o[2] = 0;
  o[3] = 0;
  put16(o, 4, plen);
  o[6] = IPPROTO.ICMPV6;
  o[7] = 64;
  copyBytes(o, 8, x.icmpSrc6, 0, 16);
  copyBytes(o, 24, b, i.off + 8, 16);
  putIcmpHeader(o, 40, type, code, rest);
  copyBytes(o, 48, b, i.off, quoted);
  put16(o, 42, checksum(o, 40, plen, pseudo6(o, 8, 24, IPPROTO.ICMPV6, plen)));
  out.commit(40 + plen);
  x.stats.v[SLOT.icmpErrorsSent]++;
  return true;
}
