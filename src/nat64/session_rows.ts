// NAT64 sessions as rows for people (`xlat64 status --sessions`, GET /sessions): both
// sides of the BIB entry, the remote IPv4 transport address, TCP state, time left.
import { formatIPv4 } from "../addr/ip.ts";
import { host6 } from "./log_line.ts";
import { PROTO_NAMES } from "./pool4.ts";
import type { Nat64Tables } from "./tables.ts";
import { TCP_STATE_NAMES } from "./tcp_fsm.ts";

export type SessionRow = Readonly<Record<string, string | number>>;

/** Up to `limit` live sessions (table order, not sorted: this is for a look, not a report). */
export function sessionRows(t: Nat64Tables, limit: number, now: number): SessionRow[] {
  const rows: SessionRow[] = [];
  if (limit <= 0) return rows;
  for (const s of t.sessions()) {
    if (s.expires <= now) continue;
    const b = s.bib;
    rows.push({
      proto: PROTO_NAMES[b.proto],
      ipv6: `[${host6(b.host)}]:${b.port6}`,
      ipv4: `${formatIPv4(b.addr4)}:${b.port4}`,
      remote: `${formatIPv4(s.raddr)}:${s.rport}`,
      state: b.proto === 0 ? TCP_STATE_NAMES[s.state] : "",
      expires_s: Math.ceil((s.expires - now) / 1000),
      bib: b.isStatic ? "static" : b.pinned ? "pcp" : "dynamic",
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
