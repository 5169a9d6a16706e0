import assert from "node:assert/strict";
import { Nat64Tables } from "../../src/nat64/tables.ts";
import { P_ICMP, P_TCP, P_UDP, Pool4 } from "../../src/nat64/pool4.ts";
import { DEFAULT_TIMEOUTS } from "../../src/nat64/timeouts.ts";
import { TimerWheel } from "../../src/nat64/wheel.ts";
import { Bib, Host, Session } from "../../src/nat64/entries.ts";
import { pool4, staticBib, v4, v6 } from "./nat64_helpers.ts";

const H1 = v6("2001:db8::1");
const H2 = v6("2001:db8::2");
const Z = v4("203.0.113.9");

Deno.test("RFC 6146 3.5.1: an IPv6 transport address gets a BIB entry from pool4, found both ways", () => {
  const t = new Nat64Tables({ pool4: [pool4("198.51.100.1/32", 61001, 65535)], seed: 1 });
  const b = t.createBib6(P_UDP, H1, 0, 5000, Z, 53, 0)!;
  assert.ok(b);
  assert.equal(b.addr4, v4("198.51.100.1"));
  assert.ok(b.port4 >= 61001 && b.port4 <= 65535);
  assert.equal(t.findBib6(P_UDP, H1, 0, 5000), b);
  assert.equal(t.findBib4(P_UDP, b.addr4, b.port4), b);
  assert.equal(t.findBib6(P_TCP, H1, 0, 5000), null, "BIBs are per protocol");
  assert.equal(t.findBib6(P_UDP, H2, 0, 5000), null);
  assert.equal(t.findBib6(P_UDP, H1, 0, 5001), null);
});

Deno.test("RFC 6146 3.5.1.1: port parity and range (1024-65535) are preserved", () => {
  const t = new Nat64Tables({ pool4: [pool4("198.51.100.0/30", 1, 65535)], seed: 2 });
  for (let p = 1024; p < 1224; p++) {
    const b = t.createBib6(P_TCP, H1, 0, p, Z, 80, 0)!;
    assert.equal(b.port4 & 1, p & 1, `parity of ${p}`);
    assert.ok(b.port4 >= 1024);
  }
});

Deno.test("RFC 6146 3.5.1.1: a well-known source port (<1024) gets a port below 1024 when pool4 has one", () => {
  const t = new Nat64Tables({ pool4: [pool4("198.51.100.1/32", 1, 65535)], seed: 3 });
  const b = t.createBib6(P_UDP, H1, 0, 123, Z, 123, 0)!;
  assert.ok(b.port4 < 1024);
  assert.equal(b.port4 & 1, 1);
  // Pool without low ports: any port of the pool is taken instead.
  const t2 = new Nat64Tables({ pool4: [pool4("198.51.100.1/32", 61001, 61010)], seed: 3 });
  const b2 = t2.createBib6(P_UDP, H1, 0, 123, Z, 123, 0)!;
  assert.ok(b2.port4 >= 61001 && b2.port4 <= 61010);
});

Deno.test("RFC 6056 algorithm 3: different hosts start their search at different ports", () => {
  const t = new Nat64Tables({ pool4: [pool4("198.51.100.1/32", 1024, 65535)], seed: 4 });
  const ports = new Set<number>();
  for (let i = 1; i <= 20; i++) {
    const h = v6(`2001:db8::${i.toString(16)}`);
    ports.add(t.createBib6(P_UDP, h, 0, 40000, Z, 53, 0)!.port4);
  }
  assert.ok(ports.size >= 18, `ports spread: ${ports.size}`);
});

Deno.test("pool4 exhaustion: create fails with FAIL.pool4 once every port is bound", () => {
  const t = new Nat64Tables({ pool4: [pool4("198.51.100.1/32", 2000, 2003)], seed: 5 });
  const got = new Set<number>();
  for (let p = 0; p < 4; p++) got.add(t.createBib6(P_UDP, H1, 0, 3000 + p, Z, 53, 0)!.port4);
  assert.deepEqual([...got].sort(), [2000, 2001, 2002, 2003]);
  assert.equal(t.createBib6(P_UDP, H1, 0, 4000, Z, 53, 0), null);
  assert.equal(t.failure, 1);
});

Deno.test("RFC 6888 REQ-3: ports per host are limited; other hosts are unaffected", () => {
  const t = new Nat64Tables({ pool4: [pool4()], maxPortsPerHost: 2, seed: 6 });
  assert.ok(t.createBib6(P_UDP, H1, 0, 1, Z, 53, 0));
  assert.ok(t.createBib6(P_TCP, H1, 0, 2, Z, 53, 0));
  assert.equal(t.createBib6(P_UDP, H1, 0, 3, Z, 53, 0), null);
  assert.equal(t.failure, 2);
  assert.ok(t.createBib6(P_UDP, H2, 0, 3, Z, 53, 0));
});

Deno.test("RFC 6888 REQ-4: sessions per host are limited", () => {
  const t = new Nat64Tables({ pool4: [pool4()], maxSessionsPerHost: 2, seed: 7 });
  const b = t.createBib6(P_UDP, H1, 0, 1, Z, 53, 0)!;
  assert.ok(t.createSession(b, Z, 53, 0, 1000));
  assert.ok(t.createSession(b, Z, 54, 0, 1000));
  assert.equal(t.createSession(b, Z, 55, 0, 1000), null);
  assert.equal(t.failure, 3);
  assert.equal(t.sessionCount, 2);
});

Deno.test("sessions: found by (BIB, remote) only; expiry deletes the session and then its BIB entry", () => {
  const t = new Nat64Tables({ pool4: [pool4()], seed: 8 });
  const b = t.createBib6(P_UDP, H1, 0, 1000, Z, 53, 0)!;
  const s = t.createSession(b, Z, 53, 0, DEFAULT_TIMEOUTS.udp)!;
  assert.equal(t.findSession(b, Z, 53), s);
  assert.equal(t.findSession(b, Z, 54), null);
  assert.equal(t.findSession(b, v4("203.0.113.10"), 53), null);
  t.expire(0);
  t.expire(DEFAULT_TIMEOUTS.udp - 1000);
  assert.equal(t.sessionCount, 1);
  t.touch(s, 60_000, DEFAULT_TIMEOUTS.udp); // refreshed: lives on
  t.expire(DEFAULT_TIMEOUTS.udp + 2000);
  assert.equal(t.sessionCount, 1);
  t.expire(60_000 + DEFAULT_TIMEOUTS.udp + 1000);
  assert.equal(t.sessionCount, 0);
  assert.equal(t.bibCount, 0);
  assert.equal(t.findBib6(P_UDP, H1, 0, 1000), null);
  assert.equal(t.hostCount, 0);
});

Deno.test("static BIB entries survive the expiry of their sessions", () => {
  const t = new Nat64Tables({
    pool4: [pool4()],
    staticBib: [staticBib("tcp", "198.51.100.1", 80, "2001:db8::5", 8080)],
    seed: 9,
  });
  const b = t.findBib4(P_TCP, v4("198.51.100.1"), 80)!;
  assert.ok(b.isStatic);
  assert.equal(t.findBib6(P_TCP, v6("2001:db8::5"), 0, 8080), b);
  t.expire(0);
  t.createSession(b, Z, 5555, 0, 1000);
  t.expire(5000);
  assert.equal(t.sessionCount, 0);
  assert.equal(t.bibCount, 1);
  // The static port is never handed out dynamically.
  const t2 = new Nat64Tables({
    pool4: [pool4("198.51.100.1/32", 80, 81)],
    staticBib: [staticBib("tcp", "198.51.100.1", 80, "2001:db8::5", 8080)],
    seed: 9,
  });
  assert.equal(t2.createBib6(P_TCP, H1, 0, 1000, Z, 1, 0)!.port4, 81);
  assert.equal(t2.createBib6(P_TCP, H1, 0, 1001, Z, 1, 0), null);
});

Deno.test("RFC 6146 3.5.1 filtering: endpoint-independent by default, address-dependent as an option", () => {
  const eif = new Nat64Tables({ pool4: [pool4()], seed: 10 });
  const b = eif.createBib6(P_UDP, H1, 0, 1000, Z, 53, 0)!;
  assert.ok(eif.allows(b, v4("192.0.2.77")));
  const adf = new Nat64Tables({ pool4: [pool4()], addressDependentFiltering: true, seed: 10 });
  const b2 = adf.createBib6(P_UDP, H1, 0, 1000, Z, 53, 0)!;
  assert.equal(adf.allows(b2, Z), false);
  adf.expire(0);
  adf.createSession(b2, Z, 53, 0, 1000);
  assert.equal(adf.allows(b2, Z), true, "same address, any port");
  assert.equal(adf.allows(b2, v4("192.0.2.77")), false);
  adf.expire(10_000);
  assert.equal(adf.allows(b2, Z), false);
});

Deno.test("log hook: one call per BIB and session creation and deletion", () => {
  const t = new Nat64Tables({ pool4: [pool4()], seed: 11 });
  const seen: string[] = [];
  t.log = (k) => seen.push(k);
  t.expire(0);
  const b = t.createBib6(P_ICMP, H1, 0, 7, Z, 0, 0)!;
  t.createSession(b, Z, 0, 0, DEFAULT_TIMEOUTS.icmp);
  t.expire(DEFAULT_TIMEOUTS.icmp + 1000);
  assert.deepEqual(seen, ["bib-add", "session-add", "session-del", "bib-del"]);
});

Deno.test("timer wheel: a shortened lifetime moves the session to an earlier bucket", () => {
  const w = new TimerWheel(1000, 16);
  const host = new Host(0, 0, 0, 1, 0);
  const bib = new Bib(host, 1, 0, 1, 1, 1, false);
  const s = new Session(bib, 1, 1, 1);
  const gone: Session[] = [];
  w.sweep(0, (x) => gone.push(x));
  s.expires = 100_000; // beyond one turn of the wheel
  w.insert(s);
  s.expires = 3000;
  w.update(s);
  w.sweep(2500, (x) => gone.push(x));
  assert.equal(gone.length, 0);
  w.sweep(4000, (x) => gone.push(x));
  assert.deepEqual(gone, [s]);
  assert.equal(w.size, 0);
});

Deno.test("timer wheel: lifetimes longer than one turn expire on time, not before", () => {
  const w = new TimerWheel(1000, 16);
  const host = new Host(0, 0, 0, 1, 0);
  const bib = new Bib(host, 1, 0, 1, 1, 1, false);
  const s = new Session(bib, 1, 1, 1);
  const gone: number[] = [];
  w.sweep(0, () => {});
  s.expires = 50_500;
  w.insert(s);
  for (let now = 1000; now <= 50_000; now += 1000) w.sweep(now, () => gone.push(now));
  assert.equal(gone.length, 0);
  w.sweep(52_000, () => gone.push(52_000));
  assert.deepEqual(gone, [52_000]);
});

Deno.test("pool4: the search for a free port is bounded (maxTries); a full pool fails at once", () => {
  const t = new Nat64Tables({ pool4: [pool4("198.51.100.1/32", 10000, 10999)], seed: 12 });
  for (let p = 0; p < 1000; p++) assert.ok(t.createBib6(P_UDP, H1, 0, 20000 + p, Z, 53, 0));
  assert.equal(t.createBib6(P_UDP, H1, 0, 30000, Z, 53, 0), null, "full");
  const t2 = new Nat64Tables({ pool4: [pool4("198.51.100.1/32", 10000, 10999)], seed: 12 });
  t2.pool4.maxTries = 1;
  let made = 0;
  for (let p = 0; p < 1000; p++) if (t2.createBib6(P_UDP, H1, 0, 20000 + p, Z, 53, 0)) made++;
  assert.ok(made < 1000, `one try per search leaves some ports unused (${made})`);
  assert.ok(made > 100);
});

Deno.test("pool4 use counts only bindings inside the current pool4 (static entries elsewhere, a shrunk pool after reload)", () => {
  const opts = {
    timeouts: DEFAULT_TIMEOUTS,
    maxSessionsPerHost: 0,
    maxPortsPerHost: 0,
    addressDependentFiltering: false,
    staticBib: [staticBib("udp", "198.51.100.1", 7000, "2001:db8::9", 7000)],
  };
  const t = new Nat64Tables({ ...opts, pool4: [pool4("198.51.100.1/32", 61001, 61100)], seed: 4 });
  assert.equal(t.pool4Used[P_UDP], 0, "the static entry's port 7000 is outside the range");
  for (let p = 0; p < 30; p++) assert.ok(t.createBib6(P_UDP, H1, 0, 2000 + p, Z, 53, 0));
  assert.equal(t.pool4Used[P_UDP], 30);
  // Reload with 10 ports: the old bindings live on but do not fill the new pool.
  t.reconfigure(opts, new Pool4([pool4("198.51.100.1/32", 61101, 61110)]));
  assert.equal(t.pool4Used[P_UDP], 0);
  let made = 0;
  for (let p = 0; p < 15; p++) if (t.createBib6(P_UDP, H2, 0, 3000 + p, Z, 53, 0)) made++;
  assert.equal(made, 10, "exactly the new pool's 10 ports");
  assert.equal(t.pool4Used[P_UDP], 10);
  assert.equal(t.bibsByProto[P_UDP], 41);
});
