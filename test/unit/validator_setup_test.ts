import assert from "node:assert/strict";
import { parseDnskey } from "../../src/dns/validator/rdata.ts";
import { validationFromConfig } from "../../src/dns/validator/setup.ts";

const KEY = ". 3600 IN DNSKEY 257 3 13 " + btoa(String.fromCharCode(...new Array(64).fill(7)));
const quiet = { warn() {} };
const cfg = (dir: string, auto: string | null) => ({
  enabled: true,
  trustAnchors: `${dir}/anchor`,
  clockSkew: 60,
  nsec3MaxIterations: 100,
  autoTrustAnchorFile: auto,
});

Deno.test("[validator] setup: anchors from trust-anchors; RFC 5011 state saved and read back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xlat64-val-" });
  try {
    await Deno.writeTextFile(`${dir}/anchor`, KEY + "\n");
    const plain = await validationFromConfig(cfg(dir, null), quiet);
    assert.equal(plain.anchors[0].keys.length, 1);
    assert.equal(plain.trustPoints, undefined);
    assert.equal(plain.clockSkew, 60);

    const auto = `${dir}/auto.key`;
    const s = await validationFromConfig(cfg(dir, auto), quiet);
    assert.equal(s.trustPoints!.length, 1);
    // A new SEP key appears in a validated DNSKEY set: AddPend, saved to the state file.
    const tp = s.trustPoints![0];
    const k = s.anchors[0].keys[0];
    const other = parseDnskey(Uint8Array.of(1, 1, 3, 13, ...new Array(64).fill(9)))!;
    assert.ok(tp.observe([k, other], [k], [], 3600, 1000));
    s.onTrustPointChange!(tp);
    for (let i = 0; i < 50; i++) {
      try {
        if ((await Deno.readTextFile(auto)).includes(";;addpend")) break;
      } catch { /* not written yet */ }
      await new Promise((r) => setTimeout(r, 10));
    }
    const again = await validationFromConfig(cfg(dir, auto), quiet);
    assert.deepEqual(again.trustPoints![0].keys.map((x) => x.state), ["valid", "addpend"]);
    assert.equal(again.anchors[0].keys.length, 1, "AddPend keys are no anchors yet");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[validator] setup: a missing trust-anchors file fails the start with its path", async () => {
  await assert.rejects(
    validationFromConfig(cfg("/nonexistent", null), quiet),
    /cannot read trust anchors \/nonexistent\/anchor/,
  );
});
