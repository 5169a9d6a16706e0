// The records the NAT64 tables hold (RFC 6146 2: BIB entries and session table entries),
// as flat objects of numbers so that a million of them stay small and monomorphic.

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
  constructor(
    readonly host: Host,
    /** IPv6-side port or ICMP identifier. */
    readonly port6: number,
    /** 0 tcp, 1 udp, 2 icmp. */
    readonly proto: number,
    readonly addr4: number,
    /** IPv4-side port or ICMP identifier. */
    readonly port4: number,
    /** key4(addr4, port4, proto): exact. */
    readonly k4: number,
    /** Hash of the IPv6 transport address and protocol. */
    readonly k6: number,
    readonly isStatic: boolean,
  ) {}
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
    readonly raddr: number,
    readonly rport: number,
    readonly key: number,
    /** When the session was created (ms), for logs and snapshots. */
    readonly created: number,
  ) {}
}
