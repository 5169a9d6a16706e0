// The JSON document served at GET /status, built from a StatusSource.
import { formatPrefix4, formatPrefix6 } from "../addr/ip.ts";
import { DROP_REASONS, type DropReason, SLOT, type Stats } from "../xlat/stats.ts";
import {
  isHealthy,
  type Mode,
  type SessionRow,
  type StatusSource,
  type WorkerInfo,
} from "./source.ts";

/** "4to6": IPv4 packets in, IPv6 out; "6to4" the reverse. */
export type Direction = "4to6" | "6to4";
export const DIRECTIONS: readonly Direction[] = ["4to6", "6to4"];

export interface Counts {
  readonly packets: number;
  readonly bytes: number;
}

export interface DirectionStatus {
  readonly in: Counts;
  readonly out: Counts;
  readonly drops: number;
  /** Every drop reason, zero included. */
  readonly dropsByReason: Readonly<Record<DropReason, number>>;
}

export interface StatusDoc {
  readonly version: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly mode: Mode;
  readonly healthy: boolean;
  readonly prefixes: readonly string[];
  readonly eam: readonly { readonly ipv4: string; readonly ipv6: string }[];
  readonly traffic: Readonly<Record<Direction, DirectionStatus>>;
  readonly icmpErrorsSent: number;
  readonly workers: readonly WorkerInfo[];
  readonly sessions?: readonly SessionRow[];
  /** NAT64 tables (nat64 mode): per-protocol BIB/sessions, pool4 use, failures, PCP. */
  readonly nat64?: unknown;
  /** The single-address CLAT's NAT44: bindings, sessions, port use, clients. */
  readonly nat44?: unknown;
  /** Each discovery method and its answer (clat), what is announced (PREF64). */
  readonly discovery?: unknown;
}

const SLOTS: Record<
  Direction,
  { inP: number; inB: number; outP: number; outB: number; d: number }
> = {
  "4to6": {
    inP: SLOT.in46Packets,
    inB: SLOT.in46Bytes,
    outP: SLOT.out46Packets,
    outB: SLOT.out46Bytes,
    d: SLOT.drops46,
  },
  "6to4": {
    inP: SLOT.in64Packets,
    inB: SLOT.in64Bytes,
    outP: SLOT.out64Packets,
    outB: SLOT.out64Bytes,
    d: SLOT.drops64,
  },
};

/** Stats.drop's direction flag: a dropped IPv6 packet was going 6to4. */
export const v6in = (d: Direction): boolean => d === "6to4";

export function directionStatus(s: Stats, d: Direction): DirectionStatus {
  const k = SLOTS[d];
  const byReason = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) byReason[r] = s.drops(r, v6in(d));
  return {
    in: { packets: s.v[k.inP], bytes: s.v[k.inB] },
    out: { packets: s.v[k.outP], bytes: s.v[k.outB] },
    drops: s.v[k.d],
    dropsByReason: byReason,
  };
}

export function buildStatus(
  src: StatusSource,
  now = new Date(),
  opts: { sessions?: number; rows?: readonly SessionRow[] } = {},
): StatusDoc {
  const s = src.stats();
  const doc: StatusDoc = {
    version: src.version,
    startedAt: src.startedAt.toISOString(),
    uptimeSeconds: Math.max(0, (now.getTime() - src.startedAt.getTime()) / 1000),
    mode: src.mode,
    healthy: isHealthy(src),
    prefixes: src.prefixes().map(formatPrefix6),
    eam: src.eam().map((e) => ({ ipv4: formatPrefix4(e.ipv4), ipv6: formatPrefix6(e.ipv6) })),
    traffic: { "4to6": directionStatus(s, "4to6"), "6to4": directionStatus(s, "6to4") },
    icmpErrorsSent: s.v[SLOT.icmpErrorsSent],
    workers: src.workers().map((w) => ({ ...w })),
    ...(src.discovery?.() ? { discovery: src.discovery() } : {}),
  };
  const nat64 = src.nat64Status?.();
  const nat44 = src.nat44Status?.();
  const withNat64: StatusDoc = { ...doc, ...(nat64 ? { nat64 } : {}), ...(nat44 ? { nat44 } : {}) };
  if (opts.rows) return { ...withNat64, sessions: opts.rows };
  if (opts.sessions !== undefined && src.sessions) {
    const rows = src.sessions(opts.sessions);
    if (Array.isArray(rows)) return { ...withNat64, sessions: rows };
  }
  return withNat64;
}
