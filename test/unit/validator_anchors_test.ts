import assert from "node:assert/strict";
import {
  loadTrustAnchors,
  parseTrustAnchors,
  TrustAnchorError,
} from "../../src/dns/validator/anchors.ts";
import { keyTag } from "../../src/dns/validator/crypto.ts";

const ROOT_DS = `. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16`;

Deno.test("trust anchors: the IANA root DS records in /usr/share/dns/root.ds format", () => {
  const [a] = parseTrustAnchors(ROOT_DS);
  assert.equal(a.zone, ".");
  assert.deepEqual(a.ds.map((d) => [d.keyTag, d.algorithm, d.digestType]), [[20326, 8, 2], [
    38696,
    8,
    2,
  ]]);
});

Deno.test({
  name: "trust anchors: Debian's root.key (DNSKEY) gives keys with the root's key tags",
  ignore: (() => {
    try {
      Deno.statSync("/usr/share/dns/root.key");
      return false;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const [a] = await loadTrustAnchors("/usr/share/dns/root.key");
    assert.ok(a.keys.map((k) => keyTag(k.rdata)).includes(20326));
  },
});

Deno.test("trust anchors: Unbound auto-trust-anchor files (state in comments), revoked keys dropped", () => {
  const text = `; autotrust trust anchor file
;;id: . 1
;;last_queried: 1700000000 ;;Tue Nov 14 2023
example.	86400	IN	DNSKEY	257 3 13 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw== ;{id = 1 (ksk), size = 256b} ;;state=2 [  VALID  ] ;;count=0
example.	86400	IN	DNSKEY	385 3 13 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw== ;;state=4 [ REVOKED ]`;
  const [a] = parseTrustAnchors(text);
  assert.equal(a.zone, "example.");
  assert.equal(a.keys.length, 1);
  assert.equal(a.keys[0].flags, 257);
});

Deno.test("trust anchors: clear errors for bad and missing files", async () => {
  assert.throws(() => parseTrustAnchors("; nothing\n"), TrustAnchorError);
  assert.throws(() => parseTrustAnchors(". IN DS 1 8 2 XYZ", "f"), /f: bad hex/);
  await assert.rejects(loadTrustAnchors("/nonexistent/root.ds"), /cannot read trust anchors/);
});
