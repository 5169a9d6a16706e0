// One query in, one response out: the proxy's decisions (RFC 5625) and DNS64 (RFC 6147)
// without sockets. The server feeds it datagrams and TCP messages; tests feed it bytes.
import type { Prefix6 } from "../addr/ip.ts";
import { aFromSynthesized } from "./aaaa_only.ts";
import { type Acl, aclAllows, type IpAddr } from "./acl.ts";
import { type Answer, answerFromMessage, errorAnswer } from "./answer.ts";
import { newShape, type QueryShape, queryShape, type ResponseCache } from "./cache.ts";
import type { Dns64, Lookup, LookupFlags } from "./dns64.ts";
import { localAnswer } from "./localzone.ts";
import type { DnsMetrics } from "./metrics.ts";
import type { DnsOptions } from "./options.ts";
import { RateLimiter } from "./ratelimit.ts";
import {
  CLASS_IN,
  countOpt,
  decodeMessage,
  EDNS_DO,
  encodeMessage,
  FLAG,
  forwardableOptions,
  getEdns,
  HEADER_LEN,
  type Message,
  opcodeOf,
  optRecord,
  type Question,
  RCODE,
  type ResourceRecord,
  TYPE,
  WireError,
} from "./wire.ts";
import { cacheTtl } from "./cache.ts";

export type Transport = "udp" | "tcp";

/** RFC 6891 7: extended RCODE 16 (BADVERS) for an EDNS version we do not speak. */
const BADVERS = 16;
const MAX_TCP = 65535;

export interface HandlerDeps {
  readonly dns: DnsOptions;
  readonly dns64: Dns64;
  /** Forwarding lookups (through the message cache). */
  readonly lookup: Lookup;
  readonly metrics: DnsMetrics;
  readonly responses: ResponseCache;
  readonly now: () => number;
  /** Told about every response put in the response cache (to copy it to the fast path). */
  onStore?: (shape: QueryShape, resp: Uint8Array, ttlSeconds: number) => void;
  /** The PLAT prefixes in use (clat mode), for [dns] aaaa-only-upstream. */
  readonly platPrefixes?: () => readonly Prefix6[];
}

export class QueryHandler {
  private readonly limiter: RateLimiter;
  private readonly allow: Acl;
  private readonly scratch = new Uint8Array(MAX_TCP);
  private readonly shape = newShape();

  constructor(private readonly d: HandlerDeps) {
    this.limiter = new RateLimiter(d.dns.rateLimit, d.dns.rateBurst);
    this.allow = d.dns.allow;
  }

  /** May `client` use the proxy at all? (RFC 5625 leaves access control to the operator.) */
  allowed(client: IpAddr | null): boolean {
    return client !== null && aclAllows(this.allow, client);
  }

  /** Does `client` get synthesized answers ([dns64] clients)? */
  synthFor(client: IpAddr | null): boolean {
    return this.d.dns64.enabled && client !== null && aclAllows(this.d.dns64.opts.clients, client);
  }

  /**
   * Answer from the response cache into `out` without decoding (the fast path). Returns
   * the length written, or 0 when the slow path must handle the query.
   */
  answerCached(
    q: Uint8Array,
    len: number,
    client: IpAddr,
    transport: Transport,
    out: Uint8Array,
    now = this.d.now(),
  ): number {
    if (this.limiter.enabled) return 0;
    if (!this.allowed(client)) return 0;
    const tcp = transport === "tcp";
    const shape = queryShape(q, len, this.synthFor(client), tcp, this.shape);
    if (!shape) return 0;
    const n = this.d.responses.answer(q, shape, now, out, tcp ? MAX_TCP : shape.udpLimit);
    if (n > 0) {
      this.d.metrics.query(shape.qtype, transport);
      this.d.metrics.cacheHits++;
      this.d.metrics.response(out[3] & 0xf);
    }
    return n;
  }

  /** Handle one query; null means send nothing (not a query, or rate limited). */
  async handle(
    q: Uint8Array,
    client: IpAddr | null,
    clientKey: string,
    transport: Transport,
  ): Promise<Uint8Array | null> {
    const m = this.d.metrics;
    if (q.length < HEADER_LEN || (q[2] & 0x80) !== 0) {
      // Too short to answer, or a response: answering responses invites loops.
      m.dropped++;
      return null;
    }
    if (!this.limiter.allow(clientKey, this.d.now())) {
      m.rateLimited++;
      return null;
    }
    if (!this.allowed(client)) {
      m.refused++;
      return this.bare(q, RCODE.REFUSED);
    }
    if (client) {
      const n = this.answerCached(q, q.length, client, transport, this.scratch);
      if (n > 0) return this.scratch.slice(0, n);
    }
    const dec = decodeMessage(q);
    if (!dec.ok) {
      m.formerr++;
      return this.bare(q, RCODE.FORMERR);
    }
    const query = dec.msg;
    if (opcodeOf(query.flags) !== 0) return this.reply(query, errorAnswer(RCODE.NOTIMP), transport);
    if (query.question.length !== 1 || countOpt(query) > 1) {
      m.formerr++;
      return this.reply(query, errorAnswer(RCODE.FORMERR), transport);
    }
    const qn = query.question[0];
    m.query(qn.type, transport);
    const edns = getEdns(query);
    if (edns && edns.version !== 0) return this.reply(query, errorAnswer(BADVERS), transport);
    const synth = this.synthFor(client);
    const flags: LookupFlags = {
      dnssecOk: edns !== null && (edns.flags & EDNS_DO) !== 0,
      checkingDisabled: (query.flags & FLAG.CD) !== 0,
      options: edns ? forwardableOptions(edns.options) : undefined,
    };
    let ans: Answer;
    try {
      ans = await this.resolve(qn, flags, synth);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      ans = errorAnswer(RCODE.SERVFAIL);
    }
    if (ans.synthesized) {
      if (qn.type === TYPE.PTR) m.synthesizedPtr++;
      else m.synthesized++;
    }
    const out = this.reply(query, ans, transport);
    this.remember(q, out, ans, synth, transport);
    return out;
  }

  private async resolve(qn: Question, flags: LookupFlags, synth: boolean): Promise<Answer> {
    const dns64 = this.d.dns64;
    if (qn.type === TYPE.AXFR || qn.type === TYPE.IXFR) return errorAnswer(RCODE.NOTIMP);
    const local = localAnswer(qn.name, qn.type, qn.class, dns64.opts.prefixes);
    if (local) return local;
    if (synth && qn.class === CLASS_IN && !dns64.excludedName(qn.name)) {
      if (qn.type === TYPE.AAAA) return await dns64.aaaa(qn.name, flags);
      if (qn.type === TYPE.PTR) {
        const p = await dns64.ptr(qn.name, flags);
        if (p) return p;
      }
    }
    if (qn.class !== CLASS_IN) return errorAnswer(RCODE.REFUSED);
    // DO=1 clients want the signed A RRset itself: only a real A query has it.
    if (qn.type === TYPE.A && this.d.dns.aaaaOnlyUpstream && !flags.dnssecOk) {
      const a = await this.aFromAaaa(qn.name, flags);
      if (a) return a;
    }
    const resp = await this.d.lookup(qn.name, qn.type, flags);
    return resp ? answerFromMessage(resp) : errorAnswer(RCODE.SERVFAIL);
  }

  /** RFC 8683 3.1.2: the A answer from the upstream DNS64's AAAA, or null to ask for A. */
  private async aFromAaaa(name: string, flags: LookupFlags): Promise<Answer | null> {
    const plat = this.d.platPrefixes?.() ?? [];
    if (plat.length === 0) return null;
    const aaaa = await this.d.lookup(name, TYPE.AAAA, flags);
    const a = aaaa ? aFromSynthesized(aaaa, plat) : null;
    if (a) this.d.metrics.aFromAaaa++;
    else this.d.metrics.aFromAaaaFallbacks++;
    return a;
  }

  /** Keep a finished response for the fast path (not errors, not truncated ones). */
  private remember(
    q: Uint8Array,
    out: Uint8Array,
    ans: Answer,
    synth: boolean,
    transport: Transport,
  ): void {
    const shape = queryShape(q, q.length, synth, transport === "tcp");
    if (!shape) return;
    // TC=1 answers depend on the client's buffer size; without EDNS it is always 512.
    if ((out[2] & 0x02) !== 0 && (shape.bits & 0x02) !== 0) return;
    const ttl = cacheTtl(
      {
        id: 0,
        flags: ans.rcode & 0xf,
        question: [],
        answer: ans.answer,
        authority: ans.authority,
        additional: ans.additional,
      },
      this.d.dns.cacheMaxTtl,
    );
    if (ttl <= 0) return;
    this.d.responses.put(shape, out, ttl, this.d.now());
    this.d.onStore?.(shape, out, ttl);
  }

  /** A header-only response (REFUSED/FORMERR for input we could not or would not decode). */
  private bare(q: Uint8Array, rcode: number): Uint8Array {
    this.d.metrics.response(rcode);
    // Echo the question when it parses, so clients can match the answer (RFC 5625 4.1).
    const dec = decodeMessage(q);
    if (dec.ok && dec.msg.question.length === 1 && countOpt(dec.msg) <= 1) {
      return this.frame(dec.msg, errorAnswer(rcode), 65535);
    }
    const out = new Uint8Array(HEADER_LEN);
    out[0] = q[0];
    out[1] = q[1];
    out[2] = 0x80 | (q[2] & 0x79); // QR, opcode, RD
    out[3] = rcode & 0xf;
    return out;
  }

  private reply(query: Message, ans: Answer, transport: Transport): Uint8Array {
    const edns = getEdns(query);
    const limit = transport === "tcp" ? MAX_TCP : edns ? Math.max(512, edns.udpSize) : 512;
    this.d.metrics.response(ans.rcode & 0xf);
    return this.frame(query, ans, limit);
  }

  /** Header, question and OPT around an Answer; truncated to `limit` (RFC 2181 9). */
  frame(query: Message, ans: Answer, limit: number): Uint8Array {
    const qedns = getEdns(query);
    const dnssecOk = qedns !== null && (qedns.flags & EDNS_DO) !== 0;
    // RFC 6840 5.8: AD only for clients that asked for it (DO or AD); never on synthesis.
    const ad = ans.ad && !ans.synthesized && (dnssecOk || (query.flags & FLAG.AD) !== 0);
    let flags = FLAG.QR | (query.flags & (0x7800 | FLAG.RD | FLAG.CD)) | FLAG.RA |
      (ans.rcode & 0xf);
    if (ans.aa) flags |= FLAG.AA;
    if (ad) flags |= FLAG.AD;
    const opt: ResourceRecord[] = qedns
      ? [optRecord({
        udpSize: this.d.dns.ednsUdpSize,
        extRcode: ans.rcode >> 4,
        version: 0,
        flags: dnssecOk ? EDNS_DO : 0,
        options: ans.ednsOptions ?? new Uint8Array(0),
      })]
      : [];
    const dnssecTypes = (r: ResourceRecord) =>
      dnssecOk || !(r.type === TYPE.RRSIG || r.type === TYPE.NSEC || r.type === TYPE.NSEC3);
    const msg: Message = {
      id: query.id,
      flags,
      question: query.question,
      // RFC 4035 3.2.1: DNSSEC records only for DO=1 queries (explicit RRSIG queries aside).
      answer: query.question[0]?.type === TYPE.RRSIG ? ans.answer : ans.answer.filter(dnssecTypes),
      authority: ans.authority.filter(dnssecTypes),
      additional: [...ans.additional.filter(dnssecTypes), ...opt],
    };
    let out = encodeMessage(msg);
    if (out.length <= limit) return out;
    // Additional data is optional: drop it first, then fall back to TC=1 (RFC 2181 9).
    out = encodeMessage({ ...msg, additional: opt });
    if (out.length <= limit) return out;
    this.d.metrics.truncated++;
    return encodeMessage({
      ...msg,
      flags: flags | FLAG.TC,
      answer: [],
      authority: [],
      additional: opt,
    });
  }
}
