// Dynamic EAM bypass (RFC 8683 4.9, opt-in): when the CLAT's DNS proxy answers A for a
// name that also has (real, not synthesized) AAAA records, map that IPv4 address to the
// IPv6 one for a short while, so IPv4-only applications reach dual-stack destinations
// natively over IPv6 instead of through the NAT64. The table is pure state over an
// injected clock; DynamicEam drives it from DNS answers.
import {
  contains4,
  contains6,
  formatIPv4,
  formatIPv6,
  parsePrefix6,
  type Prefix4,
  prefix4,
  type Prefix6,
  prefix6,
} from "../addr/ip.ts";
import type { Query } from "../discovery/rfc7050.ts";
import { decodeMessage, TYPE } from "../dns/wire.ts";
import type { EamEntry } from "../xlat/options.ts";

interface Mapping {
  readonly ipv4: number;
  readonly ipv6: Uint8Array;
  readonly name: string;
  expiresAtS: number;
}

/** The well-known NAT64 prefixes (RFC 6052, RFC 8215): AAAA under them are synthesized. */
const WELL_KNOWN: readonly Prefix6[] = [
  parsePrefix6("64:ff9b::/96"),
  parsePrefix6("64:ff9b:1::/48"),
];

const v6key = (a: Uint8Array) => formatIPv6(a);

export interface DynamicEamOptions {
  /** Longest life of a mapping (seconds); shorter when the DNS TTL is. */
  readonly maxTtlS: number;
  /** Most mappings kept; the soonest to expire goes first. */
  readonly max?: number;
  readonly now: () => number;
}

export class DynamicEamTable {
  readonly #by4 = new Map<number, Mapping>();
  readonly #by6 = new Map<string, Mapping>();
  constructor(readonly o: DynamicEamOptions) {}

  get size(): number {
    return this.#by4.size;
  }

  /**
   * Learn `name`'s A and AAAA addresses. IPv4 addresses in `reserved` (the LAN, static
   * mappings) and AAAA under `synthesized` prefixes are skipped; the i-th A pairs with the
   * i-th AAAA (an EAM is one-to-one). Returns whether the table changed.
   */
  learn(
    name: string,
    a: readonly number[],
    aaaa: readonly Uint8Array[],
    ttlS: number,
    reserved: readonly Prefix4[],
    synthesized: readonly Prefix6[],
  ): boolean {
    const real6 = aaaa.filter((x) => ![...WELL_KNOWN, ...synthesized].some((p) => contains6(p, x)));
    const real4 = a.filter((x) => !reserved.some((p) => contains4(p, x)));
    const life = Math.max(1, Math.min(ttlS, this.o.maxTtlS));
    const until = this.o.now() + life;
    let changed = false;
    for (let i = 0; i < Math.min(real4.length, real6.length); i++) {
      const v4 = real4[i], v6 = real6[i];
      const old = this.#by4.get(v4);
      if (old && v6key(old.ipv6) === v6key(v6)) {
        old.expiresAtS = Math.max(old.expiresAtS, until);
        continue;
      }
      const other = this.#by6.get(v6key(v6));
      if (other && other.ipv4 !== v4) continue; // that IPv6 address already stands for another
      if (old) this.#remove(old);
      const m: Mapping = { ipv4: v4, ipv6: v6.slice(), name, expiresAtS: until };
      this.#by4.set(v4, m);
      this.#by6.set(v6key(v6), m);
      changed = true;
    }
    const max = this.o.max ?? 4096;
    while (this.#by4.size > max) {
      const first = [...this.#by4.values()].sort((x, y) => x.expiresAtS - y.expiresAtS)[0];
      this.#remove(first);
      changed = true;
    }
    return changed;
  }

  /** Drops expired mappings; returns whether any went. */
  expire(): boolean {
    const now = this.o.now();
    let changed = false;
    for (const m of [...this.#by4.values()]) {
      if (m.expiresAtS <= now) {
        this.#remove(m);
        changed = true;
      }
    }
    return changed;
  }

  /** The mappings as /32 <-> /128 EAM entries, in a stable order. */
  entries(): EamEntry[] {
    return [...this.#by4.values()]
      .sort((x, y) => x.ipv4 - y.ipv4)
      .map((m) => ({ ipv4: prefix4(m.ipv4, 32), ipv6: prefix6(m.ipv6, 128) }));
  }

  status(): { name: string; ipv4: string; ipv6: string; expiresInS: number }[] {
    const now = this.o.now();
    return [...this.#by4.values()].map((m) => ({
      name: m.name,
      ipv4: formatIPv4(m.ipv4),
      ipv6: formatIPv6(m.ipv6),
      expiresInS: Math.max(0, Math.round(m.expiresAtS - now)),
    }));
  }

  #remove(m: Mapping): void {
    this.#by4.delete(m.ipv4);
    this.#by6.delete(v6key(m.ipv6));
  }
}

/** The A records a DNS response gives for its question, or null when it is no A answer. */
export function aAnswer(resp: Uint8Array): { name: string; a: number[]; ttlS: number } | null {
  if (resp.length < 12 || (resp[3] & 0x0f) !== 0) return null;
  const d = decodeMessage(resp);
  if (!d.ok || d.msg.question.length !== 1 || d.msg.question[0].type !== TYPE.A) return null;
  const rrs = d.msg.answer.filter((r) => r.type === TYPE.A && r.data.length === 4);
  if (rrs.length === 0) return null;
  const a = rrs.map((r) =>
    ((r.data[0] << 24) | (r.data[1] << 16) | (r.data[2] << 8) | r.data[3]) >>> 0
  );
  return { name: d.msg.question[0].name, a, ttlS: Math.min(...rrs.map((r) => r.ttl)) };
}

/**
 * Watches the DNS proxy's answers: for each A answer, asks the upstream for AAAA of the
 * same name and learns the pairs. `onChange` runs when the table changed (after learning
 * or expiry); it pushes the new EAM set to the data path.
 */
export class DynamicEam {
  readonly table: DynamicEamTable;
  readonly #pending = new Set<string>();
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly query: Query,
    private readonly scope: () => { reserved: readonly Prefix4[]; synthesized: readonly Prefix6[] },
    private readonly onChange: () => Promise<void> | void,
    opts: DynamicEamOptions,
  ) {
    this.table = new DynamicEamTable(opts);
    this.#timer = setInterval(() => {
      if (this.table.expire()) void this.onChange();
    }, 1000);
  }

  /**
   * The proxy is about to send `resp`: learn from it. Resolves when a new mapping is in
   * place, or after `waitMs` at most (the answer is never held longer).
   */
  observe(resp: Uint8Array, waitMs = 1000): Promise<void> {
    let ans: ReturnType<typeof aAnswer>;
    try {
      ans = aAnswer(resp);
    } catch {
      return Promise.resolve();
    }
    if (!ans || this.#pending.has(ans.name)) return Promise.resolve();
    const { name, a, ttlS } = ans;
    this.#pending.add(name);
    const work = this.query(name, TYPE.AAAA).then(async (rrs) => {
      const aaaa = rrs.filter((r) => r.type === TYPE.AAAA && r.data.length === 16).map((r) =>
        r.data
      );
      const ttl = Math.min(ttlS, ...rrs.filter((r) => r.type === TYPE.AAAA).map((r) => r.ttl));
      const s = this.scope();
      if (this.table.learn(name, a, aaaa, ttl, s.reserved, s.synthesized)) await this.onChange();
    }).catch(() => {/* no AAAA, no mapping */}).finally(() => this.#pending.delete(name));
    let t: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<void>((r) => t = setTimeout(r, waitMs));
    return Promise.race([work, limit]).finally(() => clearTimeout(t));
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
