// The NAT64 state (RFC 6146 2, 3.5): BIB entries and sessions for TCP, UDP and ICMP,
// pool4 port allocation, RFC 6888 per-host limits, address-dependent filtering, expiry.
// Pure: time comes in as `now` (ms); nothing here does I/O or sets timers.
//
// Indexes (all O(1)), keyed by keyed 30-bit hashes (V8 small integers: no boxing on
// lookup), colliding entries chained in an array and told apart by their fields:
//   bib4:  hash(IPv4 addr, port, proto) -> Bib
//   bib6:  hash(IPv6 addr, port, proto) -> Bib
//   sess:  hash(BIB's IPv4 side, remote addr, port) -> Session   serves both directions
//   hosts: hash(IPv6 addr) -> Host                   per-subscriber counters
//   adf:   53-bit hash(BIB, remote addr) -> count    only with address-dependent filtering
import type { StaticBibEntry } from "../config/types.ts";
import { Bib, Host, Session } from "./entries.ts";
import { hash30, hash6, secretWords } from "./hash.ts";
import { key4Addr, key4Port, P_ICMP, Pool4, type ProtoIndex, protoIndex } from "./pool4.ts";
import type { Pool4Entry } from "../config/types.ts";
import { DEFAULT_TIMEOUTS, type Nat64Timeouts } from "./timeouts.ts";
import { TimerWheel } from "./wheel.ts";

export interface TableOptions {
  readonly pool4: readonly Pool4Entry[];
  readonly staticBib?: readonly StaticBibEntry[];
  readonly timeouts?: Nat64Timeouts;
  /** RFC 6888 REQ-4: sessions per IPv6 host; 0: no limit. */
  readonly maxSessionsPerHost?: number;
  /** RFC 6888 REQ-3: dynamic BIB entries (ports) per IPv6 host, all protocols; 0: no limit. */
  readonly maxPortsPerHost?: number;
  /** RFC 6146 3.5.1 / RFC 4787: address-dependent instead of endpoint-independent filtering. */
  readonly addressDependentFiltering?: boolean;
  /** Fixes the hash secrets (tests, benchmarks). */
  readonly seed?: number;
  /** Timer wheel granularity (ms). */
  readonly tickMs?: number;
  /** Tests: masks the index keys so that entries collide (exercises the chaining). */
  readonly keyMask?: number;
}

export type LogKind = "bib-add" | "bib-del" | "session-add" | "session-del";
/** A BIB or session event (RFC 6888 REQ-12: enough to trace a flow to its subscriber). */
export type LogHook = (kind: LogKind, bib: Bib, s: Session | null, now: number) => void;

/** Why a create* call returned null. */
export const FAIL = { none: 0, pool4: 1, portLimit: 2, sessionLimit: 3 } as const;

type Slot<T> = T | T[];

function addTo<T>(m: Map<number, Slot<T>>, k: number, v: T): void {
  const c = m.get(k);
  if (c === undefined) m.set(k, v);
  else if (Array.isArray(c)) c.push(v);
  else m.set(k, [c, v]);
}

/** Removes `v` from the slot at `k`; false when it was not there. */
function removeFrom<T>(m: Map<number, Slot<T>>, k: number, v: T): boolean {
  const c = m.get(k);
  if (c === v) {
    m.delete(k);
    return true;
  }
  if (!Array.isArray(c)) return false;
  const i = c.indexOf(v);
  if (i < 0) return false;
  c.splice(i, 1);
  if (c.length === 1) m.set(k, c[0]);
  else if (c.length === 0) m.delete(k);
  return true;
}

const word = (b: Uint8Array, o: number): number =>
  (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

export class Nat64Tables {
  pool4: Pool4;
  timeouts: Nat64Timeouts;
  maxSessionsPerHost: number;
  maxPortsPerHost: number;
  readonly adf: boolean;
  readonly wheel: TimerWheel;
  /** Set to receive one call per BIB/session creation and deletion (off by default). */
  log: LogHook | null = null;
  /** Called for each session just before it is deleted by expiry. */
  onExpire: ((s: Session, now: number) => void) | null = null;
  /** Reason of the last failed create* call (FAIL.*). */
  failure = 0;

  readonly #bib4 = new Map<number, Slot<Bib>>();
  readonly #bib6 = new Map<number, Slot<Bib>>();
  readonly #sess = new Map<number, Slot<Session>>();
  readonly #hosts = new Map<number, Slot<Host>>();
  readonly #adf = new Map<number, number>();
  readonly #s: Uint32Array;
  readonly #mask: number;
  #sessions = 0;
  #bibs = 0;
  #hostN = 0;
  /** Per protocol (tcp, udp, icmp): BIB entries and sessions. */
  readonly bibsByProto = [0, 0, 0];
  /** Per protocol: BIB entries whose IPv4 side is in the current pool4 (static ones may not be). */
  readonly pool4Used = [0, 0, 0];
  readonly sessionsByProto = [0, 0, 0];
  readonly #inUse = (k: number): boolean =>
    this.findBib4((k & 3) as ProtoIndex, key4Addr(k), key4Port(k)) !== null;
  readonly #expired = (s: Session): void => this.#expire(s);
  #now = 0;

  constructor(o: TableOptions) {
    this.pool4 = new Pool4(o.pool4);
    this.timeouts = o.timeouts ?? DEFAULT_TIMEOUTS;
    this.maxSessionsPerHost = o.maxSessionsPerHost ?? 0;
    this.maxPortsPerHost = o.maxPortsPerHost ?? 0;
    this.adf = o.addressDependentFiltering ?? false;
    this.wheel = new TimerWheel(o.tickMs ?? 1000);
    this.#s = secretWords(8, o.seed);
    this.#mask = o.keyMask ?? 0x3fffffff;
    for (const e of o.staticBib ?? []) {
      const a = e.ipv6.addr;
      this.addStaticBib(protoIndex(e.protocol), a, 0, e.ipv6.port, e.ipv4.addr, e.ipv4.port);
    }
  }

  /**
   * New pool4, timeouts and limits in place. Static BIB entries not yet present are added
   * (skipped when either side is bound). Filtering mode cannot change (its index would be
   * stale): that needs a new table.
   */
  reconfigure(
    o: {
      readonly timeouts: Nat64Timeouts;
      readonly maxSessionsPerHost: number;
      readonly maxPortsPerHost: number;
      readonly addressDependentFiltering: boolean;
      readonly staticBib: readonly StaticBibEntry[];
    },
    pool4: Pool4,
  ): void {
    if (o.addressDependentFiltering !== this.adf) {
      throw new Error("nat64: address-dependent-filtering cannot change at run time");
    }
    this.pool4 = pool4;
    // A new pool: bindings outside it live on but take none of its room.
    this.pool4Used.fill(0);
    for (const e of this.bibs()) {
      if (pool4.contains(e.proto as ProtoIndex, e.addr4, e.port4)) this.pool4Used[e.proto]++;
    }
    this.timeouts = o.timeouts;
    this.maxSessionsPerHost = o.maxSessionsPerHost;
    this.maxPortsPerHost = o.maxPortsPerHost;
    for (const e of o.staticBib) {
      const p = protoIndex(e.protocol);
      const have = this.findBib4(p, e.ipv4.addr, e.ipv4.port);
      if (have?.isStatic) continue;
      this.addStaticBib(p, e.ipv6.addr, 0, e.ipv6.port, e.ipv4.addr, e.ipv4.port);
    }
  }

  get bibCount(): number {
    return this.#bibs;
  }
  get sessionCount(): number {
    return this.#sessions;
  }
  get hostCount(): number {
    return this.#hostN;
  }

  // ---- hosts ----

  #hostKey(a0: number, a1: number, a2: number, a3: number): number {
    return hash6(this.#s[0], this.#s[1], a0, a1, a2, a3, 0, 0x686f7374) % (this.#mask + 1);
  }

  #host(a0: number, a1: number, a2: number, a3: number, create: boolean): Host | null {
    const k = this.#hostKey(a0, a1, a2, a3);
    const v = this.#hosts.get(k);
    if (v !== undefined) {
      if (!Array.isArray(v)) {
        if (v.a0 === a0 && v.a1 === a1 && v.a2 === a2 && v.a3 === a3) return v;
      } else {
        for (const h of v) if (h.a0 === a0 && h.a1 === a1 && h.a2 === a2 && h.a3 === a3) return h;
      }
    }
    if (!create) return null;
    const h = new Host(a0, a1, a2, a3, k);
    addTo(this.#hosts, k, h);
    this.#hostN++;
    return h;
  }

  #releaseHost(h: Host): void {
    if (h.ports === 0 && h.sessions === 0 && removeFrom(this.#hosts, h.key, h)) this.#hostN--;
  }

  /** The host record of an IPv6 address (b[off..off+16)), or null. */
  findHost(b: Uint8Array, off: number): Host | null {
    return this.#host(word(b, off), word(b, off + 4), word(b, off + 8), word(b, off + 12), false);
  }

  // ---- BIB ----

  #bib6Key(a0: number, a1: number, a2: number, a3: number, port: number, proto: number): number {
    return hash30(this.#s[2], a0, a1, a2, a3, port, proto) & this.#mask;
  }

  #bib4Key(a4: number, port: number, proto: number): number {
    return hash30(this.#s[3], a4, port, proto, 0, 0, 0) & this.#mask;
  }

  /** BIB entry of the IPv6 transport address (b[off..off+16), port); RFC 6146 3.5.1. */
  findBib6(proto: ProtoIndex, b: Uint8Array, off: number, port: number): Bib | null {
    const a0 = word(b, off), a1 = word(b, off + 4), a2 = word(b, off + 8), a3 = word(b, off + 12);
    const v = this.#bib6.get(this.#bib6Key(a0, a1, a2, a3, port, proto));
    if (v === undefined) return null;
    if (!Array.isArray(v)) return matches6(v, a0, a1, a2, a3, port, proto) ? v : null;
    for (const e of v) if (matches6(e, a0, a1, a2, a3, port, proto)) return e;
    return null;
  }

  /** BIB entry of the IPv4 transport address (addr, port). */
  findBib4(proto: ProtoIndex, addr: number, port: number): Bib | null {
    const a = addr | 0;
    const v = this.#bib4.get(this.#bib4Key(a, port, proto));
    if (v === undefined) return null;
    if (!Array.isArray(v)) return v.a4 === a && v.port4 === port && v.proto === proto ? v : null;
    for (const e of v) if (e.a4 === a && e.port4 === port && e.proto === proto) return e;
    return null;
  }

  /**
   * RFC 6146 3.5.1: a new BIB entry for the IPv6 transport address, with an IPv4
   * transport address from pool4 (RFC 6056 algorithm 3, F over the source address and the
   * destination). Null when the host is at its port limit or pool4 has nothing free
   * (see `failure`).
   */
  createBib6(
    proto: ProtoIndex,
    b: Uint8Array,
    off: number,
    port: number,
    raddr: number,
    rport: number,
    now: number,
  ): Bib | null {
    const a0 = word(b, off), a1 = word(b, off + 4), a2 = word(b, off + 8), a3 = word(b, off + 12);
    const host = this.#host(a0, a1, a2, a3, true)!;
    if (this.maxPortsPerHost > 0 && host.ports >= this.maxPortsPerHost) {
      this.#releaseHost(host);
      this.failure = FAIL.portLimit;
      return null;
    }
    // Every transport address of the pool is bound: fail before searching.
    if (this.pool4Used[proto] >= this.pool4.capacity(proto)) {
      this.#releaseHost(host);
      this.failure = FAIL.pool4;
      return null;
    }
    const offset = hash6(this.#s[6], this.#s[7], a0, a1, a2 ^ a3, raddr, rport, proto);
    const k4 = this.pool4.allocate(proto, port, offset, this.#inUse);
    if (k4 < 0) {
      this.#releaseHost(host);
      this.failure = FAIL.pool4;
      return null;
    }
    return this.#insertBib(host, proto, port, key4Addr(k4), key4Port(k4), false, now);
  }

  #insertBib(
    host: Host,
    proto: number,
    port: number,
    addr4: number,
    port4: number,
    isStatic: boolean,
    now: number,
  ): Bib {
    const k6 = this.#bib6Key(host.a0, host.a1, host.a2, host.a3, port, proto);
    const e = new Bib(host, port, proto, addr4 | 0, port4, k6, isStatic);
    addTo(this.#bib4, this.#bib4Key(e.a4, port4, proto), e);
    addTo(this.#bib6, k6, e);
    this.#bibs++;
    this.bibsByProto[proto]++;
    if (this.pool4.contains(proto as ProtoIndex, addr4, port4)) this.pool4Used[proto]++;
    if (!isStatic) host.ports++;
    if (this.log !== null) this.log("bib-add", e, null, now);
    return e;
  }

  /** A static BIB entry (never expires); replaces nothing: returns null if either side is taken. */
  addStaticBib(
    proto: ProtoIndex,
    addr6: Uint8Array,
    off: number,
    port6: number,
    addr4: number,
    port4: number,
  ): Bib | null {
    if (
      this.findBib4(proto, addr4, port4) !== null ||
      this.findBib6(proto, addr6, off, port6) !== null
    ) return null;
    const host = this.#host(
      word(addr6, off),
      word(addr6, off + 4),
      word(addr6, off + 8),
      word(addr6, off + 12),
      true,
    )!;
    return this.#insertBib(host, proto, port6, addr4, port4, true, this.#now);
  }

  /** Restores a dynamic BIB entry with a given IPv4 side (snapshots); null if taken. */
  restoreBib(
    proto: ProtoIndex,
    addr6: Uint8Array,
    port6: number,
    addr4: number,
    port4: number,
    now: number,
  ): Bib | null {
    if (
      this.findBib4(proto, addr4, port4) !== null || this.findBib6(proto, addr6, 0, port6) !== null
    ) return null;
    const host = this.#host(word(addr6, 0), word(addr6, 4), word(addr6, 8), word(addr6, 12), true)!;
    return this.#insertBib(host, proto, port6, addr4, port4, false, now);
  }

  #deleteBib(e: Bib, now: number): void {
    removeFrom(this.#bib4, this.#bib4Key(e.a4, e.port4, e.proto), e);
    removeFrom(this.#bib6, e.k6, e);
    this.#bibs--;
    this.bibsByProto[e.proto]--;
    if (this.pool4.contains(e.proto as ProtoIndex, e.a4, e.port4)) this.pool4Used[e.proto]--;
    if (!e.isStatic) e.host.ports--;
    this.#releaseHost(e.host);
    if (this.log !== null) this.log("bib-del", e, null, now);
  }

  /** Deletes a dynamic BIB entry that has no sessions (one made for a packet that failed). */
  releaseBib(e: Bib, now: number): void {
    if (
      e.sessions === 0 && !e.isStatic && !e.pinned &&
      this.findBib4(e.proto as ProtoIndex, e.a4, e.port4) === e
    ) this.#deleteBib(e, now);
  }

  /**
   * An explicit mapping's BIB entry (RFC 6887 11.3): the existing entry of the IPv6
   * transport address if there is one, else a new one at the suggested IPv4 transport
   * address when it is free in pool4 (or anywhere in pool4 unless `exact`). Null when the
   * host is at its port limit or nothing fits (see `failure`). The caller pins it.
   */
  mapBib6(
    proto: ProtoIndex,
    addr6: Uint8Array,
    port6: number,
    suggested4: number,
    suggestedPort: number,
    exact: boolean,
    now: number,
  ): Bib | null {
    const have = this.findBib6(proto, addr6, 0, port6);
    if (have !== null) return have;
    const a0 = word(addr6, 0), a1 = word(addr6, 4), a2 = word(addr6, 8), a3 = word(addr6, 12);
    const host = this.#host(a0, a1, a2, a3, true)!;
    if (this.maxPortsPerHost > 0 && host.ports >= this.maxPortsPerHost) {
      this.#releaseHost(host);
      this.failure = FAIL.portLimit;
      return null;
    }
    // Only a port suggested: try it on the pool's first address.
    const at4 = suggested4 >= 0 ? suggested4 : this.pool4.firstAddress();
    if (
      suggestedPort > 0 && this.pool4.contains(proto, at4, suggestedPort) &&
      this.findBib4(proto, at4, suggestedPort) === null
    ) {
      return this.#insertBib(host, proto, port6, at4, suggestedPort, false, now);
    }
    const k4 = exact || this.pool4Used[proto] >= this.pool4.capacity(proto) ? -1 : this.pool4
      .allocate(
        proto,
        suggestedPort || port6,
        hash6(this.#s[6], this.#s[7], a0, a1, a2 ^ a3, 0, port6, proto),
        this.#inUse,
      );
    if (k4 < 0) {
      this.#releaseHost(host);
      this.failure = FAIL.pool4;
      return null;
    }
    return this.#insertBib(host, proto, port6, key4Addr(k4), key4Port(k4), false, now);
  }

  /** Ends an explicit mapping's hold: the entry lives on while it has sessions. */
  unpinBib(e: Bib, now: number): void {
    e.pinned = false;
    this.releaseBib(e, now);
  }

  *bibs(): IterableIterator<Bib> {
    for (const v of this.#bib4.values()) {
      if (Array.isArray(v)) yield* v;
      else yield v;
    }
  }

  // ---- sessions ----

  #sessKey(bib: Bib, r4: number, rport: number): number {
    return hash30(this.#s[4], bib.a4, bib.port4, bib.proto, r4, rport, 0) & this.#mask;
  }

  #adfKey(bib: Bib, r4: number): number {
    return hash6(this.#s[4], this.#s[5], bib.a4, bib.port4, bib.proto, r4, 1, 0);
  }

  /** The session of `bib` with the remote IPv4 transport address (raddr, rport). */
  findSession(bib: Bib, raddr: number, rport: number): Session | null {
    const r4 = raddr | 0;
    const f = bib.first;
    if (f !== null && f.r4 === r4 && f.rport === rport) return f;
    const v = this.#sess.get(this.#sessKey(bib, r4, rport));
    if (v === undefined) return null;
    if (!Array.isArray(v)) return v.bib === bib && v.r4 === r4 && v.rport === rport ? v : null;
    for (const s of v) if (s.bib === bib && s.r4 === r4 && s.rport === rport) return s;
    return null;
  }

  /**
   * A new session for `bib` toward (raddr, rport), expiring `lifetime` ms from now, in
   * TCP state `state`. Null when the host is at its session limit (RFC 6888 REQ-4).
   */
  createSession(
    bib: Bib,
    raddr: number,
    rport: number,
    now: number,
    lifetime: number,
    state = 0,
  ): Session | null {
    const h = bib.host;
    if (this.maxSessionsPerHost > 0 && h.sessions >= this.maxSessionsPerHost) {
      this.failure = FAIL.sessionLimit;
      return null;
    }
    const r4 = raddr | 0;
    const s = new Session(bib, r4, rport, this.#sessKey(bib, r4, rport));
    s.expires = now + lifetime;
    s.state = state;
    addTo(this.#sess, s.key, s);
    if (bib.first === null) bib.first = s;
    bib.sessions++;
    h.sessions++;
    this.#sessions++;
    this.sessionsByProto[bib.proto]++;
    if (this.adf) {
      const k = this.#adfKey(bib, r4);
      this.#adf.set(k, (this.#adf.get(k) ?? 0) + 1);
    }
    this.wheel.insert(s);
    if (this.log !== null) this.log("session-add", bib, s, now);
    return s;
  }

  /** Sets the session's lifetime to `lifetime` ms from now (O(1)). */
  touch(s: Session, now: number, lifetime: number): void {
    s.expires = now + lifetime;
    this.wheel.update(s);
  }

  /**
   * RFC 6146 3.5.1 / 3.5.2.2 filtering of an IPv4 packet from raddr to `bib` that has no
   * session yet: endpoint-independent filtering lets everything through; address-dependent
   * filtering only packets from an address the IPv6 host has a session with.
   */
  allows(bib: Bib, raddr: number): boolean {
    return !this.adf || (this.#adf.get(this.#adfKey(bib, raddr | 0)) ?? 0) > 0;
  }

  #deleteSession(s: Session, now: number): void {
    removeFrom(this.#sess, s.key, s);
    const bib = s.bib;
    if (bib.first === s) bib.first = null;
    bib.sessions--;
    bib.host.sessions--;
    this.#sessions--;
    this.sessionsByProto[bib.proto]--;
    if (this.adf) {
      const k = this.#adfKey(bib, s.r4);
      const n = (this.#adf.get(k) ?? 1) - 1;
      if (n > 0) this.#adf.set(k, n);
      else this.#adf.delete(k);
    }
    if (this.log !== null) this.log("session-del", bib, s, now);
    // RFC 6146 3.5.1: a dynamic BIB entry lives as long as it has sessions.
    if (bib.sessions === 0 && !bib.isStatic && !bib.pinned) this.#deleteBib(bib, now);
    else this.#releaseHost(bib.host);
  }

  #expire(s: Session): void {
    if (this.onExpire !== null) this.onExpire(s, this.#now);
    this.#deleteSession(s, this.#now);
  }

  /** Deletes sessions whose lifetime ended (and BIB entries left without sessions). */
  expire(now: number): void {
    this.#now = now;
    if (this.wheel.due(now)) this.wheel.sweep(now, this.#expired);
  }

  /** Deletes one session now (administrative removal). */
  deleteSession(s: Session, now: number): void {
    this.wheel.remove(s);
    this.#deleteSession(s, now);
  }

  *sessions(): IterableIterator<Session> {
    for (const v of this.#sess.values()) {
      if (Array.isArray(v)) yield* v;
      else yield v;
    }
  }

  /** The lifetime a new or refreshed UDP/ICMP session gets. */
  lifetimeOf(proto: number): number {
    return proto === P_ICMP ? this.timeouts.icmp : this.timeouts.udp;
  }
}

function matches6(
  e: Bib,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  port: number,
  proto: number,
): boolean {
  const h = e.host;
  return e.port6 === port && e.proto === proto && h.a0 === a0 && h.a1 === a1 && h.a2 === a2 &&
    h.a3 === a3;
}
