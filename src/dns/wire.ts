// DNS wire codec (RFC 1035 4, RFC 3597, RFC 6891). Written by hand rather than taken from
// npm: the fast path needs byte offsets into encoded messages (to patch ID and TTLs in
// cached responses without re-encoding), strict bounds (compression pointers must point
// backwards, so loops are impossible) and decoding that reports FORMERR instead of
// throwing; the npm codecs (dns-packet and its forks) allocate per field, accept loops up
// to a hop limit and throw on bad input. Property tests and fuzzing: test/property/dns_wire_test.ts.

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const CLASS_IN = 1;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** RFC 6891 6.1.4: the DO bit in the OPT record's TTL field. */
export const EDNS_DO = 0x8000;

export const HEADER_LEN = 12;
export const MAX_NAME_LEN = 255;
const MAX_LABEL_LEN = 63;

export interface Question {
  /** Presentation form with a trailing dot ("example.com.", root "."), case kept. */
  name: string;
  type: number;
  class: number;
}

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** RDATA with every embedded name expanded (no compression pointers). */
  data: Uint8Array;
}

export interface Message {
  id: number;
  /** The 16 header bits after the ID: QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE. */
  flags: number;
  question: Question[];
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

export const opcodeOf = (flags: number): number => (flags >> 11) & 0xf;
export const rcodeOf = (flags: number): number => flags & 0xf;

export class WireError extends Error {}

export type DecodeResult =
  | { ok: true; msg: Message }
  | { ok: false; error: string; id: number | null };

// ---- names -------------------------------------------------------------------------

/** Append a label's presentation form: dots, backslashes and non-printables escaped. */
function labelText(b: Uint8Array, off: number, len: number): string {
  let s = "";
  for (let i = off; i < off + len; i++) {
    const c = b[i];
    if (c === 0x2e || c === 0x5c) s += "\\" + String.fromCharCode(c);
    else if (c < 0x21 || c > 0x7e) s += "\\" + c.toString().padStart(3, "0");
    else s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Read a possibly compressed name at `off`. Returns the name and the offset after it in
 * the original stream. RFC 1035 4.1.4 pointers must point strictly before the pointer
 * itself, so every jump goes backwards and loops cannot happen.
 */
export function readName(b: Uint8Array, off: number): [string, number] {
  let name = "";
  let wireLen = 1;
  let pos = off;
  let end = -1;
  for (;;) {
    if (pos >= b.length) throw new WireError("name runs past the end");
    const len = b[pos];
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= b.length) throw new WireError("truncated compression pointer");
      const target = ((len & 0x3f) << 8) | b[pos + 1];
      if (target >= pos) throw new WireError("compression pointer does not point backwards");
      if (end < 0) end = pos + 2;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new WireError("unknown label type");
    if (pos + 1 + len > b.length) throw new WireError("label runs past the end");
    wireLen += len + 1;
    if (wireLen > MAX_NAME_LEN) throw new WireError("name longer than 255 octets");
    name += labelText(b, pos + 1, len) + ".";
    pos += len + 1;
  }
  return [name === "" ? "." : name, end];
}

/** Offset after the (possibly compressed) name at `off`, without decoding it. */
export function skipName(b: Uint8Array, off: number): number {
  let pos = off;
  for (;;) {
    if (pos >= b.length) throw new WireError("name runs past the end");
    const len = b[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= b.length) throw new WireError("truncated compression pointer");
      return pos + 2;
    }
    if ((len & 0xc0) !== 0) throw new WireError("unknown label type");
    pos += len + 1;
  }
}

/** Uncompressed wire form of a presentation-form name. Throws WireError when invalid. */
export function nameToWire(name: string): Uint8Array {
  const out: number[] = [];
  if (name !== "." && name !== "") {
    let label: number[] = [];
    const flush = () => {
      if (label.length === 0) throw new WireError(`empty label in "${name}"`);
      if (label.length > MAX_LABEL_LEN) throw new WireError(`label longer than 63 in "${name}"`);
      out.push(label.length, ...label);
      label = [];
    };
    let i = 0;
    while (i < name.length) {
      const ch = name.charCodeAt(i);
      if (ch === 0x5c) {
        const d = name.slice(i + 1, i + 4);
        if (/^[0-9]{3}$/.test(d)) {
          const v = Number(d);
          if (v > 255) throw new WireError(`bad escape in "${name}"`);
          label.push(v);
          i += 4;
        } else {
          if (i + 1 >= name.length) throw new WireError(`dangling escape in "${name}"`);
          label.push(name.charCodeAt(i + 1) & 0xff);
          i += 2;
        }
        continue;
      }
      if (ch === 0x2e) {
        flush();
        i++;
        continue;
      }
      if (ch > 0xff) throw new WireError(`non-ASCII character in "${name}"`);
      label.push(ch);
      i++;
    }
    if (label.length > 0) flush();
  }
  out.push(0);
  if (out.length > MAX_NAME_LEN) throw new WireError(`name longer than 255 octets: "${name}"`);
  return Uint8Array.from(out);
}

/** Canonical (lower-case ASCII) form used for comparisons and cache keys. */
export function canonicalName(name: string): string {
  let n = name.toLowerCase();
  if (!n.endsWith(".")) n += ".";
  else if (n.endsWith("\\.") && !n.endsWith("\\\\.")) n += ".";
  return n;
}

export const sameName = (a: string, b: string): boolean => canonicalName(a) === canonicalName(b);

/** Is `name` equal to or below `zone`? Both in presentation form. */
export function isSubdomain(name: string, zone: string): boolean {
  const n = canonicalName(name), z = canonicalName(zone);
  if (z === ".") return true;
  return n === z || (n.endsWith(z) && n[n.length - z.length - 1] === "." &&
    (n.length - z.length - 2 < 0 || n[n.length - z.length - 2] !== "\\"));
}

// ---- RDATA with embedded names (RFC 3597 4: decoders expand them) -----------------

/** Layout of RDATA types that contain domain names: fixed bytes before, names, rest. */
interface NameLayout {
  readonly before: number;
  readonly names: number;
  readonly after: number;
  /** RFC 3597 4: compression allowed when encoding (the RFC 1035 types only). */
  readonly compress: boolean;
}

const NAME_LAYOUTS: ReadonlyMap<number, NameLayout> = new Map([
  [TYPE.NS, { before: 0, names: 1, after: 0, compress: true }],
  [3, { before: 0, names: 1, after: 0, compress: true }], // MD
  [4, { before: 0, names: 1, after: 0, compress: true }], // MF
  [TYPE.CNAME, { before: 0, names: 1, after: 0, compress: true }],
  [TYPE.SOA, { before: 0, names: 2, after: 20, compress: true }],
  [7, { before: 0, names: 1, after: 0, compress: true }], // MB
  [8, { before: 0, names: 1, after: 0, compress: true }], // MG
  [9, { before: 0, names: 1, after: 0, compress: true }], // MR
  [TYPE.PTR, { before: 0, names: 1, after: 0, compress: true }],
  [14, { before: 0, names: 2, after: 0, compress: true }], // MINFO
  [TYPE.MX, { before: 2, names: 1, after: 0, compress: true }],
  [17, { before: 0, names: 2, after: 0, compress: false }], // RP
  [18, { before: 2, names: 1, after: 0, compress: false }], // AFSDB
  [21, { before: 2, names: 1, after: 0, compress: false }], // RT
  [26, { before: 2, names: 2, after: 0, compress: false }], // PX
  [TYPE.SRV, { before: 6, names: 1, after: 0, compress: false }],
  [36, { before: 2, names: 1, after: 0, compress: false }], // KX
  [TYPE.DNAME, { before: 0, names: 1, after: 0, compress: false }],
]);

/** Copy the uncompressed wire form of the name at `off` into `out`; return end offset. */
function expandName(b: Uint8Array, off: number, out: number[]): number {
  let pos = off;
  let end = -1;
  let total = 1;
  for (;;) {
    if (pos >= b.length) throw new WireError("name runs past the end");
    const len = b[pos];
    if (len === 0) {
      out.push(0);
      return end < 0 ? pos + 1 : end;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= b.length) throw new WireError("truncated compression pointer");
      const target = ((len & 0x3f) << 8) | b[pos + 1];
      if (target >= pos) throw new WireError("compression pointer does not point backwards");
      if (end < 0) end = pos + 2;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new WireError("unknown label type");
    if (pos + 1 + len > b.length) throw new WireError("label runs past the end");
    total += len + 1;
    if (total > MAX_NAME_LEN) throw new WireError("name longer than 255 octets");
    for (let i = pos; i <= pos + len; i++) out.push(b[i]);
    pos += len + 1;
  }
}

function decodeRdata(b: Uint8Array, off: number, len: number, type: number): Uint8Array {
  const end = off + len;
  const layout = NAME_LAYOUTS.get(type);
  if (!layout) return b.slice(off, end);
  if (len < layout.before + layout.names + layout.after) {
    throw new WireError(`RDATA of type ${type} too short`);
  }
  const out: number[] = [];
  for (let i = 0; i < layout.before; i++) out.push(b[off + i]);
  let pos = off + layout.before;
  for (let n = 0; n < layout.names; n++) {
    // Names inside RDATA must not run past the RDATA (RFC 1035 3.3 framing).
    pos = expandName(b.subarray(0, end), pos, out);
  }
  if (end - pos !== layout.after) throw new WireError(`RDATA of type ${type} has bad length`);
  for (let i = pos; i < end; i++) out.push(b[i]);
  return Uint8Array.from(out);
}

// ---- decode -------------------------------------------------------------------------

export function decodeMessage(b: Uint8Array): DecodeResult {
  const id = b.length >= 2 ? (b[0] << 8) | b[1] : null;
  try {
    return { ok: true, msg: decodeOrThrow(b) };
  } catch (e) {
    if (e instanceof WireError) return { ok: false, error: e.message, id };
    throw e;
  }
}

function decodeOrThrow(b: Uint8Array): Message {
  if (b.length < HEADER_LEN) throw new WireError("shorter than a DNS header");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const msg: Message = {
    id: dv.getUint16(0),
    flags: dv.getUint16(2),
    question: [],
    answer: [],
    authority: [],
    additional: [],
  };
  const qd = dv.getUint16(4), an = dv.getUint16(6), ns = dv.getUint16(8), ar = dv.getUint16(10);
  let pos = HEADER_LEN;
  for (let i = 0; i < qd; i++) {
    const [name, next] = readName(b, pos);
    if (next + 4 > b.length) throw new WireError("question runs past the end");
    msg.question.push({ name, type: dv.getUint16(next), class: dv.getUint16(next + 2) });
    pos = next + 4;
  }
  const sections = [[an, msg.answer], [ns, msg.authority], [ar, msg.additional]] as const;
  for (const [count, list] of sections) {
    for (let i = 0; i < count; i++) {
      const [name, next] = readName(b, pos);
      if (next + 10 > b.length) throw new WireError("record header runs past the end");
      const type = dv.getUint16(next);
      const rdlen = dv.getUint16(next + 8);
      const rdStart = next + 10;
      if (rdStart + rdlen > b.length) throw new WireError("RDATA runs past the end");
      list.push({
        name,
        type,
        class: dv.getUint16(next + 2),
        ttl: dv.getUint32(next + 4),
        data: decodeRdata(b, rdStart, rdlen, type),
      });
      pos = rdStart + rdlen;
    }
  }
  if (pos !== b.length) throw new WireError("trailing bytes after the last record");
  return msg;
}

// ---- encode -------------------------------------------------------------------------

/** Growable output with a name-compression table (RFC 1035 4.1.4). */
class Writer {
  buf = new Uint8Array(512);
  len = 0;
  private readonly names = new Map<string, number>();

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.len++] = (v >> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
  }
  u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  setU16(at: number, v: number): void {
    this.buf[at] = (v >> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  /** Write an uncompressed wire name at wire[off..], compressing against earlier names. */
  wireName(wire: Uint8Array, off: number, compress: boolean): number {
    let pos = off;
    while (wire[pos] !== 0) {
      const key = suffixKey(wire, pos);
      const at = compress ? this.names.get(key) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return skipName(wire, pos);
      }
      if (this.len < 0x4000) this.names.set(key, this.len);
      const l = wire[pos];
      this.bytes(wire.subarray(pos, pos + l + 1));
      pos += l + 1;
    }
    this.u8(0);
    return pos + 1;
  }
}

function suffixKey(wire: Uint8Array, off: number): string {
  let s = "";
  for (let i = off; wire[i] !== 0; i += wire[i] + 1) {
    // Case-sensitive on purpose: a pointer must reproduce the exact bytes (0x20 case).
    for (let j = i + 1; j <= i + wire[i]; j++) s += String.fromCharCode(wire[j]);
    s += "\u0100";
  }
  return s;
}

function writeRecord(w: Writer, rr: ResourceRecord): void {
  w.wireName(nameToWire(rr.name), 0, true);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl >>> 0);
  const lenAt = w.len;
  w.u16(0);
  const layout = NAME_LAYOUTS.get(rr.type);
  const d = rr.data;
  if (!layout) {
    w.bytes(d);
  } else {
    // Re-validate so an RDATA built by hand cannot produce a malformed message.
    if (d.length < layout.before + layout.names + layout.after) {
      throw new WireError(`RDATA of type ${rr.type} too short`);
    }
    w.bytes(d.subarray(0, layout.before));
    let pos = layout.before;
    for (let n = 0; n < layout.names; n++) {
      const probe: number[] = [];
      const next = expandName(d, pos, probe);
      if (probe.length !== next - pos) throw new WireError("compressed name inside RDATA");
      pos = w.wireName(d, pos, layout.compress);
    }
    if (d.length - pos !== layout.after) {
      throw new WireError(`RDATA of type ${rr.type} has bad length`);
    }
    w.bytes(d.subarray(pos));
  }
  const rdlen = w.len - lenAt - 2;
  if (rdlen > 0xffff) throw new WireError("RDATA longer than 65535");
  w.setU16(lenAt, rdlen);
}

/** Encode a message with name compression. Throws WireError for unencodable input. */
export function encodeMessage(msg: Message): Uint8Array {
  const w = new Writer();
  w.u16(msg.id);
  w.u16(msg.flags);
  w.u16(msg.question.length);
  w.u16(msg.answer.length);
  w.u16(msg.authority.length);
  w.u16(msg.additional.length);
  for (const q of msg.question) {
    w.wireName(nameToWire(q.name), 0, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const rr of msg.answer) writeRecord(w, rr);
  for (const rr of msg.authority) writeRecord(w, rr);
  for (const rr of msg.additional) writeRecord(w, rr);
  return w.buf.slice(0, w.len);
}

// ---- byte-level helpers for the fast path --------------------------------------------

/**
 * Offsets of the TTL fields of every record except OPT, in an encoded message, so a
 * cached response can be aged in place. Returns null when the message is malformed.
 */
export function ttlOffsets(b: Uint8Array): number[] | null {
  try {
    if (b.length < HEADER_LEN) return null;
    const qd = (b[4] << 8) | b[5];
    const rrs = ((b[6] << 8) | b[7]) + ((b[8] << 8) | b[9]) + ((b[10] << 8) | b[11]);
    let pos = HEADER_LEN;
    for (let i = 0; i < qd; i++) pos = skipName(b, pos) + 4;
    const out: number[] = [];
    for (let i = 0; i < rrs; i++) {
      pos = skipName(b, pos);
      if (pos + 10 > b.length) return null;
      const type = (b[pos] << 8) | b[pos + 1];
      if (type !== TYPE.OPT) out.push(pos + 4);
      pos += 10 + ((b[pos + 8] << 8) | b[pos + 9]);
    }
    return pos === b.length ? out : null;
  } catch (e) {
    if (e instanceof WireError) return null;
    throw e;
  }
}

// ---- builders -----------------------------------------------------------------------

export function rr(name: string, type: number, ttl: number, data: Uint8Array): ResourceRecord {
  return { name, type, class: CLASS_IN, ttl, data };
}

export const aData = (v4: number): Uint8Array =>
  Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255);

export interface Soa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export function soaData(s: Soa): Uint8Array {
  const m = nameToWire(s.mname), r = nameToWire(s.rname);
  const out = new Uint8Array(m.length + r.length + 20);
  out.set(m, 0);
  out.set(r, m.length);
  const dv = new DataView(out.buffer, m.length + r.length);
  dv.setUint32(0, s.serial >>> 0);
  dv.setUint32(4, s.refresh >>> 0);
  dv.setUint32(8, s.retry >>> 0);
  dv.setUint32(12, s.expire >>> 0);
  dv.setUint32(16, s.minimum >>> 0);
  return out;
}

/** MINIMUM field of an SOA RDATA (the last 32 bits), or -1 if too short. */
export function soaMinimum(data: Uint8Array): number {
  if (data.length < 22) return -1;
  return new DataView(data.buffer, data.byteOffset + data.length - 4, 4).getUint32(0);
}

/** The target name of CNAME/DNAME/PTR/NS RDATA (uncompressed wire form). */
export function rdataName(data: Uint8Array): string {
  return readName(data, 0)[0];
}

export const nameData = (name: string): Uint8Array => nameToWire(name);

// ---- EDNS(0), RFC 6891 ---------------------------------------------------------------

export interface Edns {
  udpSize: number;
  extRcode: number;
  version: number;
  /** The DO bit and the other 15 flag bits. */
  flags: number;
  /** Raw option bytes (code, length, value)*, passed through unchanged. */
  options: Uint8Array;
}

/** The OPT pseudo-record of a message, or null. Several OPTs: the first one. */
export function getEdns(msg: Message): Edns | null {
  for (const r of msg.additional) {
    if (r.type === TYPE.OPT) {
      return {
        udpSize: r.class,
        extRcode: r.ttl >>> 24,
        version: (r.ttl >>> 16) & 0xff,
        flags: r.ttl & 0xffff,
        options: r.data,
      };
    }
  }
  return null;
}

export function optRecord(e: Edns): ResourceRecord {
  return {
    name: ".",
    type: TYPE.OPT,
    class: e.udpSize,
    ttl: ((e.extRcode << 24) | (e.version << 16) | e.flags) >>> 0,
    data: e.options,
  };
}

/** RFC 7873 COOKIE, RFC 7828 TCP keepalive, RFC 7830 padding: per hop, never forwarded. */
export const HOP_BY_HOP_OPTIONS: ReadonlySet<number> = new Set([10, 11, 12]);

/**
 * The EDNS options (code, length, value)* of `opts` whose code is not in `drop`, for
 * passing options through a proxy (RFC 5625 4.4). Malformed option data yields none.
 */
export function forwardableOptions(opts: Uint8Array, drop = HOP_BY_HOP_OPTIONS): Uint8Array {
  const keep: number[] = [];
  let pos = 0;
  while (pos < opts.length) {
    if (pos + 4 > opts.length) return new Uint8Array(0);
    const code = (opts[pos] << 8) | opts[pos + 1];
    const len = (opts[pos + 2] << 8) | opts[pos + 3];
    if (pos + 4 + len > opts.length) return new Uint8Array(0);
    if (!drop.has(code)) { for (let i = pos; i < pos + 4 + len; i++) keep.push(opts[i]); }
    pos += 4 + len;
  }
  return keep.length === opts.length ? opts : Uint8Array.from(keep);
}

export const countOpt = (msg: Message): number =>
  msg.additional.reduce((n, r) => n + (r.type === TYPE.OPT ? 1 : 0), 0);

export const withoutOpt = (rrs: ResourceRecord[]): ResourceRecord[] =>
  rrs.filter((r) => r.type !== TYPE.OPT);
