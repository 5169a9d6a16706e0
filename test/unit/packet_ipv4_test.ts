import assert from "node:assert/strict";
import { parseIPv4 } from "../../src/addr/ip.ts";
import { fragment4, icmp4Echo, ipv4, tcp4, udp4 } from "../../src/packet/build.ts";
import { ipv4HeaderChecksumOk, Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { IPPROTO } from "../../src/packet/proto.ts";
import { DROP } from "../../src/xlat/stats.ts";

const base = { src: "192.0.2.1", dst: "198.51.100.7" };

Deno.test("parseIpv4 reads every header field of a built packet", () => {
  const p = udp4({
    ...base,
    ttl: 17,
    tos: 0xb8,
    id: 0x1234,
    df: true,
    sport: 5353,
    dport: 53,
    payload: "hello",
  });
  const o = new Ipv4Info();
  assert.equal(parseIpv4(p, p.length, o), 0);
  assert.equal(o.ihl, 5);
  assert.equal(o.hdrLen, 20);
  assert.equal(o.totalLen, 20 + 8 + 5);
  assert.equal(o.tos, 0xb8);
  assert.equal(o.id, 0x1234);
  assert.equal(o.df, true);
  assert.equal(o.mf, false);
  assert.equal(o.fragOffset, 0);
  assert.equal(o.isFragment, false);
  assert.equal(o.ttl, 17);
  assert.equal(o.proto, IPPROTO.UDP);
  assert.equal(o.src, parseIPv4("192.0.2.1"));
  assert.equal(o.dst, parseIPv4("198.51.100.7"));
  assert.equal(o.l4Off, 20);
  assert.equal(o.l4Len, 13);
});

Deno.test("parseIpv4 honours IHL: options move the payload (RFC 791 3.1 IHL)", () => {
  // Record Route option (type 7), length 7, pointer 4, one empty slot; padded to 8.
  const p = tcp4({ ...base, options: [7, 7, 4, 0, 0, 0, 0], sport: 1, dport: 2 });
  const o = new Ipv4Info();
  assert.equal(parseIpv4(p, p.length, o), 0);
  assert.equal(o.ihl, 7);
  assert.equal(o.hdrLen, 28);
  assert.equal(o.l4Off, 28);
  assert.equal(o.l4Len, 20);
  assert.ok(ipv4HeaderChecksumOk(p, 0, 28));
});

Deno.test("parseIpv4 parses at an offset with absolute l4Off", () => {
  const p = icmp4Echo({ ...base, ident: 1, seq: 2 });
  const buf = new Uint8Array(p.length + 10);
  buf.set(p, 10);
  const o = new Ipv4Info();
  assert.equal(parseIpv4(buf, p.length, o, 10), 0);
  assert.equal(o.off, 10);
  assert.equal(o.l4Off, 30);
});

Deno.test("parseIpv4 fragment fields: offset in bytes, MF, isFragment", () => {
  const whole = udp4({ ...base, id: 77, sport: 1, dport: 2, payload: new Uint8Array(100) });
  const frags = fragment4(whole, 60);
  assert.equal(frags.length, 3);
  const o = new Ipv4Info();
  const seen: [number, boolean, number][] = [];
  for (const f of frags) {
    assert.equal(parseIpv4(f, f.length, o), 0);
    assert.equal(o.isFragment, true);
    assert.equal(o.id, 77);
    seen.push([o.fragOffset, o.mf, o.l4Len]);
  }
  assert.deepEqual(seen, [[0, true, 40], [40, true, 40], [80, false, 28]]);
});

Deno.test("RFC 791: Total Length shorter than the buffer; trailing bytes are ignored", () => {
  const p = udp4({ ...base, sport: 1, dport: 2, payload: "x", trailer: [0, 0, 0, 0, 0] });
  const o = new Ipv4Info();
  assert.equal(parseIpv4(p, p.length, o), 0);
  assert.equal(o.totalLen, 29);
  assert.equal(o.l4Len, 9);
});

Deno.test("parseIpv4 drop reasons", () => {
  const o = new Ipv4Info();
  const good = udp4({ ...base, sport: 1, dport: 2, payload: "abc" });
  const cases: [string, Uint8Array, number, number][] = [
    ["short buffer", good, 19, DROP.truncated],
    ["version 6", ipv4({ ...base, proto: 17, version: 6 }), -1, DROP.bad_version],
    // RFC 791 3.1: "the minimum value for a correct header is 5".
    ["IHL 4", ipv4({ ...base, proto: 17, ihl: 4 }), -1, DROP.bad_header],
    ["IHL beyond buffer", ipv4({ ...base, proto: 17, ihl: 15 }), -1, DROP.truncated],
    ["Total Length < header", ipv4({ ...base, proto: 17, totalLen: 19 }), -1, DROP.bad_header],
    ["Total Length > buffer", ipv4({ ...base, proto: 17, totalLen: 21 }), -1, DROP.truncated],
    ["bad header checksum", ipv4({ ...base, proto: 17, ipChecksum: "bad" }), -1, DROP.bad_checksum],
    ["checksum zero", ipv4({ ...base, proto: 17, ipChecksum: "zero" }), -1, DROP.bad_checksum],
  ];
  for (const [name, p, len, want] of cases) {
    assert.equal(parseIpv4(p, len < 0 ? p.length : len, o), want, name);
  }
});

Deno.test("parseIpv4 inner mode accepts a packet cut short and skips the header checksum", () => {
  const p = udp4({ ...base, sport: 1, dport: 2, payload: new Uint8Array(100) });
  const o = new Ipv4Info();
  assert.equal(parseIpv4(p, 28, o), DROP.truncated);
  assert.equal(parseIpv4(p, 28, o, 0, true), 0);
  assert.equal(o.truncated, true);
  assert.equal(o.totalLen, 128);
  assert.equal(o.l4Len, 8);
  p[8] = 1; // TTL changed en route without checksum fix-up: still parsed as inner
  assert.equal(parseIpv4(p, 28, o, 0, true), 0);
  assert.equal(parseIpv4(p, p.length, o), DROP.bad_checksum);
  assert.equal(parseIpv4(p, 19, o, 0, true), DROP.truncated);
});
