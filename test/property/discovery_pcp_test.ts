import assert from "node:assert/strict";
import fc from "fast-check";
import { prefix4, prefix6 } from "../../src/addr/ip.ts";
import {
  decodePrefix64,
  decodeRequest,
  decodeResponse,
  encodePrefix64,
  encodeRequest,
  encodeResponse,
  type MapData,
  OPCODE,
  PcpError,
  type PcpOption,
  type PcpRequest,
  PREFIX64_LENGTHS_OCTETS,
} from "../../src/discovery/pcp.ts";

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const arbOption: fc.Arbitrary<PcpOption> = fc.record({
  code: fc.integer({ min: 0, max: 255 }),
  data: fc.uint8Array({ maxLength: 40 }),
}).map((o) => ({ ...o })); // plain objects: fast-check records have a null prototype
const arbMap: fc.Arbitrary<MapData> = fc.record({
  nonce: bytes(12),
  protocol: fc.integer({ min: 0, max: 255 }),
  internalPort: fc.integer({ min: 0, max: 65535 }),
  externalPort: fc.integer({ min: 0, max: 65535 }),
  externalAddress: bytes(16),
});
const arbRequest: fc.Arbitrary<PcpRequest> = fc.record({
  opcode: fc.constantFrom(OPCODE.ANNOUNCE, OPCODE.MAP, OPCODE.PEER),
  lifetime: fc.integer({ min: 0, max: 0xffffffff }),
  clientAddress: bytes(16),
  map: arbMap,
  peerExtra: fc.record({
    remotePeerPort: fc.integer({ min: 0, max: 65535 }),
    remotePeerAddress: bytes(16),
  }),
  options: fc.array(arbOption, { maxLength: 6 }),
}).map(({ opcode, lifetime, clientAddress, map, peerExtra, options }) => ({
  opcode,
  lifetime,
  clientAddress,
  options,
  ...(opcode === OPCODE.MAP ? { map: { ...map } } : {}),
  ...(opcode === OPCODE.PEER ? { peer: { ...map, ...peerExtra } } : {}),
}));

Deno.test("property: encodeRequest -> decodeRequest is the identity", () => {
  fc.assert(
    fc.property(arbRequest, (req) => {
      const b = encodeRequest(req);
      assert.equal(b.length % 4, 0);
      const d = decodeRequest(b);
      assert.ok(d.ok);
      assert.deepEqual(d.request, req);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: encodeResponse -> decodeResponse is the identity", () => {
  fc.assert(
    fc.property(arbRequest, fc.nat(255), fc.nat(0xffffffff), (req, result, epoch) => {
      const res = {
        version: 2,
        opcode: req.opcode,
        result,
        lifetime: req.lifetime,
        epoch,
        map: req.map,
        peer: req.peer,
        options: req.options,
      };
      const back = decodeResponse(encodeResponse(res));
      assert.deepEqual(
        back,
        Object.fromEntries(Object.entries(res).filter(([, v]) => v !== undefined)),
      );
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: PREFIX64 encode -> decode keeps prefix, suffix and IPv4 list", () => {
  const arb = fc.record({
    n: fc.constantFrom(...PREFIX64_LENGTHS_OCTETS),
    addr: bytes(16),
    suffix: bytes(8),
    v4: fc.array(fc.tuple(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 })), { maxLength: 5 }),
  });
  fc.assert(
    fc.property(arb, ({ n, addr, suffix, v4 }) => {
      const a = new Uint8Array(16);
      a.set(addr.subarray(0, n));
      const o = {
        prefix: prefix6(a, n * 8),
        suffix: suffix.slice(0, 12 - n),
        ipv4Prefixes: v4.map(([x, len]) =>
          prefix4(len === 0 ? 0 : (x >>> (32 - len) << (32 - len)) >>> 0, len)
        ),
      };
      assert.deepEqual(decodePrefix64(encodePrefix64(o).data), o);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: decoders never throw anything but PcpError on random and mutated input", () => {
  const seeds = [
    encodeRequest({
      opcode: OPCODE.MAP,
      lifetime: 60,
      clientAddress: new Uint8Array(16),
      map: {
        nonce: new Uint8Array(12),
        protocol: 6,
        internalPort: 1,
        externalPort: 2,
        externalAddress: new Uint8Array(16),
      },
      options: [
        encodePrefix64({
          prefix: prefix6(new Uint8Array(16), 96),
          suffix: new Uint8Array(0),
          ipv4Prefixes: [prefix4(0, 0)],
        }),
      ],
    }),
  ];
  const mutated = fc.tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 8 }),
    fc.nat(120),
  )
    .map(([s, muts, cut]) => {
      const b = s.slice(0, Math.min(s.length, cut));
      for (const [i, v] of muts) if (i < b.length) b[i] = v;
      return b;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (b) => {
      const d = decodeRequest(b); // never throws
      if (d.ok) {
        for (const o of d.request.options) {
          try {
            decodePrefix64(o.data);
          } catch (e) {
            if (!(e instanceof PcpError)) throw e;
          }
        }
      }
      try {
        decodeResponse(b);
      } catch (e) {
        if (!(e instanceof PcpError)) throw e;
      }
    }),
    { numRuns: 10000 },
  );
});
