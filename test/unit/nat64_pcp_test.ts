// PCP MAP over the NAT64 BIB (RFC 6887 11, 15; RFC 7225 5), through the engine's
// handlePcp as the worker calls it.
import assert from "node:assert/strict";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import {
  decodeResponse,
  encodeRequest,
  mappedV4,
  OPCODE,
  OPTION,
  prefix64Options,
  RESULT,
  unmapV4,
} from "../../src/discovery/pcp.ts";
import * as build from "../../src/packet/build.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { P_TCP } from "../../src/nat64/pool4.ts";
import { parseSnapshot, type Snapshot } from "../../src/nat64/snapshot.ts";
import { sessionRows } from "../../src/nat64/session_rows.ts";
import { Nat64Harness, p6, read4, read6 } from "./nat64_engine_helpers.ts";

const CLIENT = "2001:db8:a::5";
const client = parseIPv6(CLIENT);
const Z = "203.0.113.9";
const nonce = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
const PCP = { allow: [parsePrefix6("2001:db8:a::/64")], minLifetime: 60, maxLifetime: 3600 };

function map(
  o: {
    lifetime?: number;
    protocol?: number;
    internalPort?: number;
    externalPort?: number;
    externalAddress?: string;
    nonce?: Uint8Array;
    from?: Uint8Array;
    preferFailure?: boolean;
  } = {},
) {
  return encodeRequest({
    opcode: OPCODE.MAP,
    lifetime: o.lifetime ?? 600,
    clientAddress: o.from ?? client,
    map: {
      nonce: o.nonce ?? nonce,
      protocol: o.protocol ?? 6,
      internalPort: o.internalPort ?? 8080,
      externalPort: o.externalPort ?? 0,
      externalAddress: mappedV4(o.externalAddress ? parseIPv4(o.externalAddress) : 0),
    },
    options: o.preferFailure ? [{ code: OPTION.PREFER_FAILURE, data: new Uint8Array(0) }] : [],
  });
}

function ask(h: Nat64Harness, req: Uint8Array, at: number, from = client) {
  h.now = at;
  const r = h.e.handlePcp(req, from, at);
  assert.ok(r, "a response");
  return decodeResponse(r);
}

Deno.test("PCP MAP creates a BIB entry that admits IPv4-initiated TCP, with PREFIX64 = pool6 (RFC 6887 11.3, RFC 7225 5)", () => {
  const h = new Nat64Harness({ pcp: PCP });
  const r = ask(h, map(), 1000);
  assert.equal(r.result, RESULT.SUCCESS);
  assert.equal(r.lifetime, 600);
  const ext4 = unmapV4(r.map!.externalAddress);
  assert.equal(formatIPv4(ext4), "198.51.100.1");
  const port = r.map!.externalPort;
  assert.ok(port >= 61001 && port <= 65535, `port ${port} from pool4`);
  const p64 = prefix64Options(r.options);
  assert.equal(p64.length, 1);
  assert.equal(p64[0].prefix.len, 96);
  assert.deepEqual([...p64[0].prefix.addr], [...parsePrefix6("2001:db8:64::/96").addr]);
  assert.equal(h.e.gauges().pcpMappings, 1);
  assert.equal(h.e.gauges().bibs.tcp, 1);
  // An IPv4 SYN to the mapped port reaches the client at its internal port.
  const syn = h.one(
    build.tcp4({ src: Z, dst: "198.51.100.1", sport: 5555, dport: port, flags: TCP_FLAG.SYN }),
    2000,
  );
  const s6 = read6(syn);
  assert.equal(s6.dst, CLIENT);
  assert.equal(s6.dport, 8080);
  assert.equal(s6.src, formatIPv6(parseIPv6(p6(Z))));
  const rows = sessionRows(h.e.tables, 10, 2000);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].bib, "pcp");
  assert.equal(rows[0].state, "V4 INIT");
});

Deno.test("RFC 6887 11.3: a refresh with the same nonce keeps the mapping; another nonce is NOT_AUTHORIZED", () => {
  const h = new Nat64Harness({ pcp: PCP });
  const a = ask(h, map(), 1000);
  const b = ask(h, map({ lifetime: 100 }), 2000);
  assert.equal(b.result, RESULT.SUCCESS);
  assert.equal(b.map!.externalPort, a.map!.externalPort);
  const other = ask(h, map({ nonce: new Uint8Array(12).fill(9) }), 3000);
  assert.equal(other.result, RESULT.NOT_AUTHORIZED);
  assert.equal(h.e.gauges().pcpMappings, 1);
});

Deno.test("PCP lifetimes are clamped to pcp.min-lifetime/max-lifetime; the mapping ends when it expires", () => {
  const h = new Nat64Harness({ pcp: PCP });
  assert.equal(ask(h, map({ lifetime: 10 }), 0).lifetime, 60);
  assert.equal(ask(h, map({ lifetime: 99999, internalPort: 81 }), 0).lifetime, 3600);
  assert.equal(h.e.tables.bibsByProto[P_TCP], 2);
  h.e.tick(59_000);
  assert.equal(h.e.gauges().pcpMappings, 2);
  h.e.tick(61_000);
  assert.equal(h.e.gauges().pcpMappings, 1, "the 60 s mapping is gone");
  assert.equal(h.e.tables.bibsByProto[P_TCP], 1, "and its BIB entry with it (no sessions)");
});

Deno.test("RFC 6887 15: lifetime 0 deletes (nonce must match); an entry with sessions lives on as dynamic", () => {
  const h = new Nat64Harness({ pcp: PCP });
  const r = ask(h, map(), 1000);
  const port = r.map!.externalPort;
  assert.equal(ask(h, map({ lifetime: 0, nonce: new Uint8Array(12) }), 1100).result, 2);
  // A session on the mapping, then delete it: the BIB entry stays while the session lives.
  h.one(
    build.tcp4({ src: Z, dst: "198.51.100.1", sport: 5555, dport: port, flags: TCP_FLAG.SYN }),
    1200,
  );
  const del = ask(h, map({ lifetime: 0 }), 1300);
  assert.equal(del.result, RESULT.SUCCESS);
  assert.equal(del.lifetime, 0);
  assert.equal(h.e.gauges().pcpMappings, 0);
  assert.equal(h.e.tables.bibsByProto[P_TCP], 1);
  // Deleting what is not there is success too.
  assert.equal(ask(h, map({ lifetime: 0, internalPort: 9999 }), 1400).result, RESULT.SUCCESS);
  // Without a session the entry goes with the mapping.
  ask(h, map({ internalPort: 7000, protocol: 17 }), 1500);
  assert.equal(h.e.tables.bibsByProto[1], 1);
  ask(h, map({ internalPort: 0, protocol: 17, lifetime: 0 }), 1600);
  assert.equal(h.e.tables.bibsByProto[1], 0);
});

Deno.test("PCP MAP: an implicit dynamic mapping becomes the explicit one; suggested ports are honoured", () => {
  const h = new Nat64Harness({ pcp: PCP });
  const out = read4(
    h.one(build.udp6({ src: CLIENT, dst: p6(Z), sport: 4000, dport: 53 }), 1000),
  );
  const r = ask(h, map({ protocol: 17, internalPort: 4000 }), 1100);
  assert.equal(r.result, RESULT.SUCCESS);
  assert.equal(r.map!.externalPort, out.sport, "the existing binding is reused");
  const s = ask(h, map({ internalPort: 22, externalPort: 62000 }), 1200);
  assert.equal(s.map!.externalPort, 62000);
  // PREFER_FAILURE with a port outside pool4: CANNOT_PROVIDE_EXTERNAL.
  const f = ask(h, map({ internalPort: 23, externalPort: 80, preferFailure: true }), 1300);
  assert.equal(f.result, RESULT.CANNOT_PROVIDE_EXTERNAL);
});

Deno.test("PCP: clients outside pcp.allow get NOT_AUTHORIZED; the port quota gives USER_EX_QUOTA", () => {
  const h = new Nat64Harness({ pcp: PCP, maxPortsPerHost: 1 });
  const stranger = parseIPv6("2001:db8:b::1");
  assert.equal(ask(h, map({ from: stranger }), 0, stranger).result, RESULT.NOT_AUTHORIZED);
  assert.equal(ask(h, map(), 0).result, RESULT.SUCCESS);
  assert.equal(ask(h, map({ internalPort: 9 }), 0).result, RESULT.USER_EX_QUOTA);
  const closed = new Nat64Harness({ pcp: { ...PCP, allow: [] } });
  assert.equal(ask(closed, map(), 0).result, RESULT.NOT_AUTHORIZED);
  const off = new Nat64Harness();
  assert.equal(off.e.handlePcp(map(), client, 0), null, "no PCP server configured");
});

Deno.test("snapshot v2 keeps PCP mappings (nonce, time left) across a restore", () => {
  const h = new Nat64Harness({ pcp: PCP });
  const r = ask(h, map({ lifetime: 600 }), 1000);
  const bytes = h.e.snapshot(101_000); // 500 s left
  assert.equal(parseSnapshot(bytes).pcp.length, 1);
  const h2 = new Nat64Harness({ pcp: PCP });
  const got = h2.e.restore(bytes, 7_000_000);
  assert.equal(got.pcpMappings, 1);
  assert.equal(got.bibs, 1);
  const b = h2.e.tables.findBib6(P_TCP, client, 0, 8080)!;
  assert.equal(b.port4, r.map!.externalPort);
  // The same nonce refreshes it; another is refused.
  assert.equal(ask(h2, map({ nonce: new Uint8Array(12) }), 7_000_000).result, 2);
  h2.e.tick(7_000_000 + 499_000);
  assert.equal(h2.e.gauges().pcpMappings, 1);
  h2.e.tick(7_000_000 + 502_000);
  assert.equal(h2.e.gauges().pcpMappings, 0);
});

/** A snapshot in the older index-based layouts (1: no PCP section; 2: with one). */
function encodeOld(snap: Snapshot, version: 1 | 2): Uint8Array {
  const size = 16 + snap.bibs.length * 26 + snap.sessions.length * 16 +
    (version === 2 ? 4 + snap.pcp.length * 20 : 0) + 4;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x584c3634);
  b[4] = version;
  v.setUint32(8, snap.bibs.length);
  v.setUint32(12, snap.sessions.length);
  let p = 16;
  for (const e of snap.bibs) {
    b[p] = e.proto;
    b[p + 1] = e.isStatic ? 1 : 0;
    b.set(e.addr6, p + 2);
    v.setUint16(p + 18, e.port6);
    v.setUint32(p + 20, e.addr4);
    v.setUint16(p + 24, e.port4);
    p += 26;
  }
  for (const s of snap.sessions) {
    v.setUint32(p, s.bib);
    v.setUint32(p + 4, s.raddr);
    v.setUint16(p + 8, s.rport);
    b[p + 10] = s.state;
    v.setUint32(p + 12, s.msLeft);
    p += 16;
  }
  if (version === 2) {
    v.setUint32(p, snap.pcp.length);
    p += 4;
    for (const m of snap.pcp) {
      v.setUint32(p, m.bib);
      v.setUint32(p + 4, m.msLeft);
      b.set(m.nonce, p + 8);
      p += 20;
    }
  }
  let x = 0x811c9dc5;
  for (let k = 0; k < p; k++) x = Math.imul(x ^ b[k], 0x01000193);
  v.setUint32(p, x >>> 0);
  return b;
}

Deno.test("snapshot: version 1 and 2 files (BIB by index) are still read and restored", () => {
  const h = new Nat64Harness({ pcp: PCP });
  h.one(build.udp6({ src: CLIENT, dst: p6(Z), sport: 4000, dport: 53 }), 1000);
  ask(h, map(), 1000);
  const snap = parseSnapshot(h.e.snapshot(2000));
  assert.equal(snap.bibs.length, 2);
  assert.equal(snap.sessions.length, 1);
  assert.equal(snap.pcp.length, 1);
  assert.deepEqual(parseSnapshot(encodeOld(snap, 2)), snap);
  assert.deepEqual(parseSnapshot(encodeOld(snap, 1)), { ...snap, pcp: [] });
  const h2 = new Nat64Harness({ pcp: PCP });
  const r = h2.e.restore(encodeOld(snap, 2), 50_000);
  assert.deepEqual(r, { bibs: 2, sessions: 1, pcpMappings: 1, skipped: 0 });
});

Deno.test("snapshot v3: a session naming no BIB entry is refused", () => {
  const h = new Nat64Harness();
  h.one(build.udp6({ src: CLIENT, dst: p6(Z), sport: 4000, dport: 53 }), 1000);
  const b = h.e.snapshot(2000);
  const bad = b.slice();
  bad[16 + 26 + 5] ^= 1; // the session's BIB port4
  const v = new DataView(bad.buffer);
  let x = 0x811c9dc5;
  for (let k = 0; k < bad.length - 4; k++) x = Math.imul(x ^ bad[k], 0x01000193);
  v.setUint32(bad.length - 4, x >>> 0);
  assert.throws(() => parseSnapshot(bad), /session 0: refers to no BIB entry/);
});

Deno.test("RFC 6887 8.5: the epoch counts seconds from the first request and survives a reconfigure", () => {
  const h = new Nat64Harness({ pcp: PCP });
  const at = 1_800_000_000_000; // a wall clock in ms, as the worker passes it
  assert.equal(ask(h, map(), at).epoch, 0);
  assert.equal(ask(h, map(), at + 30_500).epoch, 30);
  h.e.reconfigure(h.e.opts);
  assert.equal(ask(h, map(), at + 40_000).epoch, 40, "a reload does not look like lost state");
  assert.equal(h.e.gauges().pcpMappings, 1);
});
