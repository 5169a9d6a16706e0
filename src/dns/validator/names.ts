// Domain names as DNSSEC sees them: label sequences compared in canonical order
// (RFC 4034 6.1), counted without the root and a leading wildcard (RFC 4034 3.1.3).
import { nameToWire, readName } from "../wire.ts";

/** Lower-case ASCII letters in place (RFC 4034 6.2: canonical names are lower case). */
export function lowerAscii(b: Uint8Array): Uint8Array {
  for (let i = 0; i < b.length; i++) if (b[i] >= 0x41 && b[i] <= 0x5a) b[i] |= 0x20;
  return b;
}

/** Canonical (lower-case, uncompressed) wire form of a presentation-form name. */
export const canonicalWire = (name: string): Uint8Array => lowerAscii(nameToWire(name));

/** One spelling per name: lower case, escapes as the codec prints them (A\065 -> a). */
export const normalName = (name: string): string => readName(canonicalWire(name), 0)[0];

/** The labels of a wire name, leftmost first, as subarrays (no root label). */
export function wireLabels(w: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; w[i] !== 0; i += w[i] + 1) out.push(w.subarray(i + 1, i + 1 + w[i]));
  return out;
}

/** Number of labels without the root (RFC 4034 3.1.3 also leaves out a leading "*"). */
export function labelCount(name: string, skipWildcard = true): number {
  const ls = wireLabels(nameToWire(name));
  if (skipWildcard && ls.length > 0 && ls[0].length === 1 && ls[0][0] === 0x2a) {
    return ls.length - 1;
  }
  return ls.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a[i], y = b[i];
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

/**
 * RFC 4034 6.1 canonical order: compare label by label from the rightmost, as lower-case
 * octet strings; a name sorts before the names below it. Negative, zero or positive.
 */
export function compareWireNames(a: Uint8Array, b: Uint8Array): number {
  const la = wireLabels(a), lb = wireLabels(b);
  let i = la.length - 1, j = lb.length - 1;
  for (; i >= 0 && j >= 0; i--, j--) {
    const c = compareBytes(la[i], lb[j]);
    if (c !== 0) return c;
  }
  return la.length - lb.length;
}

export const compareNames = (a: string, b: string): number =>
  compareWireNames(nameToWire(a), nameToWire(b));

/** The name made of the last `n` labels of `name` ("." for 0). */
export function suffixName(name: string, n: number): string {
  const ls = splitLabels(name);
  return ls.length <= n ? joinLabels(ls) : joinLabels(ls.slice(ls.length - n));
}

/** Presentation labels of a name (escapes kept), leftmost first; [] for the root. */
export function splitLabels(name: string): string[] {
  const n = normalName(name);
  if (n === ".") return [];
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < n.length; i++) {
    const c = n[i];
    if (c === "\\") {
      const d = n.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        cur += "\\" + d;
        i += 3;
      } else {
        cur += "\\" + n[i + 1];
        i++;
      }
    } else if (c === ".") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  return out;
}

export const joinLabels = (ls: readonly string[]): string =>
  ls.length === 0 ? "." : ls.join(".") + ".";

/** The parent of a name (the root is its own parent). */
export function parentName(name: string): string {
  const ls = splitLabels(name);
  return joinLabels(ls.slice(1));
}

/** The longest name that is an ancestor of (or equal to) both. */
export function commonAncestor(a: string, b: string): string {
  const la = splitLabels(a), lb = splitLabels(b);
  const out: string[] = [];
  for (let i = la.length - 1, j = lb.length - 1; i >= 0 && j >= 0; i--, j--) {
    if (la[i] !== lb[j]) break;
    out.unshift(la[i]);
  }
  return joinLabels(out);
}

/** Is `name` equal to or below `zone`? (label-wise, case-insensitive) */
export function isAncestorOrSelf(zone: string, name: string): boolean {
  const z = splitLabels(zone), n = splitLabels(name);
  if (z.length > n.length) return false;
  for (let i = 1; i <= z.length; i++) if (z[z.length - i] !== n[n.length - i]) return false;
  return true;
}
