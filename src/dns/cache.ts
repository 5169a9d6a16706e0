// Caches honouring TTLs (RFC 1035 7.4) and negative caching (RFC 2308 5), bounded in
// entries and bytes, least recently used out first. Sans-I/O: callers pass `now` (ms).
//
// MessageCache holds decoded upstream answers (what DNS64 and forwarding look up).
// ResponseCache holds finished responses as bytes with the offsets of their TTL fields,
// so a hit is answered by copying the bytes and patching ID, question case and TTLs
// (the fast path: no decode, no encode).
import { negativeTtl } from "./dns64.ts";
import {
  HEADER_LEN,
  type Message,
  RCODE,
  rcodeOf,
  type ResourceRecord,
  ttlOffsets,
  TYPE,
} from "./wire.ts";

/** RFC 2308 5 / RFC 8767 style: a TTL we are willing to cache a message for, or 0. */
export function cacheTtl(msg: Message, maxTtl: number): number {
  const rc = rcodeOf(msg.flags);
  if (rc !== RCODE.NOERROR && rc !== RCODE.NXDOMAIN) return 0; // SERVFAIL etc.: not cached
  const hasAnswer = msg.answer.length > 0;
  if (rc === RCODE.NXDOMAIN || !hasAnswer) {
    // RFC 2308 5: negative answers are cached for the SOA's negative TTL; none, no caching.
    const neg = negativeTtl(msg);
    if (neg === null) return 0;
    let ttl = neg;
    for (const r of msg.answer) ttl = Math.min(ttl, r.ttl);
    return Math.min(ttl, maxTtl);
  }
  let ttl = maxTtl;
  const all: ResourceRecord[][] = [msg.answer, msg.authority, msg.additional];
  for (const sec of all) for (const r of sec) if (r.type !== TYPE.OPT) ttl = Math.min(ttl, r.ttl);
  return ttl;
}

interface Entry<V> {
  value: V;
  storedAt: number;
  expiresAt: number;
  bytes: number;
}

/** Map-ordered LRU with expiry and a byte budget. */
export class TtlLru<V> {
  private readonly map = new Map<string, Entry<V>>();
  private bytes = 0;
  constructor(readonly maxEntries: number, readonly maxBytes: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string, now: number): Entry<V> | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.delete(key, e);
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order.
    this.map.delete(key);
    this.map.set(key, e);
    return e;
  }

  set(key: string, value: V, now: number, ttlSeconds: number, bytes: number): void {
    if (ttlSeconds <= 0 || this.maxEntries <= 0 || bytes > this.maxBytes) return;
    const old = this.map.get(key);
    if (old) this.delete(key, old);
    this.map.set(key, { value, storedAt: now, expiresAt: now + ttlSeconds * 1000, bytes });
    this.bytes += bytes;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const first = this.map.keys().next();
      if (first.done) break;
      this.delete(first.value, this.map.get(first.value)!);
    }
  }

  private delete(key: string, e: Entry<V>): void {
    this.map.delete(key);
    this.bytes -= e.bytes;
  }
}

function agedRecords(rrs: ResourceRecord[], elapsed: number): ResourceRecord[] {
  return rrs.map((r) => r.type === TYPE.OPT ? r : { ...r, ttl: Math.max(0, r.ttl - elapsed) });
}

/** Rough heap cost of a decoded message, for the byte budget. */
function messageBytes(m: Message): number {
  let n = 64 + m.question.length * 64;
  for (const sec of [m.answer, m.authority, m.additional]) {
    for (const r of sec) n += 48 + r.name.length * 2 + r.data.length;
  }
  return n;
}

export class MessageCache {
  readonly lru: TtlLru<Message>;
  constructor(maxEntries: number, maxBytes: number, readonly maxTtl: number) {
    this.lru = new TtlLru(maxEntries, maxBytes);
  }

  /** The cached message with TTLs reduced by the time it spent in the cache. */
  get(key: string, now: number): Message | null {
    const e = this.lru.get(key, now);
    if (!e) return null;
    const elapsed = Math.floor((now - e.storedAt) / 1000);
    const m = e.value;
    if (elapsed === 0) return m;
    return {
      ...m,
      answer: agedRecords(m.answer, elapsed),
      authority: agedRecords(m.authority, elapsed),
      additional: agedRecords(m.additional, elapsed),
    };
  }

  put(key: string, msg: Message, now: number): void {
    this.lru.set(key, msg, now, cacheTtl(msg, this.maxTtl), messageBytes(msg));
  }
}

interface CachedResponse {
  readonly bytes: Uint8Array;
  /** Offsets of the TTL fields to age. */
  readonly ttls: Uint16Array;
  /** End of the question section; bytes [12, qEnd) are the question (compared, then copied). */
  readonly qEnd: number;
  readonly bits: number;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** Lower-case an ASCII letter (DNS names compare case-insensitively, RFC 4343). */
const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/**
 * Finished responses keyed by a hash of the lower-cased question and the query bits that
 * change the answer; a hit is verified byte by byte, so a hash collision is only a miss.
 * Eviction is first-in first-out (no recency bookkeeping on the hot path) plus expiry.
 */
export class ResponseCache {
  private readonly map = new Map<number, CachedResponse>();
  private bytesUsed = 0;
  constructor(readonly maxEntries: number, readonly maxBytes: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Cache `resp` (whose question is the query's) for `ttlSeconds`. */
  put(shape: QueryShape, resp: Uint8Array, ttlSeconds: number, now: number): void {
    this.putKeyed(shape.hash, shape.bits, shape.qEnd, resp, ttlSeconds, now);
  }

  putKeyed(
    hash: number,
    bits: number,
    qEnd: number,
    resp: Uint8Array,
    ttlSeconds: number,
    now: number,
  ): void {
    if (ttlSeconds <= 0 || this.maxEntries <= 0 || resp.length + 64 > this.maxBytes) return;
    const offs = ttlOffsets(resp);
    if (!offs || resp.length > 0xffff) return;
    const old = this.map.get(hash);
    if (old) {
      this.map.delete(hash);
      this.bytesUsed -= old.bytes.length + 64;
    }
    this.map.set(hash, {
      bytes: resp,
      ttls: Uint16Array.from(offs),
      qEnd,
      bits,
      storedAt: now,
      expiresAt: now + ttlSeconds * 1000,
    });
    this.bytesUsed += resp.length + 64;
    while (this.map.size > this.maxEntries || this.bytesUsed > this.maxBytes) {
      const first = this.map.entries().next();
      if (first.done) break;
      this.map.delete(first.value[0]);
      this.bytesUsed -= first.value[1].bytes.length + 64;
    }
  }

  /**
   * Answer `query` from the cache into `out`: copy, set the query's ID and question bytes
   * (keeps its 0x20 case), age the TTLs. Returns the length, or 0 on a miss or when the
   * response is longer than `limit`.
   */
  answer(
    query: Uint8Array,
    shape: QueryShape,
    now: number,
    out: Uint8Array,
    limit: number,
  ): number {
    const c = this.map.get(shape.hash);
    if (!c) return 0;
    if (now >= c.expiresAt) {
      this.map.delete(shape.hash);
      this.bytesUsed -= c.bytes.length + 64;
      return 0;
    }
    const qEnd = shape.qEnd;
    const b = c.bytes;
    const len = b.length;
    if (c.qEnd !== qEnd || c.bits !== shape.bits || len > limit || len > out.length) return 0;
    for (let i = HEADER_LEN; i < qEnd; i++) if (lower(b[i]) !== lower(query[i])) return 0;
    out.set(b, 0);
    out[0] = query[0];
    out[1] = query[1];
    for (let i = HEADER_LEN; i < qEnd; i++) out[i] = query[i];
    const elapsed = Math.floor((now - c.storedAt) / 1000);
    if (elapsed > 0) {
      const t = c.ttls;
      for (let k = 0; k < t.length; k++) {
        const off = t[k];
        const ttl =
          ((out[off] << 24) | (out[off + 1] << 16) | (out[off + 2] << 8) | out[off + 3]) >>> 0;
        const v = ttl > elapsed ? ttl - elapsed : 0;
        out[off] = v >>> 24;
        out[off + 1] = (v >>> 16) & 255;
        out[off + 2] = (v >>> 8) & 255;
        out[off + 3] = v & 255;
      }
    }
    return len;
  }
}

/** Facts about a well-formed, simple query, read from its bytes without decoding. */
export interface QueryShape {
  /** FNV-1a over the lower-cased question and `bits`: the response cache key. */
  hash: number;
  /** RD, AD, CD, EDNS present, DO, synthesis for this client, TCP. */
  bits: number;
  qEnd: number;
  qtype: number;
  /** Largest UDP response the client accepts (RFC 6891 6.2.5; 512 without EDNS). */
  udpLimit: number;
}

export const newShape = (): QueryShape => ({ hash: 0, bits: 0, qEnd: 0, qtype: 0, udpLimit: 0 });

/**
 * Read a query of the usual shape (QR=0, opcode 0, one question, no answer/authority,
 * at most an OPT with version 0) into `out` (reused: no allocation). Anything else
 * returns null and takes the slow path.
 */
export function queryShape(
  b: Uint8Array,
  len: number,
  synth: boolean,
  tcp: boolean,
  out: QueryShape = newShape(),
): QueryShape | null {
  if (len < HEADER_LEN + 5 || len > b.length) return null;
  if ((b[2] & 0xf8) !== 0) return null; // QR=1 or opcode != QUERY
  if (b[4] !== 0 || b[5] !== 1 || b[6] !== 0 || b[7] !== 0 || b[8] !== 0 || b[9] !== 0) return null;
  const ar = (b[10] << 8) | b[11];
  if (ar > 1) return null;
  let h = 0x811c9dc5;
  let pos = HEADER_LEN;
  for (;;) {
    if (pos >= len) return null;
    const l = b[pos];
    if (l === 0) break;
    if (l > 63 || pos + l + 1 > len) return null;
    h = Math.imul(h ^ l, 0x01000193);
    for (let i = pos + 1; i <= pos + l; i++) h = Math.imul(h ^ lower(b[i]), 0x01000193);
    pos += l + 1;
  }
  if (pos + 5 > len) return null;
  for (let i = pos + 1; i < pos + 5; i++) h = Math.imul(h ^ b[i], 0x01000193);
  const qEnd = pos + 5;
  let udpLimit = 512;
  let ednsBits = 0;
  if (ar === 1) {
    // Root owner, type OPT, then class = UDP size, TTL = ext-rcode/version/flags.
    if (qEnd + 11 > len || b[qEnd] !== 0 || b[qEnd + 1] !== 0 || b[qEnd + 2] !== TYPE.OPT) {
      return null;
    }
    if (b[qEnd + 6] !== 0) return null; // version 0 only; others get BADVERS on the slow path
    const rdlen = (b[qEnd + 9] << 8) | b[qEnd + 10];
    if (qEnd + 11 + rdlen !== len) return null;
    // Options that would be passed upstream make the answer query-specific: slow path.
    for (let o = qEnd + 11; o < len;) {
      if (o + 4 > len) return null;
      const code = (b[o] << 8) | b[o + 1];
      if (code !== 10 && code !== 12) return null; // COOKIE and padding stay here
      o += 4 + ((b[o + 2] << 8) | b[o + 3]);
    }
    udpLimit = Math.max(512, (b[qEnd + 3] << 8) | b[qEnd + 4]);
    ednsBits = 1 | ((b[qEnd + 7] & 0x80) ? 2 : 0);
  } else if (qEnd !== len) return null;
  const bits = (b[2] & 0x01) | (b[3] & 0x30) | (ednsBits << 1) | (synth ? 8 : 0) | (tcp ? 0x40 : 0);
  out.hash = Math.imul(h ^ bits, 0x01000193) >>> 0;
  out.bits = bits;
  out.qEnd = qEnd;
  out.qtype = (b[pos + 1] << 8) | b[pos + 2];
  out.udpLimit = udpLimit;
  return out;
}
