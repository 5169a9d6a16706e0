// Denial-of-existence logic over (already verified) records: RFC 5155 Appendix B on the
// Appendix A zone, and NSEC cases of RFC 4035 3.1.3 / 5.4.
import assert from "node:assert/strict";
import {
  Nsec3Hasher,
  Nsec3Proof,
  type Nsec3Record,
  nsec3Record,
  nsecDsAbsence,
  nsecNodata,
  nsecNxdomain,
  type NsecRecord,
  nsecWildcardAnswer,
} from "../../src/dns/validator/denial.ts";
import { parseNsec, parseNsec3 } from "../../src/dns/validator/rdata.ts";
import { parseZone } from "../../src/dns/validator/zonefile.ts";
import { TYPE } from "../../src/dns/wire.ts";

// RFC 5155 Appendix A: the NSEC3 chain of zone "example" (all with the Opt-Out flag).
const APPENDIX_A = `
0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. 3600 IN NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG
2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. 3600 IN NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG
2vptu5timamqttgl4luu9kg21e0aor3s.example. 3600 IN NSEC3 1 1 12 aabbccdd 35mthgpgcu1qg68fab165klnsnk3dpvl MX RRSIG
35mthgpgcu1qg68fab165klnsnk3dpvl.example. 3600 IN NSEC3 1 1 12 aabbccdd b4um86eghhds6nea196smvmlo4ors995 NS DS RRSIG
b4um86eghhds6nea196smvmlo4ors995.example. 3600 IN NSEC3 1 1 12 aabbccdd gjeqe526plbf1g8mklp59enfd789njgi MX RRSIG
gjeqe526plbf1g8mklp59enfd789njgi.example. 3600 IN NSEC3 1 1 12 aabbccdd ji6neoaepv8b5o6k4ev33abha8ht9fgc HINFO A AAAA RRSIG
ji6neoaepv8b5o6k4ev33abha8ht9fgc.example. 3600 IN NSEC3 1 1 12 aabbccdd k8udemvp1j2f7eg6jebps17vp3n8i58h
k8udemvp1j2f7eg6jebps17vp3n8i58h.example. 3600 IN NSEC3 1 1 12 aabbccdd kohar7mbb8dc2ce8a9qvl8hon4k53uhi
kohar7mbb8dc2ce8a9qvl8hon4k53uhi.example. 3600 IN NSEC3 1 1 12 aabbccdd q04jkcevqvmu85r014c7dkba38o0ji5r A RRSIG
q04jkcevqvmu85r014c7dkba38o0ji5r.example. 3600 IN NSEC3 1 1 12 aabbccdd r53bq7cc2uvmubfu5ocmm6pers9tk9en A RRSIG
r53bq7cc2uvmubfu5ocmm6pers9tk9en.example. 3600 IN NSEC3 1 1 12 aabbccdd t644ebqk9bibcna874givr6joj62mlhv MX RRSIG
t644ebqk9bibcna874givr6joj62mlhv.example. 3600 IN NSEC3 1 1 12 aabbccdd 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom A HINFO AAAA RRSIG
`;

function chain(owners: string[] | null, optOut = true): Nsec3Record[] {
  return parseZone(APPENDIX_A)
    .filter((r) => !owners || owners.some((o) => r.name.startsWith(o)))
    .map((r) => {
      const d = r.data.slice();
      if (!optOut) d[1] = 0;
      return nsec3Record(r.name, "example.", parseNsec3(d)!)!;
    });
}
const hasher = new Nsec3Hasher(Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd), 12);
const proof = (recs: Nsec3Record[]) => new Nsec3Proof(recs, "example.", hasher);

Deno.test("RFC 5155 B.1: name error a.c.x.w.example with the records of the example response", async () => {
  // The response: 0p9m (covers next closer c.x.w), b4um (matches x.w), 35mt (covers *.x.w).
  const recs = chain(["0p9m", "b4um", "35mt"]);
  assert.equal(await proof(recs).nxdomain("a.c.x.w.example."), "opt_out");
  const strict = chain(["0p9m", "b4um", "35mt"], false);
  assert.equal(await proof(strict).nxdomain("a.c.x.w.example."), "proven");
  // Without the record covering the wildcard, or the closest encloser's: no proof.
  assert.equal(await proof(chain(["0p9m", "b4um"], false)).nxdomain("a.c.x.w.example."), "none");
  assert.equal(await proof(chain(["0p9m", "35mt"], false)).nxdomain("a.c.x.w.example."), "none");
  // An existing name is never proven absent.
  assert.equal(await proof(chain(null, false)).nxdomain("x.w.example."), "none");
});

Deno.test("RFC 5155 B.2 / B.2.1: NODATA (ns1.example MX) and the empty non-terminal y.w.example", async () => {
  assert.equal(await proof(chain(["2t7b"])).nodata("ns1.example.", TYPE.MX), "proven");
  assert.equal(await proof(chain(["2t7b"])).nodata("ns1.example.", TYPE.A), "none");
  assert.equal(await proof(chain(["ji6n"])).nodata("y.w.example.", TYPE.A), "proven");
});

Deno.test("RFC 5155 B.3 / 8.6: DS NODATA for c.example via Opt-Out -> insecure delegation", async () => {
  const recs = chain(["0p9m", "35mt"]);
  assert.equal(await proof(recs).nodata("c.example.", TYPE.DS), "opt_out");
  assert.equal(await proof(recs).dsAbsence("c.example."), "opt_out");
  assert.equal(await proof(chain(["0p9m", "35mt"], false)).nodata("c.example.", TYPE.DS), "none");
  // a.example is a signed delegation: its NSEC3 has DS, so no DS absence can be shown.
  assert.equal(await proof(chain(["35mt"])).dsAbsence("a.example."), "none");
});

Deno.test("RFC 5155 B.4 / 8.8: wildcard answer a.z.w.example: next closer z.w.example covered", async () => {
  assert.equal(
    await proof(chain(["q04j"])).wildcardAnswer("a.z.w.example.", "w.example."),
    "proven",
  );
  assert.equal(await proof(chain(["k8ud"])).wildcardAnswer("a.z.w.example.", "w.example."), "none");
});

Deno.test("RFC 5155 B.5 / 8.7: wildcard NODATA a.z.w.example AAAA", async () => {
  const recs = chain(["k8ud", "q04j", "r53b"]);
  assert.equal(await proof(recs).nodata("a.z.w.example.", TYPE.AAAA), "proven");
  assert.equal(await proof(recs).nodata("a.z.w.example.", TYPE.MX), "none");
});

// An NSEC chain for zone "example.": apex, a, b.c (so c is an empty non-terminal), d (NS),
// *.w (wildcard), z.
const NSEC_ZONE = parseZone(`
example. 1 IN NSEC a.example. SOA NS RRSIG NSEC DNSKEY
a.example. 1 IN NSEC b.c.example. A RRSIG NSEC
b.c.example. 1 IN NSEC d.example. A RRSIG NSEC
d.example. 1 IN NSEC *.w.example. NS RRSIG NSEC
*.w.example. 1 IN NSEC z.example. TXT RRSIG NSEC
z.example. 1 IN NSEC example. A RRSIG NSEC
`).map((r): NsecRecord => ({ owner: r.name, nsec: parseNsec(r.data)! }));
const pick = (...owners: string[]) => NSEC_ZONE.filter((r) => owners.includes(r.owner));

Deno.test("RFC 4035 5.4: NSEC NXDOMAIN needs the name and the wildcard covered", () => {
  assert.equal(nsecNxdomain(pick("a.example.", "example."), "aa.example.", "example."), "proven");
  assert.equal(nsecNxdomain(pick("a.example."), "aa.example.", "example."), "none");
  // The last NSEC wraps around to the apex.
  assert.equal(nsecNxdomain(pick("z.example.", "example."), "zz.example.", "example."), "proven");
  // c.example is an empty non-terminal: it exists.
  assert.equal(nsecNxdomain(NSEC_ZONE, "c.example.", "example."), "none");
  // x.w.example would match the wildcard *.w.example: no NXDOMAIN.
  assert.equal(nsecNxdomain(NSEC_ZONE, "x.w.example.", "example."), "none");
});

Deno.test("RFC 4035 3.1.3: NSEC NODATA, empty non-terminal and wildcard NODATA", () => {
  assert.equal(nsecNodata(pick("a.example."), "a.example.", TYPE.AAAA, "example."), "proven");
  assert.equal(nsecNodata(pick("a.example."), "a.example.", TYPE.A, "example."), "none");
  assert.equal(nsecNodata(pick("a.example."), "c.example.", TYPE.A, "example."), "proven");
  assert.equal(
    nsecNodata(pick("d.example.", "*.w.example."), "x.w.example.", TYPE.A, "example."),
    "proven",
  );
  assert.equal(
    nsecNodata(pick("d.example.", "*.w.example."), "x.w.example.", TYPE.TXT, "example."),
    "none",
  );
  // A delegation's NSEC (NS, no SOA) proves nothing about the child's data (RFC 6840 4.1).
  assert.equal(nsecNodata(pick("d.example."), "d.example.", TYPE.A, "example."), "none");
  // In canonical order *.w.example < x.w.example < z.example: the wildcard's NSEC covers it.
  assert.equal(nsecWildcardAnswer(pick("*.w.example."), "x.w.example.", "example."), "proven");
  assert.equal(nsecWildcardAnswer(pick("z.example."), "x.w.example.", "example."), "none");
});

Deno.test("RFC 4035 5.2: what a parent's NSEC says about a DS query", () => {
  assert.equal(nsecDsAbsence(NSEC_ZONE, "d.example.", "example."), "unsigned_cut");
  assert.equal(nsecDsAbsence(NSEC_ZONE, "a.example.", "example."), "not_cut");
  assert.equal(nsecDsAbsence(NSEC_ZONE, "c.example.", "example."), "not_cut");
  assert.equal(nsecDsAbsence(NSEC_ZONE, "aa.example.", "example."), "nxdomain");
  // The apex NSEC (SOA) is the child's side of a cut: it cannot deny the parent's DS.
  assert.equal(nsecDsAbsence(NSEC_ZONE, "example.", "example."), "none");
  assert.equal(nsecDsAbsence(pick("z.example."), "b.example.", "example."), "none");
});
