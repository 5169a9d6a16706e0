// `xlat64 status`: fetch /status from a running appliance and print it for a person.
import { DROP_REASONS } from "../xlat/stats.ts";
import { humanBytes, humanCount, humanDuration, table } from "./human.ts";
import { DIRECTIONS, type StatusDoc } from "./snapshot.ts";
import { type PrefixControlDoc, renderPrefixControl } from "../clat/status_text.ts";

export const DEFAULT_STATUS_URL = "http://127.0.0.1:8064";

export interface PrintStatusOptions {
  /** Also list up to this many sessions (NAT64); true means 100. */
  sessions?: boolean | number;
}

/** Accepts "http://host:port", "host:port" or a full ".../status" URL. */
export function statusUrl(url: string, sessions?: number): string {
  let base = /^[a-z]+:\/\//i.test(url) ? url : `http://${url}`;
  base = base.replace(/\/+$/, "").replace(/\/status$/, "");
  return `${base}/status${sessions !== undefined ? `?sessions=${sessions}` : ""}`;
}

export function renderStatus(doc: StatusDoc, o: { sessionsAsked?: boolean } = {}): string {
  const lines: string[] = [];
  const health = doc.healthy ? "healthy" : "UNHEALTHY";
  lines.push(
    `xlat64 ${doc.version}  mode ${doc.mode}  ${health}  up ${
      humanDuration(doc.uptimeSeconds)
    } (since ${doc.startedAt})`,
  );
  lines.push("");
  const info: string[][] = [];
  info.push(["prefixes", doc.prefixes.length ? doc.prefixes.join(", ") : "(none)"]);
  if (doc.eam.length === 0) info.push(["EAM", "(none)"]);
  doc.eam.forEach((e, i) => info.push([i === 0 ? "EAM" : "", `${e.ipv4} <-> ${e.ipv6}`]));
  const ws = doc.workers.length === 0
    ? "(none)"
    : doc.workers.map((w) =>
      `#${w.id}${w.queue !== undefined ? ` q${w.queue}` : ""} ${w.state}${
        w.detail ? ` (${w.detail})` : ""
      }`
    ).join(", ");
  info.push(["workers", ws]);
  lines.push(table(info));
  lines.push("");
  const t: string[][] = [["direction", "in pkts", "in bytes", "out pkts", "out bytes", "drops"]];
  for (const d of DIRECTIONS) {
    const s = doc.traffic[d];
    t.push([
      d,
      humanCount(s.in.packets),
      humanBytes(s.in.bytes),
      humanCount(s.out.packets),
      humanBytes(s.out.bytes),
      humanCount(s.drops),
    ]);
  }
  lines.push(table(t, [1, 2, 3, 4, 5]));
  lines.push(`ICMP errors generated: ${humanCount(doc.icmpErrorsSent)}`);
  const dropRows: string[][] = [];
  for (const r of DROP_REASONS) {
    const a = doc.traffic["4to6"].dropsByReason[r] ?? 0;
    const b = doc.traffic["6to4"].dropsByReason[r] ?? 0;
    if (a || b) dropRows.push([r, humanCount(a), humanCount(b)]);
  }
  lines.push("");
  if (dropRows.length === 0) lines.push("drops: none");
  else lines.push(table([["drop reason", "4to6", "6to4"], ...dropRows], [1, 2]));
  if (doc.nat64) lines.push("", ...renderNat64(doc.nat64 as Nat64Doc));
  if (doc.nat44) lines.push("", ...renderNat44(doc.nat44 as Nat44Doc));
  if (doc.discovery) lines.push("", ...renderPrefixControl(doc.discovery as PrefixControlDoc));
  if (o.sessionsAsked && !doc.sessions) {
    lines.push("", `sessions: none kept in mode ${doc.mode}`);
  }
  if (doc.sessions) {
    lines.push("");
    if (doc.sessions.length === 0) lines.push("sessions: none");
    else {
      const cols = Object.keys(doc.sessions[0]);
      lines.push(table([cols, ...doc.sessions.map((s) => cols.map((c) => String(s[c] ?? "")))]));
    }
  }
  return lines.join("\n");
}

/** The parts of /status's "nat64" object the client shows (see src/io/nat64_service.ts). */
interface Nat64Doc {
  bibEntries: Record<string, number>;
  sessions: Record<string, number>;
  pool4: Record<string, { used: number; total: number }>;
  hosts: number;
  heldSyns: number;
  pcpMappings: number;
  allocationFailures?: { pool4Exhausted: number; portLimit: number; sessionLimit: number };
  snapshot?: { file: string | null; writes: number; failures: number; lastWrite: string | null };
}

function renderNat64(n: Nat64Doc): string[] {
  const rows = [["NAT64", "BIB entries", "sessions", "pool4 used", "pool4 total", "use"]];
  for (const p of ["tcp", "udp", "icmp"]) {
    const u = n.pool4[p] ?? { used: 0, total: 0 };
    rows.push([
      p,
      humanCount(n.bibEntries[p] ?? 0),
      humanCount(n.sessions[p] ?? 0),
      humanCount(u.used),
      humanCount(u.total),
      u.total > 0 ? `${(100 * u.used / u.total).toFixed(1)}%` : "-",
    ]);
  }
  const out = [table(rows, [1, 2, 3, 4, 5])];
  const f = n.allocationFailures;
  out.push(
    `hosts ${humanCount(n.hosts)}, held SYNs ${humanCount(n.heldSyns)}, PCP mappings ${
      humanCount(n.pcpMappings)
    }` + (f
      ? `; allocation failures: pool4 ${humanCount(f.pool4Exhausted)}, port limit ${
        humanCount(f.portLimit)
      }, session limit ${humanCount(f.sessionLimit)}`
      : ""),
  );
  const s = n.snapshot;
  if (s?.file) {
    out.push(
      `snapshot ${s.file}: ${s.writes} written, ${s.failures} failed, last ${
        s.lastWrite ?? "never"
      }`,
    );
  }
  return out;
}

/** The parts of /status's "nat44" object the client shows (see src/io/clat_nat44.ts). */
interface Nat44Doc {
  bindings: Record<string, number>;
  sessions: Record<string, number>;
  ports: Record<string, { used: number; total: number }>;
  clients: number;
  allocationFailures?: { pool4Exhausted: number; portLimit: number; sessionLimit: number };
}

function renderNat44(n: Nat44Doc): string[] {
  const rows = [["CLAT NAT44", "bindings", "sessions", "ports used", "ports total", "use"]];
  for (const p of ["tcp", "udp", "icmp"]) {
    const u = n.ports[p] ?? { used: 0, total: 0 };
    rows.push([
      p,
      humanCount(n.bindings[p] ?? 0),
      humanCount(n.sessions[p] ?? 0),
      humanCount(u.used),
      humanCount(u.total),
      u.total > 0 ? `${(100 * u.used / u.total).toFixed(1)}%` : "-",
    ]);
  }
  const f = n.allocationFailures;
  return [
    table(rows, [1, 2, 3, 4, 5]),
    `clients ${humanCount(n.clients)}` +
    (f
      ? `; allocation failures: ports ${humanCount(f.pool4Exhausted + f.portLimit)}, ` +
        `session limit ${humanCount(f.sessionLimit)}`
      : ""),
  ];
}

/** Prints the status or, when the appliance cannot be reached, a reason and exits 1. */
export async function printStatus(url: string, opts: PrintStatusOptions = {}): Promise<void> {
  const n = opts.sessions === true ? 100 : opts.sessions === false ? undefined : opts.sessions;
  const target = statusUrl(url, n);
  let doc: StatusDoc;
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status} ${res.statusText}`);
    }
    doc = await res.json() as StatusDoc;
    if (!doc || typeof doc !== "object" || !("traffic" in doc)) {
      throw new Error("the answer is not an xlat64 status document");
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    console.error(
      `xlat64 status: cannot get ${target}: ${why}\n` +
        `Is xlat64 running, and is [status] listen set to this address? (--url to change)`,
    );
    Deno.exit(1);
  }
  console.log(renderStatus(doc, { sessionsAsked: n !== undefined }));
}
