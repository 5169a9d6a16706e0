// The stub validator (RFC 4033-4035, RFC 5155; RFC 8683 4.1.3): it takes an answer the
// upstream gave with DO=1 CD=1, builds the chain of trust from a trust anchor by asking
// for DS and DNSKEY records through an injected query function, and says whether the
// answer is secure, insecure, bogus or indeterminate (RFC 4035 4.3). Sans-I/O: no
// sockets, no timers; the clock is injected too.
import type { AnswerValidator, ValidationResult } from "../dns64.ts";
import { type Message, RCODE, rcodeOf, rdataName, type ResourceRecord, TYPE } from "../wire.ts";
import type { TrustAnchor } from "./anchors.ts";
import { algorithmSupported, digestSupported, dsDigest } from "./crypto.ts";
import {
  Nsec3Hasher,
  type Nsec3Hasher as Hasher,
  Nsec3Proof,
  type Nsec3Record,
  nsec3Record,
  nsecDsAbsence,
  nsecNodata,
  nsecNxdomain,
  type NsecRecord,
  nsecWildcardAnswer,
  type Proof,
} from "./denial.ts";
import {
  isAncestorOrSelf,
  joinLabels,
  labelCount,
  normalName,
  splitLabels,
  suffixName,
} from "./names.ts";
import {
  type Dnskey,
  DNSKEY_REVOKE,
  DNSKEY_ZONE,
  type Ds,
  parseDnskey,
  parseDs,
  parseNsec,
  parseNsec3,
  parseRrsig,
  type Rrsig,
} from "./rdata.ts";
import type { BogusReason, InsecureReason } from "./reasons.ts";
import { ValidatorMetrics } from "./metrics.ts";
import type { TrustPoint } from "./rfc5011.ts";
import { tagOf, verifyRrset } from "./verify.ts";

export type ValidationState = "secure" | "insecure" | "bogus" | "indeterminate";

export interface Verdict {
  readonly state: ValidationState;
  readonly reason?: BogusReason | InsecureReason;
  /** The zone whose keys (or lack of them) decided the verdict. */
  readonly zone?: string;
  /** Human-readable detail for logs and the EDE EXTRA-TEXT. */
  readonly detail?: string;
  /**
   * Secure answers: the longest a validated RRset may be kept, RFC 4035 5.3.3
   * (min of TTL, Original TTL and time to signature expiration).
   */
  readonly ttl?: number;
}

/** Ask the upstream (with DO=1 and CD=1) for one RRset; null when it did not answer. */
export type DnssecQuery = (name: string, type: number) => Promise<Message | null>;

export interface ValidatorOptions {
  readonly anchors: readonly TrustAnchor[];
  readonly query: DnssecQuery;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Seconds of tolerance on signature inception and expiration. */
  readonly clockSkew?: number;
  /** RFC 9276 3.2: NSEC3 records with more iterations make the answer insecure. */
  readonly nsec3MaxIterations?: number;
  /** Seconds a bogus zone is remembered (RFC 4035 4.7 "BAD cache"). */
  readonly bogusTtl?: number;
  readonly maxCacheEntries?: number;
  readonly metrics?: ValidatorMetrics;
  /** RFC 5011 tracking of these trust points (their trusted keys replace the anchors'). */
  readonly trustPoints?: readonly TrustPoint[];
  /** Told when a trust point's state changed (the caller saves it). */
  readonly onTrustPointChange?: (tp: TrustPoint) => void;
}

type ZoneState =
  | { kind: "secure"; zone: string; keys: readonly Dnskey[]; expires: number }
  | { kind: "insecure"; zone: string; reason: InsecureReason; expires: number }
  | { kind: "bogus"; zone: string; reason: BogusReason; detail: string; expires: number }
  | { kind: "indeterminate"; zone: string; expires: number };

/** What the DS step learned about a child name. */
type Step =
  | ZoneState
  | { kind: "not_cut"; expires: number }
  | { kind: "nxdomain"; expires: number };

/** Default tolerance on RRSIG validity windows, seconds (clocks of small CEs drift). */
export const VALIDATOR_CLOCK_SKEW = 300;
/** RFC 9276 3.2: NSEC3 iteration counts above this make answers insecure (Unbound: 150). */
export const VALIDATOR_NSEC3_MAX_ITERATIONS = 150;

const MAX_CHAIN = 12;
const MAX_LABELS_WALKED = 40;

class BogusError extends Error {
  constructor(readonly reason: BogusReason, readonly zone: string, readonly detail: string) {
    super(detail);
  }
}

interface Sections {
  readonly sets: Map<string, ResourceRecord[]>;
  readonly sigs: Map<string, Rrsig[]>;
}

const key = (name: string, type: number) => `${normalName(name)}/${type}`;

function group(rrs: readonly ResourceRecord[]): Sections {
  const sets = new Map<string, ResourceRecord[]>();
  const sigs = new Map<string, Rrsig[]>();
  for (const r of rrs) {
    if (r.type === TYPE.OPT) continue;
    if (r.type === TYPE.RRSIG) {
      const s = parseRrsig(r.data);
      if (!s) continue;
      const k = key(r.name, s.typeCovered);
      sigs.set(k, [...(sigs.get(k) ?? []), s]);
      continue;
    }
    const k = key(r.name, r.type);
    const list = sets.get(k);
    if (list) list.push(r);
    else sets.set(k, [r]);
  }
  return { sets, sigs };
}

const worse = (a: Verdict, b: Verdict): Verdict => {
  const rank = { secure: 0, indeterminate: 1, insecure: 2, bogus: 3 } as const;
  if (a.state === "secure" && b.state === "secure") {
    return { ...b, ttl: Math.min(a.ttl ?? Infinity, b.ttl ?? Infinity) };
  }
  return rank[b.state] > rank[a.state] ? b : a;
};

export class Validator implements AnswerValidator {
  readonly metrics: ValidatorMetrics;
  private readonly anchors: readonly TrustAnchor[];
  private readonly skew: number;
  private readonly maxIter: number;
  private readonly bogusTtl: number;
  private readonly maxEntries: number;
  private readonly steps = new Map<string, Step>();
  private readonly inflight = new Map<string, Promise<Step>>();
  private readonly verdicts = new WeakMap<Message, { v: Verdict; key: string; expires: number }>();

  constructor(private readonly o: ValidatorOptions) {
    this.anchors = o.anchors.map((a) => ({ ...a, zone: normalName(a.zone) }));
    this.skew = o.clockSkew ?? VALIDATOR_CLOCK_SKEW;
    this.maxIter = o.nsec3MaxIterations ?? VALIDATOR_NSEC3_MAX_ITERATIONS;
    this.bogusTtl = o.bogusTtl ?? 60;
    this.maxEntries = o.maxCacheEntries ?? 10000;
    this.metrics = o.metrics ?? new ValidatorMetrics();
  }

  private nowSec(): number {
    return this.o.now() / 1000;
  }

  /** The AnswerValidator seam of DNS64: indeterminate counts as insecure (no anchor). */
  async validate(name: string, type: number, resp: Message): Promise<ValidationResult> {
    const v = await this.verdict(name, type, resp);
    return v.state === "indeterminate" ? "insecure" : v.state;
  }

  /**
   * Ask the upstream (DO=1 CD=1) and validate the answer: for callers outside the proxy,
   * such as RFC 7050 3.1 prefix discovery checking its PTR/AAAA answers. Null: no answer.
   */
  async resolve(
    name: string,
    type: number,
  ): Promise<{ message: Message; verdict: Verdict } | null> {
    const message = await this.o.query(name, type);
    return message ? { message, verdict: await this.verdict(name, type, message) } : null;
  }

  /** Messages the proxy already judged (see lookup.ts): their verdict, no work again. */
  private readonly marked = new WeakMap<Message, Verdict>();

  mark(m: Message, v: Verdict): void {
    this.marked.set(m, v);
  }

  /** Validate `resp`, the upstream's DO=1 CD=1 answer to (name, type). */
  async verdict(name: string, type: number, resp: Message): Promise<Verdict> {
    const judged = this.marked.get(resp);
    if (judged) return judged;
    const k = key(name, type);
    const memo = this.verdicts.get(resp);
    const now = this.nowSec();
    if (memo && memo.key === k && memo.expires > now) {
      this.metrics.cachedVerdicts++;
      return memo.v;
    }
    let v: Verdict;
    try {
      v = await this.check(name, type, resp);
    } catch (e) {
      if (!(e instanceof BogusError)) throw e;
      v = { state: "bogus", reason: e.reason, zone: e.zone, detail: e.detail };
    }
    this.metrics.count(v);
    this.verdicts.set(resp, { v, key: k, expires: now + Math.min(30, v.ttl ?? 30) });
    return v;
  }

  // ---- answers ------------------------------------------------------------------

  private async check(qname: string, qtype: number, resp: Message): Promise<Verdict> {
    const rc = rcodeOf(resp.flags);
    if (rc !== RCODE.NOERROR && rc !== RCODE.NXDOMAIN) {
      return { state: "indeterminate", detail: `upstream RCODE ${rc}` };
    }
    const ans = group(resp.answer);
    const auth = group(resp.authority);
    // RRSIGs are not signed themselves: nothing to validate, so never AD (RFC 4035 3.2.3).
    if (qtype === TYPE.RRSIG) return { state: "indeterminate", detail: "RRSIG query" };
    if (qtype === TYPE.ANY) {
      return await this.checkAny(normalName(qname), rc === RCODE.NXDOMAIN, ans, auth);
    }
    let cur = normalName(qname);
    let verdict: Verdict = { state: "secure" };
    const seen = new Set<string>();
    for (let hop = 0; hop <= MAX_CHAIN; hop++) {
      if (seen.has(cur)) throw new BogusError("bad_cname", cur, `CNAME loop at ${cur}`);
      seen.add(cur);
      const direct = ans.sets.get(key(cur, qtype));
      if (direct) {
        return worse(verdict, await this.checkRrset(direct, ans, auth));
      }
      // A DNAME above the name comes first: the CNAME next to it is synthesized from it.
      const dname = qtype === TYPE.DNAME ? undefined : this.findDname(cur, ans);
      const cname = dname || qtype === TYPE.CNAME ? undefined : ans.sets.get(key(cur, TYPE.CNAME));
      if (dname) {
        verdict = worse(verdict, await this.checkRrset(dname, ans, auth));
        if (verdict.state === "bogus") return verdict;
        const owner = splitLabels(dname[0].name), target = splitLabels(rdataName(dname[0].data));
        const labels = splitLabels(cur);
        const next = joinLabels([...labels.slice(0, labels.length - owner.length), ...target]);
        // RFC 6672 3.4: the CNAME synthesized from the DNAME (unsigned) must agree with it.
        const syn = ans.sets.get(key(cur, TYPE.CNAME));
        if (syn && normalName(rdataName(syn[0].data)) !== normalName(next)) {
          throw new BogusError("bad_cname", cur, `CNAME at ${cur} disagrees with its DNAME`);
        }
        cur = normalName(next);
        continue;
      }
      if (cname) {
        if (cname.length !== 1) throw new BogusError("bad_cname", cur, `several CNAMEs at ${cur}`);
        verdict = worse(verdict, await this.checkRrset(cname, ans, auth));
        if (verdict.state === "bogus") return verdict;
        cur = normalName(rdataName(cname[0].data));
        continue;
      }
      // The chain ends without the type: the answer must prove the negative.
      return worse(verdict, await this.checkDenial(cur, qtype, rc === RCODE.NXDOMAIN, auth));
    }
    throw new BogusError("bad_cname", cur, "CNAME chain too long");
  }

  /** ANY: every RRset at the name must hold up; no data at all is a plain NODATA/NXDOMAIN. */
  private async checkAny(
    qname: string,
    nx: boolean,
    ans: Sections,
    auth: Sections,
  ): Promise<Verdict> {
    let verdict: Verdict = { state: "secure" };
    let seen = 0;
    for (const [k, set] of ans.sets) {
      if (!k.startsWith(`${qname}/`)) continue;
      seen++;
      verdict = worse(verdict, await this.checkRrset(set, ans, auth));
      if (verdict.state === "bogus") return verdict;
    }
    return seen > 0 ? verdict : await this.checkDenial(qname, TYPE.ANY, nx, auth);
  }

  private findDname(name: string, ans: Sections): ResourceRecord[] | undefined {
    const ls = splitLabels(name);
    for (let i = 1; i < ls.length; i++) {
      const d = ans.sets.get(key(joinLabels(ls.slice(i)), TYPE.DNAME));
      if (d) return d;
    }
    return undefined;
  }

  /** One RRset of the answer: signed by a secure zone, or in an insecure one. */
  private async checkRrset(set: ResourceRecord[], ans: Sections, auth: Sections): Promise<Verdict> {
    const owner = set[0].name;
    const sigs = (ans.sigs.get(key(owner, set[0].type)) ?? []).filter((s) =>
      isAncestorOrSelf(s.signerName, owner)
    );
    // The deepest signer is the zone the data is from (the walk will confirm it).
    const signer =
      sigs.map((s) => normalName(s.signerName)).sort((a, b) =>
        splitLabels(b).length - splitLabels(a).length
      )[0];
    const zs = await this.zoneFor(owner, signer);
    if (zs.kind !== "secure") return this.stateVerdict(zs);
    if (sigs.length === 0) {
      throw new BogusError("rrsigs_missing", zs.zone, `no RRSIG over ${owner}/${set[0].type}`);
    }
    if (signer !== zs.zone) {
      throw new BogusError(
        "signature_invalid",
        zs.zone,
        `${owner} signed by ${signer}, not by its zone ${zs.zone}`,
      );
    }
    const r = await verifyRrset(set, sigs, zs.zone, zs.keys, this.nowSec(), this.skew);
    if (!r.ok) throw new BogusError(r.reason, zs.zone, `${owner}/${set[0].type}: ${r.reason}`);
    // RFC 4035 5.3.4: an expanded wildcard needs proof that the name itself is absent.
    if (r.sig.labels < labelCount(owner)) {
      const proof = await this.wildcardProof(owner, suffixName(owner, r.sig.labels), zs, auth);
      if (proof === "none") {
        throw new BogusError(
          "nsec_missing",
          zs.zone,
          `no proof for the wildcard answer at ${owner}`,
        );
      }
      if (proof === "opt_out") return { state: "insecure", reason: "opt_out", zone: zs.zone };
    }
    return { state: "secure", zone: zs.zone, ttl: r.ttl };
  }

  private stateVerdict(zs: ZoneState): Verdict {
    switch (zs.kind) {
      case "insecure":
        return { state: "insecure", reason: zs.reason, zone: zs.zone };
      case "indeterminate":
        return { state: "indeterminate", zone: zs.zone };
      case "bogus":
        throw new BogusError(zs.reason, zs.zone, zs.detail);
      default:
        return { state: "secure", zone: zs.zone };
    }
  }

  /** The verified NSEC and NSEC3 records of a section, signed by zone `zs`. */
  private async denialRecords(
    auth: Sections,
    zs: Extract<ZoneState, { kind: "secure" }>,
  ): Promise<{ nsec: NsecRecord[]; nsec3: Nsec3Record[]; ttl: number }> {
    const nsec: NsecRecord[] = [], nsec3: Nsec3Record[] = [];
    let ttl = Infinity;
    for (const [k, set] of auth.sets) {
      const t = set[0].type;
      if (t !== TYPE.NSEC && t !== TYPE.NSEC3) continue;
      if (!isAncestorOrSelf(zs.zone, set[0].name)) continue;
      const sigs = auth.sigs.get(k) ?? [];
      const r = await verifyRrset(set, sigs, zs.zone, zs.keys, this.nowSec(), this.skew);
      if (!r.ok) throw new BogusError(r.reason, zs.zone, `${set[0].name}/${t}: ${r.reason}`);
      ttl = Math.min(ttl, r.ttl);
      // RFC 4035 5.3.4: an NSEC made from a wildcard proves nothing about other names.
      if (r.sig.labels < labelCount(set[0].name)) continue;
      if (t === TYPE.NSEC) {
        const n = parseNsec(set[0].data);
        if (n) nsec.push({ owner: set[0].name, nsec: n });
      } else {
        const n = parseNsec3(set[0].data);
        // RFC 5155 8.1-8.2: unknown hash algorithms and flags are ignored.
        if (!n || n.hashAlgorithm !== 1 || (n.flags & 0xfe) !== 0) continue;
        const rec = nsec3Record(set[0].name, zs.zone, n);
        if (rec) nsec3.push(rec);
      }
    }
    // RFC 5155 8.2: one zone, one parameter set; records with other parameters are ignored.
    const p = nsec3[0]?.nsec3;
    const same = (r: Nsec3Record) =>
      r.nsec3.iterations === p!.iterations && sameBytes(r.nsec3.salt, p!.salt);
    return { nsec, nsec3: p ? nsec3.filter(same) : nsec3, ttl };
  }

  /** NSEC3 records of one parameter set, or an insecure verdict for RFC 9276 limits. */
  private nsec3Params(recs: readonly Nsec3Record[]): Hasher | "too_many_iterations" {
    const p = recs[0].nsec3;
    if (p.iterations > this.maxIter) return "too_many_iterations";
    return new Nsec3Hasher(p.salt, p.iterations);
  }

  private async wildcardProof(
    qname: string,
    ce: string,
    zs: Extract<ZoneState, { kind: "secure" }>,
    auth: Sections,
  ): Promise<Proof> {
    const { nsec, nsec3 } = await this.denialRecords(auth, zs);
    if (nsec.length) return nsecWildcardAnswer(nsec, qname, zs.zone);
    if (!nsec3.length) return "none";
    const h = this.nsec3Params(nsec3);
    if (h === "too_many_iterations") return "opt_out";
    return await new Nsec3Proof(nsec3, zs.zone, h).wildcardAnswer(qname, ce);
  }

  /** NXDOMAIN or NODATA for (name, type): proven by a secure zone, or an insecure zone. */
  private async checkDenial(
    name: string,
    qtype: number,
    nx: boolean,
    auth: Sections,
  ): Promise<Verdict> {
    // The signer of the SOA (or of the NSEC/NSEC3 records) is the zone that denies.
    let signer: string | undefined;
    for (const [k, sigs] of auth.sigs) {
      const t = Number(k.slice(k.lastIndexOf("/") + 1));
      if (t !== TYPE.SOA && t !== TYPE.NSEC && t !== TYPE.NSEC3) continue;
      const s = sigs.find((s) => isAncestorOrSelf(s.signerName, name));
      if (s && (!signer || t === TYPE.SOA)) signer = normalName(s.signerName);
    }
    const zs = await this.zoneFor(name, signer);
    if (zs.kind !== "secure") return this.stateVerdict(zs);
    if (!signer) {
      throw new BogusError("nsec_missing", zs.zone, `no signed denial for ${name}/${qtype}`);
    }
    if (signer !== zs.zone) {
      throw new BogusError(
        "signature_invalid",
        zs.zone,
        `denial signed by ${signer}, not by ${zs.zone}`,
      );
    }
    const { nsec, nsec3, ttl } = await this.denialRecords(auth, zs);
    let proof: Proof = "none";
    if (nsec.length) {
      proof = nx ? nsecNxdomain(nsec, name, zs.zone) : nsecNodata(nsec, name, qtype, zs.zone);
    } else if (nsec3.length) {
      const h = this.nsec3Params(nsec3);
      if (h === "too_many_iterations") {
        return { state: "insecure", reason: "nsec3_iterations", zone: zs.zone };
      }
      const p = new Nsec3Proof(nsec3, zs.zone, h);
      proof = nx ? await p.nxdomain(name) : await p.nodata(name, qtype);
    }
    if (proof === "none") {
      throw new BogusError(
        "nsec_missing",
        zs.zone,
        `no ${nx ? "NXDOMAIN" : "NODATA"} proof for ${name}/${qtype}`,
      );
    }
    if (proof === "opt_out") return { state: "insecure", reason: "opt_out", zone: zs.zone };
    return { state: "secure", zone: zs.zone, ttl };
  }

  // ---- chain of trust -----------------------------------------------------------

  /**
   * The zone `name` is in, as far as the chain of trust can tell: walk from the deepest
   * trust anchor down, one label at a time, asking for DS (RFC 4035 5.2). With a
   * `signer` hint the walk stops at the signer's zone.
   */
  async zoneFor(name: string, signer?: string): Promise<ZoneState> {
    const n = normalName(name);
    const anchor = this.anchors.filter((a) => isAncestorOrSelf(a.zone, n))
      .sort((a, b) => splitLabels(b.zone).length - splitLabels(a.zone).length)[0];
    if (!anchor) return { kind: "indeterminate", zone: n, expires: Infinity };
    const target = signer && isAncestorOrSelf(anchor.zone, signer) && isAncestorOrSelf(signer, n)
      ? signer
      : n;
    let cur = await this.cached(`anchor:${anchor.zone}`, () => this.anchorZone(anchor));
    if (cur.kind !== "secure") return cur as ZoneState;
    const tl = splitLabels(target);
    const start = splitLabels(anchor.zone).length;
    if (tl.length - start > MAX_LABELS_WALKED) {
      return this.bogus(cur.zone, "malformed", `name too deep: ${n}`);
    }
    for (let i = start + 1; i <= tl.length; i++) {
      const child = joinLabels(tl.slice(tl.length - i));
      const parent: Extract<ZoneState, { kind: "secure" }> = cur;
      const step = await this.cached(`ds:${child}`, () => this.dsStep(parent, child));
      if (step.kind === "not_cut") continue;
      if (step.kind === "nxdomain") break;
      if (step.kind !== "secure") return step;
      cur = step;
    }
    return cur;
  }

  private async cached<T extends Step>(k: string, make: () => Promise<T>): Promise<T> {
    const now = this.nowSec();
    const hit = this.steps.get(k);
    if (hit && hit.expires > now) {
      this.metrics.keyCacheHits++;
      return hit as T;
    }
    const pending = this.inflight.get(k);
    if (pending) return (await pending) as T;
    const p = make().catch((e) => {
      if (!(e instanceof BogusError)) throw e;
      return this.bogus(e.zone, e.reason, e.detail);
    }).finally(() => this.inflight.delete(k));
    this.inflight.set(k, p);
    const v = await p;
    if (this.steps.size >= this.maxEntries) this.evict(now);
    this.steps.set(k, v);
    return v as T;
  }

  private evict(now: number): void {
    for (const [k, v] of this.steps) if (v.expires <= now) this.steps.delete(k);
    while (this.steps.size >= this.maxEntries) this.steps.delete(this.steps.keys().next().value!);
  }

  /** Drop everything learned (keys, delegations, bogus zones): after a config reload. */
  flush(): void {
    this.steps.clear();
  }

  private bogus(zone: string, reason: BogusReason, detail: string): ZoneState {
    return { kind: "bogus", zone, reason, detail, expires: this.nowSec() + this.bogusTtl };
  }

  private async fetch(name: string, type: number): Promise<Message> {
    this.metrics.queries++;
    const m = await this.o.query(name, type);
    if (!m) throw new BogusError("fetch_failed", name, `no answer for ${name}/${type}`);
    const rc = rcodeOf(m.flags);
    if (rc !== RCODE.NOERROR && rc !== RCODE.NXDOMAIN) {
      throw new BogusError("fetch_failed", name, `RCODE ${rc} for ${name}/${type}`);
    }
    return m;
  }

  /** The DNSKEY RRset of `zone`, verified with a key that one of `ds` (or `anchorKeys`) vouches for. */
  private async keysFrom(
    zone: string,
    ds: readonly Ds[],
    anchorKeys: readonly Dnskey[],
    ttlCap: number,
    tp?: TrustPoint,
  ): Promise<ZoneState> {
    // RFC 4035 5.2 / RFC 6840 5.2: only DS with algorithms and digests we support count;
    // none left means the zone is insecure. RFC 4509 3: ignore SHA-1 when SHA-256 is there.
    let usable = ds.filter((d) => algorithmSupported(d.algorithm) && digestSupported(d.digestType));
    if (usable.some((d) => d.digestType !== 1)) usable = usable.filter((d) => d.digestType !== 1);
    const usableKeys = anchorKeys.filter((k) => algorithmSupported(k.algorithm));
    if (usable.length === 0 && usableKeys.length === 0) {
      const reason = ds.some((d) => algorithmSupported(d.algorithm))
        ? "unsupported_digest"
        : "unsupported_algorithm";
      return { kind: "insecure", zone, reason, expires: this.nowSec() + ttlCap };
    }
    const m = await this.fetch(zone, TYPE.DNSKEY);
    const sec = group(m.answer);
    const set = sec.sets.get(key(zone, TYPE.DNSKEY));
    if (!set) return this.bogus(zone, "dnskey_missing", `no DNSKEY RRset for ${zone}`);
    const keys = set.map((r) => parseDnskey(r.data)).filter((k): k is Dnskey => k !== null);
    // Keys the parent's DS (or the anchor) vouches for (RFC 4035 5.2).
    const vouched: Dnskey[] = [];
    for (const k of keys) {
      if ((k.flags & DNSKEY_ZONE) === 0 || k.protocol !== 3 || (k.flags & DNSKEY_REVOKE) !== 0) {
        continue;
      }
      if (usableKeys.some((a) => sameBytes(a.rdata, k.rdata))) {
        vouched.push(k);
        continue;
      }
      for (const d of usable) {
        if (d.keyTag !== tagOf(k) || d.algorithm !== k.algorithm) continue;
        const digest = await dsDigest(zone, k.rdata, d.digestType);
        if (digest && sameBytes(digest, d.digest)) {
          vouched.push(k);
          break;
        }
      }
    }
    if (vouched.length === 0) {
      return this.bogus(zone, "no_dnskey_for_ds", `no DNSKEY of ${zone} matches its DS`);
    }
    const sigs = sec.sigs.get(key(zone, TYPE.DNSKEY)) ?? [];
    const r = await verifyRrset(set, sigs, zone, vouched, this.nowSec(), this.skew);
    if (!r.ok) return this.bogus(zone, r.reason, `DNSKEY RRset of ${zone}: ${r.reason}`);
    if (tp) await this.track(tp, set, keys, vouched, sigs, r.sig.originalTtl);
    const zoneKeys = keys.filter((k) => (k.flags & DNSKEY_ZONE) !== 0 && k.protocol === 3);
    return {
      kind: "secure",
      zone,
      keys: zoneKeys,
      expires: this.nowSec() + Math.min(r.ttl, ttlCap),
    };
  }

  private anchorZone(a: TrustAnchor): Promise<ZoneState> {
    const tp = this.o.trustPoints?.find((t) => t.zone === a.zone);
    const tracked = tp?.trusted() ?? [];
    // RFC 5011: once the trust point holds trusted keys, they are the anchor.
    if (tracked.length > 0) return this.keysFrom(a.zone, [], tracked, 86400, tp);
    return this.keysFrom(a.zone, a.ds, a.keys, 86400, tp);
  }

  /** RFC 5011 4.1 on a trust point's freshly validated DNSKEY RRset. */
  private async track(
    tp: TrustPoint,
    set: ResourceRecord[],
    keys: readonly Dnskey[],
    vouched: readonly Dnskey[],
    sigs: readonly Rrsig[],
    originalTtl: number,
  ): Promise<void> {
    const revoked: Dnskey[] = [];
    for (const k of keys) {
      if ((k.flags & DNSKEY_REVOKE) === 0 || (k.flags & DNSKEY_ZONE) === 0) continue;
      // RFC 5011 2.1: a revocation counts only when the revoked key signed the RRset.
      const self = await verifyRrset(set, sigs, tp.zone, [k], this.nowSec(), this.skew, true);
      if (self.ok) revoked.push(k);
    }
    if (tp.observe(keys, vouched, revoked, originalTtl, this.nowSec())) {
      this.o.onTrustPointChange?.(tp);
    }
  }

  /** What the parent zone's answer to "DS child" says (RFC 4035 5.2, RFC 5155 8.6). */
  private async dsStep(
    parent: Extract<ZoneState, { kind: "secure" }>,
    child: string,
  ): Promise<Step> {
    const m = await this.fetch(child, TYPE.DS);
    const ans = group(m.answer);
    const set = ans.sets.get(key(child, TYPE.DS));
    const now = this.nowSec();
    if (set) {
      const sigs = ans.sigs.get(key(child, TYPE.DS)) ?? [];
      const r = await verifyRrset(set, sigs, parent.zone, parent.keys, now, this.skew);
      if (!r.ok) return this.bogus(child, r.reason, `DS of ${child}: ${r.reason}`);
      const ds = set.map((x) => parseDs(x.data)).filter((d): d is Ds => d !== null);
      return await this.keysFrom(child, ds, [], r.ttl);
    }
    // No DS: the parent must prove it (and say whether child is a delegation at all).
    const auth = group(m.authority);
    const { nsec, nsec3 } = await this.denialRecords(auth, parent);
    const soaTtl = m.authority.find((r) => r.type === TYPE.SOA)?.ttl ?? 300;
    const expires = now + Math.min(soaTtl, 3600);
    let what: string;
    if (nsec.length) {
      what = nsecDsAbsence(nsec, child, parent.zone);
    } else if (nsec3.length) {
      const h = this.nsec3Params(nsec3);
      if (h === "too_many_iterations") {
        return { kind: "insecure", zone: child, reason: "nsec3_iterations", expires };
      }
      what = await new Nsec3Proof(nsec3, parent.zone, h).dsAbsence(child);
    } else {
      // A CNAME here means no delegation; anything else unproven is bogus.
      if (ans.sets.get(key(child, TYPE.CNAME))) {
        return this.bogus(child, "nsec_missing", `no proof for the CNAME at ${child}`);
      }
      return this.bogus(
        child,
        "nsec_missing",
        `${parent.zone} does not prove that ${child} has no DS`,
      );
    }
    switch (what) {
      case "not_cut":
        return { kind: "not_cut", expires };
      case "nxdomain":
        return { kind: "nxdomain", expires };
      case "unsigned_cut":
        return { kind: "insecure", zone: child, reason: "unsigned_delegation", expires };
      case "opt_out":
        return { kind: "insecure", zone: child, reason: "opt_out", expires };
      default:
        return this.bogus(
          child,
          "nsec_missing",
          `${parent.zone} does not prove that ${child} has no DS`,
        );
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
