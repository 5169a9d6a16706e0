// RFC 6146 3.4: "the NAT64 MUST handle fragments", out-of-order ones included, with
// bounded resources. Only the first fragment carries the ports, so it goes through the
// session steps; this table remembers, per fragmented datagram (source, destination,
// protocol, Identification), which BIB entry it mapped to, for the fragments after it.
// Fragments that come before their first wait here (copied, bounded) until it arrives or
// the flow times out (FRAGMENT_MIN, 2 s). Every flow has the same lifetime, so a FIFO
// queue is in expiry order. No reassembly: fragments are translated one by one.
import type { Bib } from "./entries.ts";
import { hash30 } from "./hash.ts";

export class FragFlow {
  bib: Bib | null = null;
  /** Fragments that arrived before the first one (copies). */
  waiting: Uint8Array[] | null = null;
  gone = false;
  constructor(
    readonly key: number,
    readonly v6: boolean,
    readonly s0: number,
    readonly s1: number,
    readonly s2: number,
    readonly s3: number,
    readonly dst: number,
    readonly proto: number,
    readonly id: number,
    readonly expires: number,
  ) {}
}

export class FragTracker {
  readonly #map = new Map<number, FragFlow | FragFlow[]>();
  #queue: FragFlow[] = [];
  #head = 0;
  /** Fragments held in all flows. */
  held = 0;

  constructor(
    readonly lifetimeMs: number,
    readonly maxFlows: number,
    readonly maxHeld: number,
    readonly secret: number,
  ) {}

  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** The flow of a fragmented datagram; `create`: make one (null when full). */
  flow(
    v6: boolean,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    dst: number,
    proto: number,
    id: number,
    now: number,
    create: boolean,
  ): FragFlow | null {
    const k = hash30(this.secret, s0 ^ s1, s2 ^ s3 ^ (v6 ? 1 : 0), s3, dst, proto, id);
    const v = this.#map.get(k);
    if (v !== undefined) {
      if (!Array.isArray(v)) {
        if (same(v, v6, s0, s1, s2, s3, dst, proto, id)) return v;
      } else {
        for (const f of v) if (same(f, v6, s0, s1, s2, s3, dst, proto, id)) return f;
      }
    }
    if (!create || this.size >= this.maxFlows) return null;
    const f = new FragFlow(k, v6, s0, s1, s2, s3, dst, proto, id, now + this.lifetimeMs);
    if (v === undefined) this.#map.set(k, f);
    else if (Array.isArray(v)) v.push(f);
    else this.#map.set(k, [v, f]);
    this.#queue.push(f);
    return f;
  }

  /** Keeps a copy of a fragment that came before its first; false when over the bound. */
  hold(f: FragFlow, pkt: Uint8Array, len: number): boolean {
    if (this.held >= this.maxHeld) return false;
    (f.waiting ??= []).push(pkt.slice(0, len));
    this.held++;
    return true;
  }

  /** Takes the waiting fragments of a flow (after its first fragment mapped it). */
  drain(f: FragFlow): Uint8Array[] | null {
    const w = f.waiting;
    if (w === null) return null;
    f.waiting = null;
    this.held -= w.length;
    return w;
  }

  /** Forgets flows past their lifetime; `lost(v6, n)` hears of waiting fragments dropped. */
  expire(now: number, lost: (v6: boolean, n: number) => void): void {
    const q = this.#queue;
    while (this.#head < q.length && q[this.#head].expires <= now) {
      const f = q[this.#head++];
      const w = this.drain(f);
      if (w !== null) lost(f.v6, w.length);
      this.#remove(f);
    }
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
  }

  #remove(f: FragFlow): void {
    f.gone = true;
    const v = this.#map.get(f.key);
    if (v === f) this.#map.delete(f.key);
    else if (Array.isArray(v)) {
      const i = v.indexOf(f);
      if (i >= 0) v.splice(i, 1);
      if (v.length === 1) this.#map.set(f.key, v[0]);
      else if (v.length === 0) this.#map.delete(f.key);
    }
  }
}

function same(
  f: FragFlow,
  v6: boolean,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  dst: number,
  proto: number,
  id: number,
): boolean {
  return f.v6 === v6 && f.s0 === s0 && f.s1 === s1 && f.s2 === s2 && f.s3 === s3 &&
    f.dst === dst && f.proto === proto && f.id === id;
}
