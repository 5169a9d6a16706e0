// Sans-I/O PCP server for the NAT64 (RFC 6887 8.2, 11, 14; RFC 7225 4-5): answers ANNOUNCE
// and MAP, creates explicit mappings through an injected table (the NAT64 BIB), and puts
// the NAT64 prefixes in PREFIX64 options. No sockets, no timers: `now` is injected.
import { contains6, parseIPv4, parseIPv6, type Prefix4, type Prefix6 } from "../addr/ip.ts";
import {
  decodeRequest,
  encodePrefix64,
  encodeResponse,
  isMandatoryOption,
  type MapData,
  mappedV4,
  OPCODE,
  OPTION,
  PCP_VERSION,
  type PcpOption,
  type PcpRequest,
  type PcpResponse,
  type PeerData,
  RESULT,
  RESULT_NAME,
  unmapV4,
} from "./pcp.ts";

/** What the NAT64 BIB is asked to do for a MAP request. */
export interface MappingRequest {
  /** The internal host (16 octets; the NAT64's IPv6 side). */
  clientAddress: Uint8Array;
  nonce: Uint8Array;
  protocol: number;
  internalPort: number;
  /** 0: no preference. */
  suggestedPort: number;
  /** IPv4 address the client suggested, or -1 for none. */
  suggestedAddress: number;
  lifetimeS: number;
  /** RFC 6887 13.2 PREFER_FAILURE: fail rather than assign another port/address. */
  preferFailure: boolean;
}

export type MappingResult =
  | { ok: true; externalAddress: number; externalPort: number; lifetimeS: number }
  /** A PCP result code, e.g. NO_RESOURCES, CANNOT_PROVIDE_EXTERNAL, NOT_AUTHORIZED. */
  | { ok: false; result: number };

export interface MappingTable {
  createMapping(req: MappingRequest, nowS: number): MappingResult;
  /** RFC 6887 15: delete; NOT_AUTHORIZED when the nonce does not match. */
  deleteMapping(
    req: { clientAddress: Uint8Array; nonce: Uint8Array; protocol: number; internalPort: number },
    nowS: number,
  ): number;
}

export interface Nat64Prefix {
  prefix: Prefix6;
  /** IPv4 destinations this prefix serves (RFC 7225 4 IPv4 Prefix List); empty: all. */
  ipv4Prefixes?: Prefix4[];
}

export interface PcpServerConfig {
  prefixes: Nat64Prefix[];
  /** Client source prefixes allowed to use the server; others get NOT_AUTHORIZED. */
  clients: Prefix6[];
  /** Protocols mappings can be created for (RFC 6887 11.1). */
  protocols?: number[];
  minLifetimeS?: number;
  maxLifetimeS?: number;
  /** RFC 6887 7.4: lifetime of long- and short-lived errors. */
  longErrorLifetimeS?: number;
  shortErrorLifetimeS?: number;
}

const LONG_ERRORS: ReadonlySet<number> = new Set([
  RESULT.UNSUPP_VERSION,
  RESULT.NOT_AUTHORIZED,
  RESULT.MALFORMED_REQUEST,
  RESULT.UNSUPP_OPCODE,
  RESULT.UNSUPP_OPTION,
  RESULT.MALFORMED_OPTION,
  RESULT.UNSUPP_PROTOCOL,
  RESULT.ADDRESS_MISMATCH,
]);

export interface PcpServerStats {
  requests: number;
  dropped: number;
  byResult: Record<string, number>;
}

const equal16 = (a: Uint8Array, b: Uint8Array): boolean => {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
};

export class PcpServer {
  readonly #cfg: Required<PcpServerConfig>;
  readonly #table: MappingTable;
  readonly #now: () => number;
  #epochStartS: number;
  readonly #prefixOptions: PcpOption[];
  readonly stats: PcpServerStats = { requests: 0, dropped: 0, byResult: {} };

  constructor(cfg: PcpServerConfig, table: MappingTable, now: () => number) {
    this.#cfg = {
      protocols: [6, 17],
      minLifetimeS: 120,
      maxLifetimeS: 86400,
      longErrorLifetimeS: 1800,
      shortErrorLifetimeS: 30,
      ...cfg,
    };
    this.#table = table;
    this.#now = now;
    this.#epochStartS = now();
    this.#prefixOptions = cfg.prefixes.map((p) =>
      encodePrefix64({
        prefix: p.prefix,
        suffix: new Uint8Array(12 - p.prefix.len / 8),
        ipv4Prefixes: p.ipv4Prefixes ?? [],
      })
    );
  }

  /** RFC 6887 8.5: seconds since the server's mapping state was last lost. */
  epoch(): number {
    return Math.max(0, Math.floor(this.#now() - this.#epochStartS)) >>> 0;
  }

  /** Call when the mapping state is lost (e.g. the BIB was flushed): the epoch restarts. */
  stateLost(): void {
    this.#epochStartS = this.#now();
  }

  /** RFC 6887 14.1: the unsolicited ANNOUNCE response sent after a restart. */
  unsolicitedAnnounce(): Uint8Array<ArrayBuffer> {
    return encodeResponse({
      version: PCP_VERSION,
      opcode: OPCODE.ANNOUNCE,
      result: RESULT.SUCCESS,
      lifetime: 0,
      epoch: this.epoch(),
      options: this.#prefixOptions,
    });
  }

  /**
   * Answer one datagram from `src` (16 octets, IPv4 as ::ffff:a.b.c.d). Returns the
   * response to send back, or null when RFC 6887 8.2 says to drop silently.
   */
  handle(datagram: Uint8Array, src: Uint8Array): Uint8Array<ArrayBuffer> | null {
    this.stats.requests++;
    const d = decodeRequest(datagram);
    if (!d.ok && d.drop) {
      this.stats.dropped++;
      return null;
    }
    if (!d.ok) {
      if (d.result === RESULT.UNSUPP_VERSION) {
        return this.#respond({ opcode: d.opcode, result: d.result, header: true });
      }
      return this.#error(d.opcode, d.result, d.request);
    }
    const req = d.request;
    if (!this.#cfg.clients.some((p) => contains6(p, src))) {
      return this.#error(req.opcode, RESULT.NOT_AUTHORIZED, req);
    }
    const optResult = this.#checkOptions(req);
    if (optResult !== RESULT.SUCCESS) return this.#error(req.opcode, optResult, req);
    // RFC 6887 8.2: the client address must be the packet's source (no THIRD_PARTY here).
    if (!equal16(req.clientAddress, src)) {
      return this.#error(req.opcode, RESULT.ADDRESS_MISMATCH, req);
    }
    if (req.opcode === OPCODE.ANNOUNCE) {
      // RFC 6887 14.1: ANNOUNCE has no opcode data; success, lifetime 0.
      return this.#respond({ opcode: req.opcode, result: RESULT.SUCCESS });
    }
    if (req.opcode === OPCODE.MAP) return this.#map(req, src);
    return this.#error(req.opcode, RESULT.UNSUPP_OPCODE, req);
  }

  /** RFC 6887 7.3 and 13: which options we process, and where they may appear. */
  #checkOptions(req: PcpRequest): number {
    let preferFailure = 0;
    for (const o of req.options) {
      if (o.code === OPTION.PREFER_FAILURE) {
        // 13.2: MAP only, at most once, no data.
        if (req.opcode !== OPCODE.MAP || o.data.length !== 0 || ++preferFailure > 1) {
          return RESULT.MALFORMED_OPTION;
        }
      } else if (isMandatoryOption(o.code)) {
        return RESULT.UNSUPP_OPTION; // THIRD_PARTY, FILTER and unknown mandatory options
      }
    }
    return RESULT.SUCCESS;
  }

  #map(req: PcpRequest, src: Uint8Array): Uint8Array<ArrayBuffer> {
    const m = req.map!;
    // RFC 6887 11.1: protocol 0 means all protocols and needs internal port 0.
    if (m.protocol === 0 && m.internalPort !== 0) {
      return this.#error(req.opcode, RESULT.MALFORMED_REQUEST, req);
    }
    if (!this.#cfg.protocols.includes(m.protocol)) {
      return this.#error(req.opcode, RESULT.UNSUPP_PROTOCOL, req);
    }
    const nowS = this.#now();
    if (req.lifetime === 0) {
      // RFC 6887 15: lifetime 0 deletes; internal port 0 alone is legal here ("all ports").
      const result = this.#table.deleteMapping(
        { clientAddress: src, nonce: m.nonce, protocol: m.protocol, internalPort: m.internalPort },
        nowS,
      );
      if (result !== RESULT.SUCCESS) return this.#error(req.opcode, result, req);
      return this.#respond({ opcode: req.opcode, result, lifetime: 0, map: m });
    }
    if (m.internalPort === 0) return this.#error(req.opcode, RESULT.MALFORMED_REQUEST, req);
    const sugg = unmapV4(m.externalAddress);
    const lifetimeS = Math.min(
      this.#cfg.maxLifetimeS,
      Math.max(this.#cfg.minLifetimeS, req.lifetime),
    );
    const r = this.#table.createMapping({
      clientAddress: src,
      nonce: m.nonce,
      protocol: m.protocol,
      internalPort: m.internalPort,
      suggestedPort: m.externalPort,
      // ::ffff:0.0.0.0 and :: both mean "no preference" (RFC 6887 11.1).
      suggestedAddress: sugg > 0 ? sugg : -1,
      lifetimeS,
      preferFailure: req.options.some((o) => o.code === OPTION.PREFER_FAILURE),
    }, nowS);
    if (!r.ok) return this.#error(req.opcode, r.result, req);
    return this.#respond({
      opcode: req.opcode,
      result: RESULT.SUCCESS,
      lifetime: r.lifetimeS,
      map: { ...m, externalPort: r.externalPort, externalAddress: mappedV4(r.externalAddress) },
    });
  }

  #error(opcode: number, result: number, req?: PcpRequest): Uint8Array<ArrayBuffer> {
    // RFC 6887 8.2: error responses copy the request's opcode data when it was parsed.
    const header = (opcode === OPCODE.MAP || opcode === OPCODE.PEER) && !req;
    return this.#respond({ opcode, result, map: req?.map, peer: req?.peer, header });
  }

  #respond(r: {
    opcode: number;
    result: number;
    lifetime?: number;
    map?: MapData;
    peer?: PeerData;
    /** The header alone: no opcode data could be given, so options could not follow it. */
    header?: boolean;
  }): Uint8Array<ArrayBuffer> {
    const name = RESULT_NAME[r.result] ?? String(r.result);
    this.stats.byResult[name] = (this.stats.byResult[name] ?? 0) + 1;
    const lifetime = r.lifetime ??
      (r.result === RESULT.SUCCESS
        ? 0
        : LONG_ERRORS.has(r.result)
        ? this.#cfg.longErrorLifetimeS
        : this.#cfg.shortErrorLifetimeS);
    const res: PcpResponse = {
      version: PCP_VERSION,
      opcode: r.opcode & 0x7f,
      result: r.result,
      lifetime,
      epoch: this.epoch(),
      map: r.header ? undefined : r.map,
      peer: r.header ? undefined : r.peer,
      // RFC 7225 5: the NAT64 prefixes ride on every response that can carry options.
      options: r.header ? [] : this.#prefixOptions,
    };
    return encodeResponse(res);
  }
}

/** The 16-octet source address for a datagram from `hostname` (IPv4 as ::ffff:a.b.c.d). */
export function sourceBytes(hostname: string): Uint8Array {
  const h = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  return h.includes(":") ? parseIPv6(h) : mappedV4(parseIPv4(h));
}
