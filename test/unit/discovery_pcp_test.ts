import assert from "node:assert/strict";
import { parseIPv4, parseIPv6, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import {
  decodePrefix64,
  decodeRequest,
  decodeResponse,
  encodePrefix64,
  encodeRequest,
  encodeResponse,
  mappedV4,
  OPCODE,
  OPTION,
  PcpError,
  prefix64Options,
  RESULT,
  unmapV4,
} from "../../src/discovery/pcp.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!, (h) => parseInt(h, 16));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const client = parseIPv6("2001:db8::5");

Deno.test("RFC 6887 7.1: request header is version 2, R=0|opcode, reserved, lifetime, client address", () => {
  const b = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [],
  });
  assert.equal(toHex(b), "02000000" + "00000000" + "20010db8000000000000000000000005");
});

Deno.test("RFC 6887 11.1: MAP request carries nonce, protocol, reserved, ports, suggested address", () => {
  const nonce = hex("0102030405060708090a0b0c");
  const b = encodeRequest({
    opcode: OPCODE.MAP,
    lifetime: 7200,
    clientAddress: client,
    map: {
      nonce,
      protocol: 6,
      internalPort: 80,
      externalPort: 8080,
      externalAddress: mappedV4(parseIPv4("192.0.2.1")),
    },
    options: [],
  });
  assert.equal(b.length, 60);
  assert.equal(
    toHex(b.subarray(24)),
    "0102030405060708090a0b0c" + "06000000" + "0050" + "1f90" + "00000000000000000000ffffc0000201",
  );
  const d = decodeRequest(b);
  assert.ok(d.ok);
  assert.equal(d.request.lifetime, 7200);
  assert.equal(d.request.map!.externalPort, 8080);
  assert.equal(unmapV4(d.request.map!.externalAddress), parseIPv4("192.0.2.1"));
});

Deno.test("RFC 6887 7.2: response header has R=1, result code, lifetime, epoch time, 96 reserved bits", () => {
  const b = encodeResponse({
    version: 2,
    opcode: OPCODE.ANNOUNCE,
    result: RESULT.SUCCESS,
    lifetime: 0,
    epoch: 1234,
    options: [],
  });
  assert.equal(toHex(b), "02800000" + "00000000" + "000004d2" + "000000000000000000000000");
  const r = decodeResponse(b);
  assert.equal(r.epoch, 1234);
  assert.equal(r.opcode, OPCODE.ANNOUNCE);
});

Deno.test("RFC 6887 7.3: option data is padded to 4 octets; Option Length is the unpadded length", () => {
  const b = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [{ code: 200, data: hex("aabbcc") }, { code: 201, data: new Uint8Array(0) }],
  });
  assert.equal(toHex(b.subarray(24)), "c8000003aabbcc00" + "c9000000");
  const d = decodeRequest(b);
  assert.ok(d.ok);
  assert.deepEqual(d.request.options.map((o) => [o.code, toHex(o.data)]), [[200, "aabbcc"], [
    201,
    "",
  ]]);
});

Deno.test("RFC 6887 8.2: requests shorter than 2 octets or with R set are silently dropped", () => {
  const a = decodeRequest(new Uint8Array(1));
  assert.ok(!a.ok && a.drop);
  const b = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [],
  });
  b[1] |= 0x80;
  const r = decodeRequest(b);
  assert.ok(!r.ok && r.drop);
});

Deno.test("RFC 6887 8.2: unsupported version gets UNSUPP_VERSION", () => {
  const b = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [],
  }, 1);
  const r = decodeRequest(b);
  assert.ok(!r.ok && !r.drop && r.result === RESULT.UNSUPP_VERSION);
});

Deno.test("RFC 6887 7: longer than 1100 octets or not a multiple of 4 is MALFORMED_REQUEST", () => {
  const base = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [],
  });
  for (
    const b of [
      base.subarray(0, 22),
      base.subarray(0, 20),
      (() => {
        const big = new Uint8Array(1104);
        big.set(base);
        return big;
      })(),
    ]
  ) {
    const r = decodeRequest(b);
    assert.ok(!r.ok && !r.drop && r.result === RESULT.MALFORMED_REQUEST, `${b.length} octets`);
  }
});

Deno.test("RFC 6887 8.2: unknown opcode is UNSUPP_OPCODE; MAP too short for its data is MALFORMED_REQUEST", () => {
  const b = encodeRequest({ opcode: 5, lifetime: 0, clientAddress: client, options: [] });
  const r = decodeRequest(b);
  assert.ok(!r.ok && !r.drop && r.result === RESULT.UNSUPP_OPCODE && r.opcode === 5);
  const m = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [],
  });
  m[1] = OPCODE.MAP;
  const r2 = decodeRequest(m);
  assert.ok(!r2.ok && !r2.drop && r2.result === RESULT.MALFORMED_REQUEST);
});

Deno.test("RFC 6887 7.3: an option running past the end is MALFORMED_OPTION", () => {
  const b = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [{ code: 1, data: new Uint8Array(16) }],
  });
  b[24 + 3] = 20;
  const r = decodeRequest(b);
  assert.ok(!r.ok && !r.drop && r.result === RESULT.MALFORMED_OPTION);
});

Deno.test("RFC 6887 7.1: reserved fields 'MUST be ignored when received'", () => {
  const b = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [],
  });
  b[2] = 0xff;
  b[3] = 0xff;
  assert.ok(decodeRequest(b).ok);
});

Deno.test("RFC 7225 4: PREFIX64 for 64:ff9b::/96 is Prefix64-Length 12, no suffix, no IPv4 list", () => {
  const o = encodePrefix64({
    prefix: parsePrefix6("64:ff9b::/96"),
    suffix: new Uint8Array(0),
    ipv4Prefixes: [],
  });
  assert.equal(o.code, 129);
  assert.equal(toHex(o.data), "000c" + "0064ff9b0000000000000000");
  const back = decodePrefix64(o.data);
  assert.equal(back.prefix.len, 96);
  assert.equal(back.ipv4Prefixes.length, 0);
});

Deno.test("RFC 7225 4: /32 prefix carries an 8-octet suffix and the IPv4 prefix list", () => {
  const o = encodePrefix64({
    prefix: parsePrefix6("2001:db8::/32"),
    suffix: new Uint8Array(8),
    ipv4Prefixes: [parsePrefix4("192.0.2.0/24"), parsePrefix4("198.51.100.0/24")],
  });
  assert.equal(
    toHex(o.data),
    "0004" + "20010db8" + "0000000000000000" + "0002" + "0018c0000200" + "0018c6336400",
  );
  const back = decodePrefix64(o.data);
  assert.deepEqual(back.ipv4Prefixes.map((p) => [p.addr, p.len]), [[parseIPv4("192.0.2.0"), 24], [
    parseIPv4("198.51.100.0"),
    24,
  ]]);
});

Deno.test("RFC 7225 4: Prefix64-Length other than 4,5,6,7,8,12 octets is rejected", () => {
  for (const n of [0, 3, 9, 10, 11, 13, 16]) {
    const d = new Uint8Array(16);
    d[1] = n;
    assert.throws(() => decodePrefix64(d), PcpError, `length ${n}`);
  }
  assert.throws(
    () =>
      encodePrefix64({
        prefix: parsePrefix6("2001:db8::/80"),
        suffix: new Uint8Array(0),
        ipv4Prefixes: [],
      }),
    PcpError,
  );
});

Deno.test("RFC 7225 4: a response may carry several PREFIX64 options; malformed ones are skipped", () => {
  const a = encodePrefix64({
    prefix: parsePrefix6("64:ff9b::/96"),
    suffix: new Uint8Array(0),
    ipv4Prefixes: [],
  });
  const b = encodePrefix64({
    prefix: parsePrefix6("2001:db8:64::/48"),
    suffix: new Uint8Array(6),
    ipv4Prefixes: [],
  });
  const res = encodeResponse({
    version: 2,
    opcode: OPCODE.ANNOUNCE,
    result: 0,
    lifetime: 0,
    epoch: 5,
    options: [a, b, { code: OPTION.PREFIX64, data: hex("00ff") }],
  });
  const got = prefix64Options(decodeResponse(res).options);
  assert.deepEqual(got.map((p) => p.prefix.len), [96, 48]);
});

Deno.test("RFC 6887 8.2: error response to an unparsable MAP request is the header alone", () => {
  const b = encodeResponse({
    version: 2,
    opcode: OPCODE.MAP,
    result: RESULT.MALFORMED_REQUEST,
    lifetime: 1800,
    epoch: 1,
    options: [],
  });
  assert.equal(b.length, 24);
  const r = decodeResponse(b);
  assert.equal(r.result, RESULT.MALFORMED_REQUEST);
  assert.equal(r.map, undefined);
  const ok = encodeResponse({
    version: 2,
    opcode: OPCODE.ANNOUNCE,
    result: 0,
    lifetime: 0,
    epoch: 1,
    options: [],
  });
  ok[1] = 0x80 | OPCODE.MAP;
  assert.throws(() => decodeResponse(ok), /truncated/);
});
