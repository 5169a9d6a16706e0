// Canonical form and order of RRs (RFC 4034 6.2, 6.3) and the data an RRSIG signs
// (RFC 4034 3.1.8.1, RFC 4035 5.3.2 for wildcard owners).
import type { ResourceRecord } from "../wire.ts";
import { canonicalWire, lowerAscii, wireLabels } from "./names.ts";
import type { Rrsig } from "./rdata.ts";

/**
 * Where the names sit in the RDATA of the types RFC 4034 6.2 item 3 lists (NSEC taken
 * out by RFC 6840 5.1): [fixed octets before the first name, number of names].
 */
const NAME_SPOTS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [2, [0, 1]], // NS
  [3, [0, 1]], // MD
  [4, [0, 1]], // MF
  [5, [0, 1]], // CNAME
  [6, [0, 2]], // SOA
  [7, [0, 1]], // MB
  [8, [0, 1]], // MG
  [9, [0, 1]], // MR
  [12, [0, 1]], // PTR
  [14, [0, 2]], // MINFO
  [15, [2, 1]], // MX
  [17, [0, 2]], // RP
  [18, [2, 1]], // AFSDB
  [21, [2, 1]], // RT
  [24, [18, 1]], // SIG
  [26, [2, 2]], // PX
  [30, [0, 1]], // NXT
  [33, [6, 1]], // SRV
  [36, [2, 1]], // KX
  [39, [0, 1]], // DNAME
  [46, [18, 1]], // RRSIG
]);
const NAPTR = 35;

/** Lower-case the uncompressed name at `off` in place; offset after it, or -1. */
function lowerNameAt(b: Uint8Array, off: number): number {
  let pos = off;
  while (pos < b.length) {
    const l = b[pos];
    if (l === 0) return pos + 1;
    if (l > 63 || pos + 1 + l > b.length) return -1;
    lowerAscii(b.subarray(pos + 1, pos + 1 + l));
    pos += l + 1;
  }
  return -1;
}

/** RFC 4034 6.2 item 3: RDATA with its embedded names in lower case. */
export function canonicalRdata(type: number, data: Uint8Array): Uint8Array {
  let start: number, count: number;
  if (type === NAPTR) {
    // ORDER, PREFERENCE, then FLAGS, SERVICES, REGEXP character-strings, REPLACEMENT.
    let p = 4;
    for (let i = 0; i < 3 && p < data.length; i++) p += 1 + data[p];
    [start, count] = [p, 1];
  } else {
    const spot = NAME_SPOTS.get(type);
    if (!spot) return data;
    [start, count] = spot;
  }
  if (start >= data.length) return data;
  const out = data.slice();
  let pos = start;
  for (let i = 0; i < count && pos >= 0; i++) pos = lowerNameAt(out, pos);
  return out;
}

/** RFC 4034 6.3: octet-wise order of RDATA, a shorter prefix first. */
export function compareRdata(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The RDATA of an RRset in canonical form and order, duplicates removed (RFC 4034 6.3). */
export function canonicalRdataSet(rrs: readonly ResourceRecord[]): Uint8Array[] {
  const list = rrs.map((r) => canonicalRdata(r.type, r.data)).sort(compareRdata);
  return list.filter((d, i) => i === 0 || compareRdata(d, list[i - 1]) !== 0);
}

/**
 * The owner name as signed: lower case, and "*." plus the rightmost `labels` labels when
 * the RRSIG Labels field is smaller than the owner's label count (RFC 4035 5.3.2).
 */
export function signedOwner(owner: string, labels: number): Uint8Array {
  const w = canonicalWire(owner);
  const ls = wireLabels(w);
  const isWild = ls.length > 0 && ls[0].length === 1 && ls[0][0] === 0x2a;
  const count = isWild ? ls.length - 1 : ls.length;
  if (labels >= count) return w;
  let off = 0;
  for (let i = 0; i < ls.length - labels; i++) off += w[off] + 1;
  const out = new Uint8Array(2 + w.length - off);
  out[0] = 1;
  out[1] = 0x2a;
  out.set(w.subarray(off), 2);
  return out;
}

/**
 * RFC 4034 3.1.8.1: signature = sign(RRSIG_RDATA | RR(1) | RR(2)...), RRSIG_RDATA without
 * the signature and with the Signer's Name in canonical form, each RR in canonical form
 * with the Original TTL, in canonical order.
 */
export function signedData(sig: Rrsig, rrs: readonly ResourceRecord[]): Uint8Array {
  const owner = signedOwner(rrs[0].name, sig.labels);
  const rdatas = canonicalRdataSet(rrs);
  const signer = canonicalWire(sig.signerName);
  const head = 18; // the fixed fields before the Signer's Name (RFC 4034 3.1)
  let len = head + signer.length;
  for (const d of rdatas) len += owner.length + 10 + d.length;
  const out = new Uint8Array(len);
  out.set(sig.signedPart.subarray(0, head), 0);
  out.set(signer, head);
  let pos = head + signer.length;
  const dv = new DataView(out.buffer);
  const type = rrs[0].type, klass = rrs[0].class;
  for (const d of rdatas) {
    out.set(owner, pos);
    pos += owner.length;
    dv.setUint16(pos, type);
    dv.setUint16(pos + 2, klass);
    dv.setUint32(pos + 4, sig.originalTtl);
    dv.setUint16(pos + 8, d.length);
    out.set(d, pos + 10);
    pos += 10 + d.length;
  }
  return out;
}
