// A stand-in engine for worker tests: turns UDP to 10.99.0.7:9 into UDP from
// 10.99.0.7 to 10.99.0.1:<port>, where <port> comes from the options (newTos is
// borrowed as the port so a reconfigure visibly changes behaviour).
import type { Mode } from "../../src/config/types.ts";
import type { PacketBatch } from "../../src/packet/batch.ts";
import { checksum } from "../../src/packet/checksum.ts";
import { SLOT, type Stats } from "../../src/xlat/stats.ts";
import type { XlatOptions } from "../../src/xlat/options.ts";

export function createEngine(_mode: Mode, options: XlatOptions, stats: Stats) {
  const port = options.newTos;
  if (port === 0) throw new Error("stub engine: port 0 is refused");
  return {
    translate(pkt: Uint8Array, len: number, out: PacketBatch, _now: number): void {
      stats.v[SLOT.in46Packets]++;
      if (pkt[0] !== 0x45 || pkt[9] !== 17 || pkt[19] !== 7) return;
      if (pkt[28] === 0x50) throw new Error("poison packet"); // payload "P"
      const i = out.reserve();
      if (i < 0) return;
      const o = out.slots[i];
      o.set(pkt.subarray(0, len));
      o.set([10, 99, 0, 7, 10, 99, 0, 1], 12);
      o[10] = o[11] = 0;
      const c = checksum(o, 0, 20);
      o[10] = c >> 8;
      o[11] = c & 255;
      o[22] = port >> 8;
      o[23] = port & 255;
      o[26] = o[27] = 0; // no UDP checksum (IPv4)
      out.commit(len);
      stats.v[SLOT.out46Packets]++;
    },
  };
}
