// Why an answer is bogus, and how each reason is told to clients: the Extended DNS Error
// codes of RFC 8914 4 (plus 27 from RFC 9276) in the EDNS option of a SERVFAIL.

export const BOGUS_REASONS = [
  "signature_invalid",
  "signature_expired",
  "signature_not_yet_valid",
  "dnskey_missing",
  "no_dnskey_for_ds",
  "rrsigs_missing",
  "no_zone_key_bit",
  "nsec_missing",
  "bad_cname",
  "fetch_failed",
  "malformed",
] as const;
export type BogusReason = typeof BOGUS_REASONS[number];

/** Why an answer is insecure (for metrics and the informational EDE codes). */
export const INSECURE_REASONS = [
  "unsigned_delegation",
  "opt_out",
  "unsupported_algorithm",
  "unsupported_digest",
  "nsec3_iterations",
  "no_trust_anchor",
] as const;
export type InsecureReason = typeof INSECURE_REASONS[number];

/** RFC 8914 4 INFO-CODEs. */
export const EDE = {
  OTHER: 0,
  UNSUPPORTED_DNSKEY_ALGORITHM: 1,
  UNSUPPORTED_DS_DIGEST: 2,
  DNSSEC_INDETERMINATE: 5,
  DNSSEC_BOGUS: 6,
  SIGNATURE_EXPIRED: 7,
  SIGNATURE_NOT_YET_VALID: 8,
  DNSKEY_MISSING: 9,
  RRSIGS_MISSING: 10,
  NO_ZONE_KEY_BIT_SET: 11,
  NSEC_MISSING: 12,
  NO_REACHABLE_AUTHORITY: 22,
  /** RFC 9276 3.2. */
  UNSUPPORTED_NSEC3_ITERATIONS: 27,
} as const;

export const BOGUS_EDE: Readonly<Record<BogusReason, number>> = {
  signature_invalid: EDE.DNSSEC_BOGUS,
  signature_expired: EDE.SIGNATURE_EXPIRED,
  signature_not_yet_valid: EDE.SIGNATURE_NOT_YET_VALID,
  dnskey_missing: EDE.DNSKEY_MISSING,
  no_dnskey_for_ds: EDE.DNSKEY_MISSING,
  rrsigs_missing: EDE.RRSIGS_MISSING,
  no_zone_key_bit: EDE.NO_ZONE_KEY_BIT_SET,
  nsec_missing: EDE.NSEC_MISSING,
  bad_cname: EDE.DNSSEC_BOGUS,
  fetch_failed: EDE.NO_REACHABLE_AUTHORITY,
  malformed: EDE.DNSSEC_BOGUS,
};

export const INSECURE_EDE: Readonly<Partial<Record<InsecureReason, number>>> = {
  unsupported_algorithm: EDE.UNSUPPORTED_DNSKEY_ALGORITHM,
  unsupported_digest: EDE.UNSUPPORTED_DS_DIGEST,
  nsec3_iterations: EDE.UNSUPPORTED_NSEC3_ITERATIONS,
};

/** RFC 8914 2: OPTION-CODE 15, INFO-CODE, UTF-8 EXTRA-TEXT. */
export const EDE_OPTION = 15;

export function edeOption(code: number, text = ""): Uint8Array {
  const t = new TextEncoder().encode(text);
  const out = new Uint8Array(6 + t.length);
  out[0] = 0;
  out[1] = EDE_OPTION;
  out[2] = (t.length + 2) >> 8;
  out[3] = (t.length + 2) & 255;
  out[4] = code >> 8;
  out[5] = code & 255;
  out.set(t, 6);
  return out;
}
