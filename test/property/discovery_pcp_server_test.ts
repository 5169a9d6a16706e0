import assert from "node:assert/strict";
import fc from "fast-check";
import { parseIPv4, parseIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import {
  decodeResponse,
  encodeRequest,
  mappedV4,
  OPCODE,
  RESULT,
} from "../../src/discovery/pcp.ts";
import { PcpServer } from "../../src/discovery/pcp_server.ts";

const client = parseIPv6("2001:db8:a::5");
const server = new PcpServer(
  {
    prefixes: [{ prefix: parsePrefix6("64:ff9b::/96") }],
    clients: [parsePrefix6("2001:db8:a::/64")],
  },
  {
    createMapping: (r) => ({
      ok: true,
      externalAddress: parseIPv4("192.0.2.2"),
      externalPort: r.internalPort,
      lifetimeS: r.lifetimeS,
    }),
    deleteMapping: () => RESULT.SUCCESS,
  },
  () => 0,
);

Deno.test("property: the server answers random and mutated datagrams with null or a valid response", () => {
  const seed = encodeRequest({
    opcode: OPCODE.MAP,
    lifetime: 600,
    clientAddress: client,
    map: {
      nonce: new Uint8Array(12),
      protocol: 17,
      internalPort: 53,
      externalPort: 0,
      externalAddress: mappedV4(0),
    },
    options: [{ code: 2, data: new Uint8Array(0) }, { code: 129, data: new Uint8Array(0) }],
  });
  const mutated = fc.tuple(
    fc.array(fc.tuple(fc.nat(seed.length - 1), fc.nat(255)), { maxLength: 6 }),
    fc.nat(seed.length),
  )
    .map(([muts, cut]) => {
      const b = seed.slice(0, cut);
      for (const [i, v] of muts) if (i < b.length) b[i] = v;
      return b;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }), mutated), (b) => {
      const out = server.handle(b, client);
      if (out === null) {
        assert.ok(b.length < 2 || (b[1] & 0x80) !== 0, "only RFC 6887 8.2 drops are silent");
        return;
      }
      const r = decodeResponse(out);
      assert.equal(r.opcode, b[1] & 0x7f);
      assert.ok(out.length <= 1100 && out.length % 4 === 0);
    }),
    { numRuns: 10000 },
  );
});
