// Snapshot of the NAT64 state (dynamic and static BIB entries, sessions) as bytes, and
// back: so a restart or an upgrade keeps running flows. Pure: the caller writes the bytes
// atomically (temp file + rename) and reads them back. Lifetimes are stored as time left,
// so the restoring process's clock need not match.
//
// Layout (big-endian), version 3:
//   "XL64" | version u8 | 3 bytes zero | bib count u32 | session count u32
//   per BIB (26 bytes): proto u8 | static u8 | IPv6 16 | port6 u16 | IPv4 u32 | port4 u16
//   per session (20 bytes): its BIB's IPv4 u32 | port4 u16 | proto u8 | TCP state u8
//     | remote IPv4 u32 | remote port u16 | 2 bytes zero | ms left u32
//   PCP mapping count u32, per mapping (24 bytes): its BIB's IPv4 u32 | port4 u16 | proto u8
//     | 1 byte zero | ms left u32 | nonce 12
//   FNV-1a 32 of everything before it, u32
// Sessions name their BIB entry by its IPv4 transport address, so writing needs no index
// of the BIB (the worker stops translating while it writes: ~4x faster than by index).
// Versions 1 and 2 (sessions and mappings by BIB index, 16 and 20 bytes; no PCP section
// in 1) are still read.
import type { Bib } from "./entries.ts";
import type { Nat64Tables } from "./tables.ts";
import type { ProtoIndex } from "./pool4.ts";

const MAGIC = 0x584c3634; // "XL64"
const VERSION = 3;
const HEADER = 16;
const BIB_LEN = 26;
const SESSION_LEN = 20;
const PCP_LEN = 24;
const SESSION_LEN_V2 = 16;
const PCP_LEN_V2 = 20;

/** One number per IPv4 transport address and protocol (below 2^50). */
const bibKey = (proto: number, addr4: number, port4: number): number =>
  (proto * 0x100000000 + (addr4 >>> 0)) * 0x10000 + port4;

export class SnapshotError extends Error {}

export interface SnapshotBib {
  readonly proto: ProtoIndex;
  readonly isStatic: boolean;
  readonly addr6: Uint8Array;
  readonly port6: number;
  readonly addr4: number;
  readonly port4: number;
}

export interface SnapshotSession {
  readonly bib: number;
  readonly raddr: number;
  readonly rport: number;
  readonly state: number;
  readonly msLeft: number;
}

/** A PCP explicit mapping (RFC 6887 11) holding a BIB entry. */
export interface SnapshotPcp {
  readonly bib: number;
  readonly msLeft: number;
  readonly nonce: Uint8Array;
}

/** What serializeTables needs of a PCP mapping (see pcp_mappings.ts). */
export interface PinnedBib {
  readonly bib: Bib;
  readonly nonce: Uint8Array;
  /** Absolute expiry in seconds. */
  readonly expiresS: number;
}

export interface Snapshot {
  readonly bibs: SnapshotBib[];
  readonly sessions: SnapshotSession[];
  readonly pcp: SnapshotPcp[];
}

function fnv1a(b: Uint8Array, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

/** Serializes the tables' BIB entries, live sessions and PCP mappings at time `now` (ms). */
export function serializeTables(
  t: Nat64Tables,
  now: number,
  pinned: Iterable<PinnedBib> = [],
): Uint8Array {
  let live = 0;
  for (const s of t.sessions()) if (s.expires > now) live++;
  const pcp = [...pinned].filter((m) => m.expiresS * 1000 > now);
  const nb = t.bibCount;
  const size = HEADER + nb * BIB_LEN + live * SESSION_LEN + 4 + pcp.length * PCP_LEN + 4;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, MAGIC);
  b[4] = VERSION;
  v.setUint32(8, nb);
  v.setUint32(12, live);
  let p = HEADER;
  for (const e of t.bibs()) {
    const h = e.host;
    b[p] = e.proto;
    b[p + 1] = e.isStatic ? 1 : 0;
    v.setInt32(p + 2, h.a0);
    v.setInt32(p + 6, h.a1);
    v.setInt32(p + 10, h.a2);
    v.setInt32(p + 14, h.a3);
    v.setUint16(p + 18, e.port6);
    v.setUint32(p + 20, e.addr4 >>> 0);
    v.setUint16(p + 24, e.port4);
    p += BIB_LEN;
  }
  for (const s of t.sessions()) {
    if (s.expires <= now) continue;
    const e = s.bib;
    v.setInt32(p, e.a4);
    v.setUint16(p + 4, e.port4);
    b[p + 6] = e.proto;
    b[p + 7] = s.state;
    v.setInt32(p + 8, s.r4);
    v.setUint16(p + 12, s.rport);
    v.setUint32(p + 16, msLeft(s.expires - now));
    p += SESSION_LEN;
  }
  v.setUint32(p, pcp.length);
  p += 4;
  for (const m of pcp) {
    const e = m.bib;
    v.setInt32(p, e.a4);
    v.setUint16(p + 4, e.port4);
    b[p + 6] = e.proto;
    v.setUint32(p + 8, msLeft(m.expiresS * 1000 - now));
    b.set(m.nonce.subarray(0, 12), p + 12);
    p += PCP_LEN;
  }
  v.setUint32(p, fnv1a(b, p));
  return b;
}

/** Parses snapshot bytes; throws SnapshotError saying what is wrong. */
export function parseSnapshot(b: Uint8Array): Snapshot {
  if (b.length < HEADER + 4) throw new SnapshotError("snapshot is truncated (no header)");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0) !== MAGIC) throw new SnapshotError("not an xlat64 NAT64 snapshot (bad magic)");
  const version = b[4];
  if (version < 1 || version > 3) {
    throw new SnapshotError(`unsupported snapshot version ${version}`);
  }
  const byIndex = version < 3;
  const sessionLen = byIndex ? SESSION_LEN_V2 : SESSION_LEN;
  const pcpLen = byIndex ? PCP_LEN_V2 : PCP_LEN;
  const nb = v.getUint32(8), ns = v.getUint32(12);
  const pcpAt = HEADER + nb * BIB_LEN + ns * sessionLen;
  let np = 0;
  if (version >= 2) {
    if (b.length < pcpAt + 8) {
      throw new SnapshotError(
        `snapshot is ${b.length} bytes, its counts say at least ${pcpAt + 8}`,
      );
    }
    np = v.getUint32(pcpAt);
  }
  const size = pcpAt + (version >= 2 ? 4 + np * pcpLen : 0) + 4;
  if (b.length !== size) {
    throw new SnapshotError(`snapshot is ${b.length} bytes, its counts say ${size}`);
  }
  if (v.getUint32(size - 4) !== fnv1a(b, size - 4)) {
    throw new SnapshotError("snapshot checksum mismatch (corrupt file)");
  }
  const bibs: SnapshotBib[] = [];
  const index = new Map<number, number>();
  let p = HEADER;
  for (let i = 0; i < nb; i++, p += BIB_LEN) {
    const proto = b[p];
    if (proto > 2) throw new SnapshotError(`BIB entry ${i}: bad protocol ${proto}`);
    const e: SnapshotBib = {
      proto: proto as ProtoIndex,
      isStatic: b[p + 1] === 1,
      addr6: b.slice(p + 2, p + 18),
      port6: v.getUint16(p + 18),
      addr4: v.getUint32(p + 20),
      port4: v.getUint16(p + 24),
    };
    if (!byIndex) {
      const k = bibKey(proto, e.addr4, e.port4);
      if (index.has(k)) throw new SnapshotError(`BIB entry ${i}: IPv4 side appears twice`);
      index.set(k, i);
    }
    bibs.push(e);
  }
  /** The BIB index a session or mapping at `q` refers to, or -1. */
  const bibAt = (q: number): number =>
    byIndex
      ? (v.getUint32(q) < nb ? v.getUint32(q) : -1)
      : index.get(bibKey(b[q + 6], v.getUint32(q), v.getUint16(q + 4))) ?? -1;
  const sessions: SnapshotSession[] = [];
  for (let i = 0; i < ns; i++, p += sessionLen) {
    const bib = bibAt(p);
    if (bib < 0) throw new SnapshotError(`session ${i}: refers to no BIB entry`);
    const state = byIndex ? b[p + 10] : b[p + 7];
    if (state > 7) throw new SnapshotError(`session ${i}: bad TCP state ${state}`);
    sessions.push(
      byIndex
        ? {
          bib,
          raddr: v.getUint32(p + 4),
          rport: v.getUint16(p + 8),
          state,
          msLeft: v.getUint32(p + 12),
        }
        : {
          bib,
          raddr: v.getUint32(p + 8),
          rport: v.getUint16(p + 12),
          state,
          msLeft: v.getUint32(p + 16),
        },
    );
  }
  const pcp: SnapshotPcp[] = [];
  p += version >= 2 ? 4 : 0;
  for (let i = 0; i < np; i++, p += pcpLen) {
    const bib = bibAt(p);
    if (bib < 0) throw new SnapshotError(`PCP mapping ${i}: refers to no BIB entry`);
    const at = byIndex ? 4 : 8;
    pcp.push({ bib, msLeft: v.getUint32(p + at), nonce: b.slice(p + at + 4, p + at + 16) });
  }
  return { bibs, sessions, pcp };
}

const msLeft = (ms: number): number => Math.min(0xffffffff, Math.max(0, Math.ceil(ms)));

export interface RestoreResult {
  readonly bibs: number;
  readonly sessions: number;
  readonly pcpMappings: number;
  /** Entries left out: a binding taken by a different one, a static entry no longer
   *  configured, or a host over its session limit. */
  readonly skipped: number;
}

/**
 * Loads a parsed snapshot into (usually fresh) tables at time `now`. Static entries are
 * matched against the configured ones (config wins); sessions of entries that could
 * not be restored are skipped.
 */
export function restoreTables(
  t: Nat64Tables,
  snap: Snapshot,
  now: number,
  pin: (bib: Bib, nonce: Uint8Array, msLeft: number) => void = () => {},
): RestoreResult {
  const live: (Bib | null)[] = [];
  let sessions = 0, skipped = 0, pcpMappings = 0;
  t.expire(now);
  for (const e of snap.bibs) {
    let got: Bib | null = null;
    if (e.isStatic) {
      const have = t.findBib4(e.proto, e.addr4, e.port4);
      if (have?.isStatic && t.findBib6(e.proto, e.addr6, 0, e.port6) === have) got = have;
    } else {
      const have = t.findBib4(e.proto, e.addr4, e.port4);
      if (have !== null && t.findBib6(e.proto, e.addr6, 0, e.port6) === have) got = have;
      else got = t.restoreBib(e.proto, e.addr6, e.port6, e.addr4, e.port4, now);
    }
    if (got === null) skipped++;
    live.push(got);
  }
  for (const s of snap.sessions) {
    const bib = live[s.bib];
    if (bib === null || s.msLeft === 0 || t.findSession(bib, s.raddr, s.rport) !== null) {
      skipped++;
      continue;
    }
    if (t.createSession(bib, s.raddr, s.rport, now, s.msLeft, s.state) === null) skipped++;
    else sessions++;
  }
  for (const m of snap.pcp) {
    const bib = live[m.bib];
    if (bib === null || bib.isStatic || m.msLeft === 0) {
      skipped++;
      continue;
    }
    pin(bib, m.nonce, m.msLeft);
    pcpMappings++;
  }
  // Dynamic entries whose sessions all failed to come back must not linger (unless a PCP
  // mapping holds them).
  let bibs = 0;
  for (const e of live) {
    if (e === null || e.isStatic) continue;
    t.releaseBib(e, now);
    if (t.findBib4(e.proto as ProtoIndex, e.addr4, e.port4) === e) bibs++;
    else skipped++;
  }
  return { bibs, sessions, pcpMappings, skipped };
}
