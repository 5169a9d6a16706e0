// Bindings for ffi/udp_batch.c (symbols xs_dns_*): batched UDP for the DNS fast path.
import { findShim } from "../io/ffi.ts";

/** Bytes per peer address slot (struct sockaddr_in6 rounded up), as in udp_batch.c. */
export const ADDR_SLOT = 32;
export const MAX_BATCH = 256;

const SYMBOLS = {
  xs_dns_udp_open: { parameters: ["buffer", "i32"], result: "i32" },
  xs_dns_local_port: { parameters: ["i32"], result: "i32" },
  xs_dns_recv_batch: {
    parameters: ["i32", "pointer", "i32", "i32", "pointer", "pointer"],
    result: "i32",
  },
  xs_dns_send_batch: {
    parameters: ["i32", "pointer", "i32", "i32", "pointer", "pointer"],
    result: "i32",
  },
  // Runs on a Deno-managed thread so the worker's event loop keeps going while idle.
  xs_dns_wait: { parameters: ["buffer", "i32", "i32"], result: "i32", nonblocking: true },
  // Blocking form for an idle worker with nothing in flight: no thread hop on wake-up.
  xs_dns_wait_sync: { name: "xs_dns_wait", parameters: ["buffer", "i32", "i32"], result: "i32" },
  xs_dns_close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

export type DnsShim = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

/** Load the shim's DNS symbols; throws when the library or the symbols are missing. */
export function dnsShim(): DnsShim {
  if (!lib) lib = Deno.dlopen(findShim(), SYMBOLS);
  return lib.symbols;
}

export function openUdp(host: string, port: number): number {
  const name = new TextEncoder().encode(host + "\0");
  const fd = dnsShim().xs_dns_udp_open(name, port);
  if (fd < 0) throw new Error(`cannot bind UDP ${host}:${port} (errno ${-fd})`);
  return fd;
}

/** Batch buffers made once, with their pointers made once (no per-packet FFI pointers). */
export class UdpBatch {
  readonly buf: Uint8Array<ArrayBuffer>;
  readonly lens = new Int32Array(MAX_BATCH);
  readonly addrs = new Uint8Array(MAX_BATCH * ADDR_SLOT);
  readonly bufPtr: Deno.PointerValue;
  readonly lensPtr: Deno.PointerValue;
  readonly addrsPtr: Deno.PointerValue;
  /** One view per slot, made once. */
  readonly slots: Uint8Array[] = [];
  count = 0;

  constructor(readonly slot: number) {
    this.buf = new Uint8Array(MAX_BATCH * slot);
    for (let i = 0; i < MAX_BATCH; i++) {
      this.slots.push(this.buf.subarray(i * slot, (i + 1) * slot));
    }
    this.bufPtr = Deno.UnsafePointer.of(this.buf);
    this.lensPtr = Deno.UnsafePointer.of(this.lens);
    this.addrsPtr = Deno.UnsafePointer.of(this.addrs);
  }

  recv(fd: number): number {
    const n = dnsShim().xs_dns_recv_batch(
      fd,
      this.bufPtr,
      this.slot,
      MAX_BATCH,
      this.lensPtr,
      this.addrsPtr,
    );
    this.count = n > 0 ? n : 0;
    return n;
  }

  send(fd: number): number {
    if (this.count === 0) return 0;
    const n = dnsShim().xs_dns_send_batch(
      fd,
      this.bufPtr,
      this.slot,
      this.count,
      this.lensPtr,
      this.addrsPtr,
    );
    this.count = 0;
    return n;
  }

  datagram(i: number): Uint8Array {
    return this.buf.subarray(i * this.slot, i * this.slot + this.lens[i]);
  }
}
