// RFC 6791: source addresses for ICMP errors whose original source cannot be translated
// (typically an IPv6 router with a non-translatable address answering a traceroute).
//
// RFC 6791 section 5: "If a pool of public IPv4 addresses is configured on the
// translator, it is RECOMMENDED to randomly select the IPv4 source address from the
// pool. Random selection reduces the probability that two ICMP messages elicited by the
// same TRACEROUTE might specify the same source address and, therefore, erroneously
// present the appearance of a routing loop." By default we pick deterministically from a
// hash of the untranslatable source instead: the same router always shows the same
// address and different routers most likely different ones, so a traceroute is stable
// and shows no false loop either; `randomize` (Jool's randomize-rfc6791-addresses)
// gives the RFC's random choice. Without a configured pool the translator is
// expected to use its own address on that side (as Jool does with the node's own
// addresses), and to drop the error as untranslatable_src if it has none.
import { fmix32 as mix } from "./hash.ts";
import type { Prefix4, Prefix6 } from "./ip.ts";

const word = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** xorshift32 seeded from the system CSPRNG: cheap, no allocation per draw. */
class Xorshift32 {
  #s: number;
  constructor(seed?: number) {
    this.#s = (seed ?? crypto.getRandomValues(new Uint32Array(1))[0]) >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.#s = x >>> 0);
  }
}

export class Rfc6791Pool4 {
  readonly prefix: Prefix4;
  readonly randomize: boolean;
  readonly #first: number;
  readonly #count: number;
  readonly #rng: Xorshift32;

  /** `seed` fixes the random sequence (tests). */
  constructor(prefix: Prefix4, randomize = false, seed?: number) {
    this.prefix = prefix;
    this.randomize = randomize;
    // Skip the all-zeros and all-ones host addresses of subnets that have them.
    const size = 2 ** (32 - prefix.len);
    const edge = prefix.len <= 30 ? 1 : 0;
    this.#first = prefix.addr + edge;
    this.#count = size - 2 * edge;
    this.#rng = new Xorshift32(seed);
  }

  /** An IPv4 source for an ICMPv4 error whose IPv6 source is at b[srcOff..srcOff+16]. */
  pick(b: Uint8Array, srcOff: number): number {
    const h = this.randomize ? this.#rng.next() : mix(
      word(b, srcOff) ^ mix(
        word(b, srcOff + 4) ^
          mix(word(b, srcOff + 8) ^ mix(word(b, srcOff + 12))),
      ),
    );
    return (this.#first + (h % this.#count)) >>> 0;
  }
}

const hostMask = (len: number, j: number): number => {
  const bits = Math.max(0, Math.min(32, len - 32 * j)); // prefix bits in word j
  return bits === 32 ? 0 : (0xffffffff >>> bits) >>> 0;
};

export class Rfc6791Pool6 {
  readonly prefix: Prefix6;
  readonly randomize: boolean;
  readonly #p = new Uint32Array(4);
  readonly #h = new Uint32Array(4);
  readonly #rng: Xorshift32;

  constructor(prefix: Prefix6, randomize = false, seed?: number) {
    this.prefix = prefix;
    this.randomize = randomize;
    for (let j = 0; j < 4; j++) {
      this.#p[j] = word(prefix.addr, 4 * j);
      this.#h[j] = hostMask(prefix.len, j);
    }
    this.#rng = new Xorshift32(seed);
  }

  /**
   * Write an IPv6 source for an ICMPv6 error whose IPv4 source `v4src` has no IPv6
   * translation into out[off..off+16]. The host bits are never all zero (that is the
   * Subnet-Router anycast address, RFC 4291 2.6.1) unless the prefix is a /128.
   */
  pickInto(v4src: number, out: Uint8Array, off: number): void {
    let any = 0;
    for (let j = 0; j < 4; j++) {
      const r = this.randomize
        ? this.#rng.next()
        : mix((v4src ^ Math.imul(0x9e3779b9, j + 1)) >>> 0);
      const host = (r & this.#h[j]) >>> 0;
      any |= host;
      let w = (this.#p[j] | host) >>> 0;
      if (j === 3 && any === 0 && this.#h[3] !== 0) w = (w | 1) >>> 0;
      const o = off + 4 * j;
      out[o] = w >>> 24;
      out[o + 1] = (w >>> 16) & 255;
      out[o + 2] = (w >>> 8) & 255;
      out[o + 3] = w & 255;
    }
  }
}
