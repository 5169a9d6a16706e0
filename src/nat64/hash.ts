// Keyed 53-bit hashes for the table keys that do not fit a number exactly (IPv6 transport
// addresses, session 5-tuples). Murmur3's mixing steps, seeded with a per-instance secret:
// fast and allocation-free; the secret keeps remote parties from aiming at collisions
// (which would still be correct, only slower: the tables chain colliding entries).
import { fmix32 as fmix } from "../addr/hash.ts";

export function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export { fmix };

/** Two independent 32-bit hashes of six words folded into one safe integer (53 bits). */
export function hash6(
  s1: number,
  s2: number,
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  f: number,
): number {
  let h1 = s1, h2 = s2;
  h1 = mix(h1, a), h2 = mix(h2, a);
  h1 = mix(h1, b), h2 = mix(h2, b);
  h1 = mix(h1, c), h2 = mix(h2, c);
  h1 = mix(h1, d), h2 = mix(h2, d);
  h1 = mix(h1, e), h2 = mix(h2, e);
  h1 = mix(h1, f), h2 = mix(h2, f);
  return fmix(h1) * 0x200000 + (fmix(h2) & 0x1fffff);
}

/** 32 random bits from crypto (the secrets), or from `seed` for reproducible tests. */
export function secretWords(n: number, seed?: number): Uint32Array {
  const w = new Uint32Array(n);
  if (seed === undefined) crypto.getRandomValues(w);
  else for (let i = 0; i < n; i++) w[i] = fmix(mix(seed | 0, i + 1));
  return w;
}

/** A keyed 30-bit hash of six words: always a V8 small integer, so Map keys never box. */
export function hash30(
  s: number,
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  f: number,
): number {
  let h = mix(s, a);
  h = mix(h, b);
  h = mix(h, c);
  h = mix(h, d);
  h = mix(h, e);
  h = mix(h, f);
  return fmix(h) & 0x3fffffff;
}
