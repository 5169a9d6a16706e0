// The stateless IP/ICMP translator (RFC 7915): one entry point that dispatches on the
// version nibble, counts, and handles RFC 7757 intrinsic hairpinning.
import { AddressMapper } from "../addr/mapper.ts";
import { Denylist4 } from "../addr/denylist.ts";
import { EamTable } from "../addr/eam.ts";
import { parseIPv4 } from "../addr/ip.ts";
import { embed4 } from "../addr/rfc6052.ts";
import { Rfc6791Pool4, Rfc6791Pool6 } from "../addr/rfc6791.ts";
import type { PacketBatch } from "../packet/batch.ts";
import { copyBytes } from "./bytes.ts";
import { DEFAULT_ICMP_RATE, type IcmpRateLimit, XlatContext } from "./context.ts";
import { translate46 } from "./ipv4_to_ipv6.ts";
import { translate64 } from "./ipv6_to_ipv4.ts";
import type { XlatOptions } from "./options.ts";
import { DROP, SLOT, type Stats } from "./stats.ts";

/** RFC 7600: the IPv4 dummy address, for ICMPv4 errors when no RFC 6791 pool is set. */
export const IPV4_DUMMY = parseIPv4("192.0.0.8");

/** Knobs beyond XlatOptions, with defaults; tests and the NAT64/CLAT wrappers use them. */
export interface TranslatorExtras {
  /** Source of ICMPv4 errors the translator originates (default: RFC 6791 pool or 192.0.0.8). */
  icmpSource4?: number;
  /** Source of ICMPv6 errors the translator originates (default: RFC 6791 pool, else
   *  192.0.0.8 under pool6, else ::ffff:192.0.0.8). */
  icmpSource6?: Uint8Array;
  /** ICMP error rate limit (RFC 4443 2.4 (f)). */
  icmpRate?: IcmpRateLimit;
  /** Fixes the RFC 6791 random sequence (tests). */
  seed?: number;
  /** A prebuilt mapper (shared with other components); default: built from `opts`. */
  mapper?: AddressMapper;
}

export class Translator {
  readonly x: XlatContext;

  constructor(readonly opts: XlatOptions, readonly stats: Stats, extras: TranslatorExtras = {}) {
    const mapper = extras.mapper ?? new AddressMapper(
      opts.pool6,
      new EamTable(opts.eam),
      new Denylist4(opts.denylist4),
      opts.wkpStrict,
      opts.eamHairpinMode,
    );
    const pool4 = opts.rfc6791v4
      ? new Rfc6791Pool4(opts.rfc6791v4, opts.rfc6791Randomize, extras.seed)
      : null;
    const pool6 = opts.rfc6791v6
      ? new Rfc6791Pool6(opts.rfc6791v6, opts.rfc6791Randomize, extras.seed)
      : null;
    const src4 = extras.icmpSource4 ?? (opts.rfc6791v4 ? opts.rfc6791v4.addr : IPV4_DUMMY);
    let src6 = extras.icmpSource6;
    if (!src6) {
      src6 = new Uint8Array(16);
      if (pool6) pool6.pickInto(src4, src6, 0);
      else if (opts.pool6) embed4(opts.pool6, src4, src6, 0);
      else {
        src6[10] = src6[11] = 0xff;
        src6[12] = src4 >>> 24;
        src6[13] = (src4 >>> 16) & 255;
        src6[14] = (src4 >>> 8) & 255;
        src6[15] = src4 & 255;
      }
    }
    this.x = new XlatContext(
      opts,
      stats,
      mapper,
      pool4,
      pool6,
      extras.icmpRate ?? DEFAULT_ICMP_RATE,
      src4,
      src6,
    );
  }

  /** Translate one IP packet (family by version nibble) from pkt[0..len). Emits zero or more
   *  packets into `out` (a translation, its IPv6 fragments, or an ICMP error the translator
   *  generates back toward the source); counts drops in stats. Never throws. `now` in ms. */
  translate(pkt: Uint8Array, len: number, out: PacketBatch, now: number): void {
    const v = this.stats.v;
    if (len < 1 || len > pkt.length) {
      this.stats.drop(DROP.truncated, false);
      return;
    }
    const version = pkt[0] >> 4;
    try {
      if (version === 4) {
        v[SLOT.in46Packets]++;
        v[SLOT.in46Bytes] += len;
        translate46(this.x, pkt, len, out, now, false);
      } else if (version === 6) {
        v[SLOT.in64Packets]++;
        v[SLOT.in64Bytes] += len;
        if (translate64(this.x, pkt, len, out, now)) this.hairpin(out, now);
      } else {
        this.stats.drop(DROP.bad_version, false);
      }
    } catch {
      // A bug must cost one packet, never the data path.
      this.stats.drop(DROP.internal_error, version === 6);
    }
  }

  /**
   * RFC 7757 4.2.2 intrinsic hairpinning: the IPv4 packet just emitted is bound for an
   * IPv6 node of ours; take it back and translate it to IPv6 again.
   */
  private hairpin(out: PacketBatch, now: number): void {
    const k = out.count - 1;
    const n = out.lens[k];
    const s = this.x.scratch;
    copyBytes(s, 0, out.slots[k], 0, n);
    out.count--;
    const v = this.stats.v;
    v[SLOT.out64Packets]--;
    v[SLOT.out64Bytes] -= n;
    translate46(this.x, s, n, out, now, true);
  }
}
