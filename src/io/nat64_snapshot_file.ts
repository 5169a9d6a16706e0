// NAT64 snapshot files (src/nat64/snapshot.ts makes and reads the bytes): written to a
// temporary file in the same directory, synced, then renamed over the old one, so a
// crash leaves either the old snapshot or the new one, never half of one.
import { dirname } from "node:path";

export async function writeSnapshotFile(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } catch (e) {
    f.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  f.close();
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  // Sync the directory so the rename itself survives a power loss (best effort).
  try {
    const d = await Deno.open(dirname(path), { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** The snapshot bytes, or null when there is no snapshot file yet. */
export async function readSnapshotFile(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
