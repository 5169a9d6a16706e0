import assert from "node:assert/strict";
import {
  aData,
  canonicalName,
  decodeMessage,
  encodeMessage,
  FLAG,
  isSubdomain,
  type Message,
  nameToWire,
  readName,
  rr,
  soaData,
  soaMinimum,
  ttlOffsets,
  TYPE,
} from "../../src/dns/wire.ts";

const msg = (over: Partial<Message> = {}): Message => ({
  id: 0x1234,
  flags: FLAG.QR | FLAG.RD | FLAG.RA,
  question: [{ name: "www.Example.com.", type: TYPE.A, class: 1 }],
  answer: [],
  authority: [],
  additional: [],
  ...over,
});

Deno.test("RFC 1035 4.1.4: repeated names are compressed and decode back", () => {
  const m = msg({
    answer: [
      rr("www.Example.com.", TYPE.CNAME, 300, nameToWire("web.example.com.")),
      rr("web.example.com.", TYPE.A, 60, aData(0xc0000201)),
    ],
    authority: [rr(
      "example.com.",
      TYPE.SOA,
      3600,
      soaData({
        mname: "ns.example.com.",
        rname: "hostmaster.example.com.",
        serial: 1,
        refresh: 2,
        retry: 3,
        expire: 4,
        minimum: 300,
      }),
    )],
  });
  const bytes = encodeMessage(m);
  // Without compression the names alone would take far more than this.
  assert.ok(bytes.length < 140, `compressed size ${bytes.length}`);
  const d = decodeMessage(bytes);
  assert.ok(d.ok);
  assert.deepEqual(d.msg, m);
  assert.equal(soaMinimum(d.msg.authority[0].data), 300);
});

Deno.test("RFC 1035 4.1.4: a pointer to itself (a loop) is rejected, not followed", () => {
  const b = new Uint8Array([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  const d = decodeMessage(b);
  assert.equal(d.ok, false);
  if (!d.ok) assert.match(d.error, /backwards/);
});

Deno.test("RFC 1035 4.1.4: forward pointers are rejected", () => {
  const b = new Uint8Array([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 0x61, 0, 0, 1, 0, 1]);
  assert.equal(decodeMessage(b).ok, false);
});

Deno.test("names: escapes round trip, 63-octet labels and 255-octet names are the limits", () => {
  const odd = "a\\.b\\\\c\\000.example.";
  const w = nameToWire(odd);
  assert.equal(readName(w, 0)[0], odd);
  assert.throws(() => nameToWire("x".repeat(64) + ".com."));
  const long = Array(4).fill("y".repeat(63)).join(".") + "."; // 4*64+1 = 257 octets
  assert.throws(() => nameToWire(long));
  assert.equal(readName(nameToWire("."), 0)[0], ".");
});

Deno.test("truncated and trailing-garbage messages are FORMERR material, not exceptions", () => {
  const good = encodeMessage(msg({ answer: [rr("a.", TYPE.A, 1, aData(1))] }));
  for (let n = 0; n < good.length; n++) assert.equal(decodeMessage(good.subarray(0, n)).ok, false);
  const extra = new Uint8Array(good.length + 1);
  extra.set(good);
  assert.equal(decodeMessage(extra).ok, false);
});

Deno.test("ttlOffsets finds every TTL except OPT's", () => {
  const m = msg({
    answer: [rr("a.", TYPE.A, 11, aData(1)), rr("a.", TYPE.A, 22, aData(2))],
    additional: [{ name: ".", type: TYPE.OPT, class: 1232, ttl: 0x8000, data: new Uint8Array(0) }],
  });
  const b = encodeMessage(m);
  const offs = ttlOffsets(b)!;
  assert.equal(offs.length, 2);
  const dv = new DataView(b.buffer);
  assert.deepEqual(offs.map((o) => dv.getUint32(o)), [11, 22]);
});

Deno.test("canonicalName and isSubdomain compare case-insensitively on label boundaries", () => {
  assert.equal(canonicalName("WWW.Example.COM"), "www.example.com.");
  assert.ok(isSubdomain("a.B.example.com.", "example.COM."));
  assert.ok(isSubdomain("example.com.", "example.com."));
  assert.ok(!isSubdomain("badexample.com.", "example.com."));
  assert.ok(isSubdomain("anything.", "."));
});
