// RFC 7915 4.1: IPv4 packets with DF clear that would exceed the lowest IPv6 MTU leave as
// IPv6 fragments. The whole translation (IPv6 header + Fragment Header + payload) is
// built in one slot first, then split into consecutive slots of the same batch.
import type { PacketBatch } from "../packet/batch.ts";
import { copyBytes, get16, put16 } from "./bytes.ts";
import { fragmentPayloadSize } from "./mtu.ts";

/**
 * Splits the IPv6 packet in out.slots[slot] (total bytes, Fragment Header at 40) into
 * fragments that fit `mtu` and commits them. Offsets continue from the Fragment Header's
 * offset, and M stays set on the last piece when it was set. Returns the number of
 * packets committed, or -1 when the batch had no room (nothing committed).
 */
export function emitFragments6(out: PacketBatch, slot: number, total: number, mtu: number): number {
  const step = fragmentPayloadSize(mtu);
  const data = total - 48;
  const count = Math.ceil(data / step);
  if (slot + count > out.capacity) return -1;
  const first = out.slots[slot];
  const w = get16(first, 42);
  const baseOff = w & 0xfff8;
  const baseM = w & 1;
  // Later pieces first: they copy from the still-whole first slot.
  for (let k = count - 1; k >= 0; k--) {
    const at = k * step;
    const n = Math.min(step, data - at);
    const f = out.slots[slot + k];
    if (k > 0) {
      copyBytes(f, 0, first, 0, 48);
      copyBytes(f, 48, first, 48 + at, n);
    }
    put16(f, 4, 8 + n);
    const last = k === count - 1;
    put16(f, 42, (baseOff + at) | (last ? baseM : 1));
  }
  for (let k = 0; k < count; k++) {
    const at = k * step;
    out.commit(48 + Math.min(step, data - at));
  }
  return count;
}
