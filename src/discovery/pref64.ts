// RFC 8781 PREF64 Neighbor Discovery option and the Router Advertisement (RFC 4861 4.2)
// around it: only the header fields and the options we act on. Pure functions over bytes.
import { formatPrefix6, type Prefix6, prefix6 } from "../addr/ip.ts";

export const ICMP6_ROUTER_ADVERT = 134;
export const ND_OPT_SOURCE_LL = 1;
export const ND_OPT_MTU = 5;
export const ND_OPT_PREF64 = 38;
export const RA_HEADER_LEN = 16;
export const PREF64_OPTION_LEN = 16;
/** RFC 8781 4: 13-bit Scaled Lifetime in units of 8 seconds. */
export const MAX_SCALED_LIFETIME = 8191;
export const MAX_PREF64_LIFETIME_S = MAX_SCALED_LIFETIME * 8;

/** RFC 8781 4: PLC values 0..5 mean /96, /64, /56, /48, /40, /32. */
export const PLC_PREFIX_LENGTHS: readonly number[] = [96, 64, 56, 48, 40, 32];

export class Pref64Error extends Error {}

export interface Pref64 {
  readonly prefix: Prefix6;
  /** Seconds the prefix may be used; 0 withdraws it (RFC 8781 5). */
  readonly lifetimeS: number;
}

export function plcOf(len: number): number {
  const plc = PLC_PREFIX_LENGTHS.indexOf(len);
  if (plc < 0) {
    throw new Pref64Error(`prefix length ${len} has no PLC (RFC 8781 4: 96/64/56/48/40/32)`);
  }
  return plc;
}

/**
 * RFC 8781 4: a lifetime not divisible by 8 is rounded up to the next multiple of 8, then
 * divided by 8; lifetimes past the 13-bit field are clamped to 8191 (65528 s).
 */
export function scaleLifetime(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Pref64Error(`bad PREF64 lifetime ${seconds}`);
  }
  return Math.min(MAX_SCALED_LIFETIME, Math.ceil(seconds / 8));
}

/** Write the 16-byte PREF64 option for `p` at out[off..off+16]. */
export function encodePref64Option(p: Pref64, out: Uint8Array, off: number): number {
  const plc = plcOf(p.prefix.len);
  const sl = scaleLifetime(p.lifetimeS);
  out[off] = ND_OPT_PREF64;
  out[off + 1] = 2; // "The sender MUST set the length to 2"
  out[off + 2] = sl >> 5;
  out[off + 3] = ((sl & 0x1f) << 3) | plc;
  for (let i = 0; i < 12; i++) out[off + 4 + i] = p.prefix.addr[i];
  return off + PREF64_OPTION_LEN;
}

/**
 * Decode the PREF64 option at b[off..]. Throws Pref64Error for what RFC 8781 4 says the
 * receiver MUST ignore (Length not 2, PLC not 0..5) and for truncation. Bits past the
 * prefix length are cleared: only the first `len` bits are the prefix.
 */
export function decodePref64Option(b: Uint8Array, off: number): Pref64 {
  if (off + 2 > b.length) throw new Pref64Error("truncated PREF64 option");
  if (b[off] !== ND_OPT_PREF64) throw new Pref64Error(`option type ${b[off]} is not PREF64`);
  if (b[off + 1] !== 2) throw new Pref64Error(`PREF64 length ${b[off + 1]}, must be 2`);
  if (off + PREF64_OPTION_LEN > b.length) throw new Pref64Error("truncated PREF64 option");
  const field = (b[off + 2] << 8) | b[off + 3];
  const plc = field & 7;
  if (plc >= PLC_PREFIX_LENGTHS.length) throw new Pref64Error(`PREF64 PLC ${plc} is reserved`);
  const len = PLC_PREFIX_LENGTHS[plc];
  const addr = new Uint8Array(16);
  const full = len >> 3;
  for (let i = 0; i < full; i++) addr[i] = b[off + 4 + i];
  return { prefix: prefix6(addr, len), lifetimeS: (field >> 3) * 8 };
}

export interface RouterAdvert {
  curHopLimit: number;
  managed: boolean;
  other: boolean;
  /** Seconds; 0 means "not a default router" (RFC 4861 4.2). */
  routerLifetime: number;
  reachableTime: number;
  retransTimer: number;
  pref64: Pref64[];
  /** PREF64 options ignored as RFC 8781 4 requires, with the reason. */
  ignored: string[];
}

export class RaError extends Error {}

/**
 * Parse an ICMPv6 Router Advertisement (starting at the ICMPv6 type byte). Throws RaError
 * where RFC 4861 6.1.2 says to discard the whole message (code not 0, shorter than 16
 * octets, an option of length 0 or running past the end). Hop limit, source address and
 * checksum are the receiver's socket's job (the kernel verifies raw ICMPv6 checksums).
 */
export function parseRa(b: Uint8Array): RouterAdvert {
  if (b.length < RA_HEADER_LEN) throw new RaError(`RA of ${b.length} octets, need 16`);
  if (b[0] !== ICMP6_ROUTER_ADVERT) throw new RaError(`ICMPv6 type ${b[0]} is not an RA`);
  if (b[1] !== 0) throw new RaError(`RA with ICMP code ${b[1]}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ra: RouterAdvert = {
    curHopLimit: b[4],
    managed: (b[5] & 0x80) !== 0,
    other: (b[5] & 0x40) !== 0,
    routerLifetime: dv.getUint16(6),
    reachableTime: dv.getUint32(8),
    retransTimer: dv.getUint32(12),
    pref64: [],
    ignored: [],
  };
  let off = RA_HEADER_LEN;
  while (off < b.length) {
    if (off + 2 > b.length) throw new RaError(`truncated option at ${off}`);
    const len = b[off + 1] * 8;
    if (len === 0) throw new RaError(`option of length 0 at ${off}`);
    if (off + len > b.length) throw new RaError(`option at ${off} runs past the end`);
    if (b[off] === ND_OPT_PREF64) {
      try {
        ra.pref64.push(decodePref64Option(b.subarray(0, off + len), off));
      } catch (e) {
        if (!(e instanceof Pref64Error)) throw e;
        ra.ignored.push(`${e.message} at ${off}`);
      }
    }
    off += len;
  }
  return ra;
}

export interface RaSpec {
  pref64: readonly Pref64[];
  /** RFC 8781 is independent of default routing: announcing a prefix alone uses 0. */
  routerLifetime?: number;
  curHopLimit?: number;
  /** Our link-layer address for the Source Link-Layer Address option (RFC 4861 4.6.1). */
  sourceLinkLayer?: Uint8Array;
  mtu?: number;
}

/** Build an RA with checksum 0 (the raw ICMPv6 socket fills it in). */
export function buildRa(spec: RaSpec): Uint8Array<ArrayBuffer> {
  const routerLifetime = spec.routerLifetime ?? 0;
  if (!Number.isInteger(routerLifetime) || routerLifetime < 0 || routerLifetime > 9000) {
    throw new RaError(`router lifetime ${routerLifetime} outside 0..9000 (RFC 4861 6.2.1)`);
  }
  const ll = spec.sourceLinkLayer;
  const llLen = ll ? Math.ceil((ll.length + 2) / 8) * 8 : 0;
  const size = RA_HEADER_LEN + llLen + (spec.mtu !== undefined ? 8 : 0) +
    spec.pref64.length * PREF64_OPTION_LEN;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = ICMP6_ROUTER_ADVERT;
  out[4] = spec.curHopLimit ?? 0;
  dv.setUint16(6, routerLifetime);
  let off = RA_HEADER_LEN;
  if (ll) {
    out[off] = ND_OPT_SOURCE_LL;
    out[off + 1] = llLen / 8;
    out.set(ll, off + 2);
    off += llLen;
  }
  if (spec.mtu !== undefined) {
    out[off] = ND_OPT_MTU;
    out[off + 1] = 1;
    dv.setUint32(off + 4, spec.mtu);
    off += 8;
  }
  for (const p of spec.pref64) off = encodePref64Option(p, out, off);
  return out;
}

export const describePref64 = (p: Pref64): string =>
  `${formatPrefix6(p.prefix)} lifetime ${p.lifetimeS}s`;
