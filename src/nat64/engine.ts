// The stateful NAT64 engine (RFC 6146 3), one packet at a time, in the RFC's steps:
// incoming tuple (3.4, tuple.ts), filtering and updating (3.5, tables.ts and the TCP
// state machine), outgoing tuple (3.6, addr_xlat.ts), translation (3.7: the RFC 7915
// translator, then rewrite.ts for ports) and hairpinning (3.8). Sans-I/O: `now` is the
// clock; expiry runs at the start of each call.
import { PacketBatch } from "../packet/batch.ts";
import { Ipv4Info, parseIpv4 } from "../packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../packet/ipv6.ts";
import { ICMP4, ICMP4_UNREACH, ICMP6, ICMP6_UNREACH } from "../packet/proto.ts";
import { TCP_FLAG } from "../packet/l4.ts";
import type { IcmpRateLimit } from "../xlat/context.ts";
import type { XlatOptions } from "../xlat/options.ts";
import { sendIcmp4Error, sendIcmp6Error } from "../xlat/icmp_error.ts";
import { DROP, SLOT, type Stats } from "../xlat/stats.ts";
import { Translator } from "../xlat/translator.ts";
import type { EngineRequest, PacketEngine } from "../io/worker_protocol.ts";
import { Nat64Mapper } from "./addr_xlat.ts";
import type { Bib, Session } from "./entries.ts";
import type { Nat64EngineOptions } from "./options.ts";
import { P_ICMP, P_TCP, Pool4 } from "./pool4.ts";
import { rewrite46, rewrite64 } from "./rewrite.ts";
import { SynHold } from "./syn_hold.ts";
import { parseSnapshot, type RestoreResult, restoreTables, serializeTables } from "./snapshot.ts";
import { FAIL, type LogHook, Nat64Tables } from "./tables.ts";
import { LIFE, lifeAction, nextState, TCP, tcpTransition } from "./tcp_fsm.ts";
import { fragmented6, Tuple, tuple4, tuple6 } from "./tuple.ts";
import { type FragFlow, FragTracker } from "./fragments.ts";
import { PcpServer } from "../discovery/pcp_server.ts";
import { PcpMappings } from "./pcp_mappings.ts";
import { type SessionRow, sessionRows } from "./session_rows.ts";

const w32 = (b: Uint8Array, o: number): number =>
  (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

export interface Nat64Extras {
  /** Fixes hash secrets and the translator's random sequences (tests, benchmarks). */
  readonly seed?: number;
  readonly icmpRate?: IcmpRateLimit;
  /** Timer wheel granularity (ms). */
  readonly tickMs?: number;
  /** Receives BIB/session events (overrides nat64.logSessions's default sink). */
  readonly log?: LogHook;
}

export interface PerProto {
  readonly tcp: number;
  readonly udp: number;
  readonly icmp: number;
}

export interface Nat64Gauges {
  readonly bibs: PerProto;
  readonly sessions: PerProto;
  /** Transport addresses pool4 offers per protocol (BIB entries can use at most this). */
  readonly pool4Capacity: PerProto;
  /** Of those, bound by a BIB entry. */
  readonly pool4Used: PerProto;
  /** IPv6 hosts holding a BIB entry or session. */
  readonly hosts: number;
  /** Unsolicited IPv4 SYNs waiting (RFC 6146 3.5.2.2). */
  readonly heldSyns: number;
  /** BIB entries held by PCP MAP requests (RFC 6887 11). */
  readonly pcpMappings: number;
}

export class Nat64 implements PacketEngine {
  readonly tables: Nat64Tables;
  translator: Translator;
  mapper: Nat64Mapper;
  readonly syns: SynHold;
  readonly frags: FragTracker;
  /** PCP explicit mappings over the BIB (RFC 6887 11). */
  readonly pcp: PcpMappings;
  /** Built at the first PCP request (or after a reconfigure), when the clock is known. */
  #pcpServer: PcpServer | null = null;
  #pcpNowS = 0;
  /** RFC 6887 8.5: the epoch counts from the first request and survives reconfigures. */
  #pcpOriginS: number | null = null;
  #pcpExpiredAt = 0;
  readonly #in6 = new Ipv6Info();
  readonly #inner6 = new Ipv6Info();
  readonly #in4 = new Ipv4Info();
  readonly #inner4 = new Ipv4Info();
  readonly #held4 = new Ipv4Info();
  readonly #t = new Tuple();
  readonly #scratch = new Uint8Array(65536);
  #dropExternal: boolean;
  readonly #pending = new PacketBatch(16, 1280);
  readonly #extras: Nat64Extras;
  #now = 0;
  readonly #onHeldExpired = (pkt: Uint8Array): void => this.#refuseHeld(pkt);
  readonly #onFragsLost = (v6: boolean, n: number): void => {
    for (let k = 0; k < n; k++) this.stats.drop(DROP.nat64_fragment, v6);
  };

  constructor(public opts: Nat64EngineOptions, readonly stats: Stats, extras: Nat64Extras = {}) {
    this.#extras = extras;
    const n = opts.nat64;
    if (opts.pool6 === null) throw new Error("nat64 needs a pool6 prefix (translator.pool6)");
    if (n.pool4.length === 0) throw new Error("nat64 needs at least one [[nat64.pool4]] entry");
    this.tables = new Nat64Tables({
      pool4: n.pool4,
      staticBib: n.staticBib,
      timeouts: n.timeouts,
      maxSessionsPerHost: n.maxSessionsPerHost,
      maxPortsPerHost: n.maxPortsPerHost,
      addressDependentFiltering: n.addressDependentFiltering,
      seed: extras.seed,
      tickMs: extras.tickMs,
    });
    if (extras.log) this.tables.log = extras.log;
    this.mapper = new Nat64Mapper(opts.pool6, opts.denylist4, opts.wkpStrict);
    this.translator = new Translator(opts, stats, {
      mapper: this.mapper,
      icmpSource4: this.tables.pool4.firstAddress(),
      icmpRate: extras.icmpRate,
      seed: extras.seed,
    });
    this.#dropExternal = n.dropExternallyInitiatedTcp;
    this.syns = new SynHold(n.timeouts.tcpIncomingSyn, n.maxHeldSyns, extras.seed ?? 0x5eed);
    // RFC 6146 3.4: fragments are kept at least FRAGMENT_MIN (2 s).
    this.frags = new FragTracker(2000, 4096, 256, (extras.seed ?? 0xf7a9) ^ 0x55aa);
    this.pcp = new PcpMappings(this.tables);
  }

  #makePcpServer(o: Nat64EngineOptions): PcpServer | null {
    const p = o.nat64.pcp;
    if (!p || o.pool6 === null) return null;
    return new PcpServer(
      {
        // RFC 7225 5: every response carries PREFIX64 with pool6.
        prefixes: [{ prefix: o.pool6 }],
        clients: [...p.allow],
        minLifetimeS: p.minLifetime,
        maxLifetimeS: p.maxLifetime,
      },
      this.pcp,
      () => this.#pcpNowS,
    );
  }

  /**
   * Answers one PCP datagram from `src` (16 octets; RFC 6887 8.2) against the BIB, or
   * null when it is to be dropped or no PCP server is configured.
   */
  handlePcp(datagram: Uint8Array, src: Uint8Array, now: number): Uint8Array | null {
    if (this.#pcpServer === null) {
      this.#pcpOriginS ??= now / 1000;
      this.#pcpNowS = this.#pcpOriginS;
      this.#pcpServer = this.#makePcpServer(this.opts);
      if (this.#pcpServer === null) return null;
    }
    this.#pcpNowS = now / 1000;
    this.#expire(now);
    return this.#pcpServer.handle(datagram, src);
  }

  /** The supervisor's questions (PacketEngine.request), answered between batches. */
  request(req: EngineRequest, now: number): unknown {
    switch (req.op) {
      case "snapshot":
        this.#expire(now);
        return this.snapshot(now);
      case "sessions":
        return this.sessionRows(req.limit, now);
      case "gauges":
        return this.gauges();
      case "pcp":
        return this.handlePcp(req.datagram, req.src, now);
    }
  }

  /** Up to `limit` sessions as rows for people (`xlat64 status --sessions`). */
  sessionRows(limit: number, now: number): SessionRow[] {
    return sessionRows(this.tables, limit, now);
  }

  /** Same contract as Translator.translate: emits into `out`, counts, never throws. */
  translate(pkt: Uint8Array, len: number, out: PacketBatch, now: number): void {
    this.#now = now;
    const v6 = len >= 1 && len <= pkt.length && pkt[0] >> 4 === 6;
    try {
      if (this.tables.wheel.due(now) || this.syns.size > 0 || this.frags.size > 0) {
        this.#expire(now);
      }
      if (this.#pending.count > 0) this.#flush(out);
      if (v6) this.#from6(pkt, len, out, now);
      else if (len >= 1 && len <= pkt.length && pkt[0] >> 4 === 4) this.#from4(pkt, len, out, now);
      else this.translator.translate(pkt, len, out, now); // counts the bad packet
    } catch {
      this.stats.drop(DROP.internal_error, v6);
    }
  }

  /**
   * The worker's clock (PacketEngine.tick): expires sessions and held SYNs. ICMP errors
   * for expired SYNs wait in a small queue and leave with the next translate call.
   */
  tick(now: number): void {
    try {
      this.#expire(now);
    } catch {
      this.stats.drop(DROP.internal_error, false);
    }
  }

  /** Table sizes for /status and /metrics (hosts is O(hosts): for polling, not per packet). */
  gauges(): Nat64Gauges {
    const t = this.tables;
    const p = t.pool4;
    return {
      bibs: { tcp: t.bibsByProto[0], udp: t.bibsByProto[1], icmp: t.bibsByProto[2] },
      sessions: {
        tcp: t.sessionsByProto[0],
        udp: t.sessionsByProto[1],
        icmp: t.sessionsByProto[2],
      },
      pool4Capacity: { tcp: p.capacity(0), udp: p.capacity(1), icmp: p.capacity(2) },
      pool4Used: { tcp: t.pool4Used[0], udp: t.pool4Used[1], icmp: t.pool4Used[2] },
      hosts: t.hostCount,
      heldSyns: this.syns.size,
      pcpMappings: this.pcp.size,
    };
  }

  /** ICMP errors queued by tick() that have not left yet. */
  get pendingCount(): number {
    return this.#pending.count;
  }

  /** The BIB and sessions as snapshot bytes (snapshot.ts); write them atomically. */
  snapshot(now: number): Uint8Array {
    return serializeTables(this.tables, now, this.pcp.values());
  }

  /** Loads snapshot bytes taken by `snapshot` (throws SnapshotError on bad input). */
  restore(bytes: Uint8Array, now: number): RestoreResult {
    return restoreTables(
      this.tables,
      parseSnapshot(bytes),
      now,
      (bib, nonce, msLeft) => this.pcp.restore(bib, nonce, (now + msLeft) / 1000),
    );
  }

  #expire(now: number): void {
    this.#now = now;
    // PCP lifetimes are in seconds: a look per second is enough.
    if (this.pcp.size > 0 && now - this.#pcpExpiredAt >= 1000) {
      this.#pcpExpiredAt = now;
      this.pcp.expire(now / 1000);
    }
    this.tables.expire(now);
    this.syns.expire(now, this.#onHeldExpired);
    this.frags.expire(now, this.#onFragsLost);
  }

  #flush(out: PacketBatch): void {
    const p = this.#pending;
    for (let k = 0; k < p.count; k++) {
      const slot = out.reserve();
      if (slot < 0) break;
      out.slots[slot].set(p.slots[k].subarray(0, p.lens[k]));
      out.commit(p.lens[k]);
    }
    p.clear();
  }

  /**
   * Takes new options in place (PacketEngine.reconfigure), keeping BIB and sessions:
   * translator options, pool4, timeouts, limits and filtering change; new static BIB
   * entries are added (ones that clash with a binding in use are skipped). Existing
   * bindings outside a shrunken pool4 live until their sessions expire.
   */
  reconfigure(options: XlatOptions | Nat64EngineOptions): void {
    const o = options as Nat64EngineOptions;
    if (!o.nat64) throw new Error("nat64 engine: options carry no nat64 section");
    if (o.pool6 === null) throw new Error("nat64 needs a pool6 prefix (translator.pool6)");
    if (o.nat64.pool4.length === 0) throw new Error("nat64 needs at least one pool4 entry");
    if (o.nat64.addressDependentFiltering !== this.tables.adf) {
      throw new Error("nat64: address-dependent-filtering cannot change at run time");
    }
    const mapper = new Nat64Mapper(o.pool6, o.denylist4, o.wkpStrict);
    const pool4 = new Pool4(o.nat64.pool4);
    const tr = new Translator(o, this.stats, {
      mapper,
      icmpSource4: pool4.firstAddress(),
      icmpRate: this.#extras.icmpRate,
      seed: this.#extras.seed,
    });
    this.mapper = mapper;
    this.translator = tr;
    this.tables.reconfigure(o.nat64, pool4);
    this.#dropExternal = o.nat64.dropExternallyInitiatedTcp;
    this.#pcpServer = null;
    this.opts = o;
  }

  #dropIn(reason: number, v6: boolean, len: number): void {
    const v = this.stats.v;
    if (v6) v[SLOT.in64Packets]++, v[SLOT.in64Bytes] += len;
    else v[SLOT.in46Packets]++, v[SLOT.in46Bytes] += len;
    this.stats.drop(reason, v6);
  }

  // ---- IPv6 -> IPv4 ----

  #from6(b: Uint8Array, len: number, out: PacketBatch, now: number): void {
    const i = this.#in6;
    let r = parseIpv6(b, len, i);
    if (r !== 0) return this.translator.translate(b, len, out, now); // counts it
    if (i.fragOffset !== 0) return this.#laterFragment6(b, len, i, out, now);
    const t = this.#t;
    r = tuple6(b, i, this.#inner6, this.mapper, t);
    if (r !== 0) return this.#dropIn(r, true, len);
    const tables = this.tables;
    const proto = t.proto as 0 | 1 | 2;
    let bib = tables.findBib6(proto, b, t.hostOff, t.hostPort);
    let s: Session | null = null;

    if (t.error) {
      // RFC 6146 3.5: ICMP errors neither create nor refresh state.
      if (bib === null) return this.#dropIn(DROP.no_bib, true, len);
      s = tables.findSession(bib, t.remote4, t.rport);
      if (s === null) return this.#dropIn(DROP.no_session, true, len);
    } else if (proto !== P_TCP) {
      // RFC 6146 3.5.1 (UDP) and 3.5.3 (ICMP queries).
      if (bib === null) {
        bib = tables.createBib6(proto, b, t.hostOff, t.hostPort, t.remote4, t.rport, now);
        if (bib === null) return this.#refuse6(b, len, i, out, now);
      }
      s = tables.findSession(bib, t.remote4, t.rport);
      const life = tables.lifetimeOf(proto);
      if (s === null) {
        s = tables.createSession(bib, t.remote4, t.rport, now, life);
        if (s === null) return this.#refuse6(b, len, i, out, now, bib);
      } else tables.touch(s, now, life);
    } else {
      // RFC 6146 3.5.2.
      const syn = (t.flags & TCP_FLAG.SYN) !== 0;
      if (bib === null) {
        if (!syn) return this.#dropIn(DROP.no_session, true, len);
        bib = tables.createBib6(P_TCP, b, t.hostOff, t.hostPort, t.remote4, t.rport, now);
        if (bib === null) return this.#refuse6(b, len, i, out, now);
      }
      s = tables.findSession(bib, t.remote4, t.rport);
      if (s === null) {
        // CLOSED: only a V6 SYN opens a session (V6 INIT, TCP_TRANS).
        if (!syn) return this.#dropIn(DROP.no_session, true, len);
        const to = tables.timeouts;
        // A held V4 SYN for this tuple makes this a simultaneous open: V4 INIT + V6 SYN.
        const held = this.syns.take(bib.addr4, bib.port4, t.remote4, t.rport);
        s = held
          ? tables.createSession(bib, t.remote4, t.rport, now, to.tcpEst, TCP.ESTABLISHED)
          : tables.createSession(bib, t.remote4, t.rport, now, to.tcpTrans, TCP.V6_INIT);
        if (s === null) return this.#refuse6(b, len, i, out, now, bib);
      } else this.#tcpStep(s, true, t.flags, now);
    }

    // RFC 6146 3.6/3.7.
    this.mapper.local4 = bib.addr4;
    const first = out.count;
    this.translator.translate(b, len, out, now);
    for (let k = first; k < out.count; k++) {
      const o = out.slots[k];
      if (o[0] >> 4 === 4) rewrite64(o, out.lens[k], bib.port4, t.error);
    }
    if (fragmented6(i)) {
      const src = i.off + 8;
      const f = this.frags.flow(
        true,
        w32(b, src),
        w32(b, src + 4),
        w32(b, src + 8),
        w32(b, src + 12),
        t.remote4 | 0,
        i.proto,
        i.fragId | 0,
        now,
        true,
      );
      if (f !== null) this.#mapped(f, bib, out, now);
      return;
    }
    // RFC 6146 3.8: a destination in pool4 is one of our own BIB entries: hairpin.
    const last = out.count - 1;
    if (last >= first && out.slots[last][0] >> 4 === 4 && this.tables.pool4.hasAddress(t.remote4)) {
      this.#hairpin(out, now);
    }
  }

  /** A first fragment was mapped to `bib`: later fragments that waited for it follow it. */
  #mapped(f: FragFlow, bib: Bib, out: PacketBatch, now: number): void {
    f.bib = bib;
    const w = this.frags.drain(f);
    if (w === null) return;
    for (const p of w) this.#fragmentVia(bib, f.v6, p, p.length, out, now);
  }

  /** Translates a non-first fragment with the addresses of its datagram's BIB entry. */
  #fragmentVia(bib: Bib, v6: boolean, b: Uint8Array, len: number, out: PacketBatch, now: number) {
    if (v6) this.mapper.local4 = bib.addr4;
    else {
      const h = bib.host;
      this.mapper.setHost6(h.a0, h.a1, h.a2, h.a3);
    }
    this.translator.translate(b, len, out, now);
  }

  /** RFC 6146 3.4: a non-first IPv6 fragment: mapped by its first, or held until it comes. */
  #laterFragment6(b: Uint8Array, len: number, i: Ipv6Info, out: PacketBatch, now: number): void {
    const z = this.mapper.map6to4(b, i.off + 24, false);
    if (z < 0) return this.#dropIn(-1 - z, true, len);
    const src = i.off + 8;
    const f = this.frags.flow(
      true,
      w32(b, src),
      w32(b, src + 4),
      w32(b, src + 8),
      w32(b, src + 12),
      z | 0,
      i.proto,
      i.fragId | 0,
      now,
      true,
    );
    this.#later(f, true, b, len, out, now);
  }

  #later(
    f: FragFlow | null,
    v6: boolean,
    b: Uint8Array,
    len: number,
    out: PacketBatch,
    now: number,
  ): void {
    if (f === null) return this.#dropIn(DROP.nat64_fragment, v6, len);
    if (f.bib !== null) return this.#fragmentVia(f.bib, v6, b, len, out, now);
    if (!this.frags.hold(f, b, len)) return this.#dropIn(DROP.nat64_fragment, v6, len);
  }

  /** RFC 6146 3.5.1: no BIB entry or session could be made: ICMPv6 Address Unreachable. */
  #refuse6(
    b: Uint8Array,
    len: number,
    i: Ipv6Info,
    out: PacketBatch,
    now: number,
    unused: Bib | null = null,
  ): void {
    const f = this.tables.failure;
    if (unused !== null && unused.sessions === 0) this.tables.releaseBib(unused, now);
    this.#dropIn(
      f === FAIL.portLimit
        ? DROP.port_limit
        : f === FAIL.sessionLimit
        ? DROP.session_limit
        : DROP.pool4_exhausted,
      true,
      len,
    );
    // sendIcmp6Error counts the error it sends.
    sendIcmp6Error(this.translator.x, b, i, ICMP6.DEST_UNREACH, ICMP6_UNREACH.ADDRESS, 0, out, now);
  }

  #tcpStep(s: Session, fromV6: boolean, flags: number, now: number): void {
    const r = tcpTransition(s.state, fromV6, flags);
    s.state = nextState(r);
    const a = lifeAction(r);
    const to = this.tables.timeouts;
    if (a === LIFE.EST) this.tables.touch(s, now, to.tcpEst);
    else if (a === LIFE.TRANS) this.tables.touch(s, now, to.tcpTrans);
  }

  #hairpin(out: PacketBatch, now: number): void {
    const k = out.count - 1;
    const n = out.lens[k];
    this.#scratch.set(out.slots[k].subarray(0, n));
    out.count--;
    const v = this.stats.v;
    v[SLOT.out64Packets]--;
    v[SLOT.out64Bytes] -= n;
    this.#from4(this.#scratch, n, out, now);
  }

  // ---- IPv4 -> IPv6 ----

  #from4(b: Uint8Array, len: number, out: PacketBatch, now: number): void {
    const i = this.#in4;
    let r = parseIpv4(b, len, i);
    if (r !== 0) return this.translator.translate(b, len, out, now);
    if (i.fragOffset !== 0) {
      const f = this.frags.flow(false, i.src | 0, 0, 0, 0, i.dst | 0, i.proto, i.id, now, true);
      return this.#later(f, false, b, len, out, now);
    }
    const t = this.#t;
    r = tuple4(b, i, this.#inner4, t);
    if (r !== 0) return this.#dropIn(r, false, len);
    const tables = this.tables;
    const proto = t.proto as 0 | 1 | 2;
    if (
      !tables.pool4.contains(proto, t.local4, t.hostPort) &&
      tables.findBib4(proto, t.local4, t.hostPort) === null
    ) {
      return this.#dropIn(t.error ? DROP.no_bib : DROP.untranslatable_dst, false, len);
    }
    const bib = tables.findBib4(proto, t.local4, t.hostPort);
    let s: Session | null = null;

    if (t.error) {
      if (bib === null) return this.#dropIn(DROP.no_bib, false, len);
      s = tables.findSession(bib, t.remote4, t.rport);
      if (s === null) return this.#dropIn(DROP.no_session, false, len);
    } else if (proto !== P_TCP) {
      if (bib === null) {
        this.#dropIn(DROP.no_bib, false, len);
        // RFC 6146 3.5.1: UDP to an unbound transport address: ICMP Port Unreachable.
        // 3.5.3: ICMP queries are dropped silently.
        if (proto !== P_ICMP) this.#icmp4(b, i, ICMP4_UNREACH.PORT, out, now);
        return;
      }
      s = tables.findSession(bib, t.remote4, t.rport);
      const life = tables.lifetimeOf(proto);
      if (s === null) {
        if (!tables.allows(bib, t.remote4)) {
          // RFC 6146 3.5.1: address-dependent filtering refuses: Communication
          // Administratively Prohibited.
          this.#dropIn(DROP.filtered, false, len);
          this.#icmp4(b, i, ICMP4_UNREACH.ADMIN_PROHIBITED, out, now);
          return;
        }
        s = tables.createSession(bib, t.remote4, t.rport, now, life);
        if (s === null) return this.#dropIn(DROP.session_limit, false, len);
      } else tables.touch(s, now, life);
    } else {
      const syn = (t.flags & TCP_FLAG.SYN) !== 0;
      if (bib !== null) s = tables.findSession(bib, t.remote4, t.rport);
      if (s === null) {
        if (!syn) return this.#dropIn(bib === null ? DROP.no_bib : DROP.no_session, false, len);
        if (bib === null || !tables.allows(bib, t.remote4)) {
          // RFC 6146 3.5.2.2: hold an unsolicited V4 SYN for 6 s (unless policy drops it).
          if (this.#dropExternal) {
            return this.#dropIn(bib === null ? DROP.no_bib : DROP.filtered, false, len);
          }
          if (!this.syns.hold(t.local4, t.hostPort, t.remote4, t.rport, b, len, now)) {
            return this.#dropIn(DROP.syn_hold_full, false, len);
          }
          const v = this.stats.v;
          v[SLOT.in46Packets]++;
          v[SLOT.in46Bytes] += len;
          return;
        }
        s = tables.createSession(
          bib,
          t.remote4,
          t.rport,
          now,
          tables.timeouts.tcpTrans,
          TCP.V4_INIT,
        );
        if (s === null) return this.#dropIn(DROP.session_limit, false, len);
      } else this.#tcpStep(s, false, t.flags, now);
    }

    const e = s.bib;
    const h = e.host;
    this.mapper.setHost6(h.a0, h.a1, h.a2, h.a3);
    const first = out.count;
    this.translator.translate(b, len, out, now);
    for (let k = first; k < out.count; k++) {
      const o = out.slots[k];
      if (o[0] >> 4 === 6) rewrite46(o, out.lens[k], e.port6, t.error);
    }
    if (i.mf) {
      const f = this.frags.flow(false, i.src | 0, 0, 0, 0, i.dst | 0, i.proto, i.id, now, true);
      if (f !== null) this.#mapped(f, e, out, now);
    }
  }

  #icmp4(b: Uint8Array, i: Ipv4Info, code: number, out: PacketBatch, now: number): void {
    sendIcmp4Error(this.translator.x, b, i, ICMP4.DEST_UNREACH, code, 0, out, now);
  }

  /** RFC 6146 3.5.2.2: 6 s passed without an IPv6 SYN: ICMP Port Unreachable for the SYN. */
  #refuseHeld(pkt: Uint8Array): void {
    this.stats.drop(DROP.syn_timeout, false);
    if (parseIpv4(pkt, pkt.length, this.#held4) !== 0) return;
    this.#icmp4(pkt, this.#held4, ICMP4_UNREACH.PORT, this.#pending, this.#now);
  }
}
