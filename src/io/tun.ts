// A TUN device as the appliance uses it: one interface, one fd per queue (one queue per
// worker; IFF_MULTI_QUEUE when there is more than one), link state and MTU.
import { closeFd, linkUp, setMtu, tunOpenQueues } from "./ffi.ts";

export interface TunOptions {
  readonly name: string;
  readonly queues: number;
  readonly mtu: number;
}

export class TunDevice {
  private closed = false;

  private constructor(readonly name: string, readonly fds: readonly number[]) {}

  /** Create (or attach to) the interface and open its queues. */
  static open(o: TunOptions): TunDevice {
    if (!Number.isInteger(o.queues) || o.queues < 1) {
      throw new RangeError(`tun queues must be a positive integer, got ${o.queues}`);
    }
    const qs = tunOpenQueues(o.name, o.queues);
    return new TunDevice(qs[0].name, qs.map((q) => q.fd));
  }

  get multiqueue(): boolean {
    return this.fds.length > 1;
  }

  /** Set the MTU and bring the link up (both idempotent). */
  configure(mtu: number): void {
    setMtu(this.name, mtu);
    linkUp(this.name);
  }

  /** Close every queue; a non-persistent TUN disappears with its last fd. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds) closeFd(fd);
  }
}
