// Deno.dlopen bindings for ffi/shim.c. Fast-path calls are synchronous and take
// pointers made once per long-lived buffer (BoundBatch), never per packet.
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { PacketBatch } from "../packet/batch.ts";

const LIB_NAME = "libxlat64shim.so";
const IFNAMSIZ = 16;

const SYMBOLS = {
  xs_tun_open: { parameters: ["buffer", "i32"], result: "i32" },
  xs_close: { parameters: ["i32"], result: "i32" },
  xs_tun_set_mtu: { parameters: ["buffer", "i32"], result: "i32" },
  xs_link_up: { parameters: ["buffer"], result: "i32" },
  xs_if_index: { parameters: ["buffer"], result: "i32" },
  xs_read_batch: {
    parameters: ["i32", "pointer", "i32", "i32", "pointer", "i32"],
    result: "i32",
  },
  xs_write_batch: { parameters: ["i32", "pointer", "i32", "pointer", "i32"], result: "i32" },
  xs_icmp6_open: { parameters: ["buffer"], result: "i32" },
  xs_icmp6_recv: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  // Same function on a Deno-managed thread, for callers on the main event loop.
  xs_icmp6_recv_async: {
    name: "xs_icmp6_recv",
    parameters: ["i32", "buffer", "i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  xs_icmp6_send: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  xs_drop_caps: { parameters: ["u64"], result: "i32" },
  xs_strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

export type ShimSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** A failed shim call: `errno` is the positive errno, `message` says what to do. */
export class ShimError extends Error {
  constructor(readonly op: string, readonly errno: number, message: string) {
    super(message);
    this.name = "ShimError";
  }
}

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  ETIMEDOUT: 110,
} as const;

/** Where the shim is looked for, in order. */
export function shimCandidates(): string[] {
  const out: string[] = [];
  const env = Deno.env.get("XLAT64_SHIM");
  if (env) out.push(env);
  // ffi/ next to main.ts (running from source), and next to this module's repo root.
  try {
    const main = new URL(Deno.mainModule);
    if (main.protocol === "file:") out.push(join(dirname(fromFileUrl(main)), "ffi", LIB_NAME));
  } catch { /* no main module (e.g. eval) */ }
  const here = new URL(import.meta.url);
  if (here.protocol === "file:") out.push(fromFileUrl(new URL(`../../ffi/${LIB_NAME}`, here)));
  // Next to a compiled executable (deno compile ships the .so beside the binary).
  const exeDir = dirname(Deno.execPath());
  out.push(join(exeDir, LIB_NAME), join(exeDir, "ffi", LIB_NAME));
  return [...new Set(out)];
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The path of the shim library, or a ShimError saying how to build it. */
export function findShim(): string {
  const tried = shimCandidates();
  const found = tried.find(exists);
  if (found) return found;
  throw new ShimError(
    "load",
    ERRNO.ENOENT,
    `xlat64 shim library ${LIB_NAME} not found (tried: ${tried.join(", ")}). ` +
      "Build it with `deno task shim` (needs a C compiler, cc), " +
      "or set XLAT64_SHIM=/path/to/libxlat64shim.so.",
  );
}

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

/** The loaded shim (loaded once per thread; each Worker loads its own). */
export function shim(): ShimSymbols {
  if (!lib) lib = Deno.dlopen(findShim(), SYMBOLS);
  return lib.symbols;
}

const enc = new TextEncoder();
function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = enc.encode(s);
  const out = new Uint8Array(Math.max(b.length + 1, IFNAMSIZ));
  out.set(b);
  return out;
}

export function strerror(errno: number): string {
  const p = shim().xs_strerror(errno);
  const s = p ? Deno.UnsafePointerView.getCString(p) : `errno ${errno}`;
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function hint(errno: number): string {
  if (errno === ERRNO.EPERM || errno === ERRNO.EACCES) {
    return "; run as root or with CAP_NET_ADMIN";
  }
  return "";
}

/** Throw a ShimError for a negative result; return non-negative results unchanged. */
export function check(op: string, r: number, what: string): number {
  if (r >= 0) return r;
  const errno = -r;
  throw new ShimError(op, errno, `${what}: ${strerror(errno)}${hint(errno)}`);
}

function checkIfName(name: string): void {
  if (enc.encode(name).length >= IFNAMSIZ || /[\s/]/.test(name)) {
    throw new ShimError(
      "tun_open",
      ERRNO.EINVAL,
      `invalid interface name "${name}": at most ${IFNAMSIZ - 1} bytes, no spaces or "/"`,
    );
  }
}

export interface TunQueueFd {
  readonly fd: number;
  /** The name the kernel gave the interface (same as asked unless it had a %d). */
  readonly name: string;
}

/**
 * Open one TUN queue (IFF_TUN | IFF_NO_PI, non-blocking). `attach` says the interface
 * already has a queue of ours (for the error message only).
 */
export function tunOpen(name: string, multiqueue: boolean, attach = false): TunQueueFd {
  checkIfName(name);
  const buf = cstr(name);
  const r = shim().xs_tun_open(buf, multiqueue ? 1 : 0);
  if (r < 0) {
    const errno = -r;
    const what = errno === ERRNO.ENOENT || errno === ERRNO.ENODEV
      ? "cannot open /dev/net/tun (is the tun module loaded?)"
      : errno === ERRNO.EPERM || errno === ERRNO.EACCES
      ? "cannot open /dev/net/tun"
      : attach
      ? `cannot attach queue to TUN "${name}"`
      : `cannot create TUN "${name}"`;
    const why = (errno === ERRNO.EINVAL || errno === ERRNO.EBUSY) && !attach
      ? ` (an interface of that name exists and is not a TUN with the same flags: ` +
        `${multiqueue ? "it must be multi_queue" : "it must not be multi_queue"})`
      : "";
    throw new ShimError("tun_open", errno, `${what}: ${strerror(errno)}${hint(errno)}${why}`);
  }
  const end = buf.indexOf(0);
  return { fd: r, name: new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end)) };
}

/** Open `queues` queues of one TUN (multi-queue when more than one). */
export function tunOpenQueues(name: string, queues: number): TunQueueFd[] {
  const out: TunQueueFd[] = [];
  try {
    for (let i = 0; i < queues; i++) {
      out.push(tunOpen(i === 0 ? name : out[0].name, queues > 1, i > 0));
    }
  } catch (e) {
    for (const q of out) closeFd(q.fd);
    throw e;
  }
  return out;
}

export function closeFd(fd: number): void {
  shim().xs_close(fd);
}

export function setMtu(name: string, mtu: number): void {
  check("set_mtu", shim().xs_tun_set_mtu(cstr(name), mtu), `cannot set MTU ${mtu} on ${name}`);
}

export function linkUp(name: string): void {
  check("link_up", shim().xs_link_up(cstr(name)), `cannot bring ${name} up`);
}

export function ifIndex(name: string): number {
  return check("if_index", shim().xs_if_index(cstr(name)), `no interface "${name}"`);
}

/** A PacketBatch with its FFI pointers, made once for the batch's lifetime. */
export interface BoundBatch {
  readonly batch: PacketBatch;
  readonly buf: Deno.PointerValue;
  readonly lens: Deno.PointerValue;
}

export function bindBatch(batch: PacketBatch): BoundBatch {
  return {
    batch,
    buf: Deno.UnsafePointer.of(batch.buf as Uint8Array<ArrayBuffer>),
    lens: Deno.UnsafePointer.of(batch.lens as Int32Array<ArrayBuffer>),
  };
}

/**
 * Read up to `batch.capacity` packets into the batch (sets `count`). Waits at most
 * `timeoutMs` for the first packet; returns the count (0 on timeout).
 */
export function readBatch(fd: number, b: BoundBatch, timeoutMs: number): number {
  const bt = b.batch;
  const r = shim().xs_read_batch(fd, b.buf, bt.slotSize, bt.capacity, b.lens, timeoutMs);
  if (r < 0) {
    bt.count = 0;
    if (-r === ERRNO.EINTR || -r === ERRNO.EAGAIN) return 0;
    check("read_batch", r, `read from TUN fd ${fd} failed`);
  }
  bt.count = r;
  return r;
}

/** Write the batch's committed packets; returns how many the kernel took. */
export function writeBatch(fd: number, b: BoundBatch): number {
  const bt = b.batch;
  if (bt.count === 0) return 0;
  return check(
    "write_batch",
    shim().xs_write_batch(fd, b.buf, bt.slotSize, b.lens, bt.count),
    `write to TUN fd ${fd} failed`,
  );
}

// ---------------------------------------------------------------- raw ICMPv6

export interface Icmp6Meta {
  /** Source address (16 bytes). */
  readonly src: Uint8Array;
  readonly ifindex: number;
  /** IPv6 hop limit of the received packet (-1 unknown); RFC 4861 wants 255. */
  readonly hopLimit: number;
}

/** Raw ICMPv6 socket hearing only RS/RA, bound to `ifname` ("" = all interfaces). */
export function icmp6Open(ifname: string): number {
  return check(
    "icmp6_open",
    shim().xs_icmp6_open(cstr(ifname)),
    `cannot open raw ICMPv6 socket${ifname ? ` on ${ifname}` : ""}`,
  );
}

function icmp6Meta(meta: Uint8Array): Icmp6Meta {
  const dv = new DataView(meta.buffer, meta.byteOffset, 24);
  return {
    src: meta.slice(0, 16),
    ifindex: dv.getUint32(16, true),
    hopLimit: dv.getInt32(20, true),
  };
}

/** Receive one RS/RA into `buf`; null on timeout. Blocks this thread up to timeoutMs. */
export function icmp6Recv(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
  timeoutMs: number,
): { len: number; meta: Icmp6Meta } | null {
  const meta = new Uint8Array(24);
  const r = check("icmp6_recv", shim().xs_icmp6_recv(fd, buf, buf.length, meta, timeoutMs), "");
  return r === 0 ? null : { len: r, meta: icmp6Meta(meta) };
}

/** As icmp6Recv, on a separate thread so the event loop keeps running. */
export async function icmp6RecvAsync(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
  timeoutMs: number,
): Promise<{ len: number; meta: Icmp6Meta } | null> {
  const meta = new Uint8Array(24);
  const r = await shim().xs_icmp6_recv_async(fd, buf, buf.length, meta, timeoutMs);
  check("icmp6_recv", r, "ICMPv6 receive failed");
  return r === 0 ? null : { len: r, meta: icmp6Meta(meta) };
}

/** Send an ICMPv6 message (checksum filled in by the kernel) with hop limit 255. */
export function icmp6Send(
  fd: number,
  msg: Uint8Array<ArrayBuffer>,
  dst: Uint8Array<ArrayBuffer>,
  ifindex: number,
): number {
  return check(
    "icmp6_send",
    shim().xs_icmp6_send(fd, msg, msg.length, dst, ifindex),
    "ICMPv6 send failed",
  );
}

/** Capabilities the appliance may keep after start-up (linux/capability.h numbers). */
export const CAP = {
  NET_BIND_SERVICE: 10,
  NET_ADMIN: 12,
  NET_RAW: 13,
} as const;
export type CapName = keyof typeof CAP;

/**
 * Drop every capability on every thread of this process except `keep` (also from the
 * bounding set, so `ip` run later as root cannot regain more). Returns the number of
 * threads changed.
 */
export function dropCaps(keep: readonly CapName[]): number {
  let mask = 0n;
  for (const c of keep) mask |= 1n << BigInt(CAP[c]);
  const r = shim().xs_drop_caps(mask);
  if (r === -ERRNO.ETIMEDOUT) {
    throw new ShimError(
      "drop_caps",
      ERRNO.ETIMEDOUT,
      "cannot drop capabilities: some threads did not take the change within 2 s " +
        "(they may block real-time signals); those threads keep their privileges",
    );
  }
  return check("drop_caps", r, "cannot drop capabilities");
}
