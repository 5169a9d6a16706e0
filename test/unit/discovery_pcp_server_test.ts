import assert from "node:assert/strict";
import { parseIPv4, parseIPv6, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import {
  decodeResponse,
  encodeRequest,
  encodeResponse,
  mappedV4,
  OPCODE,
  OPTION,
  prefix64Options,
  RESULT,
  unmapV4,
} from "../../src/discovery/pcp.ts";
import {
  type MappingRequest,
  type MappingTable,
  PcpServer,
  sourceBytes,
} from "../../src/discovery/pcp_server.ts";
import {
  pcpRequest,
  PcpTimeout,
  retransmitDelays,
  startPcpServer,
} from "../../src/discovery/pcp_udp.ts";

class FakeBib implements MappingTable {
  created: MappingRequest[] = [];
  deleted: number[] = [];
  full = false;
  createMapping(req: MappingRequest) {
    if (this.full) return { ok: false as const, result: RESULT.NO_RESOURCES };
    this.created.push(req);
    const port = req.preferFailure || req.suggestedPort
      ? req.suggestedPort
      : 40000 + this.created.length;
    return {
      ok: true as const,
      externalAddress: parseIPv4("192.0.2.2"),
      externalPort: port,
      lifetimeS: req.lifetimeS,
    };
  }
  deleteMapping(req: { internalPort: number; nonce: Uint8Array }) {
    if (req.nonce[0] === 0xee) return RESULT.NOT_AUTHORIZED;
    this.deleted.push(req.internalPort);
    return RESULT.SUCCESS;
  }
}

const client = parseIPv6("2001:db8:a::5");
const nonce = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
const cfg = {
  prefixes: [{ prefix: parsePrefix6("64:ff9b::/96") }, {
    prefix: parsePrefix6("2001:db8:64::/48"),
    ipv4Prefixes: [parsePrefix4("198.51.100.0/24")],
  }],
  clients: [parsePrefix6("2001:db8:a::/64")],
};
function setup() {
  let now = 1000;
  const bib = new FakeBib();
  const server = new PcpServer(cfg, bib, () => now);
  return { bib, server, tick: (s: number) => now += s };
}
const map = (
  over: Partial<
    {
      lifetime: number;
      protocol: number;
      internalPort: number;
      externalPort: number;
      nonce: Uint8Array;
      options: { code: number; data: Uint8Array }[];
      clientAddress: Uint8Array;
    }
  > = {},
) =>
  encodeRequest({
    opcode: OPCODE.MAP,
    lifetime: over.lifetime ?? 3600,
    clientAddress: over.clientAddress ?? client,
    map: {
      nonce: over.nonce ?? nonce,
      protocol: over.protocol ?? 6,
      internalPort: over.internalPort ?? 8080,
      externalPort: over.externalPort ?? 0,
      externalAddress: mappedV4(0),
    },
    options: over.options ?? [],
  });
const announce = encodeRequest({
  opcode: OPCODE.ANNOUNCE,
  lifetime: 0,
  clientAddress: client,
  options: [],
});

Deno.test("RFC 6887 14.1 / RFC 7225 5: ANNOUNCE gets SUCCESS, lifetime 0 and every NAT64 prefix as PREFIX64", () => {
  const { server } = setup();
  const r = decodeResponse(server.handle(announce, client)!);
  assert.equal(r.result, RESULT.SUCCESS);
  assert.equal(r.opcode, OPCODE.ANNOUNCE);
  assert.equal(r.lifetime, 0);
  const p = prefix64Options(r.options);
  assert.deepEqual(p.map((x) => x.prefix.len), [96, 48]);
  assert.equal(p[1].ipv4Prefixes[0].len, 24);
  assert.equal(p[1].suffix.length, 6);
});

Deno.test("RFC 6887 8.5: Epoch Time counts seconds since the mapping state was last lost", () => {
  const { server, tick } = setup();
  assert.equal(decodeResponse(server.handle(announce, client)!).epoch, 0);
  tick(42.7);
  assert.equal(decodeResponse(server.handle(announce, client)!).epoch, 42);
  server.stateLost();
  tick(3);
  assert.equal(decodeResponse(server.handle(announce, client)!).epoch, 3);
});

Deno.test("RFC 6887 11.3: MAP creates an explicit mapping and returns the assigned IPv4 address and port", () => {
  const { server, bib } = setup();
  const r = decodeResponse(server.handle(map(), client)!);
  assert.equal(r.result, RESULT.SUCCESS);
  assert.equal(r.lifetime, 3600);
  assert.equal(unmapV4(r.map!.externalAddress), parseIPv4("192.0.2.2"));
  assert.equal(r.map!.externalPort, 40001);
  assert.deepEqual(r.map!.nonce, nonce);
  assert.equal(bib.created[0].internalPort, 8080);
  assert.deepEqual(bib.created[0].clientAddress, client);
  assert.equal(prefix64Options(r.options).length, 2);
});

Deno.test("RFC 6887 15: the server may clamp the requested lifetime to its range", () => {
  const { server } = setup();
  assert.equal(decodeResponse(server.handle(map({ lifetime: 10 }), client)!).lifetime, 120);
  assert.equal(
    decodeResponse(server.handle(map({ lifetime: 10_000_000 }), client)!).lifetime,
    86400,
  );
});

Deno.test("RFC 6887 15: MAP with lifetime 0 deletes; a wrong nonce is NOT_AUTHORIZED", () => {
  const { server, bib } = setup();
  const r = decodeResponse(server.handle(map({ lifetime: 0 }), client)!);
  assert.equal(r.result, RESULT.SUCCESS);
  assert.equal(r.lifetime, 0);
  assert.deepEqual(bib.deleted, [8080]);
  const bad = decodeResponse(
    server.handle(map({ lifetime: 0, nonce: new Uint8Array(12).fill(0xee) }), client)!,
  );
  assert.equal(bad.result, RESULT.NOT_AUTHORIZED);
});

Deno.test("NOT_AUTHORIZED (long-lived, RFC 6887 7.4) for clients outside the configured prefixes", () => {
  const { server, bib } = setup();
  const other = parseIPv6("2001:db8:b::5");
  const r = decodeResponse(server.handle(map({ clientAddress: other }), other)!);
  assert.equal(r.result, RESULT.NOT_AUTHORIZED);
  assert.equal(r.lifetime, 1800);
  assert.deepEqual(r.map!.nonce, nonce, "error responses copy the opcode data");
  assert.equal(bib.created.length, 0);
});

Deno.test("RFC 6887 8.2: client address field different from the source is ADDRESS_MISMATCH", () => {
  const { server } = setup();
  const r = decodeResponse(
    server.handle(map({ clientAddress: parseIPv6("2001:db8:a::6") }), client)!,
  );
  assert.equal(r.result, RESULT.ADDRESS_MISMATCH);
});

Deno.test("RFC 6887 8.2: bad version, opcode and length get UNSUPP_VERSION, UNSUPP_OPCODE, MALFORMED_REQUEST", () => {
  const { server } = setup();
  const v1 = announce.slice();
  v1[0] = 1;
  const rv = decodeResponse(server.handle(v1, client)!);
  assert.equal(rv.result, RESULT.UNSUPP_VERSION);
  assert.equal(rv.version, 2);
  const peer = encodeRequest({
    opcode: OPCODE.PEER,
    lifetime: 60,
    clientAddress: client,
    peer: {
      nonce,
      protocol: 6,
      internalPort: 1,
      externalPort: 0,
      externalAddress: mappedV4(0),
      remotePeerPort: 80,
      remotePeerAddress: mappedV4(1),
    },
    options: [],
  });
  assert.equal(decodeResponse(server.handle(peer, client)!).result, RESULT.UNSUPP_OPCODE);
  const op9 = announce.slice();
  op9[1] = 9;
  assert.equal(decodeResponse(server.handle(op9, client)!).result, RESULT.UNSUPP_OPCODE);
  const shortMap = map().subarray(0, 40);
  const rm = decodeResponse(server.handle(shortMap, client)!);
  assert.equal(rm.result, RESULT.MALFORMED_REQUEST);
  assert.equal(rm.opcode, OPCODE.MAP);
});

Deno.test("RFC 6887 8.2: requests with the R bit set or under 2 octets are silently dropped", () => {
  const { server } = setup();
  const r = announce.slice();
  r[1] |= 0x80;
  assert.equal(server.handle(r, client), null);
  assert.equal(server.handle(new Uint8Array(1), client), null);
  assert.equal(server.stats.dropped, 2);
});

Deno.test("RFC 6887 7.3: unsupported mandatory options get UNSUPP_OPTION; optional ones are ignored", () => {
  const { server } = setup();
  const third = map({ options: [{ code: OPTION.THIRD_PARTY, data: new Uint8Array(16) }] });
  assert.equal(decodeResponse(server.handle(third, client)!).result, RESULT.UNSUPP_OPTION);
  const opt = map({ options: [{ code: 200, data: new Uint8Array(3) }] });
  assert.equal(decodeResponse(server.handle(opt, client)!).result, RESULT.SUCCESS);
});

Deno.test("RFC 6887 13.2: PREFER_FAILURE is passed on for MAP and MALFORMED_OPTION elsewhere or twice", () => {
  const { server, bib } = setup();
  const pf = { code: OPTION.PREFER_FAILURE, data: new Uint8Array(0) };
  assert.equal(
    decodeResponse(server.handle(map({ externalPort: 5000, options: [pf] }), client)!).result,
    RESULT.SUCCESS,
  );
  assert.equal(bib.created[0].preferFailure, true);
  assert.equal(
    decodeResponse(server.handle(map({ options: [pf, pf] }), client)!).result,
    RESULT.MALFORMED_OPTION,
  );
  const ann = encodeRequest({
    opcode: OPCODE.ANNOUNCE,
    lifetime: 0,
    clientAddress: client,
    options: [pf],
  });
  assert.equal(decodeResponse(server.handle(ann, client)!).result, RESULT.MALFORMED_OPTION);
});

Deno.test("RFC 6887 11.1: protocol 0 with a port is MALFORMED_REQUEST; unknown protocols UNSUPP_PROTOCOL", () => {
  const { server } = setup();
  assert.equal(
    decodeResponse(server.handle(map({ protocol: 0 }), client)!).result,
    RESULT.MALFORMED_REQUEST,
  );
  assert.equal(
    decodeResponse(server.handle(map({ protocol: 132 }), client)!).result,
    RESULT.UNSUPP_PROTOCOL,
  );
  assert.equal(
    decodeResponse(server.handle(map({ internalPort: 0 }), client)!).result,
    RESULT.MALFORMED_REQUEST,
  );
});

Deno.test("RFC 6887 7.4: NO_RESOURCES from the BIB is a short-lived error", () => {
  const { server, bib } = setup();
  bib.full = true;
  const r = decodeResponse(server.handle(map(), client)!);
  assert.equal(r.result, RESULT.NO_RESOURCES);
  assert.equal(r.lifetime, 30);
});

Deno.test("RFC 6887 14.1: unsolicited ANNOUNCE is a response with the current epoch", () => {
  const { server, tick } = setup();
  tick(5);
  const r = decodeResponse(server.unsolicitedAnnounce());
  assert.equal(r.opcode, OPCODE.ANNOUNCE);
  assert.equal(r.epoch, 5);
  assert.equal(prefix64Options(r.options).length, 2);
});

Deno.test("RFC 6887 8.1.1: retransmission waits grow as (2+RAND)*RTprev, capped near MRT, bounded by MRC/MRD", () => {
  const mid = () => 0.5; // RAND = 0
  assert.deepEqual(retransmitDelays({ random: mid, retries: 4 }), [
    3000,
    6000,
    12000,
    24000,
    48000,
  ]);
  assert.deepEqual(retransmitDelays({ random: mid, irtMs: 100, mrtMs: 300, retries: 3 }), [
    100,
    200,
    300,
    300,
  ]);
  assert.deepEqual(retransmitDelays({ random: mid, irtMs: 100, retries: 10, timeoutMs: 450 }), [
    100,
    200,
    150,
  ]);
  const lo = retransmitDelays({ random: () => 0, retries: 0 });
  const hi = retransmitDelays({ random: () => 0.999999, retries: 0 });
  assert.ok(Math.abs(lo[0] - 2700) < 1e-6 && Math.abs(hi[0] - 3300) < 1e-2, "RAND in -0.1..+0.1");
});

Deno.test("PCP over UDP on loopback: pcpRequest gets ANNOUNCE and MAP answers from startPcpServer", async () => {
  const bib = new FakeBib();
  const server = new PcpServer(
    { ...cfg, clients: [parsePrefix6("::1/128")] },
    bib,
    () => performance.now() / 1000,
  );
  const running = startPcpServer(server, ["::1"], { port: 0 });
  try {
    const port = running.addrs[0].port;
    const lo = sourceBytes("::1");
    const ann = await pcpRequest(
      { hostname: "::1", port },
      encodeRequest({ opcode: OPCODE.ANNOUNCE, lifetime: 0, clientAddress: lo, options: [] }),
      { irtMs: 200 },
    );
    assert.equal(ann.result, RESULT.SUCCESS);
    assert.equal(prefix64Options(ann.options)[0].prefix.len, 96);
    const m = await pcpRequest({ hostname: "::1", port }, map({ clientAddress: lo }), {
      irtMs: 200,
    });
    assert.equal(m.result, RESULT.SUCCESS);
    assert.equal(m.map!.externalPort, 40001);
  } finally {
    await running.close();
  }
});

Deno.test("RFC 6887 8.1.1: the client retransmits until answered, and gives up after MRC", async () => {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  const server = new PcpServer(
    { ...cfg, clients: [parsePrefix6("::ffff:127.0.0.0/104")] },
    new FakeBib(),
    () => 0,
  );
  let seen = 0;
  const loop = (async () => {
    try {
      for (;;) {
        const [data, from] = await conn.receive();
        if (++seen < 3) continue; // lose the first two transmissions
        await conn.send(server.handle(data, sourceBytes((from as Deno.NetAddr).hostname))!, from);
      }
    } catch { /* closed */ }
  })();
  try {
    const req = encodeRequest({
      opcode: OPCODE.ANNOUNCE,
      lifetime: 0,
      clientAddress: mappedV4(parseIPv4("127.0.0.1")),
      options: [],
    });
    const r = await pcpRequest({ hostname: "127.0.0.1", port }, req, { irtMs: 50, retries: 4 });
    assert.equal(r.result, RESULT.SUCCESS);
    assert.equal(seen, 3);
    seen = -100; // never answer again
    await assert.rejects(
      pcpRequest({ hostname: "127.0.0.1", port }, req, { irtMs: 20, retries: 2 }),
      PcpTimeout,
    );
    assert.equal(seen, -97, "1 transmission + 2 retransmissions");
  } finally {
    conn.close();
    await loop;
  }
});

Deno.test("stats count requests, silent drops and responses by result name", () => {
  const { server } = setup();
  server.handle(announce, client);
  server.handle(map({ protocol: 132 }), client);
  server.handle(new Uint8Array(1), client);
  assert.deepEqual(server.stats, {
    requests: 3,
    dropped: 1,
    byResult: { SUCCESS: 1, UNSUPP_PROTOCOL: 1 },
  });
});

Deno.test("RFC 6887 8.3: the client takes responses only from the server's address and port", async () => {
  const real = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (real.addr as Deno.NetAddr).port;
  const forger = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.2", port });
  const answer = (epoch: number) =>
    encodeResponse({
      version: 2,
      opcode: OPCODE.ANNOUNCE,
      result: RESULT.SUCCESS,
      lifetime: 0,
      epoch,
      options: [],
    });
  const loop = (async () => {
    const [, from] = await real.receive();
    await forger.send(answer(666), from);
    await new Promise((r) => setTimeout(r, 20));
    await real.send(answer(7), from);
  })();
  try {
    const req = encodeRequest({
      opcode: OPCODE.ANNOUNCE,
      lifetime: 0,
      clientAddress: mappedV4(parseIPv4("127.0.0.1")),
      options: [],
    });
    const r = await pcpRequest({ hostname: "127.0.0.1", port }, req, { irtMs: 500, retries: 0 });
    assert.equal(r.epoch, 7, "the forged answer from 127.0.0.2 was ignored");
  } finally {
    await loop;
    real.close();
    forger.close();
  }
});
