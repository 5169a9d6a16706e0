// pool4: the IPv4 transport addresses the NAT64 hands out (RFC 6146 3.5.1.1, Jool's pool4):
// per protocol, IPv4 prefixes times port (or ICMP identifier) ranges. Allocation follows
// RFC 6056 algorithm 3 (a keyed hash picks where the search starts, a counter moves it on)
// and RFC 6146 3.5.1.1: keep the source port's range (0-1023 or 1024-65535) and parity
// when the pool allows, else take any free port in the pool.
import type { Pool4Entry, Protocol } from "../config/types.ts";

export const P_TCP = 0;
export const P_UDP = 1;
export const P_ICMP = 2;
export type ProtoIndex = 0 | 1 | 2;

export const protoIndex = (p: Protocol): ProtoIndex =>
  p === "tcp" ? P_TCP : p === "udp" ? P_UDP : P_ICMP;
export const PROTO_NAMES = ["tcp", "udp", "icmp"] as const;

/** An exact numeric key for an IPv4 transport address of one protocol (50 bits). */
export const key4 = (addr: number, port: number, proto: number): number =>
  ((addr >>> 0) * 65536 + port) * 4 + proto;
export const key4Addr = (k: number): number => Math.floor(k / 262144);
export const key4Port = (k: number): number => Math.floor(k / 4) & 0xffff;

interface Range {
  readonly first: number; // first IPv4 address
  readonly addrs: number; // how many addresses
  readonly min: number;
  readonly max: number;
}

/** Says whether an IPv4 transport address (key4) is already bound. */
export type InUse = (key: number) => boolean;

export class Pool4 {
  readonly #ranges: Range[][] = [[], [], []];
  readonly #capacity = [0, 0, 0];
  /** RFC 6056 algorithm 3 "next_ephemeral", one per protocol. */
  readonly #next = [0, 0, 0];

  constructor(entries: readonly Pool4Entry[]) {
    for (const e of entries) {
      const addrs = 2 ** (32 - e.prefix.len);
      const r: Range = { first: e.prefix.addr >>> 0, addrs, min: e.ports.min, max: e.ports.max };
      for (const p of e.protocols) {
        const i = protoIndex(p);
        this.#ranges[i].push(r);
        this.#capacity[i] += addrs * (r.max - r.min + 1);
      }
    }
  }

  /** Transport addresses this protocol can use in all. */
  capacity(proto: ProtoIndex): number {
    return this.#capacity[proto];
  }

  /** Is this IPv4 address in the pool for any protocol (RFC 6146 3.8 hairpinning)? */
  hasAddress(addr: number): boolean {
    addr >>>= 0;
    for (const rs of this.#ranges) {
      for (const r of rs) if (addr >= r.first && addr - r.first < r.addrs) return true;
    }
    return false;
  }

  contains(proto: ProtoIndex, addr: number, port: number): boolean {
    addr >>>= 0;
    for (const r of this.#ranges[proto]) {
      if (addr >= r.first && addr - r.first < r.addrs && port >= r.min && port <= r.max) {
        return true;
      }
    }
    return false;
  }

  /** The first address of the pool (source of the NAT64's own ICMPv4 errors); -1 if empty. */
  firstAddress(): number {
    for (const rs of this.#ranges) if (rs.length > 0) return rs[0].first;
    return -1;
  }

  /**
   * Tries per search. RFC 6056 algorithm 3 walks the whole space when it is nearly full;
   * bounding the walk bounds the cost of one packet (a nearly full pool then refuses some
   * allocations early, which RFC 6146 3.5.1 treats like exhaustion).
   */
  maxTries = 16384;

  /**
   * Picks a free transport address for `proto`: a key4, or -1 when none is free.
   * `srcPort` is the IPv6 side's port (its range and parity are kept for TCP/UDP when
   * possible); `offset` is RFC 6056's F(local, remote, secret).
   */
  allocate(proto: ProtoIndex, srcPort: number, offset: number, inUse: InUse): number {
    if (proto !== P_ICMP) {
      const lo = srcPort < 1024 ? 0 : 1024;
      const hi = srcPort < 1024 ? 1023 : 65535;
      const k = this.#search(proto, lo, hi, srcPort & 1, offset, inUse);
      if (k >= 0) return k;
    }
    return this.#search(proto, 0, 65535, -1, offset, inUse);
  }

  /** Ports of parity `parity` (-1: any) within [lo, hi] of every range, as one index space. */
  #search(
    proto: ProtoIndex,
    lo: number,
    hi: number,
    parity: number,
    offset: number,
    inUse: InUse,
  ): number {
    const rs = this.#ranges[proto];
    let total = 0;
    for (const r of rs) total += r.addrs * portsIn(r, lo, hi, parity);
    if (total === 0) return -1;
    const start = offset % total;
    const tries = Math.min(total, this.maxTries);
    for (let n = 0; n < tries; n++) {
      let idx = (start + this.#next[proto]++) % total;
      if (this.#next[proto] >= 0x40000000) this.#next[proto] = 0;
      for (const r of rs) {
        const per = portsIn(r, lo, hi, parity);
        const size = r.addrs * per;
        if (idx >= size) {
          idx -= size;
          continue;
        }
        const addr = r.first + Math.floor(idx / per);
        const j = idx % per;
        const base = Math.max(r.min, lo);
        let port: number;
        if (parity < 0) port = base + j;
        else port = (base + ((base & 1) === parity ? 0 : 1)) + 2 * j;
        const k = key4(addr, port, proto);
        if (!inUse(k)) return k;
        break;
      }
    }
    return -1;
  }
}

function portsIn(r: Range, lo: number, hi: number, parity: number): number {
  const a = Math.max(r.min, lo), b = Math.min(r.max, hi);
  if (a > b) return 0;
  if (parity < 0) return b - a + 1;
  const first = (a & 1) === parity ? a : a + 1;
  return first > b ? 0 : ((b - first) >> 1) + 1;
}
