// Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html): reading
// IP packets out of common link types, writing raw-IP captures. Hand-written: the format
// is 40 lines of byte layout and no npm package reads it without Node streams.
import { ETHERTYPE } from "./proto.ts";

export class PcapError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`pcap: ${message} at byte ${offset}`);
  }
}

/** Link-layer header types (https://www.tcpdump.org/linktypes.html). */
export const LINKTYPE = {
  ETHERNET: 1,
  DLT_RAW: 12, // DLT_RAW as most systems number it in files
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;
const FILE_HDR = 24;
const REC_HDR = 16;
/** Larger than any snaplen tcpdump writes; a bigger record length means a corrupt file. */
const MAX_CAPLEN = 0x40000;

export interface PcapPacket {
  /** Capture time in ns since the epoch (a double: exact to 256 ns at present-day times). */
  tsNs: number;
  /** Exact parts of the timestamp. */
  tsSec: number;
  tsNsFrac: number;
  /** The IP packet (a view into the file bytes, not a copy). */
  data: Uint8Array;
  /** Length of the packet on the wire (link header included); > captured when snapped. */
  origLen: number;
  /** Index of the record in the file (0-based, counting skipped records). */
  index: number;
}

/**
 * Reads a classic pcap file from memory: both byte orders, µs and ns magic. Yields the IP
 * packet of each record; records that carry no IPv4/IPv6 packet (ARP, other ethertypes)
 * are skipped and counted in `skipped`. Throws PcapError for garbage or truncation.
 */
export class PcapReader {
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanos: boolean;
  readonly bigEndian: boolean;
  skipped = 0;
  private pos = FILE_HDR;
  private index = 0;
  private readonly dv: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 4) throw new PcapError("file too short for a pcap header", 0);
    const be = this.dv.getUint32(0, false);
    const le = this.dv.getUint32(0, true);
    if (be === MAGIC_PCAPNG) {
      throw new PcapError("pcapng is not supported (convert: editcap -F pcap in out)", 0);
    }
    if (be === MAGIC_US || be === MAGIC_NS) this.bigEndian = true;
    else if (le === MAGIC_US || le === MAGIC_NS) this.bigEndian = false;
    else throw new PcapError(`bad magic 0x${be.toString(16).padStart(8, "0")}`, 0);
    this.nanos = (this.bigEndian ? be : le) === MAGIC_NS;
    if (bytes.length < FILE_HDR) throw new PcapError("truncated file header", bytes.length);
    const major = this.u16(4);
    if (major !== 2) throw new PcapError(`unsupported version ${major}.${this.u16(6)}`, 4);
    this.snaplen = this.u32(16);
    // The upper bits of the link type field carry FCS info (pcap-savefile(5)).
    this.linkType = this.u32(20) & 0x0fffffff;
    if (!isSupportedLinkType(this.linkType)) {
      throw new PcapError(`unsupported link type ${this.linkType}`, 20);
    }
  }

  private u16(o: number): number {
    return this.dv.getUint16(o, !this.bigEndian);
  }
  private u32(o: number): number {
    return this.dv.getUint32(o, !this.bigEndian);
  }

  /** The next IP packet, or null at the end of the file. */
  next(): PcapPacket | null {
    const b = this.bytes;
    while (this.pos < b.length) {
      const at = this.pos;
      if (at + REC_HDR > b.length) throw new PcapError("truncated record header", at);
      const sec = this.u32(at);
      const frac = this.u32(at + 4);
      const caplen = this.u32(at + 8);
      const origLen = this.u32(at + 12);
      if (frac >= (this.nanos ? 1e9 : 1e6)) {
        throw new PcapError(`bad timestamp fraction ${frac}`, at + 4);
      }
      if (caplen > MAX_CAPLEN) throw new PcapError(`implausible captured length ${caplen}`, at + 8);
      if (at + REC_HDR + caplen > b.length) {
        throw new PcapError(`record of ${caplen} bytes runs past the end of the file`, at);
      }
      this.pos = at + REC_HDR + caplen;
      const index = this.index++;
      const frame = b.subarray(at + REC_HDR, at + REC_HDR + caplen);
      const ipOff = ipOffset(frame, this.linkType);
      if (ipOff < 0) {
        this.skipped++;
        continue;
      }
      const nsFrac = this.nanos ? frac : frac * 1000;
      return {
        tsNs: sec * 1e9 + nsFrac,
        tsSec: sec,
        tsNsFrac: nsFrac,
        data: frame.subarray(ipOff),
        origLen,
        index,
      };
    }
    return null;
  }

  *[Symbol.iterator](): Generator<PcapPacket> {
    for (let p = this.next(); p !== null; p = this.next()) yield p;
  }
}

function isSupportedLinkType(t: number): boolean {
  return t === LINKTYPE.ETHERNET || t === LINKTYPE.DLT_RAW || t === LINKTYPE.RAW ||
    t === LINKTYPE.LINUX_SLL || t === LINKTYPE.IPV4 || t === LINKTYPE.IPV6 ||
    t === LINKTYPE.LINUX_SLL2;
}

const isIpEthertype = (t: number) => t === ETHERTYPE.IPV4 || t === ETHERTYPE.IPV6;

/** Where the IP packet starts in a frame of this link type, or -1 if it holds none. */
function ipOffset(f: Uint8Array, linkType: number): number {
  switch (linkType) {
    case LINKTYPE.RAW:
    case LINKTYPE.DLT_RAW: {
      const v = f.length > 0 ? f[0] >> 4 : 0;
      return v === 4 || v === 6 ? 0 : -1;
    }
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return f.length > 0 ? 0 : -1;
    case LINKTYPE.ETHERNET: {
      let o = 12;
      // 802.1Q / 802.1ad tags (possibly stacked) precede the real ethertype.
      for (let tags = 0; tags < 4; tags++) {
        if (o + 2 > f.length) return -1;
        const t = (f[o] << 8) | f[o + 1];
        if (t === ETHERTYPE.VLAN || t === ETHERTYPE.QINQ || t === ETHERTYPE.QINQ_OLD) {
          o += 4;
          continue;
        }
        return isIpEthertype(t) ? o + 2 : -1;
      }
      return -1;
    }
    case LINKTYPE.LINUX_SLL:
      // 16-byte cooked header; protocol type in the last two bytes.
      if (f.length < 16) return -1;
      return isIpEthertype((f[14] << 8) | f[15]) ? 16 : -1;
    case LINKTYPE.LINUX_SLL2:
      // 20-byte cooked header v2; protocol type in the first two bytes.
      if (f.length < 20) return -1;
      return isIpEthertype((f[0] << 8) | f[1]) ? 20 : -1;
    default:
      return -1;
  }
}

/** All IP packets of a pcap file in memory. */
export function readPcap(bytes: Uint8Array): PcapPacket[] {
  return [...new PcapReader(bytes)];
}

/** Where a PcapWriter puts its bytes; Deno.FsFile fits. */
export interface PcapSink {
  writeSync(p: Uint8Array): number;
}

export interface PcapWriterOptions {
  /** Default LINKTYPE.RAW; frames are written as given (include the link header). */
  linkType?: number;
  /** ns timestamps (magic 0xa1b23c4d) instead of µs. */
  nanos?: boolean;
  /** Write big-endian (default: little-endian, as x86 tcpdump does). */
  bigEndian?: boolean;
  snaplen?: number;
}

/**
 * Streaming pcap writer: to a sink (e.g. a Deno.FsFile) or, without one, into a growing
 * in-memory buffer returned by `bytes()`. The file header is written at construction.
 */
export class PcapWriter {
  private buf: Uint8Array;
  private len = 0;
  private readonly rec = new Uint8Array(REC_HDR);
  private readonly recView = new DataView(this.rec.buffer);
  private readonly le: boolean;
  private readonly nanos: boolean;
  private readonly snaplen: number;
  count = 0;

  constructor(private readonly sink?: PcapSink, opts: PcapWriterOptions = {}) {
    this.buf = new Uint8Array(sink ? 0 : 4096);
    this.le = !opts.bigEndian;
    this.nanos = opts.nanos ?? false;
    this.snaplen = opts.snaplen ?? MAX_CAPLEN;
    const h = new Uint8Array(FILE_HDR);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, this.nanos ? MAGIC_NS : MAGIC_US, this.le);
    dv.setUint16(4, 2, this.le);
    dv.setUint16(6, 4, this.le);
    dv.setUint32(16, this.snaplen, this.le);
    dv.setUint32(20, opts.linkType ?? LINKTYPE.RAW, this.le);
    this.emit(h);
  }

  /** Appends one packet captured at `tsNs` (ns since the epoch; rounded for µs files). */
  write(data: Uint8Array, tsNs = 0, origLen = data.length): void {
    let sec = Math.floor(tsNs / 1e9);
    let frac = tsNs - sec * 1e9;
    if (!this.nanos) frac = Math.round(frac / 1000);
    else frac = Math.round(frac);
    if (frac >= (this.nanos ? 1e9 : 1e6)) {
      sec++;
      frac = 0;
    }
    const cap = Math.min(data.length, this.snaplen);
    const dv = this.recView;
    dv.setUint32(0, sec >>> 0, this.le);
    dv.setUint32(4, frac, this.le);
    dv.setUint32(8, cap, this.le);
    dv.setUint32(12, Math.max(origLen, cap), this.le);
    this.emit(this.rec);
    this.emit(cap === data.length ? data : data.subarray(0, cap));
    this.count++;
  }

  /** The file so far (in-memory writers only). */
  bytes(): Uint8Array {
    if (this.sink) throw new Error("PcapWriter.bytes() on a writer with a sink");
    return this.buf.slice(0, this.len);
  }

  private emit(p: Uint8Array): void {
    if (this.sink) {
      for (let o = 0; o < p.length;) o += this.sink.writeSync(p.subarray(o));
      return;
    }
    if (this.len + p.length > this.buf.length) {
      const n = new Uint8Array(Math.max(this.buf.length * 2, this.len + p.length));
      n.set(this.buf.subarray(0, this.len));
      this.buf = n;
    }
    this.buf.set(p, this.len);
    this.len += p.length;
  }
}

/** A raw-IP (LINKTYPE_RAW, µs) pcap file of these packets. */
export function writePcap(
  packets: Iterable<Uint8Array | { data: Uint8Array; tsNs?: number }>,
): Uint8Array {
  const w = new PcapWriter();
  for (const p of packets) {
    if (p instanceof Uint8Array) w.write(p);
    else w.write(p.data, p.tsNs ?? 0);
  }
  return w.bytes();
}
