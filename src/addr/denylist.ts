// IPv4 addresses that are never translated with the RFC 6052 prefix: a built-in list
// plus configured prefixes (Jool's denylist4).
import { formatPrefix4, mask4, type Prefix4, prefix4 } from "./ip.ts";

/** Always denied: addresses that must never leave or enter a host through a translator. */
export const BUILTIN_DENYLIST4: readonly Prefix4[] = [
  prefix4(0x00000000, 8), // "this network" (RFC 1122 3.2.1.3)
  prefix4(0x7f000000, 8), // loopback
  prefix4(0xa9fe0000, 16), // link local (RFC 3927)
  prefix4(0xe0000000, 4), // multicast: out of scope of RFC 7915, never translated
  prefix4(0xffffffff, 32), // limited broadcast
];

/** `v4`: uint32 or int32 bits (only bit operations here). */
function isBuiltin(v4: number): boolean {
  const a = v4 >>> 24;
  return a === 0 || a === 127 || (v4 >>> 16) === 0xa9fe || (a & 0xf0) === 0xe0 ||
    (v4 | 0) === -1;
}

export class Denylist4 {
  /** Configured prefixes merged into sorted, disjoint [start, end] ranges. */
  readonly #starts: Uint32Array;
  readonly #ends: Uint32Array;
  readonly #configured: readonly Prefix4[];

  constructor(configured: readonly Prefix4[] = []) {
    this.#configured = [...configured];
    const ranges = configured
      .map((p) => [p.addr, (p.addr | ~mask4(p.len)) >>> 0] as [number, number])
      .sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.#starts = Uint32Array.from(merged, (r) => r[0]);
    this.#ends = Uint32Array.from(merged, (r) => r[1]);
  }

  /** Is `v4` (uint32, or the same bits as int32) denied? A few compares plus a binary search over configured ranges. */
  has(v4: number): boolean {
    if (isBuiltin(v4)) return true;
    const s = this.#starts;
    if (s.length === 0) return false;
    v4 >>>= 0;
    let lo = 0, hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= v4) {
        if (v4 <= this.#ends[mid]) return true;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return false;
  }

  /** Configured entries (not the built-in ones), for /status. */
  configured(): readonly Prefix4[] {
    return this.#configured;
  }

  toString(): string {
    return [...BUILTIN_DENYLIST4, ...this.#configured].map(formatPrefix4).join(", ");
  }
}
