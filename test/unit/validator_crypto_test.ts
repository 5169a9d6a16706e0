import assert from "node:assert/strict";
import { canonicalRdata, signedData, signedOwner } from "../../src/dns/validator/canonical.ts";
import {
  algorithmSupported,
  digestSupported,
  dsDigest,
  keyTag,
} from "../../src/dns/validator/crypto.ts";
import { base32hex, fromBase32hex, nsec3Hash } from "../../src/dns/validator/nsec3hash.ts";
import { parseDnskey, parseDs, parseNsec3, parseRrsig } from "../../src/dns/validator/rdata.ts";
import { sigTimeState, verifyRrset } from "../../src/dns/validator/verify.ts";
import { parseZone } from "../../src/dns/validator/zonefile.ts";
import { canonicalName, nameToWire, type ResourceRecord, TYPE } from "../../src/dns/wire.ts";
import { haveLdns, signZone } from "../fixtures/dnssec/signer.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

// RFC 4034 5.4 (and RFC 4509 2.3 for the SHA-256 digest of the same key).
const DSKEY = parseZone(`dskey.example.com. 86400 IN DNSKEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz
  fwJr1AYtsmx3TGkJaNXVbfi/ 2pHm822aJ5iI9BMzNXxeYCmZ DRD99WYwYqUSdjMmmAphXdvx
  egXd/M5+X7OrzKBaMbCVdFLU Uh6DhweJBjEVv5f2wwjM9Xzc nOf+EPbtG9DMBmADjFDc2w/r
  ljwvFw== ) ;  key id = 60485
dskey.example.com. 86400 IN DS 60485 5 1 ( 2BB183AF5F22588179A53B0A 98631FAD1A292118 )`);

Deno.test("RFC 4034 5.4 / Appendix B: key tag of the example DNSKEY is 60485", () => {
  assert.equal(keyTag(DSKEY[0].data), 60485);
  assert.notEqual(keyTag(Uint8Array.of(...DSKEY[0].data.slice(0, -1), 0)), 60485);
});

Deno.test("RFC 4034 5.4 / RFC 4509 2.3: DS digests (SHA-1, SHA-256) of the example DNSKEY", async () => {
  const ds = parseDs(DSKEY[1].data)!;
  assert.equal(ds.keyTag, 60485);
  const d1 = await dsDigest("DSKEY.example.com.", DSKEY[0].data, 1);
  assert.equal(hex(d1!), hex(ds.digest));
  const d2 = await dsDigest("dskey.example.com.", DSKEY[0].data, 2);
  assert.equal(
    hex(d2!).toUpperCase(),
    "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A",
  );
  assert.equal((await dsDigest("dskey.example.com.", DSKEY[0].data, 4))!.length, 48);
  assert.equal(await dsDigest("dskey.example.com.", DSKEY[0].data, 3), null); // GOST
});

Deno.test("RFC 8624 3.1/3.3: validation support for algorithms 5 7 8 10 13 14 15, digests 1 2 4", () => {
  for (const a of [5, 7, 8, 10, 13, 14, 15]) assert.ok(algorithmSupported(a), `alg ${a}`);
  // RSAMD5, DSA, DSA-NSEC3, GOST: MUST NOT validate; Ed448: not in WebCrypto.
  for (const a of [1, 3, 6, 12, 16, 253]) assert.ok(!algorithmSupported(a), `alg ${a}`);
  for (const d of [1, 2, 4]) assert.ok(digestSupported(d));
  assert.ok(!digestSupported(3));
});

// RFC 5155 Appendix A: zone "example", salt aabbccdd, 12 iterations.
const RFC5155_HASHES: [string, string][] = [
  ["example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"],
  ["a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"],
  ["ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"],
  ["ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"],
  ["ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r"],
  ["w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h"],
  ["*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"],
  ["x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"],
  ["y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"],
  ["x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s"],
  ["xx.example.", "t644ebqk9bibcna874givr6joj62mlhv"],
];

Deno.test("RFC 5155 Appendix A: NSEC3 hashes of the example zone (SHA-1, 12 iterations)", async () => {
  const salt = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd);
  for (const [name, h] of RFC5155_HASHES) {
    assert.equal(base32hex(await nsec3Hash(name, salt, 12)), h, name);
    assert.equal(base32hex(await nsec3Hash(name.toUpperCase(), salt, 12)), h, "case");
    assert.equal(hex(fromBase32hex(h)!), hex(await nsec3Hash(name, salt, 12)));
  }
  assert.notEqual(base32hex(await nsec3Hash("example.", salt, 11)), RFC5155_HASHES[0][1]);
});

Deno.test("RFC 5155 3.2: NSEC3 RDATA of the Appendix A apex record", () => {
  const [r] = parseZone(
    "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. 3600 IN NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG",
  );
  const n = parseNsec3(r.data)!;
  assert.equal(n.flags, 1);
  assert.equal(n.iterations, 12);
  assert.equal(base32hex(n.nextHashed), "2t7b4g4vsa5smi47k61mv5bv1a22bojr");
  for (const t of [TYPE.MX, TYPE.DNSKEY, TYPE.NS, TYPE.SOA, 51, TYPE.RRSIG]) {
    assert.ok(n.types.has(t));
  }
  assert.ok(!n.types.has(TYPE.A) && !n.types.has(TYPE.DS));
});

Deno.test("RFC 4034 6.2: canonical RDATA lowers names in MX/RRSIG but not NSEC (RFC 6840 5.1)", () => {
  const [mx, nsec] = parseZone(`a.example. 1 IN MX 10 MAIL.Example.
a.example. 1 IN NSEC B.Example. A`);
  assert.deepEqual(canonicalRdata(TYPE.MX, mx.data).slice(2), nameToWire("mail.example."));
  assert.deepEqual(canonicalRdata(TYPE.NSEC, nsec.data), nsec.data);
  assert.deepEqual(signedOwner("a.b.Example.", 2), nameToWire("*.b.example."));
  assert.deepEqual(signedOwner("*.b.example.", 2), nameToWire("*.b.example."));
  assert.deepEqual(signedOwner("A.b.example.", 3), nameToWire("a.b.example."));
});

Deno.test("RFC 4034 3.1.5: signature validity window with serial arithmetic and clock skew", () => {
  const [r] = parseZone(
    "a. 1 IN RRSIG A 8 1 1 20300101000000 20200101000000 1 a. AAAA",
  );
  const sig = parseRrsig(r.data)!;
  const t2025 = Date.UTC(2025, 0, 1) / 1000;
  assert.equal(sigTimeState(sig, t2025, 0), "valid");
  assert.equal(sigTimeState(sig, Date.UTC(2019, 11, 31, 23, 0) / 1000, 0), "not_yet_valid");
  assert.equal(sigTimeState(sig, Date.UTC(2019, 11, 31, 23, 0) / 1000, 7200), "valid");
  assert.equal(sigTimeState(sig, Date.UTC(2030, 0, 1, 0, 30) / 1000, 0), "expired");
  assert.equal(sigTimeState(sig, Date.UTC(2030, 0, 1, 0, 30) / 1000, 3600), "valid");
});

function rrsets(records: ResourceRecord[]): Map<string, ResourceRecord[]> {
  const m = new Map<string, ResourceRecord[]>();
  for (const r of records) {
    if (r.type === TYPE.RRSIG) continue;
    const k = `${canonicalName(r.name)}/${r.type}`;
    m.set(k, [...(m.get(k) ?? []), r]);
  }
  return m;
}

const ALGS: [string, number, number?][] = [
  ["RSASHA1", 5, 1024],
  ["RSASHA1-NSEC3-SHA1", 7, 1024],
  ["RSASHA256", 8, 2048],
  ["RSASHA512", 10, 2048],
  ["ECDSAP256SHA256", 13],
  ["ECDSAP384SHA384", 14],
  ["ED25519", 15],
];

for (const [alg, num, bits] of ALGS) {
  Deno.test({
    name:
      `RFC 4035 5.3: every RRSIG ldns-signzone makes with algorithm ${num} verifies; altered data does not`,
    ignore: !haveLdns,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "xlat64-val-" });
      try {
        const z = await signZone(
          dir,
          "example.",
          `@ SOA ns.example. h.example. 1 2 3 4 5
@ NS ns.example.
ns A 192.0.2.53
www A 192.0.2.1
www A 192.0.2.2
WWW.Mixed TXT "x"
*.wild A 192.0.2.9
m MX 10 Mail.Example.`,
          { alg, bits, nsec3: num === 7 ? { iterations: 0, salt: "ab" } : undefined },
        );
        const keys = z.records.filter((r) => r.type === TYPE.DNSKEY).map((r) =>
          parseDnskey(r.data)!
        );
        assert.ok(keys.length >= 1 && keys.every((k) => k.algorithm === num));
        const sigs = z.records.filter((r) => r.type === TYPE.RRSIG);
        const sets = rrsets(z.records);
        const now = Date.now() / 1000;
        let checked = 0;
        for (const [k, set] of sets) {
          const mine = sigs.filter((s) =>
            `${canonicalName(s.name)}/${parseRrsig(s.data)!.typeCovered}` === k
          ).map((s) => parseRrsig(s.data)!);
          assert.ok(mine.length > 0, `no RRSIG for ${k}`);
          const ok = await verifyRrset(set, mine, "example.", keys, now, 0);
          assert.ok(ok.ok, `${alg}: ${k} ${ok.ok ? "" : ok.reason}`);
          checked++;
          // One flipped bit in the data, in the signature, or a wrong clock: no.
          const bad = set.map((r, i) =>
            i === 0 ? { ...r, data: r.data.map((b, j) => j === r.data.length - 1 ? b ^ 1 : b) } : r
          );
          if (set[0].type !== TYPE.NSEC && set[0].type !== TYPE.NSEC3) {
            assert.equal((await verifyRrset(bad, mine, "example.", keys, now, 0)).ok, false);
          }
          const flipped = mine.map((s) =>
            parseRrsig(Uint8Array.of(
              ...s.signedPart,
              ...s.signature.map((b, j) => j === 5 ? b ^ 0x40 : b),
            ))!
          );
          const r2 = await verifyRrset(set, flipped, "example.", keys, now, 0);
          assert.deepEqual(r2, { ok: false, reason: "signature_invalid" });
          const r3 = await verifyRrset(set, mine, "example.", keys, now + 30 * 86400, 0);
          assert.deepEqual(r3, { ok: false, reason: "signature_expired" });
        }
        assert.ok(checked >= 6);
        // The wildcard's RRSIG signs "*.wild.example." with Labels 2 (RFC 4034 3.1.3).
        const wsig = sigs.map((s) => parseRrsig(s.data)!).find((s, i) =>
          sigs[i].name === "*.wild.example." && s.typeCovered === TYPE.A
        )!;
        assert.equal(wsig.labels, 2);
        const expanded = sets.get("*.wild.example./1")!.map((r) => ({
          ...r,
          name: "x.y.wild.example.",
        }));
        assert.ok((await verifyRrset(expanded, [wsig], "example.", keys, now, 0)).ok);
        assert.ok(signedData(wsig, expanded).length > 0);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "RFC 8080 / RFC 8624: Ed448 (16) signatures are not verifiable here, never a success",
  ignore: !haveLdns,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xlat64-val-" });
    try {
      const z = await signZone(dir, "ed448.", "@ SOA ns. h. 1 2 3 4 5\n@ NS ns.\n", {
        alg: "ED448",
      });
      const keys = z.records.filter((r) => r.type === TYPE.DNSKEY).map((r) => parseDnskey(r.data)!);
      assert.equal(keys[0].algorithm, 16);
      const soa = z.records.filter((r) => r.type === TYPE.SOA);
      const sig = z.records.filter((r) => r.type === TYPE.RRSIG).map((r) => parseRrsig(r.data)!)
        .filter((s) => s.typeCovered === TYPE.SOA);
      const r = await verifyRrset(soa, sig, "ed448.", keys, Date.now() / 1000, 0);
      assert.equal(r.ok, false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
