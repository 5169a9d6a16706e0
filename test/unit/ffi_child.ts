// Runs inside a fresh network namespace for ffi_test.ts (`ip netns exec NS deno run -A
// test/unit/ffi_child.ts SCENARIO`) and prints one JSON line of observations.
import {
  bindBatch,
  closeFd,
  dropCaps,
  icmp6Open,
  icmp6Recv,
  icmp6RecvAsync,
  icmp6Send,
  ifIndex,
  readBatch,
  ShimError,
  tunOpen,
  tunOpenQueues,
  writeBatch,
} from "../../src/io/ffi.ts";
import { TunDevice } from "../../src/io/tun.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import { checksum } from "../../src/packet/checksum.ts";

const ip = async (...args: string[]) => {
  const r = await new Deno.Command("ip", { args, stderr: "piped" }).output();
  if (!r.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
};

/** IPv4/UDP packet from 10.99.0.2:sport to 10.99.0.1:dport carrying `payload`. */
function udp4(out: Uint8Array, sport: number, dport: number, payload: Uint8Array): number {
  const len = 28 + payload.length;
  const dv = new DataView(out.buffer, out.byteOffset, len);
  out.fill(0, 0, 28);
  dv.setUint8(0, 0x45);
  dv.setUint16(2, len);
  dv.setUint16(6, 0x4000);
  dv.setUint8(8, 64);
  dv.setUint8(9, 17);
  out.set([10, 99, 0, 2, 10, 99, 0, 1], 12);
  dv.setUint16(10, checksum(out, 0, 20));
  dv.setUint16(20, sport);
  dv.setUint16(22, dport);
  dv.setUint16(24, 8 + payload.length);
  out.set(payload, 28); // UDP checksum 0: allowed over IPv4
  return len;
}

async function setup(name: string, queues: number): Promise<TunDevice> {
  await ip("link", "set", "lo", "up");
  const tun = TunDevice.open({ name, queues, mtu: 1500 });
  // No IPv6 on the TUN: no router solicitations or MLD reports to read by surprise.
  await Deno.writeTextFile(`/proc/sys/net/ipv6/conf/${tun.name}/disable_ipv6`, "1");
  tun.configure(1400);
  await ip("addr", "add", "10.99.0.1/24", "dev", tun.name);
  return tun;
}

async function batch() {
  const tun = await setup("xs-t0", 1);
  const fd = tun.fds[0];
  const inB = bindBatch(new PacketBatch(64, 2048));
  const outB = bindBatch(new PacketBatch(64, 2048));
  // Idle queue: read_batch waits for its timeout and returns 0.
  const t0 = performance.now();
  const idle = readBatch(fd, inB, 150);
  const idleMs = performance.now() - t0;

  // TUN -> kernel -> UDP socket.
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "10.99.0.1", port: 5555 });
  const enc = new TextEncoder();
  const N = 20;
  outB.batch.clear();
  for (let i = 0; i < N; i++) {
    outB.batch.commit(
      udp4(outB.batch.slots[outB.batch.reserve()], 4000 + i, 5555, enc.encode(`pkt ${i}`)),
    );
  }
  const written = writeBatch(fd, outB);
  const got: string[] = [];
  for (let i = 0; i < N; i++) {
    const [data] = await sock.receive();
    got.push(new TextDecoder().decode(data));
  }
  // UDP socket -> kernel -> TUN: all M queued before the first read, so one call drains them.
  const M = 30;
  for (let i = 0; i < M; i++) {
    await sock.send(enc.encode(`out ${i}`), { transport: "udp", hostname: "10.99.0.7", port: 9 });
  }
  const counts: number[] = [];
  let total = 0;
  const payloads: string[] = [];
  while (total < M) {
    const n = readBatch(fd, inB, 500);
    if (n === 0) break;
    counts.push(n);
    for (let i = 0; i < n; i++) {
      const s = inB.batch.slots[i];
      if (s[0] >> 4 === 4 && s[9] === 17 && s[19] === 7) {
        payloads.push(new TextDecoder().decode(s.subarray(28, inB.batch.lens[i])));
      }
    }
    total += n;
  }
  // A packet that is neither IPv4 nor IPv6 is refused by the kernel; the rest of the batch
  // still goes out and the return value says how many did.
  outB.batch.clear();
  for (let i = 0; i < 3; i++) {
    outB.batch.commit(
      udp4(outB.batch.slots[outB.batch.reserve()], 4100 + i, 5555, enc.encode(`m${i}`)),
    );
  }
  outB.batch.slots[1][0] = 0x00;
  const writtenMixed = writeBatch(fd, outB);
  const gotMixed: string[] = [];
  for (let i = 0; i < 2; i++) gotMixed.push(new TextDecoder().decode((await sock.receive())[0]));
  sock.close();
  tun.close();
  return { idle, idleMs, written, got, counts, payloads, name: tun.name, writtenMixed, gotMixed };
}

async function multiqueue() {
  const tun = await setup("xs-mq", 2);
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "10.99.0.1", port: 0 });
  const enc = new TextEncoder();
  // Distinct flows (ports) so the kernel spreads them over the queues.
  const socks = Array.from(
    { length: 32 },
    () => Deno.listenDatagram({ transport: "udp", hostname: "10.99.0.1", port: 0 }),
  );
  for (const s of socks) {
    for (let k = 0; k < 2; k++) {
      await s.send(enc.encode("x"), { transport: "udp", hostname: "10.99.0.9", port: 7 });
    }
  }
  const perQueue = tun.fds.map((fd) => {
    const b = bindBatch(new PacketBatch(128, 2048));
    let n = 0;
    for (;;) {
      const r = readBatch(fd, b, 100);
      if (r === 0) break;
      n += r;
    }
    return n;
  });
  // Writing a batch on the second queue works too.
  const outB = bindBatch(new PacketBatch(4, 2048));
  const port = (sock.addr as Deno.NetAddr).port;
  for (let i = 0; i < 4; i++) {
    outB.batch.commit(udp4(outB.batch.slots[i], 6000 + i, port, enc.encode("q1")));
  }
  const written = writeBatch(tun.fds[1], outB);
  let recv = 0;
  for (let i = 0; i < 4; i++) {
    await sock.receive();
    recv++;
  }
  for (const s of socks) s.close();
  sock.close();
  tun.close();
  return { perQueue, written, recv };
}

function errorOf(f: () => unknown): { message: string; errno: number } | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof ShimError) return { message: e.message, errno: e.errno };
    return { message: String(e), errno: -1 };
  }
}

async function errors() {
  const badName = errorOf(() => tunOpen("bad name", false));
  const longName = errorOf(() => tunOpen("a-very-long-interface-name", false));
  // A single-queue TUN exists; attaching a multi-queue one with that name fails.
  const first = tunOpenQueues("xs-busy", 1);
  const busy = errorOf(() => tunOpen("xs-busy", true));
  const threads = dropCaps([]);
  const capEff: string[] = [];
  for await (const t of Deno.readDir("/proc/self/task")) {
    const st = await Deno.readTextFile(`/proc/self/task/${t.name}/status`);
    capEff.push(st.match(/^CapEff:\s*(\S+)/m)![1]);
  }
  const denied = errorOf(() => tunOpen("xs-denied", false));
  void first;
  return { badName, longName, busy, threads, capEff, denied };
}

async function keepNetAdmin() {
  const threads = dropCaps(["NET_ADMIN"]);
  const caps: string[] = [];
  for await (const t of Deno.readDir("/proc/self/task")) {
    const st = await Deno.readTextFile(`/proc/self/task/${t.name}/status`);
    caps.push(`${st.match(/^CapEff:\s*(\S+)/m)![1]}/${st.match(/^CapBnd:\s*(\S+)/m)![1]}`);
  }
  // A TUN can still be made, and `ip` (exec'd as root) can still change links.
  const tun = TunDevice.open({ name: "xs-keep", queues: 1, mtu: 1500 });
  let ipOk = true;
  try {
    await ip("link", "set", tun.name, "up");
  } catch {
    ipOk = false;
  }
  // But not more than CAP_NET_ADMIN: reading /etc/shadow-like root-only files needs
  // CAP_DAC_READ_SEARCH only for files we do not own, so probe a capability instead:
  // changing the hostname needs CAP_SYS_ADMIN.
  const r = await new Deno.Command("hostname", { args: ["xs-should-fail"], stderr: "null" })
    .output();
  tun.close();
  return { threads, caps, ipOk, hostnameOk: r.success };
}

async function icmp6() {
  await ip("link", "set", "lo", "up");
  await Deno.writeTextFile("/proc/sys/net/ipv6/conf/default/accept_dad", "0");
  await Deno.writeTextFile("/proc/sys/net/ipv6/conf/all/accept_dad", "0");
  // No kernel Router Solicitations: the socket would hear them too.
  await Deno.writeTextFile("/proc/sys/net/ipv6/conf/default/router_solicitations", "0");
  await ip("link", "add", "xv0", "type", "veth", "peer", "name", "xv1");
  await ip("link", "set", "xv0", "up");
  await ip("link", "set", "xv1", "up");
  await new Promise((r) => setTimeout(r, 300)); // link-local addresses appear
  const tx = icmp6Open("xv0");
  const rx = icmp6Open("xv1");
  const allNodes = new Uint8Array(16);
  allNodes.set([0xff, 0x02]);
  allNodes[15] = 1;
  // An echo request (type 128) is filtered out; an RA (type 134) gets through.
  const echo = new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]);
  const ra = new Uint8Array(16);
  ra.set([134, 0, 0, 0, 64, 0, 0x07, 0x08]);
  const idx = ifIndex("xv0");
  const sentEcho = icmp6Send(tx, echo, allNodes, idx);
  const sentRa = icmp6Send(tx, ra, allNodes, idx);
  const buf = new Uint8Array(1500);
  const got = icmp6Recv(rx, buf, 1000);
  const again = icmp6Recv(rx, buf.subarray(0), 200);
  const asyncTimeout = await icmp6RecvAsync(rx, buf, 100);
  closeFd(tx);
  closeFd(rx);
  return {
    sentEcho,
    sentRa,
    type: got ? buf[0] : -1,
    len: got?.len ?? -1,
    lifetime: got ? (buf[6] << 8) | buf[7] : -1,
    hopLimit: got?.meta.hopLimit ?? -1,
    srcLinkLocal: got ? got.meta.src[0] === 0xfe && (got.meta.src[1] & 0xc0) === 0x80 : false,
    ifindexOk: got ? got.meta.ifindex === ifIndex("xv1") : false,
    again: again === null,
    asyncTimeout: asyncTimeout === null,
  };
}

const scenario = Deno.args[0];
const result = scenario === "batch"
  ? await batch()
  : scenario === "multiqueue"
  ? await multiqueue()
  : scenario === "errors"
  ? await errors()
  : scenario === "keep"
  ? await keepNetAdmin()
  : scenario === "icmp6"
  ? await icmp6()
  : (() => {
    throw new Error(`unknown scenario ${scenario}`);
  })();
console.log(JSON.stringify(result));
