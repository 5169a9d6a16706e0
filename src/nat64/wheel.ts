// Hashed timer wheel for session expiry: O(1) per packet. A refreshed session stays in
// its old bucket and is moved on when that bucket comes round (lazily); only a shortened
// lifetime (e.g. TCP RST: TCP_EST -> TCP_TRANS) moves it at once, so it is never late
// by more than one tick.
import type { Session } from "./entries.ts";

export class TimerWheel {
  readonly #heads: (Session | null)[];
  readonly #mask: number;
  /** Next tick to sweep; -1 before the first sweep. */
  #tick = -1;
  size = 0;

  /** `tickMs`: granularity; `buckets`: a power of two. */
  constructor(readonly tickMs = 1000, buckets = 4096) {
    if ((buckets & (buckets - 1)) !== 0) throw new Error("buckets must be a power of two");
    this.#heads = new Array(buckets).fill(null);
    this.#mask = buckets - 1;
  }

  /** Puts `s` in the bucket of s.expires. */
  insert(s: Session): void {
    let t = Math.floor(s.expires / this.tickMs);
    // Never behind the sweep: an already-due session waits for the next sweep.
    if (this.#tick >= 0 && t < this.#tick) t = this.#tick;
    const i = t & this.#mask;
    const h = this.#heads[i];
    s.wprev = null;
    s.wnext = h;
    if (h !== null) h.wprev = s;
    this.#heads[i] = s;
    s.tick = t;
    this.size++;
  }

  remove(s: Session): void {
    if (s.tick < 0) return;
    if (s.wprev !== null) s.wprev.wnext = s.wnext;
    else this.#heads[s.tick & this.#mask] = s.wnext;
    if (s.wnext !== null) s.wnext.wprev = s.wprev;
    s.wprev = s.wnext = null;
    s.tick = -1;
    this.size--;
  }

  /** After s.expires changed: move it only if it now expires before its bucket's tick. */
  update(s: Session): void {
    if (s.tick >= 0 && Math.floor(s.expires / this.tickMs) < s.tick) {
      this.remove(s);
      this.insert(s);
    }
  }

  /**
   * Calls `expired(s)` for every session with s.expires <= now in the buckets of the ticks
   * passed since the last sweep (each bucket at most once per call). Expired sessions are
   * unlinked before the call; others found there are re-filed by their current expiry.
   */
  sweep(now: number, expired: (s: Session) => void): void {
    const nowTick = Math.floor(now / this.tickMs);
    if (this.#tick < 0) {
      this.#tick = nowTick;
      return;
    }
    const n = Math.min(nowTick - this.#tick, this.#mask + 1);
    for (let k = 0; k < n; k++) {
      const i = (this.#tick + k) & this.#mask;
      let s = this.#heads[i];
      this.#heads[i] = null;
      while (s !== null) {
        const next = s.wnext;
        s.wprev = s.wnext = null;
        s.tick = -1;
        this.size--;
        if (s.expires <= now) expired(s);
        else this.insert(s);
        s = next;
      }
    }
    if (nowTick > this.#tick) this.#tick = nowTick;
  }

  /** Whether a sweep at `now` would look at any bucket. */
  due(now: number): boolean {
    return Math.floor(now / this.tickMs) > this.#tick;
  }
}
