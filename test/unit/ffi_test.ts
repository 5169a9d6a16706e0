// The shim against a real TUN, each scenario in a fresh network namespace
// (test/unit/ffi_child.ts does the work there and reports JSON).
import assert from "node:assert/strict";
import { findShim, shimCandidates } from "../../src/io/ffi.ts";

const root = Deno.uid() === 0;
const child = new URL("./ffi_child.ts", import.meta.url).pathname;

async function inNetns(scenario: string): Promise<Record<string, unknown>> {
  const ns = `xs-ffi-${scenario}-${Deno.pid}`;
  const add = await new Deno.Command("ip", { args: ["netns", "add", ns] }).output();
  assert.ok(add.success, `ip netns add ${ns}`);
  try {
    const r = await new Deno.Command("ip", {
      args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", child, scenario],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert.ok(r.success, `child ${scenario} failed: ${err}`);
    return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
  } finally {
    await new Deno.Command("ip", { args: ["netns", "del", ns] }).output();
  }
}

Deno.test("shim: missing library names how to build it", () => {
  const saved = Deno.env.get("XLAT64_SHIM");
  try {
    Deno.env.set("XLAT64_SHIM", "/nonexistent/libxlat64shim.so");
    assert.equal(shimCandidates()[0], "/nonexistent/libxlat64shim.so");
    // The real library is found further down the list.
    assert.match(findShim(), /libxlat64shim\.so$/);
    assert.notEqual(findShim(), "/nonexistent/libxlat64shim.so");
  } finally {
    if (saved === undefined) Deno.env.delete("XLAT64_SHIM");
    else Deno.env.set("XLAT64_SHIM", saved);
  }
});

Deno.test("shim: a library that is nowhere gets a message naming how to build it", async () => {
  // A copy of ffi.ts outside the repo, so neither ../../ffi nor the cwd has the shim.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/src/io`, { recursive: true });
    await Deno.mkdir(`${dir}/src/packet`, { recursive: true });
    await Deno.copyFile(new URL("../../src/io/ffi.ts", import.meta.url), `${dir}/src/io/ffi.ts`);
    await Deno.copyFile(
      new URL("../../src/packet/batch.ts", import.meta.url),
      `${dir}/src/packet/batch.ts`,
    );
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { findShim } from "./src/io/ffi.ts";
         try { findShim(); console.log("found"); } catch (e) { console.log(e.message); }`,
      ],
      cwd: dir,
      env: { XLAT64_SHIM: "/nonexistent/x.so" },
      stdout: "piped",
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    assert.match(out, /libxlat64shim\.so not found \(tried: \/nonexistent\/x\.so, /);
    assert.match(out, /Build it with `deno task shim`/);
    assert.match(out, /XLAT64_SHIM=/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "shim: write_batch reaches a UDP socket, read_batch drains a queue in one call (needs root)",
  ignore: !root,
  fn: async () => {
    const r = await inNetns("batch") as {
      idle: number;
      idleMs: number;
      written: number;
      got: string[];
      counts: number[];
      payloads: string[];
      name: string;
      writtenMixed: number;
      gotMixed: string[];
    };
    assert.equal(r.name, "xs-t0");
    assert.equal(r.writtenMixed, 2, "the bad packet is counted out, the others written");
    assert.deepEqual(r.gotMixed, ["m0", "m2"]);
    assert.equal(r.idle, 0, "idle queue reads nothing");
    assert.ok(r.idleMs >= 100 && r.idleMs < 1000, `idle read waited ${r.idleMs} ms`);
    assert.equal(r.written, 20);
    assert.deepEqual(r.got, Array.from({ length: 20 }, (_, i) => `pkt ${i}`));
    // 30 datagrams were queued before the first read: one poll, one drain.
    assert.deepEqual(r.counts, [30]);
    assert.deepEqual(r.payloads, Array.from({ length: 30 }, (_, i) => `out ${i}`));
  },
});

Deno.test({
  name: "shim: IFF_MULTI_QUEUE spreads flows over two queues, both read and write (needs root)",
  ignore: !root,
  fn: async () => {
    const r = await inNetns("multiqueue") as { perQueue: number[]; written: number; recv: number };
    assert.equal(r.perQueue.length, 2);
    assert.equal(r.perQueue[0] + r.perQueue[1], 64);
    assert.ok(r.perQueue[0] > 0 && r.perQueue[1] > 0, `per queue ${r.perQueue}`);
    assert.equal(r.written, 4);
    assert.equal(r.recv, 4);
  },
});

Deno.test({
  name: "shim: clear errors for bad names, busy TUN, and no CAP_NET_ADMIN (needs root)",
  ignore: !root,
  fn: async () => {
    type Err = { message: string; errno: number };
    const r = await inNetns("errors") as {
      badName: Err;
      longName: Err;
      busy: Err;
      threads: number;
      capEff: string[];
      denied: Err;
    };
    assert.match(r.badName.message, /invalid interface name "bad name"/);
    assert.match(r.longName.message, /at most 15 bytes/);
    assert.equal(
      r.busy.message,
      'cannot create TUN "xs-busy": invalid argument (an interface of that name exists and ' +
        "is not a TUN with the same flags: it must be multi_queue)",
    );
    // Every thread lost every capability, not just the calling one.
    assert.ok(r.threads >= 2, `threads ${r.threads}`);
    assert.equal(r.capEff.length, r.threads);
    for (const c of r.capEff) assert.equal(c, "0000000000000000");
    assert.equal(r.denied.errno, 1);
    assert.equal(
      r.denied.message,
      "cannot open /dev/net/tun: operation not permitted; run as root or with CAP_NET_ADMIN",
    );
  },
});

Deno.test({
  name: "shim: drop_caps(keep) leaves CAP_NET_ADMIN only, for us and for `ip` (needs root)",
  ignore: !root,
  fn: async () => {
    const r = await inNetns("keep") as {
      threads: number;
      caps: string[];
      ipOk: boolean;
      hostnameOk: boolean;
    };
    const netAdmin = (1n << 12n).toString(16).padStart(16, "0");
    for (const c of r.caps) assert.equal(c, `${netAdmin}/${netAdmin}`);
    assert.ok(r.ipOk, "ip link set up still works");
    assert.equal(r.hostnameOk, false, "CAP_SYS_ADMIN is gone for children too");
  },
});

Deno.test({
  name: "shim: raw ICMPv6 hears RAs only, with hop limit 255 and a link-local source (needs root)",
  ignore: !root,
  fn: async () => {
    const r = await inNetns("icmp6") as Record<string, number | boolean>;
    assert.equal(r.sentEcho, 8);
    assert.equal(r.sentRa, 16);
    assert.equal(r.type, 134, "the RA, not the echo request filtered by ICMP6_FILTER");
    assert.equal(r.len, 16);
    assert.equal(r.lifetime, 0x0708);
    // RFC 4861 6.1.2: a valid RA has IP hop limit 255.
    assert.equal(r.hopLimit, 255);
    assert.equal(r.srcLinkLocal, true);
    assert.equal(r.ifindexOk, true);
    assert.equal(r.again, true, "nothing else arrived (the echo was filtered)");
    assert.equal(r.asyncTimeout, true);
  },
});
