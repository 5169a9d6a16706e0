// RFC 5155 5: IH(salt, x, 0) = H(x | salt), IH(salt, x, k) = H(IH(salt, x, k-1) | salt),
// with x the owner name in canonical wire form; H is SHA-1 (hash algorithm 1).
import { canonicalWire } from "./names.ts";

export const NSEC3_SHA1 = 1;

export async function nsec3Hash(
  name: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const x = canonicalWire(name);
  const buf = new Uint8Array(Math.max(x.length, 20) + salt.length);
  buf.set(x, 0);
  buf.set(salt, x.length);
  let h = new Uint8Array(
    await crypto.subtle.digest("SHA-1", buf.subarray(0, x.length + salt.length)),
  );
  for (let i = 0; i < iterations; i++) {
    buf.set(h, 0);
    buf.set(salt, 20);
    h = new Uint8Array(await crypto.subtle.digest("SHA-1", buf.subarray(0, 20 + salt.length)));
  }
  return h;
}

const B32HEX = "0123456789abcdefghijklmnopqrstuv";

/** RFC 4648 7 base32hex, lower case, unpadded (RFC 5155 3.3). */
export function base32hex(b: Uint8Array): string {
  let out = "", bits = 0, acc = 0;
  for (const x of b) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 5) {
      out += B32HEX[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32HEX[(acc << (5 - bits)) & 31];
  return out;
}

/** Decode base32hex (case-insensitive, no padding); null when not valid. */
export function fromBase32hex(s: string): Uint8Array | null {
  const out: number[] = [];
  let bits = 0, acc = 0;
  for (const ch of s.toLowerCase()) {
    const v = B32HEX.indexOf(ch);
    if (v < 0) return null;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
      acc &= (1 << bits) - 1;
    }
  }
  return Uint8Array.from(out);
}
