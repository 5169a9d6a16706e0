// The CLAT engine (RFC 6877) in both variants over built packets and a virtual clock.
import assert from "node:assert/strict";
import { formatIPv6, parseIPv4, parseIPv6, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import * as build from "../../src/packet/build.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";
import { Clat } from "../../src/clat/engine.ts";
import { clampMss } from "../../src/clat/mss.ts";
import type { ClatEngineOptions, ClatOptions } from "../../src/clat/options.ts";
import { Stats } from "../../src/xlat/stats.ts";
import { options } from "./xlat_helpers.ts";
import { read4, read6 } from "./nat64_engine_helpers.ts";
import { nat64Section } from "../fixtures/options.ts";

const PLAT = "2001:db8:64::";
const PLAT2 = "2001:db8:6464::";
const TP = "2001:db8:c1a7::";
const CLAT6 = "2001:db8:a::c1a7";
const SERVER = "198.51.100.7";
const canon = (s: string) => formatIPv6(parseIPv6(s));

function clatOptions(c: Partial<ClatOptions>, plat = PLAT): ClatEngineOptions {
  return {
    ...options({ pool6: parsePrefix6(`${plat}/96`), rfc6791v4: null }),
    clat: {
      ipv4Address: parseIPv4("192.0.0.1"),
      translationPrefix: null,
      ipv6Address: null,
      lan4: [parsePrefix4("192.0.0.0/29")],
      nat44: nat64Section({ dropExternallyInitiatedTcp: true, maxHeldSyns: 0 }),
      mssClamp: 1440,
      ...c,
    },
  };
}

class H {
  readonly stats = new Stats();
  readonly e: Clat;
  readonly out = new PacketBatch(64);
  constructor(o: ClatEngineOptions) {
    this.e = new Clat(o, this.stats, { seed: 7, icmpRate: { perSecond: 1e9, burst: 1e9 } });
  }
  run(p: Uint8Array, now = 0): Uint8Array[] {
    this.out.clear();
    this.e.translate(p, p.length, this.out, now);
    return this.out.packets();
  }
  one(p: Uint8Array, now = 0): Uint8Array {
    const r = this.run(p, now);
    assert.equal(r.length, 1, "one packet out");
    return r[0];
  }
}

const dedicated = () => clatOptions({ translationPrefix: parsePrefix6(`${TP}/64`) });
const single = () => clatOptions({ ipv6Address: parseIPv6(CLAT6) });
const udp4 = (src: string, sport: number, dst = SERVER, dport = 53) =>
  build.udp4({ src, dst, sport, dport, payload: "q" });

Deno.test("RFC 6877 6.3: dedicated prefix: each LAN address maps into the /64, destinations into the PLAT prefix", () => {
  const h = new H(dedicated());
  const o = read6(h.one(udp4("192.0.0.2", 5000)));
  assert.equal(o.src, canon(`${TP}192.0.0.2`));
  assert.equal(o.dst, canon(`${PLAT}${SERVER}`));
  assert.equal(o.sport, 5000, "stateless: the port is kept");
  const o2 = read6(h.one(udp4("192.0.0.3", 5000)));
  assert.equal(o2.src, canon(`${TP}192.0.0.3`));
  const back = build.udp6({
    src: `${PLAT}${SERVER}`,
    dst: `${TP}192.0.0.2`,
    sport: 53,
    dport: 5000,
  });
  const r = read4(h.one(back));
  assert.equal(r.src, SERVER);
  assert.equal(r.dst, "192.0.0.2");
  assert.equal(r.dport, 5000);
});

Deno.test("dedicated prefix: IPv4 sources outside the LAN prefixes are dropped, not embedded", () => {
  const h = new H(dedicated());
  assert.equal(h.run(udp4("10.9.9.9", 5000)).length, 0);
  assert.equal(h.stats.drops("untranslatable_src", false), 1);
});

Deno.test("RFC 8683 4.9 / RFC 7757: an explicit mapping sends a dual-stack destination natively over IPv6", () => {
  for (const o of [dedicated(), single()]) {
    const h = new H({
      ...o,
      eam: [{ ipv4: parsePrefix4("203.0.113.5/32"), ipv6: parsePrefix6("2001:db8:5::5/128") }],
    });
    const out = read6(h.one(udp4("192.0.0.2", 6000, "203.0.113.5")));
    assert.equal(out.dst, canon("2001:db8:5::5"), "no NAT64 prefix");
    const other = read6(h.one(udp4("192.0.0.2", 6001)));
    assert.equal(other.dst, canon(`${PLAT}${SERVER}`));
  }
});

Deno.test("RFC 8683 4.8: single address: NAT44 onto the CLAT IPv4 address, then NAT46 onto the one IPv6 address", () => {
  const h = new H(single());
  const a = read6(h.one(udp4("192.0.0.2", 5000)));
  const b = read6(h.one(udp4("192.0.0.3", 5000)));
  for (const o of [a, b]) {
    assert.equal(o.src, canon(CLAT6));
    assert.equal(o.dst, canon(`${PLAT}${SERVER}`));
  }
  assert.notEqual(a.sport, b.sport, "two clients, two ports on the one address");
  const reply = (dport: number) =>
    build.udp6({ src: `${PLAT}${SERVER}`, dst: CLAT6, sport: 53, dport, payload: "a" });
  const ra = read4(h.one(reply(a.sport)));
  assert.equal(ra.dst, "192.0.0.2");
  assert.equal(ra.dport, 5000);
  assert.equal(ra.src, SERVER);
  const rb = read4(h.one(reply(b.sport)));
  assert.equal(rb.dst, "192.0.0.3");
  // Unsolicited inbound traffic finds no binding.
  assert.equal(
    h.run(reply(a.sport === 40000 ? 40001 : 40000)).filter((p) => p[0] >> 4 === 4).length,
    0,
  );
});

Deno.test("single address: TCP handshake and ICMP echo through the NAT44", () => {
  const h = new H(single());
  const syn = read6(
    h.one(
      build.tcp4({ src: "192.0.0.2", dst: SERVER, sport: 40000, dport: 80, flags: TCP_FLAG.SYN }),
    ),
  );
  assert.equal(syn.src, canon(CLAT6));
  const synAck = build.tcp6({
    src: `${PLAT}${SERVER}`,
    dst: CLAT6,
    sport: 80,
    dport: syn.sport,
    flags: TCP_FLAG.SYN | TCP_FLAG.ACK,
  });
  const r = read4(h.one(synAck));
  assert.equal(r.dst, "192.0.0.2");
  assert.equal(r.dport, 40000);
  const p = h.one(build.icmp4Echo({ src: "192.0.0.2", dst: SERVER, ident: 77, seq: 1 }));
  const ping = read6(p);
  assert.equal(ping.src, canon(CLAT6));
  const ident = (p[ping.l4 + 4] << 8) | p[ping.l4 + 5];
  const pong = build.icmp6Echo({ src: `${PLAT}${SERVER}`, dst: CLAT6, ident, seq: 1, reply: true });
  const back = h.one(pong);
  assert.equal(back[0] >> 4, 4);
  assert.equal((back[24] << 8) | back[25], 77, "echo id restored");
});

Deno.test("a new PLAT prefix applies in place and single-address NAT44 bindings survive it", () => {
  const h = new H(single());
  const a = read6(h.one(udp4("192.0.0.2", 5000)));
  h.e.reconfigure(clatOptions({ ipv6Address: parseIPv6(CLAT6) }, PLAT2));
  const b = read6(h.one(udp4("192.0.0.2", 5000)));
  assert.equal(b.dst, canon(`${PLAT2}${SERVER}`));
  assert.equal(b.sport, a.sport, "same binding");
  const r = read4(
    h.one(build.udp6({ src: `${PLAT2}${SERVER}`, dst: CLAT6, sport: 53, dport: a.sport })),
  );
  assert.equal(r.dst, "192.0.0.2");
  // The old prefix is no longer translated.
  const old = build.udp6({ src: `${PLAT}${SERVER}`, dst: CLAT6, sport: 53, dport: a.sport });
  assert.equal(h.run(old).filter((p) => p[0] >> 4 === 4).length, 0);
});

Deno.test("MSS of translated SYNs is clamped to the IPv6 path (RFC 8683 4.8), checksum kept valid", () => {
  const h = new H(dedicated());
  const syn = build.tcp4({
    src: "192.0.0.2",
    dst: SERVER,
    sport: 40000,
    dport: 80,
    flags: TCP_FLAG.SYN,
    tcpOptions: [2, 4, 0x05, 0xb4, 1, 1, 1, 0], // MSS 1460
  });
  const o = h.one(syn);
  const s = read6(o); // checks the checksum
  assert.equal((o[s.l4 + 22] << 8) | o[s.l4 + 23], 1440);
  assert.equal(clampMss(o, o.length, 1500), false, "larger limit: unchanged");
});

Deno.test("reconfigure with unusable options changes nothing", () => {
  const h = new H(single());
  const bad = clatOptions({ ipv6Address: null });
  assert.throws(() => h.e.reconfigure(bad));
  assert.equal(read6(h.one(udp4("192.0.0.2", 5000))).src, canon(CLAT6));
});

Deno.test("single address: an ICMPv6 error about an outbound flow reaches the client as ICMPv4 about its own packet (RFC 7915 4.2/5.2 through the NAT44)", () => {
  const h = new H(single());
  const out = h.one(udp4("192.0.0.2", 5000));
  const o = read6(out);
  // The server side answers Port Unreachable (ICMPv6 type 1 code 4) quoting our packet.
  const err = build.icmp6Error({
    src: `${PLAT}${SERVER}`,
    dst: CLAT6,
    type: 1,
    code: 4,
    inner: out,
  });
  const back = h.one(err);
  const e = read4(back);
  assert.equal(e.proto, 1);
  assert.equal(e.src, SERVER);
  assert.equal(e.dst, "192.0.0.2");
  assert.equal(back[e.l4], 3, "ICMPv4 Destination Unreachable");
  assert.equal(back[e.l4 + 1], 3, "Port Unreachable");
  // The quoted packet is the client's own: its address and port, not the NAT44's.
  const inner = back.subarray(e.l4 + 8);
  assert.equal(inner[0] >> 4, 4);
  assert.deepEqual([...inner.subarray(12, 16)], [192, 0, 0, 2]);
  assert.equal((inner[20] << 8) | inner[21], 5000);
  assert.notEqual(o.sport, 0);
});

/** A 1428-byte IPv4 UDP packet with DF from a LAN client: too big for a 1280 IPv6 path. */
const bigDf = () =>
  build.udp4({
    src: "192.0.0.2",
    dst: SERVER,
    sport: 5000,
    dport: 53,
    df: true,
    payload: new Uint8Array(1400),
  });

Deno.test("dedicated prefix: a too-big IPv4 packet with DF gets Fragmentation Needed with the IPv6 MTU less 20 (RFC 7915 4)", () => {
  const h = new H({ ...dedicated(), ipv6Mtu: 1280 });
  const r = h.run(bigDf());
  assert.equal(r.length, 1);
  const e = read4(r[0]);
  assert.equal(e.dst, "192.0.0.2");
  assert.equal(r[0][e.l4], 3);
  assert.equal(r[0][e.l4 + 1], 4);
  assert.equal((r[0][e.l4 + 6] << 8) | r[0][e.l4 + 7], 1260);
});

Deno.test("single address: Fragmentation Needed for the IPv6 path goes back through the NAT44 to the client, not to the CLAT address", () => {
  const h = new H({ ...single(), ipv6Mtu: 1280 });
  const r = h.run(bigDf());
  assert.equal(r.length, 1);
  const e = read4(r[0]);
  assert.equal(e.dst, "192.0.0.2", "to the client");
  assert.equal(r[0][e.l4], 3);
  assert.equal(r[0][e.l4 + 1], 4);
  assert.equal((r[0][e.l4 + 6] << 8) | r[0][e.l4 + 7], 1260);
  const inner = r[0].subarray(e.l4 + 8);
  assert.deepEqual([...inner.subarray(12, 16)], [192, 0, 0, 2], "quoting the client's packet");
  assert.equal((inner[20] << 8) | inner[21], 5000);
});

Deno.test("dedicated prefix: the CLAT's own IPv4 address is always mapped, next to the configured LAN", async () => {
  const { lanPrefixes } = await import("../../src/clat/options.ts");
  const { parseConfig } = await import("../../src/config/load.ts");
  const base = `mode = "clat"\n[clat]\ntranslation-prefix = "${TP}/64"\n`;
  const show = (t: string) =>
    lanPrefixes(parseConfig(`${base}${t}[dns]\nlisten = []\n`, "t.toml")).map((p) =>
      `${p.addr >>> 24}.${(p.addr >>> 16) & 255}.${(p.addr >>> 8) & 255}.${p.addr & 255}/${p.len}`
    );
  assert.deepEqual(show(""), ["192.0.0.0/29"]);
  assert.deepEqual(show(`lan = ["192.168.77.0/24"]\n`), ["192.168.77.0/24", "192.0.0.1/32"]);
  assert.deepEqual(show(`lan = ["192.0.0.0/24"]\n`), ["192.0.0.0/24"]);
});
