// The CLAT (RFC 6877): IPv4 from the host or its LAN out as IPv6 toward the PLAT.
//
// Dedicated-prefix mode (RFC 6877 6.3, RFC 8683 4.8): stateless NAT46. Each IPv4 LAN
// address maps one-to-one into the translation prefix (an EAM), IPv4 destinations into
// the PLAT prefix (pool6); explicit mappings from config come first, so dual-stack
// destinations are reached natively over IPv6 (RFC 8683 4.9, RFC 7757).
//
// Single-address mode (RFC 8683 4.8, one IPv6 address as on phones): NAT44 onto the
// CLAT IPv4 address, then stateless NAT46 onto the one CLAT IPv6 address. The NAT44 is
// the NAT64 engine itself, run between two stateless translations: IPv4 clients become
// IPv6 hosts of an internal prefix, the NAT64 maps them onto CLAT-IPv4:port with all of
// RFC 6146's state handling (TCP state machine, timeouts, ICMP errors, fragments), and
// the result is translated statelessly toward the PLAT. The internal prefix never
// leaves the engine.
import { contains4, formatIPv4, parseIPv6, type Prefix4, prefix4, prefix6 } from "../addr/ip.ts";
import { extract4 } from "../addr/rfc6052.ts";
import { PacketBatch } from "../packet/batch.ts";
import type { EngineRequest, PacketEngine } from "../io/worker_protocol.ts";
import { Nat64 } from "../nat64/engine.ts";
import type { Nat64EngineOptions } from "../nat64/options.ts";
import type { SessionRow } from "../nat64/session_rows.ts";
import type { IcmpRateLimit } from "../xlat/context.ts";
import type { EamEntry, XlatOptions } from "../xlat/options.ts";
import { DROP, SLOT, Stats, STATS_LEN } from "../xlat/stats.ts";
import { Translator } from "../xlat/translator.ts";
import { copyBytes } from "../xlat/bytes.ts";
import { clampMss } from "./mss.ts";
import { type ClatEngineOptions, lanEam, NAT44_PORTS } from "./options.ts";

/** The NAT44's internal IPv6 prefix (ULA; never on the wire). */
export const INTERNAL_PREFIX = prefix6(parseIPv6("fd00:c1a7:4444::"), 96);

export interface ClatExtras {
  readonly seed?: number;
  readonly icmpRate?: IcmpRateLimit;
}

/** Which CLAT variant options describe. */
export const clatVariant = (o: ClatEngineOptions): "dedicated" | "single" =>
  o.clat.translationPrefix ? "dedicated" : "single";

function checkOptions(o: ClatEngineOptions): void {
  if (!o.clat) throw new Error('mode "clat" needs options from toClatEngineOptions(cfg)');
  const c = o.clat;
  if (c.translationPrefix) {
    if (c.translationPrefix.len > 96) {
      throw new Error("clat.translation-prefix must be /96 or shorter (a /64 per RFC 6877 6.3)");
    }
    if (c.lan4.length === 0) throw new Error("clat: no IPv4 LAN prefixes to map");
  } else if (!c.ipv6Address) {
    throw new Error("clat needs a translation prefix or a single IPv6 address");
  }
}

/** The NAT46 toward the PLAT: pool6 = PLAT prefix, EAM = our own side + bypass entries. */
function outerOptions(o: ClatEngineOptions): XlatOptions {
  const c = o.clat;
  const own: EamEntry[] = c.translationPrefix
    ? c.lan4.map((p) => lanEam(p, c.translationPrefix!))
    : [{ ipv4: prefix4(c.ipv4Address, 32), ipv6: prefix6(c.ipv6Address!, 128) }];
  return { ...o, eam: [...own, ...o.eam], eamHairpinMode: "off" };
}

/** The stateless hop between IPv4 clients and the NAT44's internal IPv6 side. */
function innerOptions(o: ClatEngineOptions): XlatOptions {
  return {
    ...o,
    pool6: INTERNAL_PREFIX,
    eam: [],
    eamHairpinMode: "off",
    denylist4: [],
    wkpStrict: false,
    // Nothing is fragmented or refused for size inside: the outer NAT46 does that.
    lowestIpv6Mtu: 65535,
    ipv4Mtu: 65535,
    ipv6Mtu: 65535,
    resetTrafficClass: false,
    resetTos: false,
    rfc6791v4: null,
    rfc6791v6: null,
  };
}

function nat44Options(o: ClatEngineOptions): Nat64EngineOptions {
  return {
    ...innerOptions(o),
    nat64: {
      ...o.clat.nat44,
      pool4: [{
        prefix: prefix4(o.clat.ipv4Address, 32),
        ports: NAT44_PORTS,
        protocols: ["tcp", "udp", "icmp"],
      }],
      staticBib: [],
      // Nothing listens behind a CLAT: unsolicited inbound SYNs are dropped at once.
      dropExternallyInitiatedTcp: true,
      maxHeldSyns: 0,
    },
  };
}

const variantKey = (o: ClatEngineOptions) =>
  JSON.stringify([
    o.clat.ipv4Address,
    o.clat.translationPrefix ? [...o.clat.translationPrefix.addr, o.clat.translationPrefix.len] : 0,
    o.clat.ipv6Address ? [...o.clat.ipv6Address] : 0,
  ]);

// Each hop has one translator per direction: a translator caches views of the buffers it
// reads and writes, and in a fixed direction those stay the same from packet to packet.
export class Clat implements PacketEngine {
  #opts!: ClatEngineOptions;
  /** NAT46 toward the PLAT (writes the output batch); dedicated mode uses only this. */
  #outer!: Translator;
  /** NAT46 from the PLAT in single-address mode (writes the first scratch batch). */
  #outerIn: Translator | null = null;
  /** Client IPv4 -> internal IPv6 (writes the first scratch batch). */
  #inner: Translator | null = null;
  /** Internal IPv6 -> client IPv4 (writes the output batch). */
  #innerOut: Translator | null = null;
  #nat: Nat64 | null = null;
  #lan: readonly Prefix4[] = [];
  #mss = 0;
  /** Counters of the internal hops; their drops are folded into `stats` on tick. */
  readonly #innerStats = new Stats();
  readonly #folded = new Float64Array(STATS_LEN);
  readonly #b1 = new PacketBatch(64);
  readonly #b2 = new PacketBatch(64);

  constructor(opts: ClatEngineOptions, readonly stats: Stats, readonly extras: ClatExtras = {}) {
    this.#build(opts, true);
  }

  get options(): ClatEngineOptions {
    return this.#opts;
  }
  get variant(): "dedicated" | "single" {
    return clatVariant(this.#opts);
  }
  /** The NAT44 of single-address mode (its tables and gauges), else null. */
  get nat44(): Nat64 | null {
    return this.#nat;
  }

  #build(o: ClatEngineOptions, fresh: boolean): void {
    checkOptions(o);
    const c = o.clat;
    const extras = {
      icmpSource4: c.ipv4Address,
      icmpRate: this.extras.icmpRate,
      seed: this.extras.seed,
    };
    const outer = new Translator(outerOptions(o), this.stats, extras);
    let outerIn: Translator | null = null;
    let inner: Translator | null = null;
    let innerOut: Translator | null = null;
    let nat: Nat64 | null = null;
    if (!c.translationPrefix) {
      outerIn = new Translator(outerOptions(o), this.stats, extras);
      inner = new Translator(innerOptions(o), this.#innerStats, extras);
      innerOut = new Translator(innerOptions(o), this.#innerStats, extras);
      const n = nat44Options(o);
      if (fresh || !this.#nat) {
        nat = new Nat64(n, this.#innerStats, {
          seed: this.extras.seed,
          icmpRate: this.extras.icmpRate,
        });
      } else {
        this.#nat.reconfigure(n);
        nat = this.#nat;
      }
    }
    this.#outer = outer;
    this.#outerIn = outerIn;
    this.#inner = inner;
    this.#innerOut = innerOut;
    this.#nat = nat;
    this.#lan = c.translationPrefix ? c.lan4 : [];
    this.#mss = c.mssClamp;
    this.#opts = o;
  }

  /**
   * New options in place: a new PLAT prefix or bypass mappings replace the stateless
   * part; single-address mode keeps its NAT44 sessions unless the CLAT's own addresses
   * changed. Throws without changing anything when the options are unusable.
   */
  reconfigure(options: XlatOptions): void {
    const o = options as ClatEngineOptions;
    checkOptions(o);
    const fresh = variantKey(o) !== variantKey(this.#opts);
    if (!fresh && this.#nat) {
      // Validate everything that can throw before touching the running NAT44.
      new Translator(outerOptions(o), new Stats());
    }
    this.#build(o, fresh);
  }

  /**
   * Single-address mode: the NAT44's table sizes ("gauges") and session rows, which the
   * supervisor polls as it does NAT64's. A dedicated-prefix CLAT keeps no state.
   */
  request(req: EngineRequest, now: number): unknown {
    const nat = this.#nat;
    if (!nat) throw new Error("a dedicated-prefix CLAT keeps no NAT44 state");
    if (req.op === "gauges") return nat.gauges();
    if (req.op === "sessions") return nat.sessionRows(req.limit, now).map(nat44Row);
    throw new Error(`the CLAT's NAT44 answers no "${req.op}"`);
  }

  tick(now: number): void {
    this.#nat?.tick(now);
    this.#fold();
  }

  /** Same contract as Translator.translate: emits into `out`, counts, never throws. */
  translate(pkt: Uint8Array, len: number, out: PacketBatch, now: number): void {
    const first = out.count;
    try {
      if (this.#nat) this.#single(pkt, len, out, now);
      else this.#dedicated(pkt, len, out, now);
    } catch {
      this.stats.drop(DROP.internal_error, len > 0 && pkt[0] >> 4 === 6);
    }
    if (this.#mss > 0) {
      for (let k = first; k < out.count; k++) clampMss(out.slots[k], out.lens[k], this.#mss);
    }
  }

  #dedicated(pkt: Uint8Array, len: number, out: PacketBatch, now: number): void {
    if (len >= 20 && pkt[0] >> 4 === 4) {
      // Only the LAN's own addresses have a place in the translation prefix.
      const src = ((pkt[12] << 24) | (pkt[13] << 16) | (pkt[14] << 8) | pkt[15]) >>> 0;
      let ok = false;
      for (let i = 0; i < this.#lan.length; i++) {
        if (contains4(this.#lan[i], src)) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        const v = this.stats.v;
        v[SLOT.in46Packets]++;
        v[SLOT.in46Bytes] += len;
        this.stats.drop(DROP.untranslatable_src, false);
        return;
      }
    }
    this.#outer.translate(pkt, len, out, now);
  }

  #single(pkt: Uint8Array, len: number, out: PacketBatch, now: number): void {
    const inner = this.#inner!, innerOut = this.#innerOut!, nat = this.#nat!;
    const outer = this.#outer, outerIn = this.#outerIn!;
    const b1 = this.#b1, b2 = this.#b2;
    b1.clear();
    b2.clear();
    if (len >= 1 && pkt[0] >> 4 === 4) {
      // Client IPv4 -> internal IPv6 -> NAT44 (CLAT-IPv4:port) -> NAT46 toward the PLAT.
      inner.translate(pkt, len, b1, now);
      for (let k = 0; k < b1.count; k++) {
        const p = b1.slots[k];
        if (p[0] >> 4 === 6) nat.translate(p, b1.lens[k], b2, now);
        else copyInto(out, p, b1.lens[k]); // an ICMPv4 error back to the client
      }
      const mark = out.count;
      for (let k = 0; k < b2.count; k++) {
        const p = b2.slots[k];
        if (p[0] >> 4 === 4) outer.translate(p, b2.lens[k], out, now);
        else innerOut.translate(p, b2.lens[k], out, now); // NAT44's error to the client
      }
      // The NAT46's own ICMPv4 errors (Fragmentation Needed for the IPv6 path) are bound
      // for the CLAT address: take them back out and return them through the NAT44.
      b1.clear();
      for (let k = mark; k < out.count;) {
        if (out.slots[k][0] >> 4 !== 4 || (out.slots[k][9] !== 1)) {
          k++;
          continue;
        }
        copyInto(b1, out.slots[k], out.lens[k]);
        const last = out.count - 1;
        if (k !== last) copyInto(out, out.slots[last], out.lens[last], k);
        out.count--;
      }
      if (b1.count === 0) return;
      b2.clear();
      for (let k = 0; k < b1.count; k++) nat.translate(b1.slots[k], b1.lens[k], b2, now);
      for (let k = 0; k < b2.count; k++) {
        const p = b2.slots[k];
        if (p[0] >> 4 === 6) innerOut.translate(p, b2.lens[k], out, now);
      }
    } else {
      // IPv6 from the PLAT (or a bypass peer) -> IPv4 -> NAT44 back -> the client.
      outerIn.translate(pkt, len, b1, now);
      for (let k = 0; k < b1.count; k++) {
        const p = b1.slots[k];
        if (p[0] >> 4 === 4) nat.translate(p, b1.lens[k], b2, now);
        else copyInto(out, p, b1.lens[k]); // an ICMPv6 error back toward the sender
      }
      for (let k = 0; k < b2.count; k++) {
        const p = b2.slots[k];
        if (p[0] >> 4 === 6) innerOut.translate(p, b2.lens[k], out, now);
        else outer.translate(p, b2.lens[k], out, now); // NAT44's error to the peer
      }
    }
  }

  /** Adds the drops counted by the internal hops since the last fold to `stats`. */
  #fold(): void {
    const a = this.#innerStats.v, f = this.#folded, v = this.stats.v;
    v[SLOT.icmpErrorsSent] += a[SLOT.icmpErrorsSent] - f[SLOT.icmpErrorsSent];
    f[SLOT.icmpErrorsSent] = a[SLOT.icmpErrorsSent];
    for (let i = SLOT.drops46; i < STATS_LEN; i++) {
      v[i] += a[i] - f[i];
      f[i] = a[i];
    }
  }
}

/**
 * A NAT64 session row of the NAT44 as people read it: the client's IPv4 address:port
 * (its internal IPv6 address holds it) in place of the internal IPv6 side.
 */
export function nat44Row(r: SessionRow): SessionRow {
  const m = /^\[([0-9a-f:.]+)\]:(\d+)$/i.exec(String(r.ipv6));
  const v4 = m ? extract4(INTERNAL_PREFIX, parseIPv6(m[1]), 0) : -1;
  return {
    proto: r.proto,
    client: v4 >= 0 ? `${formatIPv4(v4)}:${m![2]}` : String(r.ipv6),
    ipv4: r.ipv4,
    remote: r.remote,
    state: r.state,
    expires_s: r.expires_s,
  };
}

/** Copies a packet into `out`: appended, or over slot `at` (no allocation). */
function copyInto(out: PacketBatch, p: Uint8Array, len: number, at = -1): void {
  if (at >= 0) {
    copyBytes(out.slots[at], 0, p, 0, len);
    out.lens[at] = len;
    return;
  }
  const slot = out.reserve();
  if (slot < 0) return;
  copyBytes(out.slots[slot], 0, p, 0, len);
  out.commit(len);
}
