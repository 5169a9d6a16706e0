// The records the NAT64 tables hold (RFC 6146 2: BIB entries and session table entries),
// as flat objects of numbers so that a million of them stay small and monomorphic.
// Addresses are kept as int32 and keys as 30-bit hashes: V8 small integers, stored
// inline, where a uint32 above 2^31 or a 50-bit key would each cost a 16-byte heap box.
import { key4 } from "./pool4.ts";

/** One IPv6 host (an RFC 6888 subscriber): its address and what it holds. */
export class Host {
  /** Bindings (ports) the host holds, static ones excluded (RFC 6888 REQ-3). */
  ports = 0;
  /** Sessions of the host (RFC 6888 REQ-4). */
  sessions = 0;
  constructor(
    readonly a0: number,
    readonly a1: number,
    readonly a2: number,
    readonly a3: number,
    readonly key: number,
  ) {}
}

/** A BIB entry: (IPv6 address, port) <-> (IPv4 address, port) for one protocol. */
export class Bib {
  sessions = 0;
  /** One of its sessions, checked before the session index (most BIBs have just one). */
  first: Session | null = null;
  /** Held by an explicit mapping (PCP MAP, RFC 6887 11): lives on without sessions. */
  pinned = false;
  constructor(
    readonly host: Host,
    /** IPv6-side port or ICMP identifier. */
    readonly port6: number,
    /** 0 tcp, 1 udp, 2 icmp. */
    readonly proto: number,
    /** IPv4 address as int32 (see addr4). */
    readonly a4: number,
    /** IPv4-side port or ICMP identifier. */
    readonly port4: number,
    /** Index key of the IPv6 transport address (30-bit hash). */
    readonly k6: number,
    readonly isStatic: boolean,
  ) {}
  /** The IPv4 address (uint32). */
  get addr4(): number {
    return this.a4 >>> 0;
  }
  /** key4(addr4, port4, proto): the exact IPv4 transport address key. */
  get k4(): number {
    return key4(this.a4, this.port4, this.proto);
  }
}

/**
 * A session: a BIB entry plus the remote IPv4 transport address (Z, z). The remote's
 * IPv6 form is Z under pool6 (RFC 6146 3.6), so it is not stored.
 */
export class Session {
  /** Absolute expiry time (ms). */
  expires = 0;
  /** TCP state (tcp_fsm.ts); 0 for UDP and ICMP. */
  state = 0;
  /** Timer wheel links. */
  wprev: Session | null = null;
  wnext: Session | null = null;
  /** Wheel tick whose bucket holds the session; -1: not in the wheel. */
  tick = -1;
  constructor(
    readonly bib: Bib,
    /** Remote IPv4 address as int32 (see raddr). */
    readonly r4: number,
    readonly rport: number,
    /** Index key (30-bit hash of the BIB's IPv4 side and the remote). */
    readonly key: number,
  ) {}
  /** The remote IPv4 address (uint32). */
  get raddr(): number {
    return this.r4 >>> 0;
  }
}
