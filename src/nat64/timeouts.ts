// Session lifetimes of RFC 6146 in milliseconds, with the RFC defaults and floors.
import type { Nat64Config } from "../config/types.ts";

export interface Nat64Timeouts {
  /** RFC 6146 3.5.1: UDP session lifetime, default 5 min, at least 2 min. */
  readonly udp: number;
  /** RFC 6146 3.5.2.2 TCP_EST: established idle timeout, default and floor 2 h 4 min. */
  readonly tcpEst: number;
  /** RFC 6146 3.5.2.2 TCP_TRANS: transitory timeout, default and floor 4 min. */
  readonly tcpTrans: number;
  /** RFC 6146 3.5.2.2: how long an unmatched inbound IPv4 SYN is held (6 s). */
  readonly tcpIncomingSyn: number;
  /** RFC 6146 3.5.3: ICMP query session lifetime, default 60 s. */
  readonly icmp: number;
}

export const DEFAULT_TIMEOUTS: Nat64Timeouts = {
  udp: 5 * 60_000,
  tcpEst: (2 * 3600 + 4 * 60) * 1000,
  tcpTrans: 4 * 60_000,
  tcpIncomingSyn: 6_000,
  icmp: 60_000,
};

/** RFC minimums: "MUST NOT be less than" values (UDP 2 min, TCP_EST 2 h 4 min, TCP_TRANS 4 min). */
export const MIN_TIMEOUTS: Nat64Timeouts = {
  udp: 2 * 60_000,
  tcpEst: DEFAULT_TIMEOUTS.tcpEst,
  tcpTrans: DEFAULT_TIMEOUTS.tcpTrans,
  tcpIncomingSyn: 6_000,
  icmp: 60_000,
};

/** Timeouts from the [nat64] config section (seconds there, ms here). */
export function timeoutsFromConfig(c: Nat64Config): Nat64Timeouts {
  return {
    udp: c.udpTimeout * 1000,
    tcpEst: c.tcpEstTimeout * 1000,
    tcpTrans: c.tcpTransTimeout * 1000,
    tcpIncomingSyn: c.tcpIncomingSynTimeout * 1000,
    icmp: c.icmpTimeout * 1000,
  };
}
