// RFC 6146 3.5.2.2: an IPv4 SYN that no BIB entry (or address-dependent filtering) lets
// in is kept for 6 seconds rather than refused, in case the IPv6 host is opening the same
// connection at the same time (simultaneous open, NAT traversal). If an IPv6 SYN for it
// comes, the stored packet is dropped; otherwise an ICMP Port Unreachable answers it.
// All holds last the same time, so a FIFO queue is in expiry order: O(1) per packet.
import { hash6 } from "./hash.ts";

class Held {
  done = false;
  constructor(
    readonly key: number,
    readonly local4: number,
    readonly lport: number,
    readonly remote4: number,
    readonly rport: number,
    readonly pkt: Uint8Array,
    readonly expires: number,
  ) {}
}

export class SynHold {
  readonly #map = new Map<number, Held>();
  #queue: Held[] = [];
  #head = 0;

  constructor(readonly holdMs: number, readonly max: number, readonly secret: number) {}

  get size(): number {
    return this.#map.size;
  }

  #key(local4: number, lport: number, remote4: number, rport: number): number {
    return hash6(this.secret, ~this.secret, local4, lport, remote4, rport, 6, 0);
  }

  /** Holds a copy of pkt[0..len). False when full or the key is taken by another tuple. */
  hold(
    local4: number,
    lport: number,
    remote4: number,
    rport: number,
    pkt: Uint8Array,
    len: number,
    now: number,
  ): boolean {
    const k = this.#key(local4, lport, remote4, rport);
    const h = this.#map.get(k);
    if (h !== undefined) {
      // A retransmitted SYN waits with the first one.
      return h.local4 === local4 && h.lport === lport && h.remote4 === remote4 && h.rport === rport;
    }
    if (this.#map.size >= this.max) return false;
    const e = new Held(k, local4, lport, remote4, rport, pkt.slice(0, len), now + this.holdMs);
    this.#map.set(k, e);
    this.#queue.push(e);
    return true;
  }

  /** An IPv6 SYN for this tuple came: forget the stored SYN. True if one was held. */
  take(local4: number, lport: number, remote4: number, rport: number): boolean {
    const k = this.#key(local4, lport, remote4, rport);
    const h = this.#map.get(k);
    if (
      h === undefined || h.local4 !== local4 || h.lport !== lport || h.remote4 !== remote4 ||
      h.rport !== rport
    ) return false;
    h.done = true;
    this.#map.delete(k);
    return true;
  }

  /** Calls `expired(pkt)` for each hold whose time is up and that no IPv6 SYN matched. */
  expire(now: number, expired: (pkt: Uint8Array) => void): void {
    const q = this.#queue;
    while (this.#head < q.length && q[this.#head].expires <= now) {
      const h = q[this.#head++];
      if (h.done) continue;
      this.#map.delete(h.key);
      expired(h.pkt);
    }
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
  }
}
