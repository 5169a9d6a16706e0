// compile.sh's documented fallback (denort unavailable offline): the bundle + shim +
// launcher must run the real program, workers included. Never lets compile.sh reach for
// denort over the network (XLAT64_FORCE_BUNDLE=1).
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const isRoot = Deno.uid() === 0;

async function sh(cmd: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("compile.sh fallback: bundle + shim + launcher answer version and check", async () => {
  const out = await Deno.makeTempDir({ prefix: "xlat64-dist-" });
  try {
    const b = await sh([`${ROOT}compile.sh`], { XLAT64_OUT: out, XLAT64_FORCE_BUNDLE: "1" });
    assert.equal(b.code, 0, b.err);
    assert.match(b.out, /fallback/);
    for (
      const f of ["xlat64", "xlat64.js", "libxlat64shim.so", "worker.ts", "fastpath_worker.ts"]
    ) {
      await Deno.stat(`${out}/${f}`);
    }
    const v = await sh([`${out}/xlat64`, "version"]);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /^xlat64 \d+\.\d+\.\d+/);
    const cfg = `${out}/bad.toml`;
    await Deno.writeTextFile(cfg, `mode = "siit"\n[translator]\npool6 = "2001:db8::/57"\n`);
    const c = await sh([`${out}/xlat64`, "check", "--config", cfg]);
    assert.equal(c.code, 2);
    assert.match(c.err + c.out, /translator\.pool6/);

    if (!isRoot) return;
    // The bundled data-path workers start and report healthy inside a private netns.
    const good = `${out}/siit.toml`;
    await Deno.writeTextFile(
      good,
      [
        `mode = "siit"`,
        `[tun]`,
        `name = "xlbundle0"`,
        `[translator]`,
        `pool6 = "2001:db8:64::/96"`,
        `[dns]`,
        `listen = []`,
        `[status]`,
        `listen = "127.0.0.1:18064"`,
      ].join("\n"),
    );
    const script = `ip link set lo up; ${out}/xlat64 run --config ${good} & pid=$!; ` +
      `for i in $(seq 1 100); do curl -sf http://127.0.0.1:18064/healthz >/dev/null && break; sleep 0.1; done; ` +
      `curl -s http://127.0.0.1:18064/healthz; echo; kill -TERM $pid; wait $pid; echo "exit=$?"`;
    const r = await sh(["unshare", "--net", "sh", "-c", script]);
    assert.match(r.out, /ok/i, r.out + r.err);
    assert.match(r.out, /exit=0/, r.out + r.err);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
