// Runs inside a fresh network namespace for worker_test.ts: a WorkerPool with the stub
// engine over a real TUN (1 or 2 queues), traffic through it, reconfigure, stop.
import { TunDevice } from "../../src/io/tun.ts";
import { WorkerPool } from "../../src/io/worker_pool.ts";
import { SLOT } from "../../src/xlat/stats.ts";
import type { XlatOptions } from "../../src/xlat/options.ts";

const queues = Number(Deno.args[0] ?? 1);
const ip = async (...args: string[]) => {
  const r = await new Deno.Command("ip", { args, stderr: "piped" }).output();
  if (!r.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
};
await ip("link", "set", "lo", "up");
const tun = TunDevice.open({ name: "xs-w", queues, mtu: 1500 });
await Deno.writeTextFile(`/proc/sys/net/ipv6/conf/${tun.name}/disable_ipv6`, "1");
tun.configure(1500);
await ip("addr", "add", "10.99.0.1/24", "dev", tun.name);

const rxA = Deno.listenDatagram({ transport: "udp", hostname: "10.99.0.1", port: 7001 });
const rxB = Deno.listenDatagram({ transport: "udp", hostname: "10.99.0.1", port: 7002 });
const opts = (port: number) => ({ newTos: port }) as unknown as XlatOptions;
const pool = await WorkerPool.start({
  mode: "siit",
  options: opts(7001),
  fds: tun.fds,
  engineModule: new URL("./worker_stub_engine.ts", import.meta.url).href,
  readTimeoutMs: 50,
});
const enc = new TextEncoder();
const senders = Array.from(
  { length: 16 },
  () => Deno.listenDatagram({ transport: "udp", hostname: "10.99.0.1", port: 0 }),
);

async function burst(tag: string, perSender: number): Promise<void> {
  for (const s of senders) {
    for (let k = 0; k < perSender; k++) {
      await s.send(enc.encode(tag), { transport: "udp", hostname: "10.99.0.7", port: 9 });
    }
  }
}
async function receiveN(sock: Deno.DatagramConn, n: number, ms: number): Promise<number> {
  let got = 0;
  const end = Date.now() + ms;
  while (got < n && Date.now() < end) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      sock.receive(),
      new Promise<null>((res) => timer = setTimeout(() => res(null), end - Date.now())),
    ]);
    clearTimeout(timer);
    if (r === null) break;
    got++;
  }
  return got;
}

await burst("a", 4);
const gotA = await receiveN(rxA, 64, 3000);
await pool.reconfigure(opts(7002));
await burst("b", 4);
const gotB = await receiveN(rxB, 64, 3000);
const strayA = await receiveN(rxA, 1, 200);
// A poison packet makes the stub throw: counted, the loop survives.
const p2 = Deno.listenDatagram({ transport: "udp", hostname: "10.99.0.1", port: 0 });
await p2.send(enc.encode("P"), { transport: "udp", hostname: "10.99.0.7", port: 9 });
await burst("c", 1);
const gotC = await receiveN(rxB, 16, 3000);
const badReconfig = await pool.reconfigure(opts(0)).then(() => "ok", (e) => String(e));
const infos = pool.infos();
const stats = pool.stats();
const counters = pool.workers.map((w) => w.counters());
const t0 = performance.now();
await pool.stop();
const stopMs = performance.now() - t0;
const after = pool.infos().map((w) => w.state);
for (const s of [...senders, rxA, rxB, p2]) s.close();
tun.close();
console.log(JSON.stringify({
  gotA,
  gotB,
  strayA,
  gotC,
  badReconfig,
  infos,
  in46: stats.v[SLOT.in46Packets],
  out46: stats.v[SLOT.out46Packets],
  counters,
  stopMs,
  after,
}));
