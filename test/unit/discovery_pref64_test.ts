import assert from "node:assert/strict";
import { parsePrefix6 } from "../../src/addr/ip.ts";
import {
  buildRa,
  decodePref64Option,
  encodePref64Option,
  MAX_PREF64_LIFETIME_S,
  parseRa,
  PLC_PREFIX_LENGTHS,
  Pref64Error,
  RaError,
  scaleLifetime,
} from "../../src/discovery/pref64.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!, (h) => parseInt(h, 16));

Deno.test("RFC 8781 4: 64:ff9b::/96, 600 s encodes as type 38, length 2, SL 75, PLC 0", () => {
  const out = new Uint8Array(16);
  encodePref64Option({ prefix: parsePrefix6("64:ff9b::/96"), lifetimeS: 600 }, out, 0);
  // 75 << 3 | 0 = 0x0258
  assert.deepEqual(out, hex("26 02 0258 0064ff9b 00000000 00000000"));
});

Deno.test("RFC 8781 4: PLC 0..5 mean 96, 64, 56, 48, 40, 32", () => {
  assert.deepEqual([...PLC_PREFIX_LENGTHS], [96, 64, 56, 48, 40, 32]);
  const out = new Uint8Array(16);
  for (const [plc, len] of PLC_PREFIX_LENGTHS.entries()) {
    encodePref64Option({ prefix: parsePrefix6(`2001:db8::/${len}`), lifetimeS: 8 }, out, 0);
    assert.equal(out[3] & 7, plc);
    assert.equal(decodePref64Option(out, 0).prefix.len, len);
  }
});

Deno.test("RFC 8781 4: lifetimes not divisible by 8 round up; past 13 bits clamp to 8191", () => {
  assert.equal(scaleLifetime(0), 0);
  assert.equal(scaleLifetime(1), 1);
  assert.equal(scaleLifetime(8), 1);
  assert.equal(scaleLifetime(9), 2);
  assert.equal(scaleLifetime(65528), 8191);
  assert.equal(scaleLifetime(1e9), 8191);
  assert.equal(MAX_PREF64_LIFETIME_S, 65528);
  assert.throws(() => scaleLifetime(-1), Pref64Error);
});

Deno.test("RFC 8781 4: 'The receiver MUST ignore the PREF64 option if the Length field value is not 2'", () => {
  const opt = hex("26 03 0258 0064ff9b 00000000 00000000 0000000000000000");
  assert.throws(() => decodePref64Option(opt, 0), /length 3/);
});

Deno.test("RFC 8781 4: receiver MUST ignore PLC values other than 0..5", () => {
  for (const plc of [6, 7]) {
    const opt = hex("26 02 0258 0064ff9b 00000000 00000000");
    opt[3] = (opt[3] & 0xf8) | plc;
    assert.throws(() => decodePref64Option(opt, 0), /PLC/);
  }
});

Deno.test("RFC 8781 4: only the first PLC bits are the prefix; the rest is cleared", () => {
  const opt = hex("26 02 0259 20010db8 aabbccdd eeff0011"); // PLC 1 = /64
  const p = decodePref64Option(opt, 0);
  assert.equal(p.prefix.len, 64);
  assert.deepEqual(p.prefix.addr, parsePrefix6("2001:db8:aabb:ccdd::/64").addr);
  assert.equal(p.lifetimeS, 600);
});

Deno.test("RFC 8781 4: a prefix length without a PLC is refused when encoding", () => {
  assert.throws(
    () =>
      encodePref64Option(
        { prefix: parsePrefix6("2001:db8::/80"), lifetimeS: 8 },
        new Uint8Array(16),
        0,
      ),
    Pref64Error,
  );
});

Deno.test("RFC 4861 4.2 / RFC 8781: buildRa announces PREF64 with router lifetime 0", () => {
  const ra = buildRa({
    pref64: [
      { prefix: parsePrefix6("64:ff9b::/96"), lifetimeS: 1800 },
      { prefix: parsePrefix6("2001:db8:64::/48"), lifetimeS: 0 },
    ],
    sourceLinkLayer: hex("020000000001"),
    mtu: 1500,
  });
  assert.equal(ra[0], 134);
  assert.equal(ra[1], 0);
  assert.equal((ra[6] << 8) | ra[7], 0, "router lifetime 0: not a default router");
  assert.equal(ra.length, 16 + 8 + 8 + 32);
  const back = parseRa(ra);
  assert.equal(back.routerLifetime, 0);
  assert.equal(back.pref64.length, 2);
  assert.equal(back.pref64[0].lifetimeS, 1800);
  assert.equal(back.pref64[1].prefix.len, 48);
  assert.equal(back.pref64[1].lifetimeS, 0);
});

Deno.test("RFC 4861 6.1.2: RA shorter than 16 octets, code not 0, or zero-length option is discarded", () => {
  assert.throws(() => parseRa(new Uint8Array(15)), RaError);
  const ra = buildRa({ pref64: [{ prefix: parsePrefix6("64:ff9b::/96"), lifetimeS: 8 }] });
  const badCode = ra.slice();
  badCode[1] = 1;
  assert.throws(() => parseRa(badCode), /code 1/);
  const zero = new Uint8Array(24);
  zero[0] = 134;
  zero[16] = 25;
  assert.throws(() => parseRa(zero), /length 0/);
  assert.throws(() => parseRa(ra.subarray(0, ra.length - 4)), /past the end/);
});

Deno.test("RFC 8781 4: an ignored PREF64 option does not discard the other options", () => {
  const ra = buildRa({
    pref64: [
      { prefix: parsePrefix6("64:ff9b::/96"), lifetimeS: 8 },
      { prefix: parsePrefix6("2001:db8::/32"), lifetimeS: 16 },
    ],
  });
  ra[16 + 3] |= 7; // reserved PLC in the first
  const back = parseRa(ra);
  assert.equal(back.pref64.length, 1);
  assert.equal(back.pref64[0].prefix.len, 32);
  assert.equal(back.ignored.length, 1);
});

Deno.test("RFC 4861 4.2: header fields are decoded", () => {
  const ra = hex("86 00 0000 40 c0 0708 00001388 000003e8");
  const back = parseRa(ra);
  assert.equal(back.curHopLimit, 64);
  assert.equal(back.managed, true);
  assert.equal(back.other, true);
  assert.equal(back.routerLifetime, 1800);
  assert.equal(back.reachableTime, 5000);
  assert.equal(back.retransTimer, 1000);
  assert.equal(back.pref64.length, 0);
});
