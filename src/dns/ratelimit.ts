// Per-client token bucket (queries per second with a burst), bounded in clients tracked.
// Sans-I/O: the caller passes `now` in ms.
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly rate: number, readonly burst: number, readonly maxClients = 65536) {}

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** Take one token for `client`; false when it has none left. */
  allow(client: string, now: number): boolean {
    if (this.rate <= 0) return true;
    const cap = Math.max(1, this.burst || this.rate);
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= this.maxClients) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      b = { tokens: cap, at: now };
      this.buckets.set(client, b);
    } else {
      b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
