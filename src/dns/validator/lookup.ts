// The validator between the proxy and its upstream (RFC 8683 4.1.3/4.1.4): lookups for
// clients that leave checking to us go upstream with DO=1 and CD=1, are validated here,
// and come back with AD set only when secure, or as SERVFAIL with an Extended DNS Error
// (RFC 8914) when bogus. Clients with CD=1 validate themselves: they get the raw data.
import type { Lookup, LookupFlags } from "../dns64.ts";
import {
  EDNS_DO,
  FLAG,
  getEdns,
  type Message,
  optRecord,
  RCODE,
  type ResourceRecord,
  TYPE,
} from "../wire.ts";
import type { TrustAnchor } from "./anchors.ts";
import {
  BOGUS_EDE,
  type BogusReason,
  edeOption,
  INSECURE_EDE,
  type InsecureReason,
} from "./reasons.ts";
import type { ValidatorMetrics } from "./metrics.ts";
import type { TrustPoint } from "./rfc5011.ts";
import { type DnssecQuery, Validator, type Verdict } from "./validator.ts";

export interface ValidationSetup {
  readonly anchors: readonly TrustAnchor[];
  /** Seconds of tolerance on RRSIG inception/expiration. */
  readonly clockSkew: number;
  /** RFC 9276 3.2 limit; above it NSEC3 answers are insecure. */
  readonly nsec3MaxIterations: number;
  readonly metrics?: ValidatorMetrics;
  /** RFC 5011 tracking (see setup.ts). */
  readonly trustPoints?: readonly TrustPoint[];
  readonly onTrustPointChange?: (tp: TrustPoint) => void;
}

const CHECKING = { dnssecOk: true, checkingDisabled: true } as const;

/** The validator's own queries for DS and DNSKEY records, through the same lookup. */
export function dnssecQuery(inner: Lookup): DnssecQuery {
  return (name, type) => inner(name, type, CHECKING);
}

/** Add an EDNS option to a message's OPT record (creating one). */
function withOption(m: Message, option: Uint8Array): ResourceRecord[] {
  const e = getEdns(m);
  const opts = e ? Uint8Array.of(...e.options, ...option) : option;
  const opt = optRecord({
    udpSize: e?.udpSize ?? 1232,
    extRcode: e?.extRcode ?? 0,
    version: 0,
    flags: e?.flags ?? EDNS_DO,
    options: opts,
  });
  return [...m.additional.filter((r) => r.type !== TYPE.OPT), opt];
}

/** RFC 8914: SERVFAIL for a bogus answer, with the reason as INFO-CODE and text. */
export function bogusMessage(m: Message, v: Verdict): Message {
  const code = BOGUS_EDE[(v.reason as BogusReason) ?? "signature_invalid"] ?? 6;
  const text = v.detail ?? v.reason ?? "DNSSEC bogus";
  const base: Message = {
    id: m.id,
    flags: (m.flags & ~(FLAG.AD | FLAG.AA | 0xf)) | RCODE.SERVFAIL,
    question: m.question,
    answer: [],
    authority: [],
    additional: [],
  };
  return { ...base, additional: withOption(base, edeOption(code, text.slice(0, 200))) };
}

/** The validated message as the proxy hands it on: AD only when secure. */
function judged(m: Message, v: Verdict): Message {
  if (v.state === "bogus") return bogusMessage(m, v);
  const flags = v.state === "secure" ? m.flags | FLAG.AD : m.flags & ~FLAG.AD;
  const info = v.state === "insecure" && v.reason
    ? INSECURE_EDE[v.reason as InsecureReason]
    : undefined;
  // RFC 9276 3.2: say why an answer with too many NSEC3 iterations is insecure.
  const additional = info !== undefined ? withOption(m, edeOption(info)) : m.additional;
  // RFC 4035 5.3.3: secure data lives no longer than its signatures and Original TTL.
  const cap = v.state === "secure" && v.ttl !== undefined && Number.isFinite(v.ttl) ? v.ttl : -1;
  const capped = (rrs: ResourceRecord[]) =>
    cap < 0 || rrs.every((r) => r.ttl <= cap)
      ? rrs
      : rrs.map((r) => (r.ttl > cap ? { ...r, ttl: cap } : r));
  return { ...m, flags, answer: capped(m.answer), authority: capped(m.authority), additional };
}

/**
 * Wrap `inner` (the caching upstream lookup) so that everything the proxy and DNS64 see is
 * validated. The returned messages are marked in the validator, so DNS64's
 * AnswerValidator calls on them cost nothing.
 */
export function validatingLookup(inner: Lookup, validator: Validator): Lookup {
  return async (name: string, type: number, flags: LookupFlags) => {
    if (flags.checkingDisabled) {
      // RFC 4035 3.2.2: the client does its own checking; RFC 6147 5.5 then applies.
      const raw = await inner(name, type, flags);
      if (!raw) return raw;
      const copy = { ...raw };
      validator.mark(copy, { state: "indeterminate", detail: "checking disabled" });
      return copy;
    }
    const m = await inner(name, type, { ...CHECKING, options: flags.options });
    if (!m) return m;
    const v = await validator.verdict(name, type, m);
    const out = judged(m, v);
    validator.mark(out, v);
    return out;
  };
}

/** The validator and the wrapped lookup, from config, over the proxy's upstream lookup. */
export function createValidation(
  inner: Lookup,
  setup: ValidationSetup,
  now: () => number,
): { lookup: Lookup; validator: Validator } {
  const validator = new Validator({
    anchors: setup.anchors,
    query: dnssecQuery(inner),
    now,
    clockSkew: setup.clockSkew,
    nsec3MaxIterations: setup.nsec3MaxIterations,
    metrics: setup.metrics,
    trustPoints: setup.trustPoints,
    onTrustPointChange: setup.onTrustPointChange,
  });
  return { lookup: validatingLookup(inner, validator), validator };
}
