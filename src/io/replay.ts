// Offline replay: every IP packet of a pcap goes through the same packet engine the TUN
// workers run (src/io/engines.ts), with the capture timestamps as the clock; everything
// the engine emits is written to a raw-IP pcap with the input packet's timestamp. Both
// files are streamed, so captures of any size replay in bounded memory.
import { engineOptions } from "../nat64/options.ts";
import type { Config } from "../config/types.ts";
import { PacketBatch } from "../packet/batch.ts";
import { type PcapPacket, PcapReader, type PcapSink, PcapWriter } from "../packet/pcap.ts";
import { DROP_REASONS, SLOT, Stats } from "../xlat/stats.ts";
import { createEngine } from "./engines.ts";
import type { PacketEngine } from "./worker_protocol.ts";

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

/** A replay that cannot start (the message says why). */
export class ReplayError extends Error {
  override name = "ReplayError";
}

export async function replay(cfg: Config, inPath: string, outPath: string): Promise<ReplayResult> {
  if (cfg.mode === "none") throw new ReplayError('replay needs a translator, but mode is "none"');
  const stats = new Stats();
  let engine: PacketEngine;
  try {
    engine = createEngine(cfg.mode, engineOptions(cfg), stats);
  } catch (e) {
    throw new ReplayError(`cannot replay in mode "${cfg.mode}": ${(e as Error).message}`);
  }
  const input = await Deno.open(inPath, { read: true });
  let output: Deno.FsFile | undefined;
  const out = new PacketBatch(64);
  let read = 0;
  try {
    const pcap = await PcapStream.open(input);
    output = await Deno.open(outPath, { write: true, create: true, truncate: true });
    const sink = new BufferedSink(output);
    const writer = new PcapWriter(sink, { nanos: pcap.nanos });
    for await (const p of pcap.packets()) {
      read++;
      out.clear();
      engine.translate(p.data, p.data.length, out, p.tsNs / 1e6);
      for (let i = 0; i < out.count; i++) {
        writer.write(out.slots[i].subarray(0, out.lens[i]), p.tsNs);
      }
    }
    sink.flush();
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
      skipped: pcap.skipped,
    };
  } finally {
    input.close();
    output?.close();
  }
}

const FILE_HDR = 24;
const REC_HDR = 16;
/** Read size; larger than any record PcapReader accepts (256 KiB), so a chunk always
 *  holds at least one whole record. */
const CHUNK = 4 << 20;

/**
 * Streams a pcap file through PcapReader one chunk of whole records at a time, so memory
 * stays bounded however large the capture. Yielded packets are views into the chunk
 * buffer: valid until the next packet is requested.
 */
class PcapStream {
  skipped = 0;
  private constructor(
    private readonly file: Deno.FsFile,
    private readonly header: PcapReader,
    private readonly buf: Uint8Array,
  ) {}

  get nanos(): boolean {
    return this.header.nanos;
  }

  static async open(file: Deno.FsFile): Promise<PcapStream> {
    const buf = new Uint8Array(FILE_HDR + CHUNK);
    const n = await readFull(file, buf.subarray(0, FILE_HDR));
    // PcapReader checks magic, version and link type (and reports a short file).
    const header = new PcapReader(buf.subarray(0, n));
    return new PcapStream(file, header, buf);
  }

  async *packets(): AsyncGenerator<PcapPacket> {
    const buf = this.buf;
    const le = !this.header.bigEndian;
    const dv = new DataView(buf.buffer);
    let fill = FILE_HDR;
    for (;;) {
      const got = await readFull(this.file, buf.subarray(fill));
      fill += got;
      const eof = fill < buf.length;
      // Whole records only; at the end of the file hand over the rest so that PcapReader
      // reports a truncated record.
      let end = FILE_HDR;
      while (end + REC_HDR <= fill) {
        const next = end + REC_HDR + dv.getUint32(end + 8, le);
        if (next > fill) break;
        end = next;
      }
      if (eof || end === FILE_HDR) end = fill;
      const reader = new PcapReader(buf.subarray(0, end));
      for (let p = reader.next(); p !== null; p = reader.next()) yield p;
      this.skipped += reader.skipped;
      if (eof) return;
      buf.copyWithin(FILE_HDR, end, fill);
      fill = FILE_HDR + fill - end;
    }
  }
}

/** Collects small writes (a pcap record header, then its packet) into large ones. */
class BufferedSink implements PcapSink {
  private readonly buf = new Uint8Array(1 << 20);
  private len = 0;
  constructor(private readonly file: Deno.FsFile) {}

  writeSync(p: Uint8Array): number {
    if (this.len + p.length > this.buf.length) this.flush();
    if (p.length > this.buf.length) writeAll(this.file, p);
    else {
      this.buf.set(p, this.len);
      this.len += p.length;
    }
    return p.length;
  }

  flush(): void {
    writeAll(this.file, this.buf.subarray(0, this.len));
    this.len = 0;
  }
}

function writeAll(f: Deno.FsFile, b: Uint8Array): void {
  for (let o = 0; o < b.length;) o += f.writeSync(b.subarray(o));
}

/** Reads until `b` is full or the file ends; returns the bytes read. */
async function readFull(f: Deno.FsFile, b: Uint8Array): Promise<number> {
  let n = 0;
  while (n < b.length) {
    const r = await f.read(b.subarray(n));
    if (r === null) break;
    n += r;
  }
  return n;
}

/** "replay: 10 packets in, 9 out (1 ICMP error generated), 1 dropped (ttl_exceeded: 1)". */
export function formatReplaySummary(r: ReplayResult): string {
  const reasons = Object.entries(r.drops).map(([k, n]) => `${k}: ${n}`).join(", ");
  return `replay: ${r.read} packets in, ${r.written} out` +
    (r.icmpErrors > 0
      ? ` (${r.icmpErrors} ICMP error${r.icmpErrors === 1 ? "" : "s"} generated)`
      : "") +
    `, ${r.dropped} dropped` + (reasons ? ` (${reasons})` : "") +
    (r.skipped > 0 ? `, ${r.skipped} non-IP frame${r.skipped === 1 ? "" : "s"} skipped` : "");
}
