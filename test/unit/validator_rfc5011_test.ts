// RFC 5011 trust anchor tracking: the state machine on its own, then with real keys from
// ldns (a standby KSK that becomes trusted after the add hold-down, a revoked KSK).
import assert from "node:assert/strict";
import { parseTrustAnchors } from "../../src/dns/validator/anchors.ts";
import { type Dnskey, parseDnskey } from "../../src/dns/validator/rdata.ts";
import { HOLD_DOWN, TrustPoint } from "../../src/dns/validator/rfc5011.ts";
import { Validator } from "../../src/dns/validator/validator.ts";
import { parseZone } from "../../src/dns/validator/zonefile.ts";
import { FLAG, type Message, TYPE } from "../../src/dns/wire.ts";
import { haveLdns } from "../fixtures/dnssec/signer.ts";

const key = (flags: number, fill: number): Dnskey =>
  parseDnskey(Uint8Array.of(flags >> 8, flags & 255, 3, 13, ...new Array(64).fill(fill)))!;
const revokedOf = (k: Dnskey): Dnskey =>
  parseDnskey(Uint8Array.of(k.rdata[0], k.rdata[1] | 0x80, ...k.rdata.slice(2)))!;
const states = (tp: TrustPoint) => tp.keys.map((k) => `${k.key.publicKey[0]}:${k.state}`);
const DAY = 86400;

Deno.test("RFC 5011 4.1: a new SEP key waits out the 30-day add hold-down before it is trusted", () => {
  const a = key(257, 1), b = key(257, 2), zsk = key(256, 3);
  const tp = TrustPoint.fromAnchor({ zone: ".", ds: [], keys: [a] }, 0);
  assert.ok(tp.observe([a, b, zsk], [a], [], 3600, 10));
  assert.deepEqual(states(tp), ["1:valid", "2:addpend"]); // ZSKs are not tracked
  assert.deepEqual(tp.trusted(), [a]);
  assert.equal(tp.observe([a, b], [a], [], 3600, 10 + HOLD_DOWN - 1), false);
  assert.deepEqual(tp.trusted(), [a]);
  assert.ok(tp.observe([a, b], [a], [], 3600, 10 + HOLD_DOWN));
  assert.deepEqual(states(tp), ["1:valid", "2:valid"]);
});

Deno.test("RFC 5011 2.4.1: the add hold-down is the longer of 30 days and the Original TTL", () => {
  const a = key(257, 1), b = key(257, 2);
  const tp = TrustPoint.fromAnchor({ zone: ".", ds: [], keys: [a] }, 0);
  tp.observe([a, b], [a], [], 40 * DAY, 0);
  tp.observe([a, b], [a], [], 40 * DAY, 35 * DAY);
  assert.deepEqual(states(tp), ["1:valid", "2:addpend"]);
  tp.observe([a, b], [a], [], 40 * DAY, 40 * DAY);
  assert.deepEqual(states(tp), ["1:valid", "2:valid"]);
});

Deno.test("RFC 5011 4.1: AddPend -> Start when the key goes away; Valid <-> Missing stays trusted", () => {
  const a = key(257, 1), b = key(257, 2);
  const tp = TrustPoint.fromAnchor({ zone: ".", ds: [], keys: [a] }, 0);
  tp.observe([a, b], [a], [], 3600, 0);
  tp.observe([a], [a], [], 3600, DAY);
  assert.deepEqual(states(tp), ["1:valid"]);
  const c = key(257, 4);
  const tp2 = TrustPoint.fromAnchor({ zone: ".", ds: [], keys: [a, c] }, 0);
  tp2.observe([a], [a], [], 3600, DAY);
  assert.deepEqual(states(tp2), ["1:valid", "4:missing"]);
  assert.equal(tp2.trusted().length, 2);
  tp2.observe([a, c], [a], [], 3600, 2 * DAY);
  assert.deepEqual(states(tp2), ["1:valid", "4:valid"]);
});

Deno.test("RFC 5011 2.1 / 4.1: a self-signed revocation ends trust; the key is forgotten 30 days on", () => {
  const a = key(257, 1), b = key(257, 2);
  const tp = TrustPoint.fromAnchor({ zone: ".", ds: [], keys: [a, b] }, 0);
  const ra = revokedOf(a);
  assert.ok(tp.observe([ra, b], [b], [ra], 3600, DAY));
  assert.deepEqual(states(tp), ["1:revoked", "2:valid"]);
  assert.deepEqual(tp.trusted(), [b]);
  // A revoked-looking key whose self-signature did not verify changes nothing.
  const tp2 = TrustPoint.fromAnchor({ zone: ".", ds: [], keys: [a, b] }, 0);
  tp2.observe([ra, b], [b], [], 3600, DAY);
  assert.deepEqual(states(tp2), ["1:missing", "2:valid"]);
  tp.observe([ra, b], [b], [ra], 3600, DAY + HOLD_DOWN);
  assert.deepEqual(states(tp), ["2:valid"]);
});

Deno.test("RFC 5011 state file: round trip, and plain anchor readers trust exactly the trusted keys", () => {
  const a = key(257, 1), b = key(257, 2), c = key(257, 5);
  const tp = TrustPoint.fromAnchor({ zone: ".", ds: [], keys: [a, c] }, 0);
  tp.observe([a, b, revokedOf(c)], [a], [revokedOf(c)], 3600, 100);
  const text = tp.serialize();
  const [back] = TrustPoint.parse(text, 999);
  assert.deepEqual(states(back), states(tp));
  assert.deepEqual(back.keys.map((k) => k.since), tp.keys.map((k) => k.since));
  assert.equal(back.keys[1].holdUntil, tp.keys[1].holdUntil);
  const [plain] = parseTrustAnchors(text);
  assert.deepEqual(plain.keys.map((k) => k.publicKey[0]), [1]);
});

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const o = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!o.success) throw new Error(`${cmd}: ${new TextDecoder().decode(o.stderr)}`);
  return new TextDecoder().decode(o.stdout);
}

Deno.test({
  name:
    "RFC 5011 with the validator: standby KSK trusted after the hold-down, then a revoked KSK dropped",
  ignore: !haveLdns,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xlat64-val-" });
    try {
      const t0 = Math.floor(Date.now() / 1000);
      const k1 = (await run("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", "."], dir)).trim();
      const k2 = (await run("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", "."], dir)).trim();
      await Deno.writeTextFile(
        `${dir}/root.zone`,
        ". 3600 IN SOA a. b. 1 2 3 4 5\n. 3600 IN NS a.\n",
      );
      const sign = async () => {
        await run("ldns-signzone", [
          "-i",
          String(t0 - 3600),
          "-e",
          String(t0 + 90 * DAY),
          "-o",
          ".",
          "-f",
          `${dir}/root.signed`,
          `${dir}/root.zone`,
          k1,
          k2,
        ], dir);
        const rrs = parseZone(await Deno.readTextFile(`${dir}/root.signed`));
        const dnskey = rrs.filter((r) =>
          r.type === TYPE.DNSKEY || (r.type === TYPE.RRSIG && r.data[1] === TYPE.DNSKEY)
        );
        return {
          id: 0,
          flags: FLAG.QR,
          question: [],
          answer: dnskey,
          authority: [],
          additional: [],
        };
      };
      let answer: Message = await sign();
      const ds = await run("ldns-key2ds", ["-n", "-2", `${k1}.key`], dir);
      const anchors = parseTrustAnchors(ds);
      const tp = TrustPoint.fromAnchor(anchors[0], t0);
      let saved = "";
      let now = t0;
      const v = new Validator({
        anchors,
        query: () => Promise.resolve(answer),
        now: () => now * 1000,
        trustPoints: [tp],
        onTrustPointChange: (p) => (saved = p.serialize()),
      });
      const check = async () => (await v.verdict(".", TYPE.DNSKEY, { ...answer })).state;
      assert.equal(await check(), "secure");
      // The DS anchor's key is trusted at once; the standby KSK waits.
      assert.deepEqual(tp.keys.map((k) => k.state).sort(), ["addpend", "valid"]);
      assert.equal(tp.trusted().length, 1);
      assert.ok(saved.includes(";;addpend"));
      now = t0 + 31 * DAY;
      assert.equal(await check(), "secure");
      assert.deepEqual(tp.keys.map((k) => k.state), ["valid", "valid"]);
      // k1 is revoked (ldns-revoke sets the bit in its key file) and the zone re-signed.
      await run("ldns-revoke", [`${k1}.key`], dir);
      answer = await sign();
      now = t0 + 33 * DAY;
      assert.equal(await check(), "secure");
      assert.deepEqual(tp.keys.map((k) => k.state).sort(), ["revoked", "valid"]);
      assert.equal(tp.trusted().length, 1);
      assert.equal(tp.trusted()[0].flags, 257);
      // What a restart would read back.
      const [again] = parseTrustAnchors(saved);
      assert.deepEqual(
        again.keys.map((k) => k.rdata.join()),
        tp.trusted().map((k) => k.rdata.join()),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
