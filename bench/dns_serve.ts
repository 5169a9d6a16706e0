// Run only xlat64's DNS server (for bench/dns_load.ts, pinned to a core by taskset):
//   deno run -A --unstable-net bench/dns_serve.ts PORT UPSTREAM_PORT [fast|slow]
import { DNS64_DEFAULTS, DNS_DEFAULTS } from "../src/dns/options.ts";
import { startDnsServer } from "../src/dns/server.ts";

const [port, upstreamPort, mode = "fast"] = Deno.args;
const quiet = { debug() {}, info() {}, warn() {}, error: console.error };
const srv = await startDnsServer({
  dns: {
    ...DNS_DEFAULTS,
    fastPath: mode === "fast",
    listen: [{ host: "127.0.0.1", port: Number(port) }],
    upstream: [{ host: "127.0.0.1", port: Number(upstreamPort) }],
  },
  dns64: DNS64_DEFAULTS,
}, quiet);
console.log(`ready ${srv.addresses[0].port} fast=${srv.status().fastPath}`);
Deno.addSignalListener("SIGTERM", async () => {
  await srv.close();
  Deno.exit(0);
});
