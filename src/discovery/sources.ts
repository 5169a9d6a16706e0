// Which NAT64 prefix the CLAT uses when several discovery methods answer: configured
// precedence between sources, every prefix a source gives (multiplicity), lifetimes and
// withdrawal. Pure state over an injected clock (seconds); exposable in /status.
import { formatPrefix6, type Prefix6 } from "../addr/ip.ts";

export type SourceKind = "static" | "pref64" | "pcp" | "rfc7050";
export const SOURCE_KINDS: readonly SourceKind[] = ["static", "pref64", "pcp", "rfc7050"];
/**
 * Default order: configuration, then the router's RA (RFC 8781; RFC 9872 recommends it
 * over DNS-based discovery), then PCP (RFC 7225), then RFC 7050.
 */
export const DEFAULT_PRECEDENCE: readonly SourceKind[] = SOURCE_KINDS;

export interface LearnedPrefix {
  readonly prefix: Prefix6;
  readonly source: SourceKind;
  /** Who told us: router address, PCP server, resolver, "config". */
  readonly origin: string;
  readonly learnedAtS: number;
  /** Infinity for static prefixes. */
  readonly expiresAtS: number;
}

export interface PrefixUpdate {
  prefix: Prefix6;
  /** 0 withdraws the prefix at once (RFC 8781: a zero lifetime means stop using it). */
  lifetimeS: number;
}

export interface SourcesStatus {
  precedence: SourceKind[];
  active: { source: SourceKind; prefixes: string[] } | null;
  learned: {
    prefix: string;
    source: SourceKind;
    origin: string;
    learnedAgoS: number;
    expiresInS: number | null;
  }[];
}

const key = (p: LearnedPrefix | { source: string; origin: string; prefix: Prefix6 }) =>
  `${p.source}|${p.origin}|${formatPrefix6(p.prefix)}`;

export class PrefixSources {
  readonly precedence: readonly SourceKind[];
  readonly #now: () => number;
  readonly #entries = new Map<string, LearnedPrefix>();
  #activeKey = "";
  /** Bumped each time the active selection changes: a cheap "did anything change?". */
  generation = 0;

  constructor(opts: { precedence?: readonly SourceKind[]; now: () => number }) {
    const p = opts.precedence ?? DEFAULT_PRECEDENCE;
    for (const s of p) {
      if (!SOURCE_KINDS.includes(s)) throw new Error(`unknown discovery method "${s}"`);
    }
    if (new Set(p).size !== p.length) throw new Error("discovery methods listed twice");
    this.precedence = [...p];
    this.#now = opts.now;
  }

  enabled(source: SourceKind): boolean {
    return this.precedence.includes(source);
  }

  /** Configured prefixes: never expire; replace the previous static set. */
  setStatic(prefixes: readonly Prefix6[]): boolean {
    return this.update(
      "static",
      "config",
      prefixes.map((prefix) => ({ prefix, lifetimeS: Infinity })),
      {
        replace: true,
      },
    );
  }

  /**
   * Record what `origin` of `source` said. Each prefix's lifetime is refreshed (0
   * withdraws it). With `replace`, prefixes of that origin not in `updates` are dropped:
   * right for a PCP response or an RFC 7050 answer, which state the whole set; RAs only
   * refresh what they carry (RFC 8781 5), so they merge. Returns whether the active
   * selection changed. Updates from methods not enabled are ignored.
   */
  update(
    source: SourceKind,
    origin: string,
    updates: readonly PrefixUpdate[],
    opts: { replace?: boolean } = {},
  ): boolean {
    if (!this.enabled(source)) return false;
    const now = this.#now();
    if (opts.replace) {
      for (const [k, e] of this.#entries) {
        if (e.source === source && e.origin === origin) this.#entries.delete(k);
      }
    }
    for (const u of updates) {
      const k = key({ source, origin, prefix: u.prefix });
      if (!(u.lifetimeS > 0)) {
        this.#entries.delete(k);
        continue;
      }
      const old = this.#entries.get(k);
      this.#entries.set(k, {
        prefix: u.prefix,
        source,
        origin,
        learnedAtS: old?.learnedAtS ?? now,
        expiresAtS: now + u.lifetimeS,
      });
    }
    return this.#reselect();
  }

  /** Forget everything `source` (optionally one origin) told us, e.g. the interface went down. */
  withdraw(source: SourceKind, origin?: string): boolean {
    for (const [k, e] of this.#entries) {
      if (e.source === source && (origin === undefined || e.origin === origin)) {
        this.#entries.delete(k);
      }
    }
    return this.#reselect();
  }

  /** Drop expired prefixes; returns whether the active selection changed. */
  expire(): boolean {
    return this.#reselect();
  }

  /** The highest-precedence source with a live prefix, and all of its prefixes. */
  active(): { source: SourceKind; prefixes: LearnedPrefix[] } | null {
    this.#dropExpired();
    for (const source of this.precedence) {
      const prefixes = [...this.#entries.values()]
        .filter((e) => e.source === source)
        .sort((a, b) => a.learnedAtS - b.learnedAtS || (key(a) < key(b) ? -1 : 1));
      const seen = new Set<string>();
      const unique = prefixes.filter((e) => {
        const k = formatPrefix6(e.prefix);
        return seen.has(k) ? false : (seen.add(k), true);
      });
      if (unique.length > 0) return { source, prefixes: unique };
    }
    return null;
  }

  /** The prefix to translate with: the longest-known of the active source, or null. */
  primary(): Prefix6 | null {
    return this.active()?.prefixes[0]?.prefix ?? null;
  }

  /** When the next lifetime runs out (to schedule expire()), or null. */
  nextExpiryS(): number | null {
    let t = Infinity;
    for (const e of this.#entries.values()) t = Math.min(t, e.expiresAtS);
    return Number.isFinite(t) ? t : null;
  }

  status(): SourcesStatus {
    const now = this.#now();
    const a = this.active();
    return {
      precedence: [...this.precedence],
      active: a
        ? { source: a.source, prefixes: a.prefixes.map((e) => formatPrefix6(e.prefix)) }
        : null,
      learned: [...this.#entries.values()].map((e) => ({
        prefix: formatPrefix6(e.prefix),
        source: e.source,
        origin: e.origin,
        learnedAgoS: Math.round(now - e.learnedAtS),
        expiresInS: Number.isFinite(e.expiresAtS)
          ? Math.max(0, Math.round(e.expiresAtS - now))
          : null,
      })),
    };
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (e.expiresAtS <= now) this.#entries.delete(k);
  }

  #reselect(): boolean {
    const a = this.active();
    const k = a ? `${a.source}:${a.prefixes.map((e) => formatPrefix6(e.prefix)).join(",")}` : "";
    if (k === this.#activeKey) return false;
    this.#activeKey = k;
    this.generation++;
    return true;
  }
}
