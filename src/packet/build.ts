// Packet builders for tests, benchmarks and the lab (not the packet path: these allocate).
// Everything is correct by default (lengths, checksums); options break it on purpose.
import { parseIPv4, parseIPv6 } from "../addr/ip.ts";
import { checksum, pseudo4, pseudo6, sum16 } from "./checksum.ts";
import { Ipv6Info, parseIpv6 } from "./ipv6.ts";
import { ICMP4, ICMP6, IPPROTO, IPV4_HDR, IPV6_HDR } from "./proto.ts";

/** IPv4 address as text ("192.0.2.1") or a uint32. */
export type Addr4 = string | number;
/** IPv6 address as text ("2001:db8::1") or 16 bytes. */
export type Addr6 = string | Uint8Array;
/** Bytes, or a string taken as UTF-8. */
export type Bytes = Uint8Array | readonly number[] | string;
/**
 * "ok": correct (default); "bad": wrong but non-zero; "zero": 0 (for UDP over IPv4: "no
 * checksum", RFC 768); a number: that value verbatim.
 */
export type ChecksumMode = "ok" | "bad" | "zero" | number;

export interface Ipv4Fields {
  src: Addr4;
  dst: Addr4;
  ttl?: number; // default 64
  tos?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Options; padded with End of Option List (0) to a multiple of 4 bytes. */
  options?: Bytes;
  ipChecksum?: ChecksumMode;
  /** Overrides of computed fields, to build broken packets. */
  totalLen?: number;
  ihl?: number;
  version?: number;
  /** Bytes appended after Total Length (e.g. Ethernet padding). */
  trailer?: Bytes;
}

export interface Ipv4Opts extends Ipv4Fields {
  proto: number;
  payload?: Bytes;
}

/** An IPv6 extension header in the chain; Next Header fields are filled in. */
export type Ext6 =
  | { type: "hbh"; options?: Bytes }
  | { type: "dst"; options?: Bytes }
  | {
    type: "routing";
    routingType?: number; // default 0
    segmentsLeft?: number; // default: number of addresses
    addresses?: Addr6[];
    /** Type-specific data after the 4 fixed bytes (instead of reserved + addresses). */
    data?: Bytes;
  }
  | { type: "frag"; offset?: number; mf?: boolean; id?: number }
  /** Any header: `bytes[0]` is overwritten with the next header value; `proto` names it. */
  | { type: "raw"; proto: number; bytes: Bytes };

export interface Ipv6Fields {
  src: Addr6;
  dst: Addr6;
  hopLimit?: number; // default 64
  tc?: number;
  flowLabel?: number;
  ext?: Ext6[];
  /** Overrides of computed fields, to build broken packets. */
  payloadLen?: number;
  version?: number;
  trailer?: Bytes;
}

export interface Ipv6Opts extends Ipv6Fields {
  proto: number;
  payload?: Bytes;
}

export interface UdpFields {
  sport: number;
  dport: number;
  payload?: Bytes;
  checksum?: ChecksumMode;
  /** Overrides the UDP Length field. */
  udpLen?: number;
}

export interface TcpFields {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  /** TCP_FLAG bits from l4.ts; default ACK. */
  flags?: number;
  window?: number; // default 65535
  urgent?: number;
  /** Options; padded with End of Option List (0) to a multiple of 4 bytes. */
  tcpOptions?: Bytes;
  /** Overrides Data Offset (in 32-bit words). */
  dataOffset?: number;
  payload?: Bytes;
  checksum?: ChecksumMode;
}

export interface EchoFields {
  reply?: boolean;
  ident?: number;
  seq?: number;
  payload?: Bytes;
  checksum?: ChecksumMode;
}

export interface IcmpFields {
  type: number;
  code?: number;
  /** Bytes 4-7 of the header: MTU, pointer, identifier/sequence, unused. */
  rest?: number;
  /** What follows the 8-byte header; for errors, the inner packet. */
  body?: Bytes;
  checksum?: ChecksumMode;
}

export interface IcmpErrorFields {
  type: number;
  code?: number;
  rest?: number;
  /** The offending packet (cut it short with `truncate` as a router would). */
  inner: Bytes;
  checksum?: ChecksumMode;
}

export const addr4 = (a: Addr4): number => typeof a === "number" ? a >>> 0 : parseIPv4(a);
export const addr6 = (a: Addr6): Uint8Array => typeof a === "string" ? parseIPv6(a) : a;

export function bytes(b: Bytes | undefined): Uint8Array {
  if (b === undefined) return new Uint8Array(0);
  if (typeof b === "string") return new TextEncoder().encode(b);
  return b instanceof Uint8Array ? b : Uint8Array.from(b);
}

export const concat = (...parts: Uint8Array[]): Uint8Array => concatAll(parts);

/** concat over an array (no argument-count limit: thousands of packets). */
export function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The first n bytes (a copy), as routers quote packets in ICMP errors. */
export const truncate = (b: Uint8Array, n: number): Uint8Array => b.slice(0, Math.min(n, b.length));

const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
};
const put32 = (b: Uint8Array, o: number, v: number) => {
  put16(b, o, v >>> 16);
  put16(b, o + 2, v & 0xffff);
};

function applyChecksum(computed: number, mode: ChecksumMode | undefined, isUdp: boolean): number {
  if (mode === undefined || mode === "ok") return isUdp && computed === 0 ? 0xffff : computed;
  if (mode === "zero") return 0;
  if (mode === "bad") {
    // XOR 0x0101 never yields a value equal in one's complement (0 and 0xffff are).
    const v = computed ^ 0x0101;
    return v === 0 ? 0x0202 : v;
  }
  return mode & 0xffff;
}

function padTo(b: Uint8Array, mult: number): Uint8Array {
  const n = Math.ceil(b.length / mult) * mult;
  if (n === b.length) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

/** An IPv4 packet (RFC 791 3.1) around an arbitrary payload. */
export function ipv4(o: Ipv4Opts): Uint8Array {
  const opts = padTo(bytes(o.options), 4);
  if (opts.length > 40) throw new RangeError("IPv4 options longer than 40 bytes");
  const hdrLen = IPV4_HDR + opts.length;
  const payload = bytes(o.payload);
  const trailer = bytes(o.trailer);
  const b = new Uint8Array(hdrLen + payload.length + trailer.length);
  b[0] = ((o.version ?? 4) << 4) | ((o.ihl ?? hdrLen >> 2) & 15);
  b[1] = o.tos ?? 0;
  put16(b, 2, o.totalLen ?? hdrLen + payload.length);
  put16(b, 4, o.id ?? 0);
  const fo = o.fragOffset ?? 0;
  if (fo % 8 !== 0) throw new RangeError("IPv4 fragment offset must be a multiple of 8");
  put16(b, 6, (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((fo >> 3) & 0x1fff));
  b[8] = o.ttl ?? 64;
  b[9] = o.proto;
  put32(b, 12, addr4(o.src));
  put32(b, 16, addr4(o.dst));
  b.set(opts, IPV4_HDR);
  put16(b, 10, applyChecksum(checksum(b, 0, hdrLen), o.ipChecksum, false));
  b.set(payload, hdrLen);
  b.set(trailer, hdrLen + payload.length);
  return b;
}

/** Pads Hop-by-Hop / Destination options (RFC 8200 4.2) so the header is 8n bytes. */
function optionsHeader(options: Uint8Array): Uint8Array {
  const total = Math.ceil((options.length + 2) / 8) * 8;
  const h = new Uint8Array(total);
  h[1] = total / 8 - 1;
  h.set(options, 2);
  const pad = total - 2 - options.length;
  const p = 2 + options.length;
  if (pad === 1) h[p] = 0; // Pad1
  else if (pad >= 2) {
    h[p] = 1; // PadN
    h[p + 1] = pad - 2;
  }
  return h;
}

function extBytes(e: Ext6): { type: number; bytes: Uint8Array } {
  switch (e.type) {
    case "hbh":
      return { type: IPPROTO.HOPOPTS, bytes: optionsHeader(bytes(e.options)) };
    case "dst":
      return { type: IPPROTO.DSTOPTS, bytes: optionsHeader(bytes(e.options)) };
    case "routing": {
      const addrs = (e.addresses ?? []).map(addr6);
      const data = e.data !== undefined ? bytes(e.data) : concat(new Uint8Array(4), ...addrs);
      const h = padTo(concat(new Uint8Array(4), data), 8);
      h[1] = h.length / 8 - 1;
      h[2] = e.routingType ?? 0;
      h[3] = e.segmentsLeft ?? addrs.length;
      return { type: IPPROTO.ROUTING, bytes: h };
    }
    case "frag": {
      const h = new Uint8Array(8);
      const off = e.offset ?? 0;
      if (off % 8 !== 0) throw new RangeError("IPv6 fragment offset must be a multiple of 8");
      put16(h, 2, (off & 0xfff8) | (e.mf ? 1 : 0));
      put32(h, 4, e.id ?? 0);
      return { type: IPPROTO.FRAGMENT, bytes: h };
    }
    case "raw":
      return { type: e.proto, bytes: bytes(e.bytes).slice() };
  }
}

/** An IPv6 packet (RFC 8200 3) with an extension header chain and an arbitrary payload. */
export function ipv6(o: Ipv6Opts): Uint8Array {
  const exts = (o.ext ?? []).map(extBytes);
  for (let i = 0; i < exts.length; i++) {
    exts[i].bytes[0] = i + 1 < exts.length ? exts[i + 1].type : o.proto;
  }
  const payload = bytes(o.payload);
  const trailer = bytes(o.trailer);
  const chain = concat(...exts.map((e) => e.bytes));
  const b = new Uint8Array(IPV6_HDR + chain.length + payload.length + trailer.length);
  const tc = o.tc ?? 0;
  const fl = o.flowLabel ?? 0;
  b[0] = ((o.version ?? 6) << 4) | (tc >> 4);
  b[1] = ((tc & 15) << 4) | ((fl >> 16) & 15);
  put16(b, 2, fl & 0xffff);
  put16(b, 4, o.payloadLen ?? chain.length + payload.length);
  b[6] = exts.length > 0 ? exts[0].type : o.proto;
  b[7] = o.hopLimit ?? 64;
  b.set(addr6(o.src), 8);
  b.set(addr6(o.dst), 24);
  b.set(chain, IPV6_HDR);
  b.set(payload, IPV6_HDR + chain.length);
  b.set(trailer, IPV6_HDR + chain.length + payload.length);
  return b;
}

function pseudoSum4(src: number, dst: number, proto: number, len: number): number {
  const a = new Uint8Array(8);
  put32(a, 0, src);
  put32(a, 4, dst);
  return pseudo4(a, 0, 4, proto, len);
}

/** RFC 8200 8.1: with a Routing header, the pseudo-header uses the final destination. */
function finalDst(o: Ipv6Fields): Uint8Array {
  for (const e of o.ext ?? []) {
    if (e.type === "routing" && e.addresses?.length && (e.segmentsLeft ?? 1) > 0) {
      // RFC 8754 4.1: in a Segment Routing header, Segment List[0] is the last segment.
      return addr6(e.routingType === 4 ? e.addresses[0] : e.addresses[e.addresses.length - 1]);
    }
  }
  return addr6(o.dst);
}

function pseudoSum6(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  const a = new Uint8Array(32);
  a.set(src, 0);
  a.set(dst, 16);
  return pseudo6(a, 0, 16, proto, len);
}

/** Fills the checksum at `co` of an L4 segment given the pseudo-header sum. */
function seal(
  seg: Uint8Array,
  co: number,
  init: number,
  mode: ChecksumMode | undefined,
  udp: boolean,
) {
  put16(seg, co, 0);
  put16(seg, co, applyChecksum(checksum(seg, 0, seg.length, init), mode, udp));
  return seg;
}

function udpSegment(u: UdpFields): Uint8Array {
  const payload = bytes(u.payload);
  const s = new Uint8Array(8 + payload.length);
  put16(s, 0, u.sport);
  put16(s, 2, u.dport);
  put16(s, 4, u.udpLen ?? s.length);
  s.set(payload, 8);
  return s;
}

function tcpSegment(t: TcpFields): Uint8Array {
  const opts = padTo(bytes(t.tcpOptions), 4);
  const payload = bytes(t.payload);
  const hl = 20 + opts.length;
  const s = new Uint8Array(hl + payload.length);
  put16(s, 0, t.sport);
  put16(s, 2, t.dport);
  put32(s, 4, t.seq ?? 0);
  put32(s, 8, t.ack ?? 0);
  s[12] = (t.dataOffset ?? hl >> 2) << 4;
  s[13] = t.flags ?? 0x10;
  put16(s, 14, t.window ?? 65535);
  put16(s, 18, t.urgent ?? 0);
  s.set(opts, 20);
  s.set(payload, hl);
  return s;
}

function icmpSegment(type: number, code: number, rest: number, body: Uint8Array): Uint8Array {
  const s = new Uint8Array(8 + body.length);
  s[0] = type;
  s[1] = code;
  put32(s, 4, rest);
  s.set(body, 8);
  return s;
}

const echoRest = (e: EchoFields) =>
  (((e.ident ?? 0) & 0xffff) << 16 | ((e.seq ?? 0) & 0xffff)) >>> 0;

function v4With(o: Ipv4Fields, proto: number, seg: Uint8Array, mode: ChecksumMode | undefined) {
  const co = proto === IPPROTO.TCP ? 16 : proto === IPPROTO.UDP ? 6 : 2;
  const init = proto === IPPROTO.ICMP
    ? 0
    : pseudoSum4(addr4(o.src), addr4(o.dst), proto, seg.length);
  seal(seg, co, init, mode, proto === IPPROTO.UDP);
  return ipv4({ ...o, proto, payload: seg });
}

function v6With(o: Ipv6Fields, proto: number, seg: Uint8Array, mode: ChecksumMode | undefined) {
  const co = proto === IPPROTO.TCP ? 16 : proto === IPPROTO.UDP ? 6 : 2;
  const init = pseudoSum6(addr6(o.src), finalDst(o), proto, seg.length);
  seal(seg, co, init, mode, proto === IPPROTO.UDP);
  return ipv6({ ...o, proto, payload: seg });
}

export const udp4 = (o: Ipv4Fields & UdpFields): Uint8Array =>
  v4With(o, IPPROTO.UDP, udpSegment(o), o.checksum);
export const udp6 = (o: Ipv6Fields & UdpFields): Uint8Array =>
  v6With(o, IPPROTO.UDP, udpSegment(o), o.checksum);
export const tcp4 = (o: Ipv4Fields & TcpFields): Uint8Array =>
  v4With(o, IPPROTO.TCP, tcpSegment(o), o.checksum);
export const tcp6 = (o: Ipv6Fields & TcpFields): Uint8Array =>
  v6With(o, IPPROTO.TCP, tcpSegment(o), o.checksum);

/** ICMPv4 Echo Request (or Reply with `reply: true`), RFC 792. */
export const icmp4Echo = (o: Ipv4Fields & EchoFields): Uint8Array =>
  v4With(
    o,
    IPPROTO.ICMP,
    icmpSegment(o.reply ? ICMP4.ECHO_REPLY : ICMP4.ECHO_REQUEST, 0, echoRest(o), bytes(o.payload)),
    o.checksum,
  );

/** ICMPv6 Echo Request (or Reply with `reply: true`), RFC 4443 4. */
export const icmp6Echo = (o: Ipv6Fields & EchoFields): Uint8Array =>
  v6With(
    o,
    IPPROTO.ICMPV6,
    icmpSegment(o.reply ? ICMP6.ECHO_REPLY : ICMP6.ECHO_REQUEST, 0, echoRest(o), bytes(o.payload)),
    o.checksum,
  );

/** Any ICMPv4 message: 8-byte header then `body`. */
export const icmp4 = (o: Ipv4Fields & IcmpFields): Uint8Array =>
  v4With(o, IPPROTO.ICMP, icmpSegment(o.type, o.code ?? 0, o.rest ?? 0, bytes(o.body)), o.checksum);

/** Any ICMPv6 message: 8-byte header then `body`. */
export const icmp6 = (o: Ipv6Fields & IcmpFields): Uint8Array =>
  v6With(
    o,
    IPPROTO.ICMPV6,
    icmpSegment(o.type, o.code ?? 0, o.rest ?? 0, bytes(o.body)),
    o.checksum,
  );

/** An ICMPv4 error (Destination Unreachable, Time Exceeded, ...) quoting `inner`. */
export const icmp4Error = (o: Ipv4Fields & IcmpErrorFields): Uint8Array =>
  icmp4({ ...o, body: o.inner });

/** An ICMPv6 error (Destination Unreachable, Packet Too Big, ...) quoting `inner`. */
export const icmp6Error = (o: Ipv6Fields & IcmpErrorFields): Uint8Array =>
  icmp6({ ...o, body: o.inner });

/**
 * Splits an IPv4 packet into fragments of at most `maxLen` bytes (RFC 791 3.2: data in
 * multiples of 8 except the last). Options are copied into every fragment as given.
 */
export function fragment4(pkt: Uint8Array, maxLen: number): Uint8Array[] {
  const hl = (pkt[0] & 15) << 2;
  const total = (pkt[2] << 8) | pkt[3];
  const step = (maxLen - hl) & ~7;
  if (step <= 0) throw new RangeError("maxLen too small for an IPv4 fragment");
  const w = (pkt[6] << 8) | pkt[7];
  const baseOff = (w & 0x1fff) << 3;
  const baseMf = (w & 0x2000) !== 0;
  const out: Uint8Array[] = [];
  for (let at = hl; at < total; at += step) {
    const n = Math.min(step, total - at);
    const f = new Uint8Array(hl + n);
    f.set(pkt.subarray(0, hl));
    f.set(pkt.subarray(at, at + n), hl);
    put16(f, 2, hl + n);
    const last = at + n >= total;
    put16(f, 6, (w & 0x4000) | (!last || baseMf ? 0x2000 : 0) | ((baseOff + at - hl) >> 3));
    put16(f, 10, 0);
    put16(f, 10, ~sum16(f, 0, hl) & 0xffff);
    out.push(f);
  }
  return out;
}

/**
 * Splits an IPv6 packet into fragments of at most `maxLen` bytes with a Fragment header
 * (RFC 8200 4.5). The per-fragment part is the IPv6 header plus Hop-by-Hop, Routing and
 * Destination Options preceding Routing; the rest is fragmented.
 */
export function fragment6(pkt: Uint8Array, maxLen: number, id = 0): Uint8Array[] {
  const info = new Ipv6Info();
  const r = parseIpv6(pkt, pkt.length, info);
  if (r !== 0) throw new RangeError(`cannot fragment an invalid IPv6 packet (reason ${r})`);
  if (info.fragOff >= 0) throw new RangeError("packet already has a Fragment header");
  // Find the end of the per-fragment headers and the Next Header field that points past it.
  let p = IPV6_HDR, nhField = 6, unfragEnd = IPV6_HDR, unfragNhField = 6;
  let nh = pkt[6];
  while (nh === IPPROTO.HOPOPTS || nh === IPPROTO.DSTOPTS || nh === IPPROTO.ROUTING) {
    const hl = (pkt[p + 1] + 1) << 3;
    const wasRouting = nh === IPPROTO.ROUTING || nh === IPPROTO.HOPOPTS;
    nhField = p;
    nh = pkt[p];
    p += hl;
    if (wasRouting) {
      unfragEnd = p;
      unfragNhField = nhField;
    }
  }
  const end = IPV6_HDR + info.payloadLen;
  const firstNh = pkt[unfragNhField];
  const step = (maxLen - unfragEnd - 8) & ~7;
  if (step <= 0) throw new RangeError("maxLen too small for an IPv6 fragment");
  const out: Uint8Array[] = [];
  for (let at = unfragEnd; at < end; at += step) {
    const n = Math.min(step, end - at);
    const f = new Uint8Array(unfragEnd + 8 + n);
    f.set(pkt.subarray(0, unfragEnd));
    f[unfragNhField] = IPPROTO.FRAGMENT;
    f[unfragEnd] = firstNh;
    put16(f, unfragEnd + 2, ((at - unfragEnd) & 0xfff8) | (at + n < end ? 1 : 0));
    put32(f, unfragEnd + 4, id);
    f.set(pkt.subarray(at, at + n), unfragEnd + 8);
    put16(f, 4, f.length - IPV6_HDR);
    out.push(f);
  }
  return out;
}
