import assert from "node:assert/strict";
import {
  formatIPv4,
  formatIPv6,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
} from "../../src/addr/ip.ts";
import { Denylist4 } from "../../src/addr/denylist.ts";
import { type EamEntry, EamTable } from "../../src/addr/eam.ts";
import {
  AddressMapper,
  dropOf64,
  NO_DENYLIST,
  NO_EAM,
  VIA_EAM,
  VIA_RFC6052,
} from "../../src/addr/mapper.ts";
import { DROP } from "../../src/xlat/stats.ts";
import type { EamHairpinMode } from "../../src/xlat/options.ts";

const e = (v4: string, v6: string): EamEntry => ({
  ipv4: parsePrefix4(v4),
  ipv6: parsePrefix6(v6),
});
const WKP = parsePrefix6("64:ff9b::/96");
const NSP = parsePrefix6("2001:db8:64::/96");

function to6(m: AddressMapper, v4: string, isSource = false, flags = 0): string | number {
  const out = new Uint8Array(16);
  const r = m.map4to6(parseIPv4(v4), out, 0, isSource, flags);
  return r === 0 ? formatIPv6(out) : r;
}
function to4(m: AddressMapper, v6: string, isSource = false, flags = 0): string | number {
  const r = m.map6to4(parseIPv6(v6), 0, isSource, flags);
  return r >= 0 ? formatIPv4(r) : dropOf64(r);
}

Deno.test("RFC 7757 3.1: EAM is consulted before the RFC 6052 prefix", () => {
  const m = new AddressMapper(WKP, new EamTable([e("198.51.100.0/24", "2001:db8:1::/120")]));
  assert.equal(to6(m, "198.51.100.5"), "2001:db8:1::5");
  assert.equal(m.via, VIA_EAM);
  assert.equal(to6(m, "8.8.8.8"), "64:ff9b::808:808");
  assert.equal(m.via, VIA_RFC6052);
  assert.equal(to4(m, "2001:db8:1::5"), "198.51.100.5");
  assert.equal(m.via, VIA_EAM);
  assert.equal(to4(m, "64:ff9b::8.8.8.8"), "8.8.8.8");
  assert.equal(m.via, VIA_RFC6052);
});

Deno.test("EAM wins over pool6 even where pool6 covers the IPv6 address", () => {
  // An EAM inside the pool6 space: the explicit mapping takes precedence.
  const m = new AddressMapper(WKP, new EamTable([e("192.0.2.1/32", "64:ff9b::8.8.4.4/128")]));
  assert.equal(to4(m, "64:ff9b::8.8.4.4"), "192.0.2.1");
  assert.equal(to6(m, "192.0.2.1"), "64:ff9b::808:404");
  assert.equal(to4(m, "64:ff9b::8.8.8.8"), "8.8.8.8");
});

Deno.test("NO_EAM flag skips EAM and falls back to RFC 6052", () => {
  const m = new AddressMapper(NSP, new EamTable([e("198.51.100.0/24", "2001:db8:1::/120")]));
  assert.equal(to6(m, "198.51.100.5", true, NO_EAM), "2001:db8:64::c633:6405");
  assert.equal(to4(m, "2001:db8:1::5", true, NO_EAM), DROP.untranslatable_src);
});

Deno.test("no EAM match and no pool6: untranslatable_src / untranslatable_dst by role", () => {
  const m = new AddressMapper(null, new EamTable([e("198.51.100.0/24", "2001:db8:1::/120")]));
  assert.equal(to6(m, "8.8.8.8", true), DROP.untranslatable_src);
  assert.equal(to6(m, "8.8.8.8", false), DROP.untranslatable_dst);
  assert.equal(to4(m, "2001:db8:2::1", true), DROP.untranslatable_src);
  assert.equal(to4(m, "2001:db8:2::1", false), DROP.untranslatable_dst);
  assert.equal(to6(m, "198.51.100.1"), "2001:db8:1::1");
});

Deno.test("6->4: an address outside pool6 or with a non-zero u-octet is untranslatable", () => {
  const m = new AddressMapper(parsePrefix6("2001:db8:100::/40"));
  assert.equal(to4(m, "2001:db8:1c0:2:21::"), "192.0.2.33"); // RFC 6052 2.4 example
  assert.equal(to4(m, "2001:db8:1c0:2:121::", false), DROP.untranslatable_dst);
  assert.equal(to4(m, "2001:db9:1c0:2:21::", true), DROP.untranslatable_src);
});

Deno.test("result conventions: map4to6 returns 0 or a DROP index > 0; map6to4 -(1 + index)", () => {
  for (
    const r of [
      DROP.untranslatable_src,
      DROP.untranslatable_dst,
      DROP.denylisted,
      DROP.wkp_non_global,
    ]
  ) {
    assert.ok(r > 0);
  }
  const m = new AddressMapper(WKP);
  assert.equal(m.map6to4(parseIPv6("64:ff9b::127.0.0.1"), 0, false), -1 - DROP.denylisted);
  assert.equal(dropOf64(parseIPv4("8.8.8.8")), -1);
});

// RFC 6052 3.1: "The Well-Known Prefix MUST NOT be used to represent non-global IPv4
// addresses ... Address translators MUST NOT translate packets in which an address is
// composed of the Well-Known Prefix and a non-global IPv4 address; they MUST drop these
// packets."
Deno.test("RFC 6052 3.1: WKP with a non-global IPv4 address is dropped (wkp-strict)", () => {
  const m = new AddressMapper(WKP, new EamTable(), new Denylist4(), true);
  for (
    const a of ["10.1.2.3", "192.168.1.1", "172.16.0.1", "100.64.0.1", "192.0.2.33", "198.18.0.1"]
  ) {
    assert.equal(to6(m, a), DROP.wkp_non_global, a);
    assert.equal(to4(m, `64:ff9b::${a}`), DROP.wkp_non_global, a);
  }
  assert.equal(to6(m, "192.0.0.9"), "64:ff9b::c000:9"); // PCP anycast is global
  assert.equal(to4(m, "64:ff9b::8.8.8.8"), "8.8.8.8");
});

Deno.test("RFC 6052 3.1 applies to the WKP only: NSP, wkp-strict off, and EAM are exempt", () => {
  assert.equal(to6(new AddressMapper(NSP), "10.1.2.3"), "2001:db8:64::a01:203");
  assert.equal(to4(new AddressMapper(NSP), "2001:db8:64::10.1.2.3"), "10.1.2.3");
  const lax = new AddressMapper(WKP, new EamTable(), new Denylist4(), false);
  assert.equal(to6(lax, "10.1.2.3"), "64:ff9b::a01:203");
  assert.equal(to4(lax, "64:ff9b::192.168.0.1"), "192.168.0.1");
  // Local-use 64:ff9b:1::/48 (RFC 8215) is not the WKP.
  const local = new AddressMapper(parsePrefix6("64:ff9b:1::/48"));
  assert.equal(to6(local, "10.0.0.1"), "64:ff9b:1:a00:0:100::");
  const eam = new AddressMapper(WKP, new EamTable([e("10.0.0.0/24", "2001:db8:a::/120")]));
  assert.equal(to6(eam, "10.0.0.7"), "2001:db8:a::7");
});

Deno.test("denylist applies to the RFC 6052 path in both directions, not to EAM", () => {
  const deny = new Denylist4([parsePrefix4("203.0.113.0/24")]);
  const m = new AddressMapper(NSP, new EamTable([e("127.0.0.0/30", "2001:db8:7f::/126")]), deny);
  assert.equal(to6(m, "203.0.113.9"), DROP.denylisted);
  assert.equal(to4(m, "2001:db8:64::203.0.113.9"), DROP.denylisted);
  assert.equal(to6(m, "127.0.0.5"), DROP.denylisted); // built-in
  assert.equal(to4(m, "2001:db8:64::224.0.0.1"), DROP.denylisted); // multicast
  assert.equal(to6(m, "127.0.0.1"), "2001:db8:7f::1"); // explicit EAM wins
  assert.equal(to6(m, "203.0.113.9", true, NO_DENYLIST), "2001:db8:64::cb00:7109");
});

Deno.test("AddrXlat interface: AX_ICMP_ERROR skips the denylist for the source only", () => {
  const m = new AddressMapper(NSP, new EamTable([e("198.51.100.0/24", "2001:db8:1::/120")]));
  const out = new Uint8Array(16);
  const AX_ICMP_ERROR = 2, AX_NO_EAM = 4;
  assert.equal(m.v4to6(parseIPv4("169.254.0.1"), out, 0, true, AX_ICMP_ERROR), 0);
  assert.equal(m.v4to6(parseIPv4("169.254.0.1"), out, 0, false, AX_ICMP_ERROR), DROP.denylisted);
  assert.equal(m.v4to6(parseIPv4("198.51.100.1"), out, 0, true, AX_NO_EAM), 0);
  assert.equal(formatIPv6(out), "2001:db8:64::c633:6401");
  assert.equal(m.v6to4(parseIPv6("2001:db8:1::1"), 0, true, 0), parseIPv4("198.51.100.1"));
  assert.ok(m.isEam4(parseIPv4("198.51.100.200")));
  assert.ok(!m.isEam4(parseIPv4("198.51.101.0")));
});

Deno.test("an invalid pool6 is rejected when the mapper is built", () => {
  assert.throws(() => new AddressMapper(parsePrefix6("2001:db8::/36")), /RFC 6052/);
});

// RFC 7757 section 4 hairpinning, in the SIIT-DC layout: two IPv6-only servers A and B
// have EAMs; A reaches B through B's IPv4 address under pool6.
const A6 = "2001:db8:a::1", A4 = "192.0.2.1";
const B6 = "2001:db8:b::2", B4 = "192.0.2.2";
const dc = (mode: EamHairpinMode) =>
  new AddressMapper(
    WKP,
    new EamTable([e(`${A4}/32`, `${A6}/128`), e(`${B4}/32`, `${B6}/128`)]),
    new Denylist4(),
    false, // 192.0.2.0/24 is documentation space, not global
    mode,
  );

Deno.test("intrinsic hairpinning (RFC 7757 4.2.2): detected from the 6->4 destination", () => {
  const m = dc("intrinsic");
  assert.equal(m.isHairpin64(parseIPv6(`64:ff9b::${B4}`), 0), true);
  assert.equal(m.isHairpin64(parseIPv6(B6), 0), false, "EAM-translated, not via RFC 6052");
  assert.equal(m.isHairpin64(parseIPv6("64:ff9b::8.8.8.8"), 0), false, "not an EAM address");
  assert.equal(m.isHairpin46(true), true);
  assert.equal(m.isHairpin46(false), false);
});

Deno.test("simple hairpinning (RFC 7757 4.2.1): every 4->6 packet gets the hairpin rules", () => {
  const m = dc("simple");
  assert.equal(m.isHairpin64(parseIPv6(`64:ff9b::${B4}`), 0), false);
  assert.equal(m.isHairpin46(false), true);
});

Deno.test("hairpinning off: nothing is marked", () => {
  const m = dc("off");
  assert.equal(m.isHairpin64(parseIPv6(`64:ff9b::${B4}`), 0), false);
  assert.equal(m.isHairpin46(true), false);
});

for (const mode of ["intrinsic", "simple"] as const) {
  Deno.test(`RFC 7757 4.2 (${mode}): A -> 64:ff9b::B4 arrives at B from 64:ff9b::A4`, () => {
    const m = dc(mode);
    // 6->4: A's packet to B's IPv4 address under the prefix.
    const dst4 = m.map6to4(parseIPv6(`64:ff9b::${B4}`), 0, false);
    const src4 = m.map6to4(parseIPv6(A6), 0, true);
    assert.equal(formatIPv4(dst4), B4);
    assert.equal(formatIPv4(src4), A4);
    const marked = m.isHairpin64(parseIPv6(`64:ff9b::${B4}`), 0);
    // 4->6 of the same packet: destination through EAM, source with NO_EAM.
    const hp = m.isHairpin46(marked);
    assert.equal(hp, true);
    const out = new Uint8Array(16);
    assert.equal(m.map4to6(dst4, out, 0, false), 0);
    assert.equal(formatIPv6(out), B6);
    assert.equal(m.map4to6(src4, out, 0, true, hp ? NO_EAM : 0), 0);
    // B answers 64:ff9b::A4, which comes back through the translator: the path A used.
    assert.equal(formatIPv6(out), "64:ff9b::c000:201");
  });
}
