// The CLAT against other parts of a real network: explicit mappings to a dual-stack
// destination leave as native IPv6 (RFC 8683 4.9); TAYGA as the PLAT; a plain (non-DNS64)
// resolver upstream of the CLAT's DNS proxy.
import assert from "node:assert/strict";
import { NetLab, whyNoNamespaces } from "../../src/io/netns.ts";
import {
  build464,
  checkIpv4Reach,
  clatConfig,
  type ClatVariant,
  type Lab464,
  nat64Config,
  PLAT_PREFIX,
  SERVER,
  startServers,
  startXlat64,
  status,
  waitFor,
} from "./clat_lab.ts";

const haveCommand = async (c: string) =>
  (await new Deno.Command("sh", { args: ["-c", `command -v ${c}`], stdout: "null" }).output())
    .success;

/** The server becomes dual-stack: 2001:db8:5::2 behind the PLAT host, routed natively. */
async function dualStackServer(l: Lab464): Promise<void> {
  await l.plat.router();
  await l.plat.addr("s1", "2001:db8:5::1/64");
  await l.srv.addr("s0", "2001:db8:5::2/64");
  await l.srv.route("::/0", { via: "2001:db8:5::1" });
  l.srv.spawn(["python3", "-m", "http.server", "--bind", "::", "8081"], { cwd: l.dir });
  await Deno.writeTextFile(`${l.dir}/where.txt`, "native\n");
  await waitFor(
    "IPv6 HTTP server",
    async () => (await l.srv.exec(["curl", "-sf", "http://[::1]:8081/where.txt"])).code === 0,
  );
}

/** Unbound on the PLAT host, answering `records` (no DNS64): a foreign, plain resolver. */
async function plainResolver(l: Lab464, records: string[]): Promise<void> {
  const ub = `${l.dir}/unbound.conf`;
  await Deno.writeTextFile(
    ub,
    `server:\n  interface: 2001:db8:1::1\n  port: 53\n  access-control: ::/0 allow\n` +
      `  do-daemonize: no\n  chroot: ""\n  username: ""\n  pidfile: ""\n` +
      `  use-syslog: no\n  directory: "${l.dir}"\n  local-zone: "test." static\n` +
      records.map((r) => `  local-data: "${r}"\n`).join("") +
      `  local-zone: "ipv4only.arpa." static\n`,
  );
  l.plat.spawn(["unbound", "-d", "-c", ub]);
  await waitFor(
    "unbound",
    async () =>
      (await l.plat.exec([
        "dig",
        "+short",
        "+time=1",
        "+tries=1",
        "@2001:db8:1::1",
        records[0].split(" ")[0],
      ]))
        .stdout.trim() !== "",
  );
}

/** The client namespace's resolv.conf (ip netns exec bind-mounts /etc/netns/NAME/). */
async function clientResolver(l: Lab464, server: string): Promise<string> {
  const dir = `/etc/netns/${l.cli.name}`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/resolv.conf`, `nameserver ${server}\n`);
  return dir;
}

const CLAT_DNS = `listen = ["192.168.77.1:53"]\nupstream = ["[2001:db8:1::1]:53"]\n` +
  `allow = ["192.168.77.0/24"]\n[dns64]\nprefixes = []`;

const EAM = `[[translator.eam]]\nipv4 = "${SERVER}/32"\nipv6 = "2001:db8:5::2/128"\n`;

Deno.test({
  name:
    "EAM bypass (RFC 8683 4.9, RFC 7757): a mapped dual-stack destination is reached natively over IPv6, no NAT64 prefix on the link (needs root)",
  ignore: whyNoNamespaces() !== null || !(await haveCommand("tcpdump")),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4e");
    try {
      const l = await build464(lab);
      await l.clat.router();
      await dualStackServer(l);
      l.platApp = await startXlat64(l, l.plat, "plat", nat64Config(), 18065);
      for (const v of ["dedicated", "single"] as ClatVariant[]) {
        const cfg = clatConfig(v, { extra: "" }).replace("[clat]", `${EAM}[clat]`);
        l.clatApp = await startXlat64(l, l.clat, `clat-${v}`, cfg, 18064);
        const dump = l.clat.spawn(["tcpdump", "-l", "-n", "-i", "w0", "ip6 and tcp port 8081"]);
        await new Promise((r) => setTimeout(r, 500));
        const got = await l.cli.exec([
          "curl",
          "-sS",
          "-m",
          "10",
          `http://${SERVER}:8081/where.txt`,
        ]);
        assert.equal(got.stdout, "native\n", `${v}: ${got.stderr}`);
        await new Promise((r) => setTimeout(r, 300));
        await dump.stop();
        const out = dump.output();
        assert.match(out, /> 2001:db8:5::2\.8081:/, `${v}: to the server's own IPv6 address`);
        assert.doesNotMatch(out, /2001:db8:64::/, `${v}: nothing under the NAT64 prefix`);
        const st = await status(l.clat) as { eam: { ipv4: string; ipv6: string }[] };
        assert.deepEqual(st.eam, [{ ipv4: `${SERVER}/32`, ipv6: "2001:db8:5::2/128" }]);
        await l.clatApp.stop();
      }
    } finally {
      await lab.cleanup();
    }
  },
});

/** TAYGA 0.9.2 as the PLAT (stateless, dynamic-pool: one IPv4 per IPv6 host). */
async function startTayga(l: Lab464): Promise<void> {
  const conf = `${l.dir}/tayga.conf`;
  await Deno.writeTextFile(
    conf,
    `tun-device nat64\nipv4-addr 192.0.2.254\nipv6-addr 2001:db8:ff::1\n` +
      `prefix ${PLAT_PREFIX}\ndynamic-pool 192.0.2.0/25\ndata-dir ${l.dir}\n`,
  );
  await l.plat.router();
  await l.plat.run(["tayga", "-c", conf, "--mktun"]);
  await l.plat.ip("link", "set", "nat64", "up");
  await l.plat.route(PLAT_PREFIX, { dev: "nat64" });
  await l.plat.route("2001:db8:ff::1/128", { dev: "nat64" });
  await l.plat.route("192.0.2.0/24", { dev: "nat64" });
  l.plat.spawn(["tayga", "-c", conf, "-d"]);
}

Deno.test({
  name: "interop: 464XLAT with TAYGA as the PLAT, both CLAT variants (needs root)",
  ignore: whyNoNamespaces() !== null || !(await haveCommand("tayga")),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4t");
    try {
      const l = await build464(lab);
      await l.clat.router();
      const { sha } = await startServers(l);
      await startTayga(l);
      for (const v of ["dedicated", "single"] as ClatVariant[]) {
        l.clatApp = await startXlat64(l, l.clat, `clat-${v}`, clatConfig(v), 18064);
        await checkIpv4Reach(l, sha);
        await l.clatApp.stop();
      }
    } finally {
      await lab.cleanup();
    }
  },
});

Deno.test({
  name:
    "foreign DNS: behind a plain non-DNS64 resolver RFC 7050 finds nothing, PREF64 still gives the prefix and IPv4 names work through the CLAT's DNS proxy (needs root)",
  ignore: whyNoNamespaces() !== null || !(await haveCommand("unbound")),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4f");
    let resolv: string | null = null;
    try {
      const l = await build464(lab);
      await l.clat.router();
      const { sha } = await startServers(l);
      // A plain resolver on the PLAT host: www.test has an A record only; no DNS64.
      await plainResolver(l, [`www.test. 60 IN A ${SERVER}`]);
      l.platApp = await startXlat64(
        l,
        l.plat,
        "plat",
        nat64Config({ extra: `[discovery]\nannounce-pref64 = ["w1"]\n` }),
        18065,
      );
      l.clatApp = await startXlat64(
        l,
        l.clat,
        "clat",
        clatConfig("dedicated", {
          plat: "discover",
          dns: CLAT_DNS,
          extra: `[discovery]\nmethods = ["pref64", "rfc7050"]\ninterface = "w0"\n`,
        }),
        18064,
      );
      type D = {
        prefixes: string[];
        discovery: {
          discovery: {
            active: { source: string } | null;
            methods: Record<string, { state: string; lastError?: string }>;
          };
        };
      };
      await waitFor(
        "PREF64 prefix",
        async () => ((await status(l.clat)) as unknown as D).prefixes[0] === PLAT_PREFIX,
      );
      const st = (await status(l.clat)) as unknown as D;
      assert.equal(st.discovery.discovery.active?.source, "pref64");
      assert.match(
        JSON.stringify(st.discovery.discovery.methods.rfc7050),
        /0 prefix|no answer|retrying/,
        "RFC 7050 finds no prefix behind a plain resolver",
      );
      // The IPv4-only client resolves through the CLAT's proxy and reaches the name.
      resolv = await clientResolver(l, "192.168.77.1");
      const page = await l.cli.exec(["curl", "-sS", "-m", "10", "http://www.test:8080/hello.txt"]);
      assert.equal(page.stdout, "hello over 464XLAT\n", page.stderr);
      await checkIpv4Reach(l, sha);
    } finally {
      if (resolv) await Deno.remove(resolv, { recursive: true }).catch(() => {});
      await lab.cleanup();
    }
  },
});

Deno.test({
  name:
    "dynamic EAM (RFC 8683 4.9): after the CLAT's DNS proxy sees A and AAAA for a name, its A address is reached natively (needs root)",
  ignore: whyNoNamespaces() !== null || !(await haveCommand("unbound")) ||
    !(await haveCommand("tcpdump")),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lab = new NetLab("x4y");
    let resolv: string | null = null;
    try {
      const l = await build464(lab);
      await l.clat.router();
      await dualStackServer(l);
      await plainResolver(l, [
        `ds.test. 60 IN A ${SERVER}`,
        "ds.test. 60 IN AAAA 2001:db8:5::2",
      ]);
      l.platApp = await startXlat64(l, l.plat, "plat", nat64Config(), 18065);
      l.clatApp = await startXlat64(
        l,
        l.clat,
        "clat",
        clatConfig("dedicated", { dns: CLAT_DNS, extra: "" }).replace(
          "[clat]\n",
          "[clat]\ndynamic-eam = true\ndynamic-eam-ttl = 120\n",
        ),
        18064,
      );
      resolv = await clientResolver(l, "192.168.77.1");
      const fetch = async (host: string) => {
        const dump = l.clat.spawn(["tcpdump", "-l", "-n", "-i", "w0", "ip6 and tcp port 8081"]);
        await new Promise((r) => setTimeout(r, 500));
        const got = await l.cli.exec(["curl", "-sS", "-m", "10", `http://${host}:8081/where.txt`]);
        assert.equal(got.stdout, "native\n", got.stderr);
        await new Promise((r) => setTimeout(r, 300));
        await dump.stop();
        return dump.output();
      };
      // Before any lookup the IPv4 literal goes through the NAT64.
      assert.match(await fetch(SERVER), /2001:db8:64::c633:6402\.8081/);
      // The name is looked up through the CLAT's proxy: the mapping is in place before
      // the answer reaches the client, so the first SYN already leaves natively.
      const native = await fetch("ds.test");
      assert.match(native, /> 2001:db8:5::2\.8081:/);
      assert.doesNotMatch(native, /2001:db8:64::/);
      const st = await status(l.clat) as {
        discovery: { dynamicEam: { name: string; ipv4: string; ipv6: string }[] };
      };
      assert.deepEqual(
        st.discovery.dynamicEam.map((m) => [m.name, m.ipv4, m.ipv6]),
        [["ds.test.", SERVER, "2001:db8:5::2"]],
      );
    } finally {
      if (resolv) await Deno.remove(resolv, { recursive: true }).catch(() => {});
      await lab.cleanup();
    }
  },
});
