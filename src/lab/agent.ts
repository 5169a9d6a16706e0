// Small servers and clients the lab runs inside its namespaces (one process each):
//   http HOST PORT                  HTTP server ("/?size=N" answers N bytes)
//   udp-echo HOST PORT              echoes every datagram back to its sender
//   udp-ask HOST PORT SIZE COUNT    sends COUNT datagrams of SIZE bytes, waits for each echo,
//                                   prints {"sent","received","rttMs":[...]} as JSON
//   dns HOST PORT IPV4              authoritative for every name: A -> IPV4, other types empty
// Run with: deno run -A --unstable-net src/lab/agent.ts <command> ...

const [cmd, ...args] = Deno.args;

async function http(host: string, port: number): Promise<void> {
  const server = Deno.serve(
    { hostname: host, port, onListen: () => console.log("ready") },
    (req) => {
      const size = Number(new URL(req.url).searchParams.get("size") ?? "0");
      const body = size > 0
        ? "x".repeat(Math.min(size, 64 << 20))
        : "hello from the IPv4-only server\n";
      return new Response(body, { headers: { "content-type": "text/plain" } });
    },
  );
  await server.finished;
}

async function udpEcho(host: string, port: number): Promise<void> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: host, port });
  console.log("ready");
  for await (const [data, from] of sock) await sock.send(data, from);
}

async function udpAsk(host: string, port: number, size: number, count: number): Promise<void> {
  const v6 = host.includes(":");
  const sock = Deno.listenDatagram({ transport: "udp", hostname: v6 ? "::" : "0.0.0.0", port: 0 });
  const rtts: number[] = [];
  const payload = new Uint8Array(size);
  for (let i = 0; i < count; i++) {
    payload.fill(i & 255);
    const t0 = performance.now();
    await sock.send(payload, { transport: "udp", hostname: host, port });
    const got = await Promise.race([
      sock.receive(),
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    if (got && got[0].length === size && got[0][0] === (i & 255)) rtts.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ sent: count, received: rtts.length, rttMs: rtts }));
  sock.close();
  Deno.exit(0);
}

/** RFC 1035 4.1: copy the question, answer A with `ipv4`, anything else with no records. */
function dnsAnswer(q: Uint8Array, ipv4: number[]): Uint8Array | null {
  if (q.length < 12) return null;
  const dv = new DataView(q.buffer, q.byteOffset, q.byteLength);
  if (dv.getUint16(4) !== 1) return null;
  let o = 12;
  while (o < q.length && q[o] !== 0) o += q[o] + 1;
  if (o + 5 > q.length) return null;
  const qtype = dv.getUint16(o + 1);
  const qend = o + 5;
  const isA = qtype === 1;
  const out = new Uint8Array(qend + (isA ? 16 : 0));
  out.set(q.subarray(0, qend));
  const odv = new DataView(out.buffer);
  odv.setUint16(2, 0x8400 | (q[2] & 0x01) << 8); // QR, AA, copy RD
  odv.setUint16(6, isA ? 1 : 0);
  odv.setUint16(8, 0);
  odv.setUint16(10, 0);
  if (isA) {
    odv.setUint16(qend, 0xc00c);
    odv.setUint16(qend + 2, 1);
    odv.setUint16(qend + 4, 1);
    odv.setUint32(qend + 6, 60);
    odv.setUint16(qend + 10, 4);
    out.set(ipv4, qend + 12);
  }
  return out;
}

async function dns(host: string, port: number, ipv4: string): Promise<void> {
  const a = ipv4.split(".").map(Number);
  const sock = Deno.listenDatagram({ transport: "udp", hostname: host, port });
  console.log("ready");
  for await (const [data, from] of sock) {
    const ans = dnsAnswer(data, a);
    if (ans) await sock.send(ans, from);
  }
}

switch (cmd) {
  case "http":
    await http(args[0], Number(args[1]));
    break;
  case "udp-echo":
    await udpEcho(args[0], Number(args[1]));
    break;
  case "udp-ask":
    await udpAsk(args[0], Number(args[1]), Number(args[2]), Number(args[3]));
    break;
  case "dns":
    await dns(args[0], Number(args[1]), args[2]);
    break;
  default:
    console.error(`agent: unknown command "${cmd}"`);
    Deno.exit(2);
}
