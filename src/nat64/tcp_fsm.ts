// The TCP session state machine of RFC 6146 3.5.2.2, as one pure transition function.
// CLOSED is the absence of a session; the engine creates sessions in V4 INIT or V6 INIT.
import { TCP_FLAG } from "../packet/l4.ts";

export const TCP = {
  CLOSED: 0,
  V4_INIT: 1,
  V6_INIT: 2,
  ESTABLISHED: 3,
  V4_FIN_RCV: 4,
  V6_FIN_RCV: 5,
  V4_FIN_V6_FIN_RCV: 6,
  TRANS: 7,
} as const;
export const TCP_STATE_NAMES = [
  "CLOSED",
  "V4 INIT",
  "V6 INIT",
  "ESTABLISHED",
  "V4 FIN RCV",
  "V6 FIN RCV",
  "V4 FIN + V6 FIN RCV",
  "TRANS",
] as const;

/** What happens to the session lifetime on a transition. */
export const LIFE = { KEEP: 0, TRANS: 1, EST: 2 } as const;

/** Packs a transition result: the new state and the lifetime action. */
const r = (state: number, life: number): number => (state << 2) | life;
export const nextState = (t: number): number => t >> 2;
export const lifeAction = (t: number): number => t & 3;

/**
 * RFC 6146 3.5.2.2: the state after a packet with TCP `flags` arrives from the IPv6 side
 * (`fromV6`) or the IPv4 side, in `state`; packed with the lifetime action (LIFE.*).
 * Every packet of an existing session is translated; only its state and lifetime change.
 */
export function tcpTransition(state: number, fromV6: boolean, flags: number): number {
  const syn = (flags & TCP_FLAG.SYN) !== 0;
  const fin = (flags & TCP_FLAG.FIN) !== 0;
  const rst = (flags & TCP_FLAG.RST) !== 0;
  switch (state) {
    case TCP.V4_INIT:
      // "If a V6 SYN is received ... the state is moved to ESTABLISHED", lifetime TCP_EST.
      return fromV6 && syn ? r(TCP.ESTABLISHED, LIFE.EST) : r(state, LIFE.KEEP);
    case TCP.V6_INIT:
      // A V4 SYN completes the (possibly simultaneous) open; a V6 SYN retransmission
      // refreshes the TCP_TRANS lifetime.
      if (!fromV6 && syn) return r(TCP.ESTABLISHED, LIFE.EST);
      if (fromV6 && syn) return r(state, LIFE.TRANS);
      return r(state, LIFE.KEEP);
    case TCP.ESTABLISHED:
      if (rst) return r(TCP.TRANS, LIFE.TRANS);
      if (fin) return r(fromV6 ? TCP.V6_FIN_RCV : TCP.V4_FIN_RCV, LIFE.EST);
      return r(state, LIFE.EST);
    case TCP.V4_FIN_RCV:
      if (fromV6 && fin) return r(TCP.V4_FIN_V6_FIN_RCV, LIFE.TRANS);
      return r(state, LIFE.EST);
    case TCP.V6_FIN_RCV:
      if (!fromV6 && fin) return r(TCP.V4_FIN_V6_FIN_RCV, LIFE.TRANS);
      return r(state, LIFE.EST);
    case TCP.V4_FIN_V6_FIN_RCV:
      // Both FINs seen: packets pass, the lifetime is not extended.
      return r(state, LIFE.KEEP);
    case TCP.TRANS:
      // "If a packet other than a RST packet is received, the lifetime ... is set to ...
      // TCP_EST and the state is moved to ESTABLISHED."
      return rst ? r(state, LIFE.KEEP) : r(TCP.ESTABLISHED, LIFE.EST);
    default:
      return r(state, LIFE.KEEP);
  }
}
