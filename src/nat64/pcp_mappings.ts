// PCP explicit mappings (RFC 6887 11) over the NAT64 BIB: a MAP pins a BIB entry so it
// lives without sessions until its lifetime ends; delete or expiry unpins it, and it then
// lives as long as its sessions (like any dynamic entry). Sans-I/O: times come in as
// arguments (seconds, as PcpServer counts them).
import { RESULT } from "../discovery/pcp.ts";
import type { MappingRequest, MappingResult, MappingTable } from "../discovery/pcp_server.ts";
import type { Bib } from "./entries.ts";
import { P_TCP, P_UDP, type ProtoIndex } from "./pool4.ts";
import { FAIL, type Nat64Tables } from "./tables.ts";

/** IANA protocol numbers PCP speaks of, to the tables' protocol index. */
function protoOf(ianaProto: number): ProtoIndex | -1 {
  return ianaProto === 6 ? P_TCP : ianaProto === 17 ? P_UDP : -1;
}

export interface PcpMapping {
  readonly bib: Bib;
  readonly nonce: Uint8Array;
  /** Absolute expiry, seconds. */
  expiresS: number;
}

const sameNonce = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

const isV4Mapped = (a: Uint8Array): boolean => {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
};

export class PcpMappings implements MappingTable {
  readonly #m = new Map<Bib, PcpMapping>();

  constructor(readonly tables: Nat64Tables) {}

  get size(): number {
    return this.#m.size;
  }

  values(): IterableIterator<PcpMapping> {
    return this.#m.values();
  }

  createMapping(req: MappingRequest, nowS: number): MappingResult {
    const proto = protoOf(req.protocol);
    if (proto === -1) return { ok: false, result: RESULT.UNSUPP_PROTOCOL };
    // A NAT64's PCP clients are its IPv6 hosts; an IPv4 source has nothing to map.
    if (isV4Mapped(req.clientAddress)) return { ok: false, result: RESULT.NOT_AUTHORIZED };
    const t = this.tables;
    const nowMs = nowS * 1000;
    const have = t.findBib6(proto, req.clientAddress, 0, req.internalPort);
    if (have?.isStatic) {
      // A configured entry already maps it, for good.
      return ok(have, req.lifetimeS);
    }
    if (have !== null) {
      const m = this.#m.get(have);
      if (m !== undefined) {
        // RFC 6887 11.3: a refresh must carry the nonce that made the mapping.
        if (!sameNonce(m.nonce, req.nonce)) return { ok: false, result: RESULT.NOT_AUTHORIZED };
        m.expiresS = nowS + req.lifetimeS;
        return ok(have, req.lifetimeS);
      }
      // RFC 6887 11.3: an implicit dynamic mapping becomes the explicit one.
      if (
        req.preferFailure && req.suggestedPort > 0 &&
        (have.port4 !== req.suggestedPort ||
          (req.suggestedAddress >= 0 && have.addr4 !== req.suggestedAddress))
      ) return { ok: false, result: RESULT.CANNOT_PROVIDE_EXTERNAL };
      return this.#track(have, req, nowS);
    }
    const exact = req.preferFailure && req.suggestedPort > 0;
    const bib = t.mapBib6(
      proto,
      req.clientAddress,
      req.internalPort,
      req.suggestedAddress,
      req.suggestedPort,
      exact,
      nowMs,
    );
    if (bib === null) {
      if (t.failure === FAIL.portLimit) return { ok: false, result: RESULT.USER_EX_QUOTA };
      return { ok: false, result: exact ? RESULT.CANNOT_PROVIDE_EXTERNAL : RESULT.NO_RESOURCES };
    }
    return this.#track(bib, req, nowS);
  }

  #track(bib: Bib, req: MappingRequest, nowS: number): MappingResult {
    bib.pinned = true;
    this.#m.set(bib, { bib, nonce: req.nonce.slice(), expiresS: nowS + req.lifetimeS });
    return ok(bib, req.lifetimeS);
  }

  /** RFC 6887 15: lifetime 0 deletes; internal port 0 deletes all the client's mappings. */
  deleteMapping(
    req: { clientAddress: Uint8Array; nonce: Uint8Array; protocol: number; internalPort: number },
    nowS: number,
  ): number {
    const protos: ProtoIndex[] = req.protocol === 0 ? [P_TCP, P_UDP] : [];
    if (req.protocol !== 0) {
      const p = protoOf(req.protocol);
      if (p === -1) return RESULT.UNSUPP_PROTOCOL;
      protos.push(p);
    }
    const nowMs = nowS * 1000;
    if (req.internalPort !== 0) {
      const bib = this.tables.findBib6(protos[0], req.clientAddress, 0, req.internalPort);
      if (bib === null) return RESULT.SUCCESS; // nothing to delete is success (RFC 6887 15)
      const m = this.#m.get(bib);
      if (m === undefined) return bib.isStatic ? RESULT.NOT_AUTHORIZED : RESULT.SUCCESS;
      if (!sameNonce(m.nonce, req.nonce)) return RESULT.NOT_AUTHORIZED;
      this.#drop(m, nowMs);
      return RESULT.SUCCESS;
    }
    for (const m of [...this.#m.values()]) {
      const b = m.bib;
      if (!protos.includes(b.proto as ProtoIndex) || !sameNonce(m.nonce, req.nonce)) continue;
      if (!hostIs(b, req.clientAddress)) continue;
      this.#drop(m, nowMs);
    }
    return RESULT.SUCCESS;
  }

  #drop(m: PcpMapping, nowMs: number): void {
    this.#m.delete(m.bib);
    this.tables.unpinBib(m.bib, nowMs);
  }

  /** Ends mappings whose lifetime passed; returns how many. */
  expire(nowS: number): number {
    let n = 0;
    for (const m of this.#m.values()) {
      if (m.expiresS > nowS) continue;
      this.#drop(m, nowS * 1000);
      n++;
    }
    return n;
  }

  /** Snapshots: pins `bib` again with the remaining lifetime. */
  restore(bib: Bib, nonce: Uint8Array, expiresS: number): void {
    bib.pinned = true;
    this.#m.set(bib, { bib, nonce: nonce.slice(), expiresS });
  }
}

function ok(bib: Bib, lifetimeS: number): MappingResult {
  return { ok: true, externalAddress: bib.addr4, externalPort: bib.port4, lifetimeS };
}

const word = (b: Uint8Array, o: number): number =>
  (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

function hostIs(bib: Bib, a: Uint8Array): boolean {
  const h = bib.host;
  return h.a0 === word(a, 0) && h.a1 === word(a, 4) && h.a2 === word(a, 8) &&
    h.a3 === word(a, 12);
}
