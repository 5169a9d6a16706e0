// The CLI as a subprocess: exit codes, config printing and checking, offline replay.
import assert from "node:assert/strict";
import { formatIPv4, formatIPv6 } from "../../src/addr/ip.ts";
import { defaultConfig, parseConfig } from "../../src/config/mod.ts";
import { icmp6Echo, udp4, udp6 } from "../../src/packet/build.ts";
import { Ipv4Info, parseIpv4 } from "../../src/packet/ipv4.ts";
import { Ipv6Info, parseIpv6 } from "../../src/packet/ipv6.ts";
import {
  dstPort,
  icmpCode,
  icmpType,
  srcPort,
  verifyL4Checksum4,
  verifyL4Checksum6,
} from "../../src/packet/l4.ts";
import { LINKTYPE, PcapReader, PcapWriter, readPcap } from "../../src/packet/pcap.ts";
import { ICMP6, IPPROTO } from "../../src/packet/proto.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { statusBaseUrl } from "../../main.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** `ip` arguments that run the xlat64 CLI inside network namespace `ns`. */
const xlat64In = (ns: string, ...args: string[]): string[] => [
  "netns",
  "exec",
  ns,
  Deno.execPath(),
  "run",
  "-A",
  MAIN,
  ...args,
];

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "xlat64-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli: version prints the deno.json version, exit 0", async () => {
  const r = await cli("version");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^xlat64 ${denoJson.version.replace(/\./g, "\\.")} \\(deno `));
  const v = await cli("--version");
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), denoJson.version);
});

Deno.test("cli: --help lists every command, exit 0; no command is a usage error (2)", async () => {
  const r = await cli("--help");
  assert.equal(r.code, 0);
  for (const c of ["run", "check", "replay", "lab", "status", "config", "version"]) {
    assert.match(r.stdout, new RegExp(`^  ${c}\\b`, "m"), `help lacks ${c}`);
  }
  assert.match(r.stdout, /--log-format/);
  assert.match(r.stdout, /--log-level/);
  assert.equal((await cli()).code, 2);
});

Deno.test("cli: usage errors exit 2 (unknown command, unknown option, bad choice, missing option)", async () => {
  for (
    const args of [
      ["frobnicate"],
      ["version", "--frob"],
      ["--log-level", "loud", "version"],
      ["--log-format", "xml", "version"],
      ["check"],
      ["replay", "only-one.pcap"],
      ["config"],
      ["status", "--sessions", "many"],
    ]
  ) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    assert.ok(r.stderr.length > 0, `${args.join(" ")}: no message`);
  }
});

Deno.test("cli: config --print-default prints a config that parses to the embedded default", async () => {
  const r = await cli("config", "--print-default");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseConfig(r.stdout, "printed.toml"), defaultConfig());
});

Deno.test("cli: check prints 'ok: FILE' (exit 0) or every error with file and key (exit 2)", async () => {
  await withTempDir(async (dir) => {
    const good = `${dir}/good.toml`;
    const bad = `${dir}/bad.toml`;
    const syntax = `${dir}/syntax.toml`;
    await Deno.writeTextFile(good, (await cli("config", "--print-default")).stdout);
    await Deno.writeTextFile(bad, `[translator]\npool6 = "64:ff9b::/57"\n[tun]\nmtu = 9\n`);
    await Deno.writeTextFile(syntax, `mode = "nat64"\n[tun\n`);

    const ok = await cli("check", "--config", good);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), `ok: ${good}`);

    const r = await cli("check", "--config", bad);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(
        `^${bad}: translator\\.pool6: prefix length 57 is not one of 32, 40, 48, 56, 64, 96 \\(RFC 6052 2\\.2\\)$`,
        "m",
      ),
    );
    assert.match(r.stderr, new RegExp(`^${bad}: tun\\.mtu: 9 is below the minimum 1280$`, "m"));

    const s = await cli("check", "--config", syntax);
    assert.equal(s.code, 2);
    assert.match(s.stderr, new RegExp(`^${syntax}:2:[0-9]+: TOML syntax error`, "m"));

    const missing = await cli("check", "--config", `${dir}/nope.toml`);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.toml: cannot read config: no such file/);
  });
});

Deno.test("cli: run with a bad config exits 2 before starting anything", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/x.toml`, `mode = "siit"\n`);
    const r = await cli("run", "--config", `${dir}/x.toml`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /translator\.pool6: siit mode needs/);
  });
});

const SIIT = `mode = "siit"
[translator]
pool6 = "64:ff9b::/96"
[[translator.eam]]
ipv4 = "198.51.100.5"
ipv6 = "2001:db8:1::5"
`;
const T0 = 1_700_000_000e9; // ns

/** Input: 6->4 UDP, 4->6 UDP, a 6->4 echo with hop limit 1, an untranslatable source. */
function inputPackets(): Uint8Array[] {
  return [
    udp6({
      src: "2001:db8:1::5",
      dst: "64:ff9b::808:808",
      sport: 1234,
      dport: 53,
      payload: "hello",
    }),
    udp4({ src: "8.8.8.8", dst: "198.51.100.5", sport: 53, dport: 1234, payload: "world" }),
    icmp6Echo({ src: "2001:db8:1::5", dst: "64:ff9b::808:808", hopLimit: 1, ident: 7, seq: 1 }),
    udp6({ src: "2001:db8:9::5", dst: "64:ff9b::808:808", sport: 1, dport: 2, payload: "x" }),
  ];
}

function ethernet(ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
  f.set(ip[0] >> 4 === 6 ? [0x86, 0xdd] : [0x08, 0x00], 12);
  f.set(ip, 14);
  return f;
}

async function replayThroughCli(dir: string, linkType: number) {
  const cfg = `${dir}/siit.toml`, inPath = `${dir}/in.pcap`, outPath = `${dir}/out.pcap`;
  await Deno.writeTextFile(cfg, SIIT);
  const w = new PcapWriter(undefined, { linkType, nanos: true });
  inputPackets().forEach((p, i) =>
    w.write(linkType === LINKTYPE.ETHERNET ? ethernet(p) : p, T0 + i * 1e6)
  );
  await Deno.writeFile(inPath, w.bytes());
  const r = await cli("replay", "--config", cfg, inPath, outPath);
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, out: await Deno.readFile(outPath) };
}

Deno.test("cli: replay translates a raw-IP pcap and writes what the translator emits", async () => {
  await withTempDir(async (dir) => {
    const { stdout, out } = await replayThroughCli(dir, LINKTYPE.RAW);
    assert.match(stdout, /^replay: 4 packets in, 3 out \(1 ICMP error generated\), 2 dropped \(/);
    assert.match(stdout, /ttl_exceeded: 1/);
    assert.match(stdout, /untranslatable_src: 1/);

    const reader = new PcapReader(out);
    assert.equal(reader.linkType, LINKTYPE.RAW, "output is raw IP");
    const pkts = [...reader];
    assert.equal(pkts.length, 3);

    // 1: IPv6 -> IPv4. RFC 7915 5.1: addresses by RFC 6052 (dst) and EAM (src); "the
    // translator ... needs to decrement either the IPv6 Hop Limit ... or the IPv4 TTL".
    const p4 = pkts[0].data, i4 = new Ipv4Info();
    assert.equal(parseIpv4(p4, p4.length, i4), 0, "valid IPv4 header");
    assert.equal(formatIPv4(i4.src), "198.51.100.5");
    assert.equal(formatIPv4(i4.dst), "8.8.8.8");
    assert.equal(i4.proto, IPPROTO.UDP);
    assert.equal(i4.ttl, 63);
    assert.equal([srcPort(p4, i4.l4Off), dstPort(p4, i4.l4Off)].join(), "1234,53");
    assert.equal(new TextDecoder().decode(p4.subarray(i4.l4Off + 8, i4.l4Off + i4.l4Len)), "hello");
    assert.equal(verifyL4Checksum4(p4, i4), 0, "UDP checksum valid after translation");
    assert.equal(pkts[0].tsNs, T0, "output carries the input packet's timestamp");

    // 2: IPv4 -> IPv6 (RFC 7915 4.1).
    const p6 = pkts[1].data, i6 = new Ipv6Info();
    assert.equal(parseIpv6(p6, p6.length, i6), 0, "valid IPv6 header");
    assert.equal(formatIPv6(p6, 8), "64:ff9b::808:808");
    assert.equal(formatIPv6(p6, 24), "2001:db8:1::5");
    assert.equal(i6.proto, IPPROTO.UDP);
    assert.equal(i6.hopLimit, 63);
    assert.equal(new TextDecoder().decode(p6.subarray(i6.l4Off + 8, i6.l4Off + i6.l4Len)), "world");
    assert.equal(verifyL4Checksum6(p6, i6), 0);
    assert.equal(pkts[1].tsNs, T0 + 1e6);

    // 3: the hop limit ran out: an ICMPv6 Time Exceeded back to the source (RFC 4443 3.3).
    const e = pkts[2].data, ie = new Ipv6Info();
    assert.equal(parseIpv6(e, e.length, ie), 0);
    assert.equal(ie.proto, IPPROTO.ICMPV6);
    assert.equal(icmpType(e, ie.l4Off), ICMP6.TIME_EXCEEDED);
    assert.equal(icmpCode(e, ie.l4Off), 0);
    assert.equal(formatIPv6(e, 24), "2001:db8:1::5");
    assert.equal(verifyL4Checksum6(e, ie), 0);
    assert.equal(pkts[2].tsNs, T0 + 2e6);
  });
});

Deno.test("cli: replay of an Ethernet pcap gives the same output as raw IP", async () => {
  await withTempDir(async (dir) => {
    const raw = await replayThroughCli(dir, LINKTYPE.RAW);
    const eth = await replayThroughCli(dir, LINKTYPE.ETHERNET);
    assert.equal(eth.stdout, raw.stdout);
    // The IPv4 Identification is chosen per packet (RFC 7915 5.1), so it and the header
    // checksum that covers it are left out of the comparison.
    const normal = (out: Uint8Array) =>
      readPcap(out).map((p) => {
        const d = p.data.slice();
        if (d[0] >> 4 === 4) {
          d[4] =
            d[5] =
            d[10] =
            d[11] =
              0;
        }
        return d;
      });
    assert.deepEqual(normal(eth.out), normal(raw.out));
  });
});

Deno.test("cli: replay of a missing or broken input exits 1", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/siit.toml`, SIIT);
    const replay = (input: string) =>
      cli("replay", "--config", `${dir}/siit.toml`, `${dir}/${input}`, `${dir}/o.pcap`);
    const missing = await replay("no.pcap");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no\.pcap/);
    await Deno.writeFile(`${dir}/junk.pcap`, new Uint8Array(64).fill(7));
    const junk = await replay("junk.pcap");
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /pcap: bad magic/);
  });
});

Deno.test("cli: status against a closed port exits 1 with a reason", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const r = await cli("status", "--url", `http://127.0.0.1:${port}`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}/status`));
});

Deno.test("cli: status --config takes the endpoint from [status] listen (wildcards via loopback)", () => {
  assert.equal(statusBaseUrl({ family: 4, host: "0.0.0.0", port: 8064 }), "http://127.0.0.1:8064");
  assert.equal(statusBaseUrl({ family: 6, host: "::", port: 80 }), "http://[::1]:80");
  assert.equal(
    statusBaseUrl({ family: 6, host: "2001:db8::1", port: 1 }),
    "http://[2001:db8::1]:1",
  );
  assert.equal(statusBaseUrl({ family: 4, host: "192.0.2.1", port: 9 }), "http://192.0.2.1:9");
});

Deno.test({
  name:
    "cli: run serves /status in a namespace, logs JSON lines, stops on SIGTERM with 0 (needs root)",
  ignore: Deno.uid() !== 0,
  async fn() {
    const ns = `x64cli${Deno.pid % 100000}`;
    const ip = (...args: string[]) => new Deno.Command("ip", { args, stderr: "null" }).output();
    await withTempDir(async (dir) => {
      const cfg = `${dir}/run.toml`;
      await Deno.writeTextFile(
        cfg,
        `mode = "siit"\n[tun]\nname = "x64cli"\n[translator]\npool6 = "64:ff9b::/96"\n` +
          `[dns]\nlisten = []\n[status]\nlisten = "127.0.0.1:18064"\n`,
      );
      assert.ok((await ip("netns", "add", ns)).success, "ip netns add");
      let child: Deno.ChildProcess | undefined;
      try {
        await ip("-n", ns, "link", "set", "lo", "up");
        child = new Deno.Command("ip", {
          args: xlat64In(ns, "--log-format", "json", "run", "--config", cfg),
          stdout: "null",
          stderr: "piped",
        }).spawn();
        // Wait for the "running" log line (JSON).
        const lines: string[] = [];
        const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        const deadline = Date.now() + 20000;
        while (!lines.some((l) => l.includes("running")) && Date.now() < deadline) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          const parts = buf.split("\n");
          buf = parts.pop()!;
          lines.push(...parts);
        }
        assert.ok(lines.length > 0, "no log output");
        for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON: ${l}`);
        assert.ok(lines.some((l) => l.includes("running")), lines.join("\n"));

        const st = await new Deno.Command("ip", {
          args: xlat64In(ns, "status", "--url", "http://127.0.0.1:18064"),
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(st.code, 0, new TextDecoder().decode(st.stderr));
        assert.match(new TextDecoder().decode(st.stdout), /mode siit/);

        child.kill("SIGTERM");
        (async () => {
          for (;;) if ((await reader.read()).done) break;
        })();
        assert.equal((await child.status).code, 0);
        child = undefined;
      } finally {
        if (child) {
          child.kill("SIGKILL");
          await child.status;
        }
        await ip("netns", "del", ns);
      }
    });
  },
});
