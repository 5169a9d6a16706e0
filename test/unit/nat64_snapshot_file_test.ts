import assert from "node:assert/strict";
import * as build from "../../src/packet/build.ts";
import { readSnapshotFile, writeSnapshotFile } from "../../src/io/nat64_snapshot_file.ts";
import { Nat64Harness, p6 } from "./nat64_engine_helpers.ts";

Deno.test("snapshot file: written atomically (no temp left), read back, restores the engine", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xlat64-nat64-" });
  try {
    const path = `${dir}/nat64.snap`;
    assert.equal(await readSnapshotFile(path), null, "no file yet");
    const h = new Nat64Harness();
    h.run(build.udp6({ src: "2001:db8:a::1", dst: p6("203.0.113.9"), sport: 5000, dport: 53 }), 0);
    await writeSnapshotFile(path, new Uint8Array([1, 2, 3])); // an older snapshot
    const bytes = h.e.snapshot(10);
    await writeSnapshotFile(path, bytes);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["nat64.snap"], "replaced in place, no temporary file left");
    const back = await readSnapshotFile(path);
    assert.deepEqual(back, bytes);
    const h2 = new Nat64Harness();
    assert.equal(h2.e.restore(back!, 0).sessions, 1);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("snapshot file: a failed rename removes its temporary file; the old snapshot stays", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xlat64-nat64-" });
  try {
    const path = `${dir}/nat64.snap`;
    await writeSnapshotFile(path, new Uint8Array([9, 9]));
    // A directory where the file should go: the rename fails after the temp file is written.
    await Deno.mkdir(`${dir}/busy`);
    await Deno.writeFile(`${dir}/busy/x`, new Uint8Array([1]));
    await assert.rejects(() => writeSnapshotFile(`${dir}/busy`, new Uint8Array([1])));
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), ["busy", "nat64.snap"], "no temporary file left behind");
    assert.deepEqual(await readSnapshotFile(path), new Uint8Array([9, 9]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
