// Offline replay: every IP packet of a pcap goes through the same packet engine the TUN
// workers run (src/io/engines.ts), with the capture timestamps as the clock; everything
// the engine emits is written to a raw-IP pcap with the input packet's timestamp.
import { toXlatOptions } from "../config/xlat.ts";
import type { Config } from "../config/types.ts";
import { PacketBatch } from "../packet/batch.ts";
import { PcapReader, PcapWriter } from "../packet/pcap.ts";
import { DROP_REASONS, SLOT, Stats } from "../xlat/stats.ts";
import { createEngine } from "./engines.ts";

export interface ReplayResult {
  /** IP packets read from the input. */
  readonly read: number;
  /** Packets written to the output (translations, fragments, generated ICMP errors). */
  readonly written: number;
  /** Input packets the engine dropped, and why (reasons from src/xlat/stats.ts). */
  readonly dropped: number;
  readonly drops: Readonly<Record<string, number>>;
  /** ICMP errors the engine generated itself (included in `written`). */
  readonly icmpErrors: number;
  /** Frames with no IP packet in them (ARP, other ethertypes), not replayed. */
  readonly skipped: number;
}

export async function replay(cfg: Config, inPath: string, outPath: string): Promise<ReplayResult> {
  if (cfg.mode === "none") throw new Error('replay needs a translator, but mode is "none"');
  const stats = new Stats();
  const engine = createEngine(cfg.mode, toXlatOptions(cfg), stats);
  // The reader works on the file in memory (packets are views into it, no copies); the
  // output is streamed to disk as it is produced.
  const reader = new PcapReader(await Deno.readFile(inPath));
  const file = await Deno.open(outPath, { write: true, create: true, truncate: true });
  const out = new PacketBatch(64);
  let read = 0;
  try {
    const writer = new PcapWriter(file, { nanos: reader.nanos });
    for (let p = reader.next(); p !== null; p = reader.next()) {
      read++;
      out.clear();
      engine.translate(p.data, p.data.length, out, p.tsNs / 1e6);
      for (let i = 0; i < out.count; i++) {
        writer.write(out.slots[i].subarray(0, out.lens[i]), p.tsNs);
      }
    }
    const drops: Record<string, number> = {};
    for (const r of DROP_REASONS) {
      const n = stats.drops(r, false) + stats.drops(r, true);
      if (n > 0) drops[r] = n;
    }
    return {
      read,
      written: writer.count,
      dropped: stats.v[SLOT.drops46] + stats.v[SLOT.drops64],
      drops,
      icmpErrors: stats.v[SLOT.icmpErrorsSent],
      skipped: reader.skipped,
    };
  } finally {
    file.close();
  }
}

/** "replay: 10 packets in, 9 out (1 ICMP error generated), 1 dropped (ttl_exceeded: 1)". */
export function formatReplaySummary(r: ReplayResult): string {
  const reasons = Object.entries(r.drops).map(([k, n]) => `${k}: ${n}`).join(", ");
  return `replay: ${r.read} packets in, ${r.written} out` +
    (r.icmpErrors > 0
      ? ` (${r.icmpErrors} ICMP error${r.icmpErrors === 1 ? "" : "s"} generated)`
      : "") +
    `, ${r.dropped} dropped` + (reasons ? ` (${reasons})` : "") +
    (r.skipped > 0 ? `, ${r.skipped} non-IP frames skipped` : "");
}
