// RFC 6147 DNS64: AAAA synthesis from A records (5.1), PTR via CNAME for addresses under
// the DNS64 prefixes (5.3.1), DNSSEC rules (5.5). Sans-I/O: upstream answers come from an
// injected Lookup, so the same code runs against sockets, a cache, or test fixtures.
import { contains6, type Prefix6 } from "../addr/ip.ts";
import { embed4, extract4 } from "../addr/rfc6052.ts";
import { aclAllows4 } from "./acl.ts";
import { type Answer, answerFromMessage, errorAnswer } from "./answer.ts";
import type { Dns64Options } from "./options.ts";
import { inAddrArpaName, parseIp6Arpa } from "./reverse.ts";
import {
  CLASS_IN,
  isSubdomain,
  type Message,
  nameData,
  RCODE,
  rcodeOf,
  type ResourceRecord,
  soaMinimum,
  TYPE,
} from "./wire.ts";

export interface LookupFlags {
  /** RFC 3225 DO bit of the client's query. */
  readonly dnssecOk: boolean;
  /** RFC 4035 CD bit of the client's query. */
  readonly checkingDisabled: boolean;
  /** RFC 5625 4.4: the client's EDNS options to pass upstream (hop-by-hop ones removed). */
  readonly options?: Uint8Array;
}

/** Resolve through the upstream (and cache). null: no usable answer (timeouts, network). */
export type Lookup = (
  name: string,
  type: number,
  flags: LookupFlags,
) => Promise<Message | null>;

export type ValidationResult = "secure" | "insecure" | "bogus";

/**
 * The seam for the stub validator (src/dns/validator/, RFC 8683 4.1.3): when present,
 * DNS64 validates the A answer itself before synthesizing (RFC 6147 5.5 case 3) and
 * answers SERVFAIL for bogus data.
 */
export interface AnswerValidator {
  validate(name: string, type: number, resp: Message): Promise<ValidationResult>;
}

/** RFC 6147 5.1.7: TTL cap when the negative AAAA answer carried no SOA. */
export const NO_SOA_TTL = 600;

/** RFC 2308 5: negative TTL is min(SOA TTL, SOA MINIMUM); null without an SOA. */
export function negativeTtl(m: Message | null): number | null {
  if (!m) return null;
  for (const r of m.authority) {
    if (r.type === TYPE.SOA) {
      const min = soaMinimum(r.data);
      return min < 0 ? r.ttl : Math.min(r.ttl, min);
    }
  }
  return null;
}

const read4 = (d: Uint8Array): number => ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;

function inPrefixes(ps: readonly Prefix6[], a: Uint8Array): boolean {
  for (const p of ps) if (contains6(p, a)) return true;
  return false;
}

const isAaaa = (r: ResourceRecord) => r.type === TYPE.AAAA && r.data.length === 16;

/** RRSIGs over A records would not cover synthesized AAAA: drop them; keep the rest. */
function coversA(r: ResourceRecord): boolean {
  return r.type === TYPE.RRSIG && r.data.length >= 2 && ((r.data[0] << 8) | r.data[1]) === TYPE.A;
}

/** SERVFAIL for bogus data, keeping the validator's Extended DNS Error (RFC 8914). */
function bogusAnswer(m: Message): Answer {
  const base = errorAnswer(RCODE.SERVFAIL);
  return rcodeOf(m.flags) === RCODE.SERVFAIL
    ? { ...base, ednsOptions: answerFromMessage(m).ednsOptions }
    : base;
}

export class Dns64 {
  readonly enabled: boolean;

  constructor(
    readonly opts: Dns64Options,
    private readonly lookup: Lookup,
    private readonly validator: AnswerValidator | null = null,
  ) {
    this.enabled = opts.prefixes.length > 0;
  }

  /** Names listed in exclude-domains (and below) are never synthesized. */
  excludedName(name: string): boolean {
    for (const d of this.opts.excludeDomains) if (isSubdomain(name, d)) return true;
    return false;
  }

  /** RFC 6147 5.1.4: remove AAAA records in the exclusion set ("treated as if absent"). */
  withoutExcluded(rrs: ResourceRecord[]): ResourceRecord[] {
    if (this.opts.exclude.length === 0) return rrs;
    return rrs.filter((r) => !(isAaaa(r) && inPrefixes(this.opts.exclude, r.data)));
  }

  /**
   * Build the synthesized answer from the A response (RFC 6147 5.1.5-5.1.7), or null when
   * nothing can be synthesized (no A records, all mapped out, error RCODE).
   */
  synthesize(aResp: Message, aaaaResp: Message | null): Answer | null {
    if (rcodeOf(aResp.flags) !== RCODE.NOERROR) return null;
    // 5.1.7: TTL is the minimum of the A RR's TTL and the negative-caching time of the
    // AAAA answer (RFC 2308: min of SOA TTL and MINIMUM), or 600 s without an SOA.
    const neg = negativeTtl(aaaaResp) ?? NO_SOA_TTL;
    const synth: ResourceRecord[] = [];
    for (const p of this.opts.prefixes) {
      for (const r of aResp.answer) {
        if (r.type !== TYPE.A || r.class !== CLASS_IN || r.data.length !== 4) continue;
        const v4 = read4(r.data);
        if (!aclAllows4(this.opts.mapped, v4)) continue; // 5.1.5 mapped-out range
        const data = new Uint8Array(16);
        embed4(p, v4, data, 0);
        synth.push({
          name: r.name,
          type: TYPE.AAAA,
          class: CLASS_IN,
          ttl: Math.min(r.ttl, neg),
          data,
        });
      }
    }
    if (synth.length === 0) return null;
    // 5.1.6: the CNAME/DNAME chain stays in front of the synthesized records.
    const chain = aResp.answer.filter((r) => r.type !== TYPE.A && !coversA(r));
    return {
      rcode: RCODE.NOERROR,
      aa: false,
      ad: false, // 5.5: never claim synthesized data is authentic
      answer: [...chain, ...synth],
      authority: [],
      additional: [],
      synthesized: true,
    };
  }

  /** RFC 6147 5.1: answer an AAAA query for a client that gets synthesis. */
  async aaaa(name: string, flags: LookupFlags): Promise<Answer> {
    const aaaa = await this.lookup(name, TYPE.AAAA, flags);
    // 5.5: DO=1 and CD=1 means the client validates itself; synthesized data would fail,
    // so pass the real answer through unless break-dnssec says otherwise.
    if (flags.dnssecOk && flags.checkingDisabled && !this.opts.breakDnssec) {
      return aaaa ? answerFromMessage(aaaa) : errorAnswer(RCODE.SERVFAIL);
    }
    // RFC 8683 4.1.3: a bogus AAAA answer is SERVFAIL, not a reason to synthesize.
    if (
      aaaa && this.validator && (await this.validator.validate(name, TYPE.AAAA, aaaa)) === "bogus"
    ) {
      return bogusAnswer(aaaa);
    }
    if (aaaa) {
      const rc = rcodeOf(aaaa.flags);
      // 5.1.2: Name Error means the name does not exist for any type: no synthesis.
      if (rc === RCODE.NXDOMAIN) return answerFromMessage(aaaa);
      if (rc === RCODE.NOERROR) {
        const kept = this.withoutExcluded(aaaa.answer);
        // 5.1.1: a real (non-excluded) AAAA answer is returned as is.
        if (kept.some(isAaaa)) return { ...answerFromMessage(aaaa), answer: kept };
      }
      // 5.1.2: any other RCODE is treated as an empty answer, so synthesis is attempted.
    }
    // 5.1.3: an upstream that does not answer counts as RCODE 2, i.e. empty: synthesize.
    const a = await this.lookup(name, TYPE.A, flags);
    if (a && this.validator) {
      const v = await this.validator.validate(name, TYPE.A, a);
      if (v === "bogus") return bogusAnswer(a);
    }
    const syn = a ? this.synthesize(a, aaaa) : null;
    if (syn) return syn;
    if (aaaa) {
      const base = answerFromMessage(aaaa);
      return { ...base, answer: this.withoutExcluded(base.answer) };
    }
    if (a && (rcodeOf(a.flags) === RCODE.NOERROR || rcodeOf(a.flags) === RCODE.NXDOMAIN)) {
      // Without an AAAA answer, the A answer's negative part still describes the name.
      const base = answerFromMessage(a);
      return {
        ...base,
        answer: base.answer.filter((r) => r.type !== TYPE.A && !coversA(r)),
        ad: false,
      };
    }
    return errorAnswer(RCODE.SERVFAIL);
  }

  /**
   * RFC 6147 5.3.1: a PTR query for an address under a DNS64 prefix is answered with a
   * CNAME to the in-addr.arpa name of the embedded IPv4 address, plus that name's
   * resolution. Null when the name is not such an address (the caller forwards it).
   */
  async ptr(name: string, flags: LookupFlags): Promise<Answer | null> {
    const v6 = parseIp6Arpa(name);
    if (!v6) return null;
    let target: string | null = null;
    for (const p of this.opts.prefixes) {
      if (!contains6(p, v6)) continue;
      const v4 = extract4(p, v6, 0);
      if (v4 >= 0) {
        target = inAddrArpaName(v4);
        break;
      }
    }
    if (target === null) return null;
    const resp = await this.lookup(target, TYPE.PTR, flags);
    if (!resp) return errorAnswer(RCODE.SERVFAIL);
    const base = answerFromMessage(resp);
    let ttl = negativeTtl(resp) ?? NO_SOA_TTL;
    for (const r of base.answer) ttl = Math.min(ttl, r.ttl);
    const cname: ResourceRecord = {
      name,
      type: TYPE.CNAME,
      class: CLASS_IN,
      ttl,
      data: nameData(target),
    };
    return {
      ...base,
      aa: false,
      ad: false,
      answer: [cname, ...base.answer],
      synthesized: true,
    };
  }
}
