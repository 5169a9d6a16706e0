// Authenticated denial of existence over records whose signatures were already checked:
// NSEC (RFC 4035 5.4, RFC 4035 3.1.3) and NSEC3 (RFC 5155 8), including wildcard
// answers (RFC 4035 5.3.4, RFC 5155 8.8) and Opt-Out (RFC 5155 6, 8.6).
import { TYPE } from "../wire.ts";
import {
  commonAncestor,
  compareNames,
  isAncestorOrSelf,
  joinLabels,
  normalName,
  splitLabels,
} from "./names.ts";
import { fromBase32hex, nsec3Hash } from "./nsec3hash.ts";
import { type Nsec, type Nsec3, NSEC3_OPT_OUT } from "./rdata.ts";

export interface NsecRecord {
  readonly owner: string;
  readonly nsec: Nsec;
}

export interface Nsec3Record {
  readonly owner: string;
  /** The hash in the owner's first label, decoded. */
  readonly hash: Uint8Array;
  readonly nsec3: Nsec3;
}

/** What a denial proves: "proven", "opt_out" (insecure per RFC 5155 8.6/9.2), or "none". */
export type Proof = "proven" | "opt_out" | "none";

// ---- NSEC -------------------------------------------------------------------------

/** RFC 4034 4.1.1: owner < name < next; the last NSEC of a zone wraps to the apex. */
export function nsecCovers(r: NsecRecord, name: string, zone: string): boolean {
  const afterOwner = compareNames(r.owner, name) < 0;
  const cmpNext = compareNames(name, r.nsec.next);
  if (compareNames(r.owner, r.nsec.next) >= 0) {
    return afterOwner && isAncestorOrSelf(zone, name); // the wrap-around NSEC
  }
  return afterOwner && cmpNext < 0;
}

const same = (a: string, b: string) => compareNames(a, b) === 0;

/** The closest encloser a covering NSEC implies (RFC 4035 5.4 / RFC 5155 1.3 terms). */
function nsecClosestEncloser(r: NsecRecord, qname: string): string {
  const a = commonAncestor(r.owner, qname), b = commonAncestor(r.nsec.next, qname);
  return splitLabels(a).length >= splitLabels(b).length ? a : b;
}

const wildcardAt = (ce: string) => joinLabels(["*", ...splitLabels(ce)]);

/** NODATA at an NSEC that matches: neither the type nor a CNAME (RFC 4035 5.4). */
function nsecNoType(n: Nsec, qtype: number): boolean {
  if (n.types.has(qtype) || n.types.has(TYPE.CNAME)) return false;
  // A delegation's NSEC (NS, no SOA) is from the parent: it says nothing about the child's
  // data except the DS (RFC 6840 4.1 "referrals").
  if (qtype !== TYPE.DS && n.types.has(TYPE.NS) && !n.types.has(TYPE.SOA)) return false;
  // The DS of a zone is in its parent: the child's apex NSEC proves nothing about it.
  return !(qtype === TYPE.DS && n.types.has(TYPE.SOA));
}

export function nsecNxdomain(recs: readonly NsecRecord[], qname: string, zone: string): Proof {
  const cover = recs.find((r) => nsecCovers(r, qname, zone));
  if (!cover) return "none";
  // An NSEC whose next name is below qname says qname is an empty non-terminal: it exists.
  if (isAncestorOrSelf(qname, cover.nsec.next) && !same(qname, cover.nsec.next)) return "none";
  const ce = nsecClosestEncloser(cover, qname);
  const wc = wildcardAt(ce);
  if (recs.some((r) => same(r.owner, wc))) return "none"; // the wildcard exists
  return recs.some((r) => nsecCovers(r, wc, zone)) ? "proven" : "none";
}

export function nsecNodata(
  recs: readonly NsecRecord[],
  qname: string,
  qtype: number,
  zone: string,
): Proof {
  const match = recs.find((r) => same(r.owner, qname));
  if (match) return nsecNoType(match.nsec, qtype) ? "proven" : "none";
  const cover = recs.find((r) => nsecCovers(r, qname, zone));
  if (!cover) return "none";
  // RFC 4035 3.1.3.2: qname is an empty non-terminal (the next name is below it).
  if (isAncestorOrSelf(qname, cover.nsec.next) && !same(qname, cover.nsec.next)) {
    return "proven";
  }
  // RFC 4035 3.1.3.4: wildcard NODATA: qname covered, *.ce matched without the type.
  const wc = wildcardAt(nsecClosestEncloser(cover, qname));
  const wm = recs.find((r) => same(r.owner, wc));
  return wm && nsecNoType(wm.nsec, qtype) ? "proven" : "none";
}

/** RFC 4035 5.3.4: a wildcard answer needs proof that qname itself does not exist. */
export function nsecWildcardAnswer(
  recs: readonly NsecRecord[],
  qname: string,
  zone: string,
): Proof {
  return recs.some((r) => nsecCovers(r, qname, zone) && !same(r.owner, qname)) ? "proven" : "none";
}

// ---- NSEC3 ------------------------------------------------------------------------

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** An NSEC3 record from its owner name ("<base32hex hash>.<zone>"), or null. */
export function nsec3Record(owner: string, zone: string, n: Nsec3): Nsec3Record | null {
  const ls = splitLabels(owner);
  if (ls.length < 1 || normalName(joinLabels(ls.slice(1))) !== normalName(zone)) return null;
  const hash = fromBase32hex(ls[0]);
  if (!hash || hash.length !== n.nextHashed.length) return null;
  return { owner, hash, nsec3: n };
}

function n3Covers(r: Nsec3Record, h: Uint8Array): boolean {
  const a = cmpBytes(r.hash, h), b = cmpBytes(h, r.nsec3.nextHashed);
  if (cmpBytes(r.hash, r.nsec3.nextHashed) >= 0) return a < 0 || b < 0; // last in the chain
  return a < 0 && b < 0;
}

/** Hashes already computed, across responses (zones keep their NSEC3 parameters). */
const HASHES = new Map<string, Promise<Uint8Array>>();
const MAX_HASHES = 20000;

/** Hashes of names under the parameters of the NSEC3 records in a response. */
export class Nsec3Hasher {
  private readonly params: string;
  constructor(readonly salt: Uint8Array, readonly iterations: number) {
    this.params = `${iterations}/${salt.join(",")}/`;
  }
  hash(name: string): Promise<Uint8Array> {
    const n = normalName(name);
    const k = this.params + n;
    let h = HASHES.get(k);
    if (!h) {
      if (HASHES.size >= MAX_HASHES) HASHES.delete(HASHES.keys().next().value!);
      h = nsec3Hash(n, this.salt, this.iterations);
      HASHES.set(k, h);
    }
    return h;
  }
}

export class Nsec3Proof {
  constructor(
    private readonly recs: readonly Nsec3Record[],
    private readonly zone: string,
    private readonly hasher: Nsec3Hasher,
  ) {}

  private async match(name: string): Promise<Nsec3Record | undefined> {
    const h = await this.hasher.hash(name);
    return this.recs.find((r) => cmpBytes(r.hash, h) === 0);
  }
  private async cover(name: string): Promise<Nsec3Record | undefined> {
    const h = await this.hasher.hash(name);
    return this.recs.find((r) => n3Covers(r, h));
  }

  /**
   * RFC 5155 8.3: the closest provable encloser of qname and the NSEC3 covering the next
   * closer name; null without such a proof.
   */
  async closestEncloser(
    qname: string,
  ): Promise<{ ce: string; nc: string; ncCover: Nsec3Record } | null> {
    const q = splitLabels(qname), z = splitLabels(this.zone).length;
    for (let n = q.length - 1; n >= z; n--) {
      const ce = joinLabels(q.slice(q.length - n));
      const m = await this.match(ce);
      if (!m) continue;
      // A delegation point's NSEC3 (NS without SOA) or a DNAME cannot enclose anything.
      const t = m.nsec3.types;
      if ((t.has(TYPE.NS) && !t.has(TYPE.SOA)) || t.has(TYPE.DNAME)) return null;
      const nc = joinLabels(q.slice(q.length - n - 1));
      const ncCover = await this.cover(nc);
      return ncCover ? { ce, nc, ncCover } : null;
    }
    return null;
  }

  /** RFC 5155 8.4: closest encloser, next closer covered, wildcard at ce covered. */
  async nxdomain(qname: string): Promise<Proof> {
    const p = await this.closestEncloser(qname);
    if (!p) return "none";
    if (!(await this.cover(wildcardAt(p.ce)))) return "none";
    return (p.ncCover.nsec3.flags & NSEC3_OPT_OUT) !== 0 ? "opt_out" : "proven";
  }

  /** RFC 5155 8.5-8.7: NODATA, DS NODATA with Opt-Out, wildcard NODATA. */
  async nodata(qname: string, qtype: number): Promise<Proof> {
    const m = await this.match(qname);
    if (m) {
      const t = m.nsec3.types;
      if (t.has(qtype) || t.has(TYPE.CNAME)) return "none";
      if (qtype !== TYPE.DS && t.has(TYPE.NS) && !t.has(TYPE.SOA)) return "none";
      return "proven";
    }
    const p = await this.closestEncloser(qname);
    if (!p) return "none";
    if (qtype === TYPE.DS && (p.ncCover.nsec3.flags & NSEC3_OPT_OUT) !== 0) return "opt_out";
    const wm = await this.match(wildcardAt(p.ce));
    if (wm && !wm.nsec3.types.has(qtype) && !wm.nsec3.types.has(TYPE.CNAME)) return "proven";
    return "none";
  }

  /** RFC 5155 8.8: a wildcard answer with closest encloser `ce`: next closer covered. */
  async wildcardAnswer(qname: string, ce: string): Promise<Proof> {
    const q = splitLabels(qname), n = splitLabels(ce).length;
    if (q.length <= n) return "none";
    const nc = joinLabels(q.slice(q.length - n - 1));
    return (await this.cover(nc)) ? "proven" : "none";
  }

  /** For the chain of trust: what a DS query's negative answer says about `name`. */
  async dsAbsence(
    name: string,
  ): Promise<"not_cut" | "unsigned_cut" | "opt_out" | "nxdomain" | "none"> {
    const m = await this.match(name);
    if (m) {
      const t = m.nsec3.types;
      // A DS bit, or the child's apex record answering for the parent: no proof.
      if (t.has(TYPE.DS) || t.has(TYPE.SOA)) return "none";
      return t.has(TYPE.NS) ? "unsigned_cut" : "not_cut";
    }
    const p = await this.closestEncloser(name);
    if (!p) return "none";
    if ((p.ncCover.nsec3.flags & NSEC3_OPT_OUT) !== 0) return "opt_out";
    return "nxdomain";
  }
}

/** For the chain of trust: what a DS query's negative NSEC answer says about `name`. */
export function nsecDsAbsence(
  recs: readonly NsecRecord[],
  name: string,
  zone: string,
): "not_cut" | "unsigned_cut" | "nxdomain" | "none" {
  const match = recs.find((r) => same(r.owner, name));
  if (match) {
    const t = match.nsec.types;
    if (t.has(TYPE.DS) || t.has(TYPE.SOA)) return "none";
    return t.has(TYPE.NS) ? "unsigned_cut" : "not_cut";
  }
  const cover = recs.find((r) => nsecCovers(r, name, zone));
  if (!cover) return "none";
  if (isAncestorOrSelf(name, cover.nsec.next) && !same(name, cover.nsec.next)) return "not_cut";
  return "nxdomain";
}
