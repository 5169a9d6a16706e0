// Bad packets written straight into the appliance's TUN (an AF_PACKET socket on the TUN
// sends to its reader, past every kernel check): each is dropped and counted by reason in
// /metrics, the data path never stops, and memory stays flat under a flood.
import assert from "node:assert/strict";
import { whyNoNamespaces } from "../../src/io/netns.ts";
import { ping } from "../../src/lab/checks.ts";
import { LAB, LabTopology, waitFor } from "../../src/lab/topology.ts";
import {
  concatAll,
  icmp4Echo,
  icmp4Error,
  icmp6Echo,
  icmp6Error,
  ipv6,
  udp4,
} from "../../src/packet/build.ts";
import { IPPROTO } from "../../src/packet/proto.ts";

// Reads length-prefixed packets on stdin, sends each on the TUN; prints how many it sent.
const SENDER = `
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
data = sys.stdin.buffer.read()
i = n = 0
while i < len(data):
    (l,) = struct.unpack_from(">H", data, i)
    i += 2
    while True:
        try:
            s.send(data[i:i + l]); break
        except BlockingIOError:
            time.sleep(0.001)
        except OSError as e:
            if e.errno != 105: raise
            time.sleep(0.001)
    i += l
    n += 1
    if n % 64 == 0: time.sleep(0.0005)
print(n)
`;

const v4 = { src: LAB.server4, dst: LAB.client4 };
const v6 = { src: LAB.client6, dst: LAB.server6 };
const echo4 = () => icmp4Echo({ ...v4, ident: 7, seq: 1, payload: "abcdefgh" });
const echo6 = () => icmp6Echo({ ...v6, ident: 7, seq: 1, payload: "abcdefgh" });

interface Category {
  readonly name: string;
  readonly make: (i: number) => Uint8Array;
  /** Reasons the translator may give; every packet must be dropped with one of them. */
  readonly reasons: readonly string[];
  readonly direction: "4to6" | "6to4";
}

const CATEGORIES: Category[] = [
  {
    name: "version nibble 5",
    make: () => {
      const p = echo4();
      p[0] = 0x55;
      return p;
    },
    reasons: ["bad_version"],
    direction: "4to6",
  },
  {
    name: "IPv4 cut to 12 bytes",
    make: () => echo4().slice(0, 12),
    reasons: ["truncated", "bad_header"],
    direction: "4to6",
  },
  {
    name: "IPv4 IHL 3",
    make: () => {
      const p = echo4();
      p[0] = 0x43;
      return p;
    },
    reasons: ["bad_header", "truncated"],
    direction: "4to6",
  },
  {
    name: "IPv4 header checksum wrong (RFC 1812 5.2.2)",
    make: (i) => udp4({ ...v4, sport: 1000 + i, dport: 7, ipChecksum: "bad" }),
    reasons: ["bad_checksum", "bad_header"],
    direction: "4to6",
  },
  {
    name: "IPv4 Total Length past the end",
    make: () => {
      const p = echo4();
      p[2] = 0x05; // 1300-something bytes claimed, 36 present
      return p;
    },
    reasons: ["truncated", "bad_header"],
    direction: "4to6",
  },
  {
    name: "ICMPv4 error with a bad checksum (RFC 7915 4.3: not laundered)",
    make: (i) =>
      icmp4Error({
        ...v4,
        type: 3,
        code: 3,
        inner: udp4({ src: LAB.client4, dst: LAB.server4, sport: 1000 + i, dport: 53 }),
        checksum: "bad",
      }),
    reasons: ["bad_checksum"],
    direction: "4to6",
  },
  {
    name: "IPv4 ICMP fragment (RFC 7915 4.1: fragmented ICMP is not translated)",
    make: (i) => {
      const p = icmp4Echo({ ...v4, ident: i, seq: 1, payload: "abcdefgh", mf: true });
      return p;
    },
    reasons: ["fragmented_icmp"],
    direction: "4to6",
  },
  {
    name: "IPv6 cut to 30 bytes",
    make: () => echo6().slice(0, 30),
    reasons: ["truncated", "bad_header"],
    direction: "6to4",
  },
  {
    name: "IPv6 Payload Length past the end",
    make: () => {
      const p = echo6();
      p[4] = 0x05;
      return p;
    },
    reasons: ["truncated", "bad_header"],
    direction: "6to4",
  },
  {
    name: "ICMPv6 error with a bad checksum",
    make: (i) =>
      icmp6Error({
        ...v6,
        type: 1,
        code: 4,
        inner: echo4Inner6(i),
        checksum: "bad",
      }),
    reasons: ["bad_checksum"],
    direction: "6to4",
  },
  {
    name: "RFC 7915 5.1: Routing header with Segments Left > 0",
    make: (i) =>
      ipv6({
        ...v6,
        proto: IPPROTO.UDP,
        ext: [{ type: "routing", routingType: 0, addresses: [LAB.server6] }],
        payload: new Uint8Array([0, i & 255, 0, 7, 0, 8, 0, 0]),
      }),
    reasons: ["routing_header", "source_route"],
    direction: "6to4",
  },
];

function echo4Inner6(i: number): Uint8Array {
  return icmp6Echo({ src: LAB.server6, dst: LAB.client6, ident: i, seq: 1 });
}

function framed(pkts: Iterable<Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of pkts) parts.push(new Uint8Array([p.length >> 8, p.length & 255]), p);
  return concatAll(parts);
}

/** Valid packets with random bytes flipped, and random junk with a 4 or 6 version nibble. */
function* floodPackets(n: number, seed: number): Generator<Uint8Array> {
  let s = seed >>> 0;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const templates = [
    echo4(),
    echo6(),
    udp4({ ...v4, sport: 9, dport: 9, payload: "x".repeat(64) }),
  ];
  for (let i = 0; i < n; i++) {
    let p: Uint8Array;
    if (rnd() < 0.5) {
      p = templates[i % templates.length].slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) p[Math.floor(rnd() * p.length)] = Math.floor(rnd() * 256);
      if (rnd() < 0.3) p = p.slice(0, Math.floor(rnd() * p.length) + 1);
    } else {
      p = new Uint8Array(1 + Math.floor(rnd() * 200));
      for (let k = 0; k < p.length; k++) p[k] = Math.floor(rnd() * 256);
      p[0] = (rnd() < 0.5 ? 0x40 : 0x60) | (p[0] & 15);
    }
    yield p;
  }
}

async function send(lab: LabTopology, pkts: Iterable<Uint8Array>): Promise<number> {
  const out = await lab.xlat.run(["/usr/bin/python3", "-c", SENDER, LAB.tun], {
    stdin: framed(pkts),
    timeoutMs: 60_000,
  });
  return Number(out.trim());
}

/** Packets the translator took in: IP packets counted by direction plus bad versions. */
function handled(m: Map<string, number>): number {
  const g = (k: string) => m.get(k) ?? 0;
  return g(`xlat64_packets_total{direction="4to6",stage="in"}`) +
    g(`xlat64_packets_total{direction="6to4",stage="in"}`) +
    g(`xlat64_drops_total{direction="4to6",reason="bad_version"}`);
}

async function tunTx(lab: LabTopology): Promise<{ packets: number; dropped: number }> {
  const j = JSON.parse(await lab.xlat.run(["ip", "-s", "-j", "link", "show", LAB.tun]));
  return { packets: j[0].stats64.tx.packets, dropped: j[0].stats64.tx.dropped };
}

Deno.test({
  name:
    "malformed packets into the TUN: dropped and counted by reason, no crash, RSS flat (needs root)",
  ignore: whyNoNamespaces() !== null,
  async fn(t) {
    const lab = new LabTopology({ tag: "x64bad", agents: false });
    try {
      await lab.build();
      await lab.startAppliance();
      await lab.quiet();

      for (const c of CATEGORIES) {
        await t.step(`${c.name}: 100 dropped as ${c.reasons.join(" or ")}`, async () => {
          const N = 100;
          const before = await lab.metrics();
          const sent = await send(lab, Array.from({ length: N }, (_, i) => c.make(i)));
          assert.equal(sent, N);
          let after = before;
          await waitFor(async () => {
            after = await lab.metrics();
            return handled(after) - handled(before) >= N;
          }, 5000);
          assert.equal(handled(after) - handled(before), N, "every packet reached the translator");
          const deltas = new Map<string, number>();
          for (const [k, v] of after) {
            const m = /^xlat64_drops_total\{direction="(.+)",reason="(.+)"\}$/.exec(k);
            const d = v - (before.get(k) ?? 0);
            if (m && d > 0) deltas.set(`${m[1]}/${m[2]}`, d);
          }
          const total = [...deltas.values()].reduce((a, b) => a + b, 0);
          assert.equal(total, N, `drops ${JSON.stringify([...deltas])}`);
          for (const key of deltas.keys()) {
            const [dir, reason] = key.split("/");
            assert.equal(dir, c.direction, key);
            assert.ok(c.reasons.includes(reason), `unexpected reason ${key}`);
          }
          const out = (k: string) =>
            (after.get(`xlat64_packets_total{direction="${k}",stage="out"}`) ?? 0) -
            (before.get(`xlat64_packets_total{direction="${k}",stage="out"}`) ?? 0);
          assert.equal(out("4to6") + out("6to4"), 0, "nothing malformed was translated");
        });
      }

      await t.step(
        "a flood of 60k mutated and random packets: alive, counted, RSS flat",
        async () => {
          const m0 = await lab.metrics();
          const tx0 = await tunTx(lab);
          assert.equal(await send(lab, floodPackets(20_000, 1)), 20_000);
          await lab.quiet();
          const rss1 = await lab.applianceRssKiB();
          assert.equal(await send(lab, floodPackets(40_000, 2)), 40_000);
          await lab.quiet();
          const rss2 = await lab.applianceRssKiB();
          const m1 = await lab.metrics();
          const tx1 = await tunTx(lab);

          assert.equal(lab.appliance?.exited, false, lab.appliance?.output());
          assert.equal(await lab.statusGet("/healthz"), "ok");
          // Every packet the TUN handed over was looked at. The kernel may drop some when the
          // queue is full (and counts them); the few flood packets that stay valid get
          // translated and answered, and the answers come back through the TUN too.
          const delivered = tx1.packets - tx0.packets;
          assert.ok(delivered + (tx1.dropped - tx0.dropped) >= 60_000);
          assert.equal(handled(m1) - handled(m0), delivered);
          const drops = (m: Map<string, number>) =>
            [...m].filter(([k]) => k.startsWith("xlat64_drops_total")).reduce(
              (a, [, v]) => a + v,
              0,
            );
          assert.ok(drops(m1) - drops(m0) > delivered / 2, "most of the flood is dropped");
          assert.ok(rss1 !== null && rss2 !== null);
          assert.ok(rss2 - rss1 < 16 * 1024, `RSS grew from ${rss1} to ${rss2} KiB`);
          console.log(
            `flood: ${delivered} delivered, ${tx1.dropped - tx0.dropped} dropped by the kernel, ` +
              `${drops(m1) - drops(m0)} dropped by xlat64; RSS ${rss1} -> ${rss2} KiB`,
          );
          const p = await ping(lab.client, LAB.server6, { count: 2 });
          assert.equal(p.received, 2, `valid packets still cross after the flood\n${p.output}`);
        },
      );
    } finally {
      await lab.cleanup();
    }
  },
});
