// The DNS fast path (DESIGN.md principle 3): a Worker that owns the UDP listening sockets
// through the shim, drains them with recvmmsg, answers cache hits straight from
// pre-encoded responses (ID, question case and TTLs patched) and sends them with one
// sendmmsg per batch.
// Workers get no unstable APIs (Deno.listenDatagram), so misses are handed to the main
// thread, which answers them and copies what it caches back here.
/// <reference lib="deno.worker" />
import type { IpAddr } from "./acl.ts";
import { buildCore } from "./core.ts";
import { ADDR_SLOT, dnsShim, MAX_BATCH, openUdp, UdpBatch } from "./fastpath_ffi.ts";
import type { Dns64Options, DnsOptions, HostPort } from "./options.ts";

export type ToWorker =
  | { kind: "start"; dns: DnsOptions; dns64: Dns64Options }
  | { kind: "stop" }
  /** The slow path's answer to a forwarded miss (null: send nothing). */
  | { kind: "answer"; seq: number; resp: Uint8Array | null }
  /** A response the main thread cached: the fast path caches it too. */
  | { kind: "store"; hash: number; bits: number; qEnd: number; resp: Uint8Array; ttl: number };
export type FromWorker =
  | { kind: "ready"; addresses: HostPort[] }
  /** A cache miss for the main thread's slow path (Deno sockets to the upstreams). */
  | { kind: "query"; seq: number; q: Uint8Array; client: IpAddr | null; clientKey: string }
  | { kind: "error"; message: string }
  | { kind: "metrics"; snapshot: ReturnType<ReturnType<typeof buildCore>["metrics"]["snapshot"]> }
  | { kind: "stopped" };

const AF_INET = 2;
const AF_INET6 = 10;
const SLOT = 4096; // bigger queries are rare; they arrive truncated and are ignored

let running = false;

// A macrotask turn without setTimeout, whose nested calls are clamped to 4 ms.
const channel = new MessageChannel();
let wake: () => void = () => {};
channel.port1.onmessage = () => wake();
const yieldToEventLoop = (): Promise<void> =>
  new Promise((r) => {
    wake = r;
    channel.port2.postMessage(0);
  });
let onAnswer: (seq: number, resp: Uint8Array | null) => void = () => {};
let onStore: (m: Extract<ToWorker, { kind: "store" }>) => void = () => {};

/** Reused client addresses, so the hit path allocates nothing for them. */
const v4Client: { v: 4; a: number } = { v: 4, a: 0 };
const v6Client: { v: 6; a: Uint8Array } = { v: 6, a: new Uint8Array(16) };

function clientOf(addrs: Uint8Array, i: number): IpAddr | null {
  const off = i * ADDR_SLOT;
  const fam = addrs[off] | (addrs[off + 1] << 8);
  if (fam === AF_INET) {
    v4Client.a =
      ((addrs[off + 4] << 24) | (addrs[off + 5] << 16) | (addrs[off + 6] << 8) | addrs[off + 7]) >>>
      0;
    return v4Client;
  }
  if (fam === AF_INET6) {
    for (let k = 0; k < 16; k++) v6Client.a[k] = addrs[off + 8 + k];
    return v6Client;
  }
  return null;
}

/** A copy that outlives the batch, and the per-client key for the rate limiter. */
function clientCopy(ip: IpAddr | null): [IpAddr | null, string] {
  if (!ip) return [null, "?"];
  if (ip.v === 4) return [{ v: 4, a: ip.a }, String(ip.a)];
  const a = ip.a.slice();
  return [{ v: 6, a }, a.join(",")];
}

async function serve(dns: DnsOptions, dns64: Dns64Options): Promise<void> {
  const core = buildCore(dns, dns64);
  const fds: number[] = [];
  const addresses: HostPort[] = [];
  try {
    for (const l of dns.listen) {
      const fd = openUdp(l.host, l.port);
      fds.push(fd);
      addresses.push({ host: l.host, port: dnsShim().xs_dns_local_port(fd) });
    }
  } catch (e) {
    for (const fd of fds) dnsShim().xs_dns_close(fd);
    self.postMessage({ kind: "error", message: String(e) } satisfies FromWorker);
    return;
  }
  running = true;
  self.postMessage({ kind: "ready", addresses } satisfies FromWorker);
  const fdList = Int32Array.from(fds);
  const rx = new UdpBatch(SLOT);
  const tx = new UdpBatch(65535 > SLOT ? 65535 : SLOT);
  // Slow-path answers waiting to be sent: [fd, addr bytes, response].
  const later: [number, Uint8Array, Uint8Array][] = [];
  const waiting = new Map<number, [number, Uint8Array]>();
  let seq = 0;
  onAnswer = (s, resp) => {
    const w = waiting.get(s);
    waiting.delete(s);
    if (w && resp && resp.length <= tx.slot) later.push([w[0], w[1], resp]);
  };
  onStore = (st) => core.responses.putKeyed(st.hash, st.bits, st.qEnd, st.resp, st.ttl, Date.now());
  const h = core.handler;
  const m = core.metrics;
  const report = setInterval(() => {
    core.metrics.cacheEntries = core.messages.lru.size + core.responses.size;
    self.postMessage({ kind: "metrics", snapshot: m.snapshot() } satisfies FromWorker);
  }, 500);

  const flushLater = (): void => {
    while (later.length > 0) {
      const n = Math.min(later.length, MAX_BATCH);
      for (let k = 0; k < n; k++) {
        const [fd, addr, resp] = later[k];
        // Group by fd: send what we have when the fd changes.
        if (k > 0 && later[k - 1][0] !== fd) {
          tx.count = k;
          tx.send(later[k - 1][0]);
          later.splice(0, k);
          return flushLater();
        }
        tx.buf.set(resp, k * tx.slot);
        tx.lens[k] = resp.length;
        tx.addrs.set(addr, k * ADDR_SLOT);
      }
      const fd = later[0][0];
      tx.count = n;
      tx.send(fd);
      later.splice(0, n);
    }
  };

  let busyRounds = 0;
  while (running) {
    let got = 0;
    for (const fd of fds) {
      const n = rx.recv(fd);
      if (n <= 0) continue;
      got += n;
      tx.count = 0;
      const now = Date.now();
      for (let i = 0; i < n; i++) {
        const len = rx.lens[i];
        tx.lens[i] = -1;
        if (len < 0) continue;
        const q = rx.slots[i];
        const ip = clientOf(rx.addrs, i);
        const out = tx.slots[i];
        const w = ip ? h.answerCached(q, len, ip, "udp", out, now) : 0;
        if (w > 0) {
          tx.lens[i] = w;
          for (let k = i * ADDR_SLOT; k < (i + 1) * ADDR_SLOT; k++) tx.addrs[k] = rx.addrs[k];
          m.fastPathAnswers++;
          continue;
        }
        const s = seq++;
        const [client, clientKey] = clientCopy(ip);
        waiting.set(s, [fd, rx.addrs.slice(i * ADDR_SLOT, (i + 1) * ADDR_SLOT)]);
        if (waiting.size > 65536) waiting.delete(waiting.keys().next().value!);
        self.postMessage(
          { kind: "query", seq: s, q: q.slice(0, len), client, clientKey } satisfies FromWorker,
        );
      }
      tx.count = n;
      tx.send(fd);
    }
    flushLater();
    if (got === 0) {
      if (waiting.size === 0) {
        // Nothing in flight: block right here (cheapest wake-up), look at messages on timeout.
        if (dnsShim().xs_dns_wait_sync(fdList, fdList.length, 5) <= 0) await yieldToEventLoop();
      } else {
        // Misses in flight: wait on a Deno thread so their answers can arrive meanwhile.
        await dnsShim().xs_dns_wait(fdList, fdList.length, 5);
      }
    } else if (waiting.size > 0 || ++busyRounds % 64 === 0) {
      await yieldToEventLoop();
    }
  }
  clearInterval(report);
  self.postMessage({ kind: "metrics", snapshot: m.snapshot() } satisfies FromWorker);
  for (const fd of fds) dnsShim().xs_dns_close(fd);
  self.postMessage({ kind: "stopped" } satisfies FromWorker);
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.kind === "start") {
    serve(msg.dns, msg.dns64).catch((err) => {
      self.postMessage({ kind: "error", message: String(err) } satisfies FromWorker);
    });
  } else if (msg.kind === "stop") {
    running = false;
  } else if (msg.kind === "answer") onAnswer(msg.seq, msg.resp);
  else if (msg.kind === "store") onStore(msg);
};
