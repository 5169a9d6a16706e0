// Snapshot of the NAT64 state (dynamic and static BIB entries, sessions) as bytes, and
// back: so a restart or an upgrade keeps running flows. Pure: the caller writes the bytes
// atomically (temp file + rename) and reads them back. Lifetimes are stored as time left,
// so the restoring process's clock need not match.
//
// Layout (big-endian):
//   "XL64" | version u8 (2; 1 is read too) | 3 bytes zero | bib count u32 | session count u32
//   per BIB (26 bytes): proto u8 | static u8 | IPv6 16 | port6 u16 | IPv4 u32 | port4 u16
//   per session (16 bytes): BIB index u32 | remote IPv4 u32 | remote port u16 | TCP state u8
//     | 1 byte zero | ms left u32
//   version 2: PCP mapping count u32, per mapping (20 bytes): BIB index u32 | ms left u32
//     | nonce 12
//   FNV-1a 32 of everything before it, u32
import type { Bib } from "./entries.ts";
import type { Nat64Tables } from "./tables.ts";
import type { ProtoIndex } from "./pool4.ts";

const MAGIC = 0x584c3634; // "XL64"
const VERSION = 2;
const HEADER = 16;
const BIB_LEN = 26;
const SESSION_LEN = 16;
const PCP_LEN = 20;

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
  const index = new Map<Bib, number>();
  const bibs: Bib[] = [];
  for (const e of t.bibs()) {
    index.set(e, bibs.length);
    bibs.push(e);
  }
  const sessions = [...t.sessions()].filter((s) => s.expires > now && index.has(s.bib));
  const pcp = [...pinned].filter((m) => m.expiresS * 1000 > now && index.has(m.bib));
  const size = HEADER + bibs.length * BIB_LEN + sessions.length * SESSION_LEN + 4 +
    pcp.length * PCP_LEN + 4;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, MAGIC);
  b[4] = VERSION;
  v.setUint32(8, bibs.length);
  v.setUint32(12, sessions.length);
  let p = HEADER;
  for (const e of bibs) {
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
  for (const s of sessions) {
    v.setUint32(p, index.get(s.bib)!);
    v.setUint32(p + 4, s.raddr >>> 0);
    v.setUint16(p + 8, s.rport);
    b[p + 10] = s.state;
    v.setUint32(p + 12, msLeft(s.expires - now));
    p += SESSION_LEN;
  }
  v.setUint32(p, pcp.length);
  p += 4;
  for (const m of pcp) {
    v.setUint32(p, index.get(m.bib)!);
    v.setUint32(p + 4, msLeft(m.expiresS * 1000 - now));
    b.set(m.nonce.subarray(0, 12), p + 8);
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
  if (version !== 1 && version !== 2) {
    throw new SnapshotError(`unsupported snapshot version ${version}`);
  }
  const nb = v.getUint32(8), ns = v.getUint32(12);
  const pcpAt = HEADER + nb * BIB_LEN + ns * SESSION_LEN;
  let np = 0;
  if (version === 2) {
    if (b.length < pcpAt + 8) {
      throw new SnapshotError(
        `snapshot is ${b.length} bytes, its counts say at least ${pcpAt + 8}`,
      );
    }
    np = v.getUint32(pcpAt);
  }
  const size = pcpAt + (version === 2 ? 4 + np * PCP_LEN : 0) + 4;
  if (b.length !== size) {
    throw new SnapshotError(`snapshot is ${b.length} bytes, its counts say ${size}`);
  }
  if (v.getUint32(size - 4) !== fnv1a(b, size - 4)) {
    throw new SnapshotError("snapshot checksum mismatch (corrupt file)");
  }
  const bibs: SnapshotBib[] = [];
  let p = HEADER;
  for (let i = 0; i < nb; i++, p += BIB_LEN) {
    const proto = b[p];
    if (proto > 2) throw new SnapshotError(`BIB entry ${i}: bad protocol ${proto}`);
    bibs.push({
      proto: proto as ProtoIndex,
      isStatic: b[p + 1] === 1,
      addr6: b.slice(p + 2, p + 18),
      port6: v.getUint16(p + 18),
      addr4: v.getUint32(p + 20),
      port4: v.getUint16(p + 24),
    });
  }
  const sessions: SnapshotSession[] = [];
  for (let i = 0; i < ns; i++, p += SESSION_LEN) {
    const bib = v.getUint32(p);
    if (bib >= nb) throw new SnapshotError(`session ${i}: BIB index ${bib} out of range`);
    const state = b[p + 10];
    if (state > 7) throw new SnapshotError(`session ${i}: bad TCP state ${state}`);
    sessions.push({
      bib,
      raddr: v.getUint32(p + 4),
      rport: v.getUint16(p + 8),
      state,
      msLeft: v.getUint32(p + 12),
    });
  }
  const pcp: SnapshotPcp[] = [];
  p += version === 2 ? 4 : 0;
  for (let i = 0; i < np; i++, p += PCP_LEN) {
    const bib = v.getUint32(p);
    if (bib >= nb) throw new SnapshotError(`PCP mapping ${i}: BIB index ${bib} out of range`);
    pcp.push({ bib, msLeft: v.getUint32(p + 4), nonce: b.slice(p + 8, p + 20) });
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
