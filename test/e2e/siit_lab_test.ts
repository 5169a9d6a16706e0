// `xlat64 lab` end to end: every check passes, and nothing is left behind, also when the
// lab is interrupted with SIGINT.
import assert from "node:assert/strict";
import { whyNoNamespaces, withLab } from "../../src/io/netns.ts";
import { runLab } from "../../src/lab/lab.ts";
import { waitFor, xlat64Argv } from "../../src/lab/topology.ts";

const ignore = whyNoNamespaces() !== null;

/** Alive and not a zombie waiting for its parent (pids may be reparented to init). */
async function running(pid: number): Promise<boolean> {
  try {
    return !/^State:\s+Z/m.test(await Deno.readTextFile(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

async function namespaces(): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split(" ")[0]);
}

Deno.test({
  name: "xlat64 lab: every check passes and the namespaces are gone afterwards (needs root)",
  ignore,
  async fn() {
    const lines: string[] = [];
    const code = await runLab({ topology: { tag: "x64labt" }, print: (l) => lines.push(l) });
    const text = lines.join("\n");
    assert.equal(code, 0, text);
    const checks = lines.filter((l) => /^ {2}[✔✘-] /.test(l));
    assert.ok(checks.length >= 8, text);
    assert.ok(checks.every((l) => !l.includes("✘")), text);
    for (
      const what of [/ping -6 .*3\/3 replies/, /curl .*HTTP 200/, /traceroute .*translated/]
    ) assert.match(text, what);
    assert.match(text, /packets in +\d+ +\d+/);
    assert.match(text, /✔ \d+\/\d+ checks passed/);
    assert.deepEqual((await namespaces()).filter((n) => n.startsWith("x64labt-")), []);
  },
});

Deno.test({
  name: "xlat64 lab --keep: SIGINT tears everything down (needs root)",
  ignore,
  async fn() {
    const child = new Deno.Command(xlat64Argv(["lab", "--keep"])[0], {
      args: xlat64Argv(["lab", "--keep"]).slice(1),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const dec = new TextDecoder();
    let out = "";
    const reader = child.stdout.getReader();
    const stderr = child.stderr.text();
    try {
      const end = Date.now() + 60_000;
      // The last hint line names the xlat namespace and ends with "status".
      const lastHint = /ip netns exec x64lab-xlt-\S+ .* status\n/;
      while (!lastHint.test(out) && Date.now() < end) {
        const { value, done } = await reader.read();
        if (done) break;
        out += dec.decode(value);
      }
      assert.match(out, /Ctrl-C tears it down/);
      const mine = [...out.matchAll(/ip netns exec (x64lab-[a-z]+-[0-9a-z]+)/g)].map((m) => m[1]);
      assert.ok(mine.length >= 2, out);
      for (const n of mine) assert.ok((await namespaces()).includes(n), `${n} should exist`);
      child.kill("SIGINT");
      const st = await child.status;
      assert.equal(st.code, 130);
      const left = await namespaces();
      for (const n of mine) assert.ok(!left.includes(n), `${n} left behind`);
      assert.match(await stderr, /SIGINT: tearing the lab down/);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await reader.cancel().catch(() => {});
      await child.status;
      await stderr.catch(() => {});
    }
  },
});

Deno.test("xlat64 lab without root: a clear message and exit 1", async () => {
  const lab = new URL("../../src/lab/lab.ts", import.meta.url).href;
  const code = `Object.defineProperty(Deno, "uid", { value: () => 1000 });
    const { runLab } = await import("${lab}");
    Deno.exit(await runLab());`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 1);
  assert.match(new TextDecoder().decode(r.stderr), /xlat64 lab: network namespaces need root/);
  assert.equal(new TextDecoder().decode(r.stdout), "");
});

Deno.test({
  name: "lab toolkit: a failing body still removes its namespaces and processes (needs root)",
  ignore,
  async fn() {
    let names: string[] = [];
    let pids: number[] = [];
    await assert.rejects(
      withLab("x64tk", async (lab) => {
        const a = await lab.netns("a");
        const b = await lab.netns("b");
        names = [a.name, b.name];
        await lab.veth(a, "eth0", b, "eth0");
        await a.addr("eth0", "2001:db8:77::1/64");
        await b.addr("eth0", "2001:db8:77::2/64");
        const r = await a.exec(["ping", "-6", "-c", "1", "-W", "1", "2001:db8:77::2"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        // A process that forks a child keeping the output pipes open.
        b.spawn(["sh", "-c", "sleep 300 & sleep 301"]);
        await waitFor(async () => (await b.pids()).length >= 2, 5000);
        pids = await b.pids();
        throw new Error("boom");
      }),
      /boom/,
    );
    const left = await namespaces();
    for (const n of names) assert.ok(!left.includes(n), `${n} left behind`);
    assert.ok(pids.length >= 2);
    await waitFor(async () => (await Promise.all(pids.map(running))).every((r) => !r), 3000);
    for (const pid of pids) assert.equal(await running(pid), false, `pid ${pid} lives`);
  },
});
