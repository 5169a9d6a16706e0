import assert from "node:assert/strict";
import fc from "fast-check";
import { AddressError, formatIPv6, mask4, prefix4, prefix6 } from "../../src/addr/ip.ts";
import { type EamEntry, EamTable } from "../../src/addr/eam.ts";

// Reference model over BigInt, bit for bit from RFC 7757 3.2: the IPv4 suffix follows
// the IPv6 prefix; remaining IPv6 bits are zero (4->6) or ignored (6->4).
const big6 = (a: Uint8Array) => a.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
const bytes6 = (v: bigint) => {
  const out = new Uint8Array(16);
  for (let i = 15; i >= 0; i--, v >>= 8n) out[i] = Number(v & 255n);
  return out;
};
const in4 = (e: EamEntry, v4: number) =>
  e.ipv4.len === 0 || (v4 >>> (32 - e.ipv4.len)) === (e.ipv4.addr >>> (32 - e.ipv4.len));
const in6 = (e: EamEntry, v6: bigint) =>
  (v6 >> BigInt(128 - e.ipv6.len)) === (big6(e.ipv6.addr) >> BigInt(128 - e.ipv6.len));
const ref4to6 = (e: EamEntry, v4: number): bigint => {
  const k = 32 - e.ipv4.len;
  const suffix = BigInt((v4 & ~mask4(e.ipv4.len)) >>> 0);
  return big6(e.ipv6.addr) | (suffix << BigInt(128 - e.ipv6.len - k));
};
const ref6to4 = (e: EamEntry, v6: bigint): number => {
  const k = 32 - e.ipv4.len;
  const suffix = Number((v6 >> BigInt(128 - e.ipv6.len - k)) & ((1n << BigInt(k)) - 1n));
  return (e.ipv4.addr | suffix) >>> 0;
};
const overlaps4 = (a: EamEntry, b: EamEntry) => in4(a, b.ipv4.addr) || in4(b, a.ipv4.addr);
const overlaps6 = (a: EamEntry, b: EamEntry) =>
  in6(a, big6(b.ipv6.addr)) || in6(b, big6(a.ipv6.addr));
const same4 = (a: EamEntry, b: EamEntry) =>
  a.ipv4.len === b.ipv4.len && a.ipv4.addr === b.ipv4.addr;
const same6 = (a: EamEntry, b: EamEntry) =>
  a.ipv6.len === b.ipv6.len && big6(a.ipv6.addr) === big6(b.ipv6.addr);

/** A valid entry: random lengths with 32 - len4 <= 128 - len6, host bits cleared. */
const entry: fc.Arbitrary<EamEntry> = fc.record({
  len4: fc.integer({ min: 0, max: 32 }),
  pick6: fc.nat(),
  a4: fc.integer({ min: 0, max: 0xffffffff }),
  a6: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  // Bias towards a few shared high bits so overlaps and near-misses happen.
  top: fc.constantFrom(0x20, 0x20, 0xfd),
}).map(({ len4, pick6, a4, a6, top }) => {
  const len6 = pick6 % (96 + len4 + 1);
  const v6 = big6(a6) & ~((1n << BigInt(128 - len6)) - 1n);
  const raw = bytes6(v6);
  if (len6 >= 8) raw[0] = top;
  return {
    ipv4: prefix4((a4 & mask4(len4)) >>> 0, len4),
    ipv6: prefix6(raw, len6),
  };
});

function disjoint(es: EamEntry[]): EamEntry[] {
  const kept: EamEntry[] = [];
  for (const e of es) if (!kept.some((k) => overlaps4(k, e) || overlaps6(k, e))) kept.push(e);
  return kept;
}

Deno.test("RFC 7757 3.2 round trip: v4 -> EAM -> v6 -> EAM -> v4 for random tables", () => {
  fc.assert(
    fc.property(
      fc.array(entry, { minLength: 1, maxLength: 30 }),
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        ),
        { minLength: 1, maxLength: 20 },
      ),
      (raw, probes) => {
        const es = disjoint(raw);
        const t = new EamTable(es, { rejectOverlap: true });
        const out = new Uint8Array(16);
        for (const [which, r, junk] of probes) {
          const e = es[which % es.length];
          const v4 = (e.ipv4.addr | (r & ~mask4(e.ipv4.len))) >>> 0;
          assert.ok(t.lookup4(v4, out, 0));
          assert.equal(formatIPv6(out), formatIPv6(bytes6(ref4to6(e, v4))));
          assert.equal(t.lookup6(out, 0), v4);
          // Bits after the IPv4 suffix are ignored on the way back.
          const extra = 128 - e.ipv6.len - (32 - e.ipv4.len);
          const noisy = big6(out) | (junk & ((1n << BigInt(extra)) - 1n));
          assert.equal(t.lookup6(bytes6(noisy), 0), v4);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("EAM longest-prefix match equals a linear reference scan (overlap allowed)", () => {
  fc.assert(
    fc.property(
      fc.array(entry, { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 30 }),
      fc.array(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), { maxLength: 30 }),
      (raw, v4s, v6s) => {
        const es: EamEntry[] = [];
        for (const e of raw) if (!es.some((k) => same4(k, e) || same6(k, e))) es.push(e);
        const t = new EamTable(es);
        const out = new Uint8Array(16);
        // Probe addresses near the entries as well as random ones.
        const probes4 = [...v4s, ...es.map((e, i) => (e.ipv4.addr | (v4s[i] ?? 0) & 0xff) >>> 0)];
        for (const v4 of probes4) {
          let best: EamEntry | undefined;
          for (const e of es) if (in4(e, v4) && (!best || e.ipv4.len > best.ipv4.len)) best = e;
          assert.equal(t.lookup4(v4, out, 0), best !== undefined);
          if (best) assert.equal(big6(out), ref4to6(best, v4));
        }
        const probes6 = [...v6s, ...es.map((e) => big6(e.ipv6.addr) | 1n)];
        for (const v6 of probes6) {
          let best: EamEntry | undefined;
          for (const e of es) if (in6(e, v6) && (!best || e.ipv6.len > best.ipv6.len)) best = e;
          assert.equal(t.lookup6(bytes6(v6), 0), best ? ref6to4(best, v6) : -1);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("EAM validation accepts exactly the tables the rules allow", () => {
  const anyEntry = fc.record({
    len4: fc.integer({ min: 0, max: 32 }),
    len6: fc.integer({ min: 0, max: 128 }),
    a4: fc.integer({ min: 0, max: 0xffffffff }),
    a6: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  }).map(({ len4, len6, a4, a6 }) => ({
    ipv4: prefix4((a4 & mask4(len4)) >>> 0, len4),
    ipv6: prefix6(bytes6(big6(a6) & ~((1n << BigInt(128 - len6)) - 1n)), len6),
  }));
  fc.assert(
    fc.property(
      fc.array(fc.oneof(entry, anyEntry), { maxLength: 8 }),
      fc.boolean(),
      (es, allow) => {
        const suffixOk = es.every((e) => 32 - e.ipv4.len <= 128 - e.ipv6.len);
        let pairsOk = true;
        for (let i = 0; i < es.length; i++) {
          for (let j = 0; j < i; j++) {
            const a = es[i], b = es[j];
            if (same4(a, b) || same6(a, b)) pairsOk = false;
            if (!allow && (overlaps4(a, b) || overlaps6(a, b))) pairsOk = false;
          }
        }
        let ok = true;
        try {
          new EamTable(es, { rejectOverlap: !allow });
        } catch (err) {
          assert.ok(err instanceof AddressError);
          assert.match(err.message, /^EAM #\d+ \(/);
          ok = false;
        }
        assert.equal(ok, suffixOk && pairsOk);
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("EAM lookups on random bytes never throw and stay in range", () => {
  fc.assert(
    fc.property(
      fc.array(entry, { minLength: 0, maxLength: 20 }),
      fc.uint8Array({ minLength: 16, maxLength: 64 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (raw, bytes, v4) => {
        const t = new EamTable(disjoint(raw));
        const off = bytes.length - 16;
        const r = t.lookup6(bytes, off);
        assert.ok(r === -1 || (Number.isInteger(r) && r >= 0 && r <= 0xffffffff));
        const out = new Uint8Array(16);
        t.lookup4(v4, out, 0);
      },
    ),
  );
});
