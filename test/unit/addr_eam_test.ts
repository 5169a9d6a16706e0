import assert from "node:assert/strict";
import {
  AddressError,
  formatIPv6,
  parseIPv4,
  parseIPv6,
  parsePrefix4,
  parsePrefix6,
} from "../../src/addr/ip.ts";
import { type EamEntry, EamTable } from "../../src/addr/eam.ts";

const e = (v4: string, v6: string): EamEntry => ({
  ipv4: parsePrefix4(v4),
  ipv6: parsePrefix6(v6),
});

function to6(t: EamTable, v4: string): string | null {
  const out = new Uint8Array(16);
  return t.lookup4(parseIPv4(v4), out, 0) ? formatIPv6(out) : null;
}
function to4(t: EamTable, v6: string): number {
  return t.lookup6(parseIPv6(v6), 0);
}

// RFC 7757 Appendix B: the example EAMT and the translations it gives (as carried in
// Jool's unit tests, test "RFC 7757 Appendix B").
const RFC7757_EAMT = [
  e("192.0.2.1/32", "2001:db8:aaaa::/128"),
  e("192.0.2.2/32", "2001:db8:bbbb::b/128"),
  e("192.0.2.16/28", "2001:db8:cccc::/124"),
  e("192.0.2.128/26", "2001:db8:dddd::/64"),
  e("192.0.2.192/29", "2001:db8:eeee:8::/62"),
  e("192.0.2.224/31", "64:ff9b::/127"),
];
const RFC7757_EXAMPLES: [string, string][] = [
  ["192.0.2.1", "2001:db8:aaaa::"],
  ["192.0.2.2", "2001:db8:bbbb::b"],
  ["192.0.2.16", "2001:db8:cccc::"],
  ["192.0.2.24", "2001:db8:cccc::8"],
  ["192.0.2.31", "2001:db8:cccc::f"],
  ["192.0.2.128", "2001:db8:dddd::"],
  ["192.0.2.152", "2001:db8:dddd:0:6000::"],
  ["192.0.2.183", "2001:db8:dddd:0:dc00::"],
  ["192.0.2.191", "2001:db8:dddd:0:fc00::"],
  ["192.0.2.195", "2001:db8:eeee:9:8000::"],
  ["192.0.2.225", "64:ff9b::1"],
];
for (const [v4, v6] of RFC7757_EXAMPLES) {
  Deno.test(`RFC 7757 Appendix B example: ${v4} <-> ${v6}`, () => {
    const t = new EamTable(RFC7757_EAMT, { rejectOverlap: true });
    assert.equal(to6(t, v4), v6);
    assert.equal(to4(t, v6), parseIPv4(v4));
  });
}

Deno.test("RFC 7757 section 5: overlapping EAMs, the longest prefix wins in each direction", () => {
  const t = new EamTable([
    e("0.0.0.0/0", "2001:db8:ff00::/40"),
    e("198.51.100.64/32", "2001:db8::abcd/128"),
  ]);
  assert.equal(to4(t, "2001:db8:ffc6:3364:4000::"), parseIPv4("198.51.100.64"));
  assert.equal(to6(t, "198.51.100.64"), "2001:db8::abcd");
  assert.equal(to6(t, "198.51.100.65"), "2001:db8:ffc6:3364:4100::");
});

Deno.test("RFC 7757 section 5: EAMs with identical prefixes are rejected", () => {
  assert.throws(
    () =>
      new EamTable([
        e("198.51.100.8/32", "2001:db8::1/128"),
        e("198.51.100.9/32", "2001:db8::1/128"),
      ]),
    /EAM #2 .* has the same IPv6 prefix as EAM #1/,
  );
});

// Jool's EAMT summary of RFC 7757 (docs/en/eamt.md): the example table and the
// mappings it lists. "When an address is being translated, its prefix is literally
// replaced according to the table."
const JOOL_TABLE = [
  e("192.0.2.1/32", "2001:db8:aaaa::5/128"),
  e("198.51.100.0/24", "2001:db8:bbbb::/120"),
  e("203.0.113.8/29", "2001:db8:cccc::/125"),
];
const JOOL_MAPPINGS: [string, string][] = [
  ["192.0.2.1", "2001:db8:aaaa::5"],
  ["198.51.100.0", "2001:db8:bbbb::"],
  ["198.51.100.1", "2001:db8:bbbb::1"],
  ["198.51.100.2", "2001:db8:bbbb::2"],
  ["198.51.100.254", "2001:db8:bbbb::fe"],
  ["198.51.100.255", "2001:db8:bbbb::ff"],
  ["203.0.113.8", "2001:db8:cccc::"],
  ["203.0.113.9", "2001:db8:cccc::1"],
  ["203.0.113.10", "2001:db8:cccc::2"],
  ["203.0.113.12", "2001:db8:cccc::4"],
  ["203.0.113.15", "2001:db8:cccc::7"],
];

for (const [v4, v6] of JOOL_MAPPINGS) {
  Deno.test(`RFC 7757 3.2: EAM maps ${v4} <-> ${v6} (suffix copied bit for bit)`, () => {
    const t = new EamTable(JOOL_TABLE);
    assert.equal(to6(t, v4), v6);
    assert.equal(to4(t, v6), parseIPv4(v4));
  });
}

Deno.test("RFC 7757: an IPv6 suffix longer than the IPv4 suffix is zero-filled 4->6, ignored 6->4", () => {
  // 192.0.2.128/26 <-> 2001:db8:dddd::/64 (an entry of Jool's `eamt add` examples):
  // the 6 IPv4 suffix bits land in bits 64-69, bits 70-127 are zero.
  const t = new EamTable([e("192.0.2.128/26", "2001:db8:dddd::/64")]);
  assert.equal(to6(t, "192.0.2.128"), "2001:db8:dddd::");
  assert.equal(to6(t, "192.0.2.152"), "2001:db8:dddd:0:6000::"); // 24 = 011000
  assert.equal(to6(t, "192.0.2.183"), "2001:db8:dddd:0:dc00::"); // 55 = 110111
  assert.equal(to6(t, "192.0.2.191"), "2001:db8:dddd:0:fc00::");
  assert.equal(to4(t, "2001:db8:dddd:0:6000::"), parseIPv4("192.0.2.152"));
  assert.equal(to4(t, "2001:db8:dddd:0:63ff:1:2:3"), parseIPv4("192.0.2.152"));
});

Deno.test("EAM suffix bits straddling a 32-bit word boundary", () => {
  // 24 suffix bits at IPv6 bits 50..73 (crosses bit 64).
  const t = new EamTable([e("10.0.0.0/8", "2001:db8::/50")]);
  assert.equal(to6(t, "10.1.2.3"), "2001:db8:0:40:80c0::");
  assert.equal(to4(t, "2001:db8:0:40:80c0::"), parseIPv4("10.1.2.3"));
  assert.equal(to6(t, "10.255.255.255"), "2001:db8:0:3fff:ffc0::");
});

Deno.test("EAM with an IPv4 /0 behaves like an RFC 6052 /96", () => {
  const t = new EamTable([e("0.0.0.0/0", "2001:db8:64::/96")]);
  assert.equal(to6(t, "192.0.2.33"), "2001:db8:64::c000:221");
  assert.equal(to4(t, "2001:db8:64::c000:221"), parseIPv4("192.0.2.33"));
  assert.equal(to4(t, "2001:db8:65::c000:221"), -1);
});

Deno.test("EAM lookups miss cleanly and leave the output untouched", () => {
  const t = new EamTable(JOOL_TABLE);
  const out = new Uint8Array(16).fill(7);
  assert.equal(t.lookup4(parseIPv4("192.0.2.2"), out, 0), false);
  assert.deepEqual(out, new Uint8Array(16).fill(7));
  assert.equal(to4(t, "2001:db8:aaaa::6"), -1);
  assert.equal(to4(t, "2001:db8:cccc::8"), -1);
  assert.equal(new EamTable().lookup6(parseIPv6("::"), 0), -1);
  assert.equal(new EamTable().size, 0);
});

Deno.test("EAM lookups read and write at offsets", () => {
  const t = new EamTable(JOOL_TABLE);
  const buf = new Uint8Array(64).fill(0xaa);
  assert.ok(t.lookup4(parseIPv4("198.51.100.7"), buf, 24));
  assert.equal(formatIPv6(buf, 24), "2001:db8:bbbb::7");
  assert.equal(buf[23], 0xaa);
  assert.equal(buf[40], 0xaa);
  assert.equal(t.lookup6(buf, 24), parseIPv4("198.51.100.7"));
  assert.ok(t.contains6(buf, 24));
  assert.ok(!t.contains6(buf, 0));
  assert.ok(t.contains4(parseIPv4("203.0.113.14")));
  assert.ok(!t.contains4(parseIPv4("203.0.113.16")));
});

Deno.test("RFC 7757: an IPv4 suffix longer than the IPv6 suffix is rejected", () => {
  assert.throws(
    () => new EamTable([e("192.0.2.0/24", "2001:db8::/124")]),
    (err: Error) =>
      err instanceof AddressError && /EAM #1/.test(err.message) &&
      /IPv4 suffix \(8 bits\) is longer than the IPv6 suffix \(4 bits\)/.test(err.message),
  );
  // Equal suffixes and longer IPv6 suffixes are fine.
  new EamTable([e("192.0.2.0/24", "2001:db8::/120"), e("198.51.100.0/24", "2001:db8:1::/64")]);
});

Deno.test("EAM: one IPv4 prefix with two IPv6 prefixes is rejected, even with overlap allowed", () => {
  for (const allowOverlap of [false, true]) {
    assert.throws(
      () =>
        new EamTable([
          e("198.51.100.0/24", "2001:db8:1::/120"),
          e("10.0.0.0/8", "2001:db8:2::/104"),
          e("198.51.100.0/24", "2001:db8:3::/120"),
        ], { rejectOverlap: !allowOverlap }),
      /EAM #3 .* has the same IPv4 prefix as EAM #1/,
    );
  }
});

Deno.test("EAM: one IPv6 prefix with two IPv4 prefixes is rejected", () => {
  assert.throws(
    () => new EamTable([e("192.0.2.0/24", "2001:db8::/120"), e("192.0.3.0/24", "2001:db8::/120")]),
    /EAM #2 .* has the same IPv6 prefix as EAM #1/,
  );
});

Deno.test("EAM: a duplicate entry is named as such", () => {
  assert.throws(
    () => new EamTable([e("192.0.2.0/24", "2001:db8::/120"), e("192.0.2.0/24", "2001:db8::/120")]),
    /EAM #2 .* is a duplicate of EAM #1/,
  );
});

Deno.test("EAM: nested prefixes are rejected with rejectOverlap (Jool's default)", () => {
  assert.throws(
    () =>
      new EamTable([
        e("192.0.2.0/24", "2001:db8:aaaa::/120"),
        e("192.0.2.8/29", "2001:db8:bbbb::/125"),
      ], { rejectOverlap: true }),
    /IPv4 prefix 192\.0\.2\.8\/29 overlaps 192\.0\.2\.0\/24/,
  );
  assert.throws(
    () =>
      new EamTable(
        [e("192.0.2.0/24", "2001:db8::/64"), e("198.51.100.0/24", "2001:db8::1:0/120")],
        {
          rejectOverlap: true,
        },
      ),
    /IPv6 prefix 2001:db8::1:0\/120 overlaps 2001:db8::\/64/,
  );
  // Adjacent, non-overlapping prefixes are fine.
  new EamTable([e("192.0.2.0/25", "2001:db8::/121"), e("192.0.2.128/25", "2001:db8::80/121")], {
    rejectOverlap: true,
  });
});

Deno.test("EAM: a prefix nested at the very last address of another counts as overlap", () => {
  assert.throws(
    () =>
      new EamTable([
        e("192.0.2.0/24", "2001:db8:1::/120"),
        e("192.0.2.255/32", "2001:db8:2::/128"),
      ], { rejectOverlap: true }),
    /IPv4 prefix 192\.0\.2\.255\/32 overlaps 192\.0\.2\.0\/24/,
  );
  assert.throws(
    () =>
      new EamTable([
        e("192.0.2.0/24", "2001:db8:1::/120"),
        e("192.0.3.1/32", "2001:db8:1::ff/128"),
      ], { rejectOverlap: true }),
    /IPv6 prefix 2001:db8:1::ff\/128 overlaps 2001:db8:1::\/120/,
  );
});

Deno.test("EAM longest-prefix match among overlapping entries (Jool's overlapping-EAM example)", () => {
  // "Address 192.0.2.9 matches 192.0.2.8/29 better than 192.0.2.0/24, so it will get
  // translated as 2001:db8:bbbb::1, not 2001:db8:aaaa::9."
  const t = new EamTable([
    e("192.0.2.0/24", "2001:db8:aaaa::/120"),
    e("192.0.2.8/29", "2001:db8:bbbb::/125"),
  ]);
  assert.equal(to6(t, "192.0.2.9"), "2001:db8:bbbb::1");
  assert.equal(to6(t, "192.0.2.7"), "2001:db8:aaaa::7");
  assert.equal(to6(t, "192.0.2.16"), "2001:db8:aaaa::10");
  // "2001:db8:aaaa::9 gets translated as 192.0.2.9" (the asymmetry overlap creates).
  assert.equal(to4(t, "2001:db8:aaaa::9"), parseIPv4("192.0.2.9"));
  assert.equal(to4(t, "2001:db8:bbbb::1"), parseIPv4("192.0.2.9"));
});

Deno.test("EAM longest-prefix match on the IPv6 side with nested IPv6 prefixes", () => {
  const t = new EamTable([
    e("10.0.0.0/8", "2001:db8::/104"),
    e("192.0.2.7/32", "2001:db8::5/128"),
  ]);
  assert.equal(to4(t, "2001:db8::5"), parseIPv4("192.0.2.7"));
  assert.equal(to4(t, "2001:db8::6"), parseIPv4("10.0.0.6"));
});

Deno.test("entries() and size report the table as configured", () => {
  const t = new EamTable(JOOL_TABLE);
  assert.equal(t.size, 3);
  assert.deepEqual(t.entries(), JOOL_TABLE);
  assert.ok(Object.isFrozen(t.entries()));
});

Deno.test("EAM table of 10,000 /32 entries: every entry found, lookups stay fast", () => {
  const entries: EamEntry[] = [];
  for (let i = 0; i < 10_000; i++) {
    const v6 = parseIPv6(`2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`);
    entries.push({
      ipv4: parsePrefix4(`10.0.${i >>> 8}.${i & 255}/32`),
      ipv6: parsePrefix6(`${formatIPv6(v6)}/128`),
    });
  }
  const t0 = performance.now();
  const t = new EamTable(entries);
  const built = performance.now() - t0;
  const out = new Uint8Array(16);
  const t1 = performance.now();
  let hits = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 10_000; i++) {
      const v4 = (0x0a000000 + i) >>> 0;
      if (t.lookup4(v4, out, 0) && t.lookup6(out, 0) === v4) hits++;
    }
  }
  const per = (performance.now() - t1) / 200_000;
  assert.equal(hits, 100_000);
  assert.equal(to6(t, "10.0.39.15"), "2001:db8:0:270f::1"); // entry 9,999
  assert.equal(to6(t, "10.0.39.16"), null); // one past the last entry
  // Generous bounds for a shared CI core; typical figures are ~50 ms and well under 1 us.
  assert.ok(built < 3000, `build took ${built} ms`);
  assert.ok(per < 20e-3, `lookup took ${per * 1e3} us`);
  console.log(
    `10k EAM: build ${built.toFixed(1)} ms, lookup4+lookup6 ${(per * 1e6).toFixed(0)} ns`,
  );
});

Deno.test("EAM longest prefix wins among up to 12 nested entries, scanned or hashed, in any order", () => {
  // Level k: 10.0.0.0/(8+2k) <-> 2001:db8::/(104+2k). Setting bit 23-2k (from the least
  // significant end) of the base address leaves levels 0..k matching, k the longest.
  // Tables of up to 8 entries are scanned, larger ones hashed: both must agree.
  for (let n = 1; n <= 12; n++) {
    const levels = Array.from(
      { length: n },
      (_, k) => e(`10.0.0.0/${8 + 2 * k}`, `2001:db8::/${104 + 2 * k}`),
    );
    for (const order of [levels, [...levels].reverse()]) {
      const t = new EamTable(order);
      for (let k = 0; k < n; k++) {
        const bit = 1 << (23 - 2 * k);
        const v6 = parseIPv6("2001:db8::");
        v6[13] |= bit >>> 16;
        v6[14] |= (bit >>> 8) & 255;
        v6[15] |= bit & 255;
        const want = order.indexOf(levels[k]);
        assert.equal(t.find4((parseIPv4("10.0.0.0") | bit) >>> 0), want, `n=${n} k=${k}`);
        assert.equal(t.find6(v6, 0), want, `n=${n} k=${k}`);
      }
      assert.equal(t.find4(parseIPv4("11.0.0.0")), -1);
      assert.equal(t.find6(parseIPv6("2001:db9::"), 0), -1);
    }
  }
});
