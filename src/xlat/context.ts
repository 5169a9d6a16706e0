// Long-lived state one translator instance shares between its steps: options, counters,
// parse scratch, the address mapper and the ICMP error rate limiter. Created once; the
// packet path only mutates it.
import { Ipv4Info } from "../packet/ipv4.ts";
import { Ipv6Info } from "../packet/ipv6.ts";
import type { XlatOptions } from "./options.ts";
import type { Stats } from "./stats.ts";
import type { AddressMapper } from "../addr/mapper.ts";
import type { Rfc6791Pool4, Rfc6791Pool6 } from "../addr/rfc6791.ts";

/** RFC 4443 2.4 (f) / RFC 1812 4.3.2.8: ICMP errors the translator originates are limited. */
export interface IcmpRateLimit {
  /** Errors per second, sustained. */
  readonly perSecond: number;
  /** Bucket size. */
  readonly burst: number;
}

export const DEFAULT_ICMP_RATE: IcmpRateLimit = { perSecond: 1000, burst: 200 };

export class XlatContext {
  readonly in4 = new Ipv4Info();
  readonly in6 = new Ipv6Info();
  readonly inner4 = new Ipv4Info();
  readonly inner6 = new Ipv6Info();
  /** IPv4 Identification for unfragmented 6->4 packets (RFC 7915 5.1). */
  ipId = 0;
  private tokens: number;
  private lastRefill = -1;

  /** Source of ICMPv4 errors the translator generates (RFC 7600 dummy address default). */
  readonly icmpSrc4: number;
  /** Source of ICMPv6 errors the translator generates (16 bytes). */
  readonly icmpSrc6: Uint8Array;
  readonly lowestIpv6Mtu: number;
  /** Per packet: 4->6 maps with the RFC 7757 hairpin rules (set by translate46). */
  hairpin = false;
  /** Per packet: a view of the input's whole buffer, the input's offset in it, and the
   *  output slot's view (PacketBatch.views): set once, used by the hot copies and sums. */
  iv: DataView = new DataView(new ArrayBuffer(0));
  ib = 0;
  ov: DataView = this.iv;
  // Two cached input buffers: the I/O batch and the hairpin scratch alternate.
  private bufA: ArrayBufferLike | null = null;
  private viewA: DataView = this.iv;
  private bufB: ArrayBufferLike | null = null;
  private viewB: DataView = this.iv;

  private wordsA: Int32Array = new Int32Array(0);
  private wordsB: Int32Array = this.wordsA;
  /** Per packet: Int32Array views of the input's and the output's whole buffers, and the
   *  output slot's offset in its buffer, for word copies between 4-aligned offsets
   *  (native order: no byte swap, the fastest element access V8 has). */
  iw: Int32Array = this.wordsA;
  ow: Int32Array = this.wordsA;
  ob = 0;
  private lastOv: DataView = this.iv;
  private outBuf: ArrayBufferLike | null = null;

  /** Binds the input's views (before parsing) and then, with bindOutput, the slot's. */
  bindIn(b: Uint8Array): void {
    const buf = b.buffer;
    if (buf === this.bufA) {
      this.iv = this.viewA;
      this.iw = this.wordsA;
    } else this.bindInput(buf);
    this.ib = b.byteOffset;
  }

  bindOut(ov: DataView): void {
    this.ov = ov;
    if (ov !== this.lastOv) this.bindOutput(ov);
  }

  bindViews(b: Uint8Array, ov: DataView): void {
    this.bindIn(b);
    this.bindOut(ov);
  }

  // The rare cases, out of line: bindViews stays small enough to be inlined.
  private bindInput(buf: ArrayBufferLike): void {
    if (buf === this.bufB) {
      this.bufB = this.bufA;
      this.bufA = buf;
      const v = this.viewB, w = this.wordsB;
      this.viewB = this.viewA;
      this.wordsB = this.wordsA;
      this.viewA = this.iv = v;
      this.wordsA = this.iw = w;
      return;
    }
    this.bufB = this.bufA;
    this.viewB = this.viewA;
    this.wordsB = this.wordsA;
    this.bufA = buf;
    this.viewA = this.iv = new DataView(buf);
    this.wordsA = this.iw = new Int32Array(buf, 0, buf.byteLength >> 2);
  }

  private bindOutput(ov: DataView): void {
    this.lastOv = ov;
    this.ob = ov.byteOffset;
    const obuf = ov.buffer;
    if (obuf !== this.outBuf) {
      this.outBuf = obuf;
      this.ow = new Int32Array(obuf, 0, obuf.byteLength >> 2);
    }
  }

  /** Per packet, 6->4: the unfolded 16-bit sum of the new IPv4 source and destination,
   *  for the header checksum and the L4 pseudo-header update. */
  addrSum4 = 0;
  /** Per packet: the 6->4 destination was mapped with RFC 6052 (hairpin candidate). */
  dstViaRfc6052 = false;
  /** Long-lived buffer for the IPv4 form of an intrinsically hairpinned packet. */
  readonly scratch = new Uint8Array(65536);

  constructor(
    readonly opts: XlatOptions,
    readonly stats: Stats,
    readonly addr: AddressMapper,
    /** RFC 6791 pools: sources for translated ICMP errors from untranslatable routers. */
    readonly pool4: Rfc6791Pool4 | null,
    readonly pool6: Rfc6791Pool6 | null,
    readonly rate: IcmpRateLimit,
    icmpSrc4: number,
    icmpSrc6: Uint8Array,
  ) {
    this.tokens = rate.burst;
    this.icmpSrc4 = icmpSrc4;
    this.icmpSrc6 = icmpSrc6;
    this.lowestIpv6Mtu = Math.min(opts.lowestIpv6Mtu, opts.ipv6Mtu);
    this.ipId = (Math.random() * 0x10000) | 0;
  }

  /** Takes one token for an ICMP error at time `now` (ms); false when over the limit. */
  takeIcmpToken(now: number): boolean {
    if (this.lastRefill < 0 || now < this.lastRefill) this.lastRefill = now;
    const add = ((now - this.lastRefill) * this.rate.perSecond) / 1000;
    if (add >= 1) {
      this.tokens = Math.min(this.rate.burst, this.tokens + add);
      this.lastRefill = now;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }
}
