// RFC 5011 automated updates of DNSSEC trust anchors, sans-I/O: one state machine per
// trust point, fed with the trust point's DNSKEY RRset each time it validates with a
// trusted key; the clock and the state file's contents are the caller's.
import { normalName } from "./names.ts";
import { type Dnskey, DNSKEY_REVOKE, DNSKEY_SEP, parseDnskey } from "./rdata.ts";
import { parseZone } from "./zonefile.ts";
import { TYPE } from "../wire.ts";
import type { TrustAnchor } from "./anchors.ts";

/** RFC 5011 4: Start and Removed are "not tracked"; the others are kept. */
export type KeyState = "addpend" | "valid" | "missing" | "revoked";

/** RFC 5011 2.4.1 / 2.4.2: 30 days. */
export const HOLD_DOWN = 30 * 86400;

export interface TrackedKey {
  readonly key: Dnskey;
  readonly state: KeyState;
  /** When the key entered this state (seconds since the epoch). */
  readonly since: number;
  /** AddPend: when it may become Valid (the add hold-down, RFC 5011 2.4.1). */
  readonly holdUntil?: number;
}

/** The key's RDATA without the REVOKE bit: a key keeps its identity when revoked. */
function identity(k: Dnskey): string {
  const d = k.rdata.slice();
  d[1] &= ~DNSKEY_REVOKE;
  return d.join(",");
}

export class TrustPoint {
  readonly zone: string;
  #keys: TrackedKey[];

  constructor(zone: string, keys: readonly TrackedKey[]) {
    this.zone = normalName(zone);
    this.#keys = [...keys];
  }

  /** A trust point from a configured anchor: its DNSKEYs are Valid; DS-only starts empty. */
  static fromAnchor(a: TrustAnchor, now: number): TrustPoint {
    return new TrustPoint(a.zone, a.keys.map((key) => ({ key, state: "valid", since: now })));
  }

  get keys(): readonly TrackedKey[] {
    return this.#keys;
  }

  /** RFC 5011 4: Valid and Missing keys are trust anchors; AddPend and Revoked are not. */
  trusted(): Dnskey[] {
    return this.#keys.filter((k) => k.state === "valid" || k.state === "missing").map((k) => k.key);
  }

  /**
   * RFC 5011 4.1 on a DNSKEY RRset that validated with a trusted key (or, for a DS-only
   * anchor, with a key its DS vouches for: `vouched`). `revoked` are the keys with the
   * REVOKE bit whose self-signature over the RRset verified (RFC 5011 2.1). Returns
   * whether anything changed (the state should then be saved).
   */
  observe(
    set: readonly Dnskey[],
    vouched: readonly Dnskey[],
    revoked: readonly Dnskey[],
    originalTtl: number,
    now: number,
  ): boolean {
    const before = this.serialize();
    const revokedIds = new Set(revoked.map(identity));
    // RFC 5011 2.1: a REVOKE bit without a valid self-signature is ignored (the key is absent).
    const present = new Map(
      set.filter((k) => (k.flags & DNSKEY_REVOKE) === 0 || revokedIds.has(identity(k)))
        .map((k) => [identity(k), k]),
    );
    const bootstrap = this.trusted().length === 0;
    const next: TrackedKey[] = [];
    const seen = new Set<string>();
    for (const t of this.#keys) {
      const id = identity(t.key);
      seen.add(id);
      const k = present.get(id);
      if (t.state === "revoked") {
        if (now - t.since < HOLD_DOWN) next.push(t); // Revoked -> Removed after the hold-down
        continue;
      }
      if (revokedIds.has(id)) {
        // Valid/Missing/AddPend -> Revoked: trust ends now; forget after the hold-down.
        next.push({ key: k!, state: "revoked", since: now });
        continue;
      }
      switch (t.state) {
        case "addpend":
          if (!k) continue; // AddPend -> Start: it went away before the hold-down ended
          next.push(now >= (t.holdUntil ?? Infinity) ? { key: k, state: "valid", since: now } : t);
          break;
        case "valid":
          next.push(k ? t : { ...t, state: "missing", since: now });
          break;
        case "missing":
          next.push(k ? { key: k, state: "valid", since: now } : t);
          break;
      }
    }
    for (const [id, k] of present) {
      if (seen.has(id) || (k.flags & DNSKEY_SEP) === 0 || (k.flags & DNSKEY_REVOKE) !== 0) {
        continue;
      }
      if (bootstrap && vouched.some((v) => identity(v) === id)) {
        // A DS-only anchor: the keys its DS vouched for are trusted from the start.
        next.push({ key: k, state: "valid", since: now });
      } else {
        // Start -> AddPend, with the add hold-down of RFC 5011 2.4.1.
        const hold = now + Math.max(HOLD_DOWN, originalTtl);
        next.push({ key: k, state: "addpend", since: now, holdUntil: hold });
      }
    }
    this.#keys = next;
    return this.serialize() !== before;
  }

  /**
   * The state as master-file text: trusted keys as plain DNSKEY lines (so any anchor
   * reader trusts exactly them), revoked keys with the REVOKE bit (never trusted),
   * AddPend keys commented out. The ";;" comments carry the state back in.
   */
  serialize(): string {
    const lines = [`; RFC 5011 trust point ${this.zone}, kept by xlat64`];
    for (const t of this.#keys) {
      const k = t.key;
      let b = "";
      for (const x of k.publicKey) b += String.fromCharCode(x);
      const rr = `${this.zone} 3600 IN DNSKEY ${k.flags} ${k.protocol} ${k.algorithm} ${btoa(b)}`;
      const meta = `;;state=${t.state} ;;since=${t.since}` +
        (t.holdUntil !== undefined ? ` ;;hold=${t.holdUntil}` : "");
      lines.push(t.state === "addpend" ? `;;addpend ${rr} ${meta}` : `${rr} ${meta}`);
    }
    return lines.join("\n") + "\n";
  }

  /** Trust points from serialize() output (or plain DNSKEY anchors: all Valid). */
  static parse(text: string, now: number): TrustPoint[] {
    const byZone = new Map<string, TrackedKey[]>();
    for (const raw of text.split("\n")) {
      const addpend = raw.startsWith(";;addpend ");
      const line = addpend ? raw.slice(10) : raw;
      if (line.trim() === "" || line.trimStart().startsWith(";")) continue;
      const [r] = parseZone(line);
      if (!r || r.type !== TYPE.DNSKEY) continue;
      const key = parseDnskey(r.data);
      if (!key) continue;
      const meta = (name: string) => {
        const m = new RegExp(`;;${name}=([a-z0-9]+)`).exec(line);
        return m ? m[1] : undefined;
      };
      const state = (meta("state") as KeyState | undefined) ??
        ((key.flags & DNSKEY_REVOKE) !== 0 ? "revoked" : addpend ? "addpend" : "valid");
      const since = Number(meta("since") ?? now);
      const hold = meta("hold");
      const z = normalName(r.name);
      byZone.set(z, [...(byZone.get(z) ?? []), {
        key,
        state,
        since,
        ...(hold !== undefined ? { holdUntil: Number(hold) } : {}),
      }]);
    }
    return [...byZone].map(([z, keys]) => new TrustPoint(z, keys));
  }
}
