// A batch of packet slots in one long-lived buffer: what the shim's read_batch and
// write_batch move, and what the translator writes into. Views are made once here so
// the packet path never allocates.

export const SLOT_SIZE = 65536;

export class PacketBatch {
  readonly buf: Uint8Array;
  readonly slots: Uint8Array[];
  readonly views: DataView[];
  readonly lens: Int32Array;
  count = 0;

  constructor(readonly capacity = 64, readonly slotSize = SLOT_SIZE) {
    this.buf = new Uint8Array(capacity * slotSize);
    this.lens = new Int32Array(capacity);
    this.slots = [];
    this.views = [];
    for (let i = 0; i < capacity; i++) {
      this.slots.push(this.buf.subarray(i * slotSize, (i + 1) * slotSize));
      this.views.push(new DataView(this.buf.buffer, i * slotSize, slotSize));
    }
  }

  /** Index of the next free slot, or -1 when the batch is full. Commit with `commit`. */
  reserve(): number {
    return this.count < this.capacity ? this.count : -1;
  }

  commit(len: number): void {
    this.lens[this.count++] = len;
  }

  clear(): void {
    this.count = 0;
  }

  /** Copies of the committed packets (tests and replay; not for the fast path). */
  packets(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.slots[i].slice(0, this.lens[i]));
    return out;
  }
}
