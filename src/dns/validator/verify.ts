// RRSIG checks of RFC 4035 5.3.1 and the signature itself (5.3.2-5.3.3): which RRSIG over
// an RRset verifies with which zone key, or the most telling reason none did.
import { canonicalName, type ResourceRecord } from "../wire.ts";
import { signedData } from "./canonical.ts";
import { algorithmSupported, keyTag, verifySignature } from "./crypto.ts";
import { isAncestorOrSelf, labelCount } from "./names.ts";
import { type Dnskey, DNSKEY_REVOKE, DNSKEY_ZONE, type Rrsig } from "./rdata.ts";
import type { BogusReason } from "./reasons.ts";

export type SigResult =
  | { readonly ok: true; readonly sig: Rrsig; readonly key: Dnskey; readonly ttl: number }
  | { readonly ok: false; readonly reason: BogusReason };

/** RFC 1982 serial comparison of 32-bit times (RFC 4034 3.1.5): a <= b. */
export function serialLe(a: number, b: number): boolean {
  return ((b - a) >>> 0) < 0x80000000;
}

/** Within the validity window, with `skew` seconds of tolerance on both ends? */
export function sigTimeState(
  sig: Rrsig,
  now: number,
  skew: number,
): "valid" | "expired" | "not_yet_valid" {
  const n = Math.floor(now) >>> 0;
  if (!serialLe(sig.inception, (n + skew) >>> 0)) return "not_yet_valid";
  if (!serialLe((n - skew) >>> 0, sig.expiration)) return "expired";
  return "valid";
}

const RANK: Record<BogusReason, number> = {
  signature_invalid: 1,
  dnskey_missing: 2,
  no_zone_key_bit: 3,
  signature_not_yet_valid: 4,
  signature_expired: 5,
  rrsigs_missing: 0,
  nsec_missing: 0,
  no_dnskey_for_ds: 0,
  bad_cname: 0,
  fetch_failed: 0,
  malformed: 0,
};

/** Key tags of a zone's keys, computed once per key. */
const tags = new WeakMap<Dnskey, number>();
export function tagOf(k: Dnskey): number {
  let t = tags.get(k);
  if (t === undefined) {
    t = keyTag(k.rdata);
    tags.set(k, t);
  }
  return t;
}

/**
 * Signatures already verified, by the RRSIG's RDATA object. A cached message handed out
 * again with aged TTLs shares its RDATA arrays with the original, so a hit proves the very
 * same bytes were verified with the very same key: no crypto needed (the time window is
 * still checked every time).
 */
interface Verified {
  readonly owner: string;
  readonly type: number;
  readonly datas: readonly Uint8Array[];
  readonly key: Dnskey;
}
const verified = new WeakMap<Uint8Array, Verified>();

function memoHit(m: Verified | undefined, rrset: readonly ResourceRecord[], cands: Dnskey[]) {
  if (!m || m.type !== rrset[0].type || m.datas.length !== rrset.length) return false;
  if (!cands.includes(m.key) || canonicalName(m.owner) !== canonicalName(rrset[0].name)) {
    return false;
  }
  for (let i = 0; i < rrset.length; i++) if (m.datas[i] !== rrset[i].data) return false;
  return true;
}

/**
 * Verify `rrset` (one owner, type, class) with any of `sigs` made by zone `zone` with one
 * of `keys`. The TTL is what RFC 4035 5.3.3 lets the validated RRset keep:
 * min(TTL, Original TTL, time to expiration).
 */
export async function verifyRrset(
  rrset: readonly ResourceRecord[],
  sigs: readonly Rrsig[],
  zone: string,
  keys: readonly Dnskey[],
  now: number,
  skew: number,
  /** RFC 5011 2.1: a revoked key's self-signature counts (for revocation checks only). */
  allowRevoked = false,
): Promise<SigResult> {
  let reason: BogusReason = sigs.length === 0 ? "rrsigs_missing" : "signature_invalid";
  const bump = (r: BogusReason) => {
    if (RANK[r] > RANK[reason]) reason = r;
  };
  const owner = rrset[0].name;
  const ownerLabels = labelCount(owner);
  const z = canonicalName(zone);
  for (const sig of sigs) {
    // 5.3.1: same type, signer is the zone and encloses the owner, labels not too many.
    if (sig.typeCovered !== rrset[0].type) continue;
    if (canonicalName(sig.signerName) !== z || !isAncestorOrSelf(z, owner)) continue;
    if (sig.labels > ownerLabels) continue;
    if (!algorithmSupported(sig.algorithm)) continue;
    const t = sigTimeState(sig, now, skew);
    if (t !== "valid") {
      bump(t === "expired" ? "signature_expired" : "signature_not_yet_valid");
      continue;
    }
    const cands = keys.filter((k) =>
      k.algorithm === sig.algorithm && k.protocol === 3 && tagOf(k) === sig.keyTag &&
      (allowRevoked || (k.flags & DNSKEY_REVOKE) === 0)
    );
    if (cands.length === 0) {
      bump("dnskey_missing");
      continue;
    }
    const ttlOf = () => {
      const ttl = Math.min(sig.originalTtl, ...rrset.map((r) => r.ttl));
      return Math.max(0, Math.min(ttl, (sig.expiration - (Math.floor(now) >>> 0)) >>> 0));
    };
    const memo = verified.get(sig.rdata);
    if (memoHit(memo, rrset, cands)) return { ok: true, sig, key: memo!.key, ttl: ttlOf() };
    const data = signedData(sig, rrset);
    for (const k of cands) {
      if ((k.flags & DNSKEY_ZONE) === 0) {
        bump("no_zone_key_bit");
        continue;
      }
      if (await verifySignature(k, data, sig.signature)) {
        verified.set(sig.rdata, {
          owner: rrset[0].name,
          type: rrset[0].type,
          datas: rrset.map((r) => r.data),
          key: k,
        });
        return { ok: true, sig, key: k, ttl: ttlOf() };
      }
    }
  }
  return { ok: false, reason };
}
