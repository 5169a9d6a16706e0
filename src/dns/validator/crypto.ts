// DNSSEC cryptography over WebCrypto: key tags (RFC 4034 Appendix B), DS digests
// (RFC 4034 5.1.4, RFC 4509, RFC 6605), RRSIG verification for the algorithms RFC 8624
// section 3.1 says a validator must or should support. WebCrypto has no Ed448 (and
// RFC 8624 forbids validating RSAMD5, DSA and GOST): such keys are "unsupported", which
// makes a zone insecure (RFC 4035 5.2), never bogus.
import { canonicalWire } from "./names.ts";
import type { Dnskey } from "./rdata.ts";

export const ALG = {
  RSASHA1: 5,
  RSASHA1_NSEC3: 7,
  RSASHA256: 8,
  RSASHA512: 10,
  ECDSAP256: 13,
  ECDSAP384: 14,
  ED25519: 15,
  ED448: 16,
} as const;

type KeySpec =
  | { kind: "rsa"; hash: "SHA-1" | "SHA-256" | "SHA-512" }
  | { kind: "ecdsa"; curve: "P-256" | "P-384"; hash: "SHA-256" | "SHA-384"; size: number }
  | { kind: "ed25519" };

const SPECS: ReadonlyMap<number, KeySpec> = new Map<number, KeySpec>([
  [ALG.RSASHA1, { kind: "rsa", hash: "SHA-1" }],
  [ALG.RSASHA1_NSEC3, { kind: "rsa", hash: "SHA-1" }],
  [ALG.RSASHA256, { kind: "rsa", hash: "SHA-256" }],
  [ALG.RSASHA512, { kind: "rsa", hash: "SHA-512" }],
  [ALG.ECDSAP256, { kind: "ecdsa", curve: "P-256", hash: "SHA-256", size: 32 }],
  [ALG.ECDSAP384, { kind: "ecdsa", curve: "P-384", hash: "SHA-384", size: 48 }],
  [ALG.ED25519, { kind: "ed25519" }],
]);

/** DS digest types: 1 SHA-1 (RFC 4034), 2 SHA-256 (RFC 4509), 4 SHA-384 (RFC 6605). */
const DIGESTS: ReadonlyMap<number, string> = new Map([[1, "SHA-1"], [2, "SHA-256"], [
  4,
  "SHA-384",
]]);

export const algorithmSupported = (alg: number): boolean => SPECS.has(alg);
export const digestSupported = (type: number): boolean => DIGESTS.has(type);

/** RFC 4034 Appendix B (algorithm 1 has its own rule: RFC 8624 forbids it anyway). */
export function keyTag(rdata: Uint8Array): number {
  if (rdata.length > 3 && rdata[3] === 1) {
    return rdata.length >= 4 ? (rdata[rdata.length - 3] << 8) | rdata[rdata.length - 2] : 0;
  }
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

/** RFC 4034 5.1.4: digest = hash(canonical owner name | DNSKEY RDATA); null if unsupported. */
export async function dsDigest(
  owner: string,
  rdata: Uint8Array,
  digestType: number,
): Promise<Uint8Array | null> {
  const hash = DIGESTS.get(digestType);
  if (!hash) return null;
  const o = canonicalWire(owner);
  const buf = new Uint8Array(o.length + rdata.length);
  buf.set(o, 0);
  buf.set(rdata, o.length);
  return new Uint8Array(await crypto.subtle.digest(hash, buf));
}

const b64url = (b: Uint8Array): string => {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** RFC 3110 2: exponent length (1 octet, or 0 then 2 octets), exponent, modulus. */
export function rsaKeyParts(pk: Uint8Array): { e: Uint8Array; n: Uint8Array } | null {
  if (pk.length < 3) return null;
  let off = 1, elen = pk[0];
  if (elen === 0) {
    elen = (pk[1] << 8) | pk[2];
    off = 3;
  }
  if (elen === 0 || off + elen >= pk.length) return null;
  return { e: pk.subarray(off, off + elen), n: pk.subarray(off + elen) };
}

interface Verifier {
  readonly key: CryptoKey;
  readonly params: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
}

async function importKey(alg: number, pk: Uint8Array): Promise<Verifier | null> {
  const spec = SPECS.get(alg);
  if (!spec) return null;
  try {
    if (spec.kind === "rsa") {
      const parts = rsaKeyParts(pk);
      if (!parts) return null;
      const jwk: JsonWebKey = {
        kty: "RSA",
        n: b64url(stripZeros(parts.n)),
        e: b64url(stripZeros(parts.e)),
        ext: true,
      };
      const params = { name: "RSASSA-PKCS1-v1_5", hash: spec.hash };
      const key = await crypto.subtle.importKey("jwk", jwk, params, false, ["verify"]);
      return { key, params: { name: "RSASSA-PKCS1-v1_5" } };
    }
    if (spec.kind === "ecdsa") {
      // RFC 6605 4: the public key is x | y; WebCrypto wants the uncompressed SEC1 point.
      if (pk.length !== spec.size * 2) return null;
      const raw = new Uint8Array(pk.length + 1);
      raw[0] = 4;
      raw.set(pk, 1);
      const key = await crypto.subtle.importKey(
        "raw",
        raw,
        { name: "ECDSA", namedCurve: spec.curve },
        false,
        ["verify"],
      );
      return { key, params: { name: "ECDSA", hash: spec.hash } as EcdsaParams };
    }
    if (pk.length !== 32) return null;
    const key = await crypto.subtle.importKey("raw", pk.slice(), { name: "Ed25519" }, false, [
      "verify",
    ]);
    return { key, params: { name: "Ed25519" } };
  } catch {
    return null; // a key WebCrypto refuses (bad point, odd modulus) verifies nothing
  }
}

/** Imported keys by DNSKEY RDATA: importing costs far more than verifying. */
const imported = new Map<string, Promise<Verifier | null>>();
const MAX_IMPORTED = 4096;

function rdataKey(d: Uint8Array): string {
  let s = "";
  for (let i = 0; i < d.length; i++) s += String.fromCharCode(d[i]);
  return s;
}

function verifierFor(key: Dnskey): Promise<Verifier | null> {
  const k = rdataKey(key.rdata);
  let v = imported.get(k);
  if (!v) {
    if (imported.size >= MAX_IMPORTED) imported.delete(imported.keys().next().value!);
    v = importKey(key.algorithm, key.publicKey);
    imported.set(k, v);
  }
  return v;
}

/**
 * Does `signature` over `data` verify with `key`? False for unsupported algorithms and
 * malformed keys or signatures (callers check algorithmSupported() first).
 */
export async function verifySignature(
  key: Dnskey,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const v = await verifierFor(key);
  if (!v) return false;
  const spec = SPECS.get(key.algorithm)!;
  if (spec.kind === "ecdsa" && signature.length !== spec.size * 2) return false;
  if (spec.kind === "ed25519" && signature.length !== 64) return false;
  try {
    return await crypto.subtle.verify(
      v.params,
      v.key,
      signature as BufferSource,
      data as BufferSource,
    );
  } catch {
    return false;
  }
}
