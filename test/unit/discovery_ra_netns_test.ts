// RFC 8781 over a real link (needs root): our announcer sends RAs with PREF64 on a veth in
// one namespace; our listener and tshark (an independent dissector) hear them in another.
import assert from "node:assert/strict";
import { withLab } from "../../src/io/netns.ts";

const root = new URL("../../", import.meta.url);
const mod = new URL("src/discovery/ra_listener.ts", root).href;
const ipMod = new URL("src/addr/ip.ts", root).href;

const listener = `
import { listenRas } from "${mod}";
import { formatPrefix6 } from "${ipMod}";
const ac = new AbortController();
const t = setTimeout(() => ac.abort(), 8000);
console.log("ready");
await listenRas("vb", (ev) => {
  const p = ev.ra.pref64.map((x) => [formatPrefix6(x.prefix), x.lifetimeS]);
  console.log(JSON.stringify({ from: ev.from, routerLifetime: ev.ra.routerLifetime, pref64: p }));
  if (p.length > 0 && p.every((x) => x[1] === 0)) { clearTimeout(t); ac.abort(); }
}, { signal: ac.signal, pollMs: 100 });
`;

const announcer = `
import { announcePref64 } from "${mod}";
import { parsePrefix6 } from "${ipMod}";
const ac = new AbortController();
setTimeout(() => ac.abort(), 1200);
await announcePref64({
  ifname: "va",
  pref64: [{ prefix: parsePrefix6("64:ff9b::/96"), lifetimeS: 1800 }, { prefix: parsePrefix6("2001:db8:64::/48"), lifetimeS: 600 }],
  intervalMs: 300,
  signal: ac.signal,
  onSent: (why) => console.log(why),
});
`;

async function waitFor(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name:
    "RFC 8781 / RFC 4861: announcer's RA with PREF64 and router lifetime 0 is heard by our listener and tshark (needs root)",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await withLab("d64ra", async (lab) => {
      const plat = await lab.netns("plat");
      const clat = await lab.netns("clat");
      await lab.veth(plat, "va", clat, "vb");
      const deno = Deno.execPath();
      const opts = { cwd: new URL(".", root).pathname };
      const shark = clat.spawn([
        "tshark",
        "-l",
        "-i",
        "vb",
        "-a",
        "duration:8",
        "-f",
        "icmp6 and ip6[40] == 134",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "icmpv6.nd.ra.router_lifetime",
        "-e",
        "icmpv6.opt.pref64.prefix",
        "-e",
        "icmpv6.opt.pref64.plc",
        "-e",
        "icmpv6.opt.pref64.scaled_lifetime",
      ]);
      const heard = clat.spawn([deno, "eval", listener], opts);
      await waitFor(
        () => shark.output().includes("Capturing on") && heard.output().includes("ready"),
        15000,
        "tshark and listener",
      );
      const sent = plat.spawn([deno, "eval", announcer], opts);
      await sent.done;
      await heard.done;
      await shark.stop();
      assert.match(sent.output(), /periodic[\s\S]*final/, sent.output());
      const ras = heard.output().split("\n").filter((l) => l.startsWith("{")).map((l) =>
        JSON.parse(l)
      );
      assert.ok(ras.length >= 2, heard.output());
      assert.ok(ras.every((r) => r.from.startsWith("fe80:") && r.routerLifetime === 0));
      assert.deepEqual(ras[0].pref64, [["64:ff9b::/96", 1800], ["2001:db8:64::/48", 600]]);
      assert.deepEqual(
        ras.at(-1).pref64,
        [["64:ff9b::/96", 0], ["2001:db8:64::/48", 0]],
        "final RA withdraws",
      );
      // tshark: router lifetime 0; PLC 0 (/96) and 3 (/48); scaled lifetimes 225 and 75.
      const line = shark.output().split("\n").find((l) => l.startsWith("0|"));
      assert.ok(line, shark.output());
      const [rl, prefixes, plcs, sls] = line.split("|");
      assert.equal(rl, "0");
      assert.deepEqual(prefixes.split(","), ["64:ff9b::", "2001:db8:64::"]);
      assert.deepEqual(plcs.split(",").map(Number), [0, 3]);
      assert.deepEqual(sls.split(",").map(Number), [225, 75]);
    });
  },
});
