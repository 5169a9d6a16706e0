// RFC 6888 REQ-12 style logging: one line per BIB entry or session created or deleted,
// enough to trace an IPv4 transport address at a time back to its IPv6 subscriber. The
// timestamp is the logger's; the line carries the protocol and both sides.
import { formatIPv4, formatIPv6 } from "../addr/ip.ts";
import type { Bib, Host, Session } from "./entries.ts";
import { PROTO_NAMES } from "./pool4.ts";
import type { LogKind } from "./tables.ts";
import { TCP_STATE_NAMES } from "./tcp_fsm.ts";

/** The host's IPv6 address as text. */
export function host6(h: Host): string {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setInt32(0, h.a0);
  v.setInt32(4, h.a1);
  v.setInt32(8, h.a2);
  v.setInt32(12, h.a3);
  return formatIPv6(b);
}

/**
 * "nat64 session-add udp 2001:db8::1#5000 198.51.100.1#61002 203.0.113.9#53" (session
 * events add the remote side; TCP deletions add the last state).
 */
export function formatLogLine(kind: LogKind, bib: Bib, s: Session | null): string {
  let line = `nat64 ${kind} ${PROTO_NAMES[bib.proto]} ${host6(bib.host)}#${bib.port6} ${
    formatIPv4(bib.addr4)
  }#${bib.port4}`;
  if (s !== null) {
    line += ` ${formatIPv4(s.raddr)}#${s.rport}`;
    if (bib.proto === 0 && kind === "session-del") line += ` state=${TCP_STATE_NAMES[s.state]}`;
  }
  if (bib.isStatic) line += " static";
  return line;
}
