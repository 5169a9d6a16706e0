// Port Control Protocol codec (RFC 6887 7, 11.1, 12.1) with the PREFIX64 option (RFC 7225 4).
// Pure functions over bytes. Requests decode to a result code rather than throwing, so the
// server can answer with the error RFC 6887 8.2 names.
import { type Prefix4, prefix4, type Prefix6, prefix6, read4, write4 } from "../addr/ip.ts";

export const PCP_VERSION = 2;
export const PCP_SERVER_PORT = 5351;
export const PCP_CLIENT_PORT = 5350;
/** RFC 6887 7: "PCP messages MUST be ... no more than 1100 octets". */
export const PCP_MAX_LEN = 1100;
export const PCP_HEADER_LEN = 24;
export const MAP_DATA_LEN = 36;
export const PEER_DATA_LEN = 56;

export const OPCODE = { ANNOUNCE: 0, MAP: 1, PEER: 2 } as const;

export const RESULT = {
  SUCCESS: 0,
  UNSUPP_VERSION: 1,
  NOT_AUTHORIZED: 2,
  MALFORMED_REQUEST: 3,
  UNSUPP_OPCODE: 4,
  UNSUPP_OPTION: 5,
  MALFORMED_OPTION: 6,
  NETWORK_FAILURE: 7,
  NO_RESOURCES: 8,
  UNSUPP_PROTOCOL: 9,
  USER_EX_QUOTA: 10,
  CANNOT_PROVIDE_EXTERNAL: 11,
  ADDRESS_MISMATCH: 12,
  EXCESSIVE_REMOTE_PEERS: 13,
} as const;

export const RESULT_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(RESULT).map(([k, v]) => [v, k]),
);

export const OPTION = { THIRD_PARTY: 1, PREFER_FAILURE: 2, FILTER: 3, PREFIX64: 129 } as const;

/** RFC 6887 7.3: codes 0-127 are mandatory to process, 128-255 optional. */
export const isMandatoryOption = (code: number): boolean => code < 128;

export class PcpError extends Error {}

export interface PcpOption {
  code: number;
  data: Uint8Array;
}

/** MAP (RFC 6887 11.1) and the common part of PEER (12.1). */
export interface MapData {
  nonce: Uint8Array;
  /** IANA protocol number; 0 means all protocols. */
  protocol: number;
  internalPort: number;
  /** Suggested (request) or assigned (response) external port. */
  externalPort: number;
  /** Suggested or assigned external address, IPv4 as ::ffff:a.b.c.d (RFC 6887 5). */
  externalAddress: Uint8Array;
}

export interface PeerData extends MapData {
  remotePeerPort: number;
  remotePeerAddress: Uint8Array;
}

export interface PcpRequest {
  opcode: number;
  lifetime: number;
  clientAddress: Uint8Array;
  map?: MapData;
  peer?: PeerData;
  options: PcpOption[];
}

export interface PcpResponse {
  version: number;
  opcode: number;
  result: number;
  lifetime: number;
  epoch: number;
  map?: MapData;
  peer?: PeerData;
  options: PcpOption[];
}

// ---------------------------------------------------------------- addresses

/** RFC 6887 5: IPv4 addresses travel as IPv4-mapped IPv6 addresses. */
export function mappedV4(v4: number): Uint8Array {
  const a = new Uint8Array(16);
  a[10] = 0xff;
  a[11] = 0xff;
  write4(a, 12, v4);
  return a;
}

/** The IPv4 address of an IPv4-mapped IPv6 address, or -1. */
export function unmapV4(a: Uint8Array): number {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return -1;
  if (a[10] !== 0xff || a[11] !== 0xff) return -1;
  return read4(a, 12);
}

// ---------------------------------------------------------------- options

function optionsLength(options: readonly PcpOption[]): number {
  let n = 0;
  for (const o of options) n += 4 + ((o.data.length + 3) & ~3);
  return n;
}

function writeOptions(out: Uint8Array, off: number, options: readonly PcpOption[]): number {
  for (const o of options) {
    if (o.code < 0 || o.code > 255 || o.data.length > 0xffff) {
      throw new PcpError(`bad option ${o.code} of ${o.data.length} octets`);
    }
    out[off] = o.code;
    out[off + 2] = o.data.length >> 8;
    out[off + 3] = o.data.length & 255;
    out.set(o.data, off + 4);
    off += 4 + ((o.data.length + 3) & ~3); // RFC 6887 7.3: zero padding to 4 octets
  }
  return off;
}

/** Options from b[off..]; null when one runs past the end (RFC 6887 7.3). */
function readOptions(b: Uint8Array, off: number): PcpOption[] | null {
  const out: PcpOption[] = [];
  while (off < b.length) {
    if (off + 4 > b.length) return null;
    const len = (b[off + 2] << 8) | b[off + 3];
    const padded = (len + 3) & ~3;
    if (off + 4 + padded > b.length) return null;
    out.push({ code: b[off], data: b.slice(off + 4, off + 4 + len) });
    off += 4 + padded;
  }
  return out;
}

// ---------------------------------------------------------------- opcode data

function writeMap(out: Uint8Array, off: number, m: MapData): number {
  if (m.nonce.length !== 12) throw new PcpError("mapping nonce must be 12 octets");
  if (m.externalAddress.length !== 16) throw new PcpError("external address must be 16 octets");
  out.set(m.nonce, off);
  out[off + 12] = m.protocol;
  out[off + 16] = m.internalPort >> 8;
  out[off + 17] = m.internalPort & 255;
  out[off + 18] = m.externalPort >> 8;
  out[off + 19] = m.externalPort & 255;
  out.set(m.externalAddress, off + 20);
  return off + MAP_DATA_LEN;
}

function readMap(b: Uint8Array, off: number): MapData {
  return {
    nonce: b.slice(off, off + 12),
    protocol: b[off + 12],
    internalPort: (b[off + 16] << 8) | b[off + 17],
    externalPort: (b[off + 18] << 8) | b[off + 19],
    externalAddress: b.slice(off + 20, off + 36),
  };
}

function writePeer(out: Uint8Array, off: number, p: PeerData): number {
  if (p.remotePeerAddress.length !== 16) {
    throw new PcpError("remote peer address must be 16 octets");
  }
  off = writeMap(out, off, p);
  out[off] = p.remotePeerPort >> 8;
  out[off + 1] = p.remotePeerPort & 255;
  out.set(p.remotePeerAddress, off + 4);
  return off + 20;
}

function readPeer(b: Uint8Array, off: number): PeerData {
  return {
    ...readMap(b, off),
    remotePeerPort: (b[off + 36] << 8) | b[off + 37],
    remotePeerAddress: b.slice(off + 40, off + 56),
  };
}

function opcodeDataLength(opcode: number): number {
  return opcode === OPCODE.MAP ? MAP_DATA_LEN : opcode === OPCODE.PEER ? PEER_DATA_LEN : 0;
}

function opcodeData(opcode: number, map?: MapData, peer?: PeerData): MapData | PeerData | null {
  if (opcode === OPCODE.MAP) {
    if (!map) throw new PcpError("MAP needs map data");
    return map;
  }
  if (opcode === OPCODE.PEER) {
    if (!peer) throw new PcpError("PEER needs peer data");
    return peer;
  }
  return null;
}

function writeOpcodeData(out: Uint8Array, opcode: number, d: MapData | PeerData | null): void {
  if (d === null) return;
  if (opcode === OPCODE.PEER) writePeer(out, PCP_HEADER_LEN, d as PeerData);
  else writeMap(out, PCP_HEADER_LEN, d);
}

function checkU32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new PcpError(`bad ${what} ${v}`);
}

// ---------------------------------------------------------------- requests

export function encodeRequest(r: PcpRequest, version = PCP_VERSION): Uint8Array<ArrayBuffer> {
  if (r.opcode < 0 || r.opcode > 127) throw new PcpError(`bad opcode ${r.opcode}`);
  if (r.clientAddress.length !== 16) throw new PcpError("client address must be 16 octets");
  checkU32("lifetime", r.lifetime);
  const data = opcodeData(r.opcode, r.map, r.peer);
  const size = PCP_HEADER_LEN + opcodeDataLength(r.opcode) + optionsLength(r.options);
  if (size > PCP_MAX_LEN) throw new PcpError(`request of ${size} octets exceeds 1100`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = version;
  out[1] = r.opcode; // R bit 0: request
  dv.setUint32(4, r.lifetime);
  out.set(r.clientAddress, 8);
  writeOpcodeData(out, r.opcode, data);
  writeOptions(out, PCP_HEADER_LEN + opcodeDataLength(r.opcode), r.options);
  return out;
}

export type DecodedRequest =
  | { ok: true; request: PcpRequest }
  /** RFC 6887 8.2: shorter than 2 octets or R bit set: silently dropped. */
  | { ok: false; drop: true; reason: string }
  | {
    ok: false;
    drop: false;
    result: number;
    reason: string;
    /** Opcode to echo in the error response (RFC 6887 8.2). */
    opcode: number;
    /** The request up to what could be parsed, for copying into the error response. */
    request?: PcpRequest;
  };

/**
 * Decode and validate a request as RFC 6887 8.2 describes. Reserved fields are not
 * checked: 7.1 and 11.1 say they "MUST be ignored when received". Options are split but
 * not interpreted; the server decides which it supports (7.3).
 */
export function decodeRequest(b: Uint8Array): DecodedRequest {
  if (b.length < 2) return { ok: false, drop: true, reason: "shorter than 2 octets" };
  if (b[1] & 0x80) return { ok: false, drop: true, reason: "R bit set in a request" };
  const opcode = b[1] & 0x7f;
  const fail = (result: number, reason: string, request?: PcpRequest): DecodedRequest => ({
    ok: false,
    drop: false,
    result,
    reason,
    opcode,
    request,
  });
  if (b[0] !== PCP_VERSION) return fail(RESULT.UNSUPP_VERSION, `version ${b[0]}`);
  if (b.length > PCP_MAX_LEN) return fail(RESULT.MALFORMED_REQUEST, `${b.length} octets > 1100`);
  if (b.length % 4 !== 0) {
    return fail(RESULT.MALFORMED_REQUEST, `${b.length} octets, not a multiple of 4`);
  }
  if (b.length < PCP_HEADER_LEN) return fail(RESULT.MALFORMED_REQUEST, "truncated header");
  if (opcode !== OPCODE.ANNOUNCE && opcode !== OPCODE.MAP && opcode !== OPCODE.PEER) {
    return fail(RESULT.UNSUPP_OPCODE, `opcode ${opcode}`);
  }
  const dataLen = opcodeDataLength(opcode);
  if (b.length < PCP_HEADER_LEN + dataLen) {
    return fail(RESULT.MALFORMED_REQUEST, "truncated opcode data");
  }
  const request: PcpRequest = {
    opcode,
    lifetime: read4(b, 4),
    clientAddress: b.slice(8, 24),
    options: [],
  };
  if (opcode === OPCODE.MAP) request.map = readMap(b, PCP_HEADER_LEN);
  if (opcode === OPCODE.PEER) request.peer = readPeer(b, PCP_HEADER_LEN);
  const options = readOptions(b, PCP_HEADER_LEN + dataLen);
  if (options === null) return fail(RESULT.MALFORMED_OPTION, "option runs past the end", request);
  request.options = options;
  return { ok: true, request };
}

// ---------------------------------------------------------------- responses

export function encodeResponse(r: PcpResponse): Uint8Array<ArrayBuffer> {
  if (r.opcode < 0 || r.opcode > 127) throw new PcpError(`bad opcode ${r.opcode}`);
  if (r.result < 0 || r.result > 255) throw new PcpError(`bad result ${r.result}`);
  checkU32("lifetime", r.lifetime);
  checkU32("epoch", r.epoch);
  const data = r.opcode === OPCODE.MAP
    ? r.map ?? null
    : r.opcode === OPCODE.PEER
    ? r.peer ?? null
    : null;
  // Error responses to unparsable requests carry the header alone (RFC 6887 8.2).
  const dataLen = data ? opcodeDataLength(r.opcode) : 0;
  const size = PCP_HEADER_LEN + dataLen + optionsLength(r.options);
  if (size > PCP_MAX_LEN) throw new PcpError(`response of ${size} octets exceeds 1100`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = r.version;
  out[1] = 0x80 | r.opcode;
  out[3] = r.result;
  dv.setUint32(4, r.lifetime);
  dv.setUint32(8, r.epoch);
  writeOpcodeData(out, r.opcode, data);
  writeOptions(out, PCP_HEADER_LEN + dataLen, r.options);
  return out;
}

/** Decode a response (client side, RFC 6887 8.3). Throws PcpError for what a client ignores. */
export function decodeResponse(b: Uint8Array): PcpResponse {
  if (b.length < PCP_HEADER_LEN) throw new PcpError(`response of ${b.length} octets`);
  if (b.length > PCP_MAX_LEN || b.length % 4 !== 0) {
    throw new PcpError(`response of ${b.length} octets (RFC 6887 7: multiple of 4, <= 1100)`);
  }
  if (!(b[1] & 0x80)) throw new PcpError("R bit clear in a response");
  const r: PcpResponse = {
    version: b[0],
    opcode: b[1] & 0x7f,
    result: b[3],
    lifetime: read4(b, 4),
    epoch: read4(b, 8),
    options: [],
  };
  if (r.version !== PCP_VERSION) {
    if (r.result === RESULT.UNSUPP_VERSION) return r;
    throw new PcpError(`response version ${r.version}`);
  }
  let off = PCP_HEADER_LEN;
  const dataLen = opcodeDataLength(r.opcode);
  if (dataLen > 0) {
    if (b.length >= off + dataLen) {
      if (r.opcode === OPCODE.MAP) r.map = readMap(b, off);
      else r.peer = readPeer(b, off);
      off += dataLen;
    } else if (r.result === RESULT.SUCCESS) {
      throw new PcpError("truncated opcode data");
    } else {
      return r; // an error response to an unparsable request: the header alone
    }
  }
  const options = readOptions(b, off);
  if (options === null) throw new PcpError("option runs past the end");
  r.options = options;
  return r;
}

// ---------------------------------------------------------------- PREFIX64 (RFC 7225 4)

/** RFC 7225 4: Prefix64-Length is in octets and one of 4, 5, 6, 7, 8, 12 (RFC 6052). */
export const PREFIX64_LENGTHS_OCTETS: readonly number[] = [4, 5, 6, 7, 8, 12];

export interface Prefix64Option {
  prefix: Prefix6;
  /** The 12 - Prefix64-Length octets after the embedded IPv4 address (RFC 6052 2.2). */
  suffix: Uint8Array;
  /** IPv4 destinations reached through this prefix; empty means all (RFC 7225 4). */
  ipv4Prefixes: Prefix4[];
}

export function encodePrefix64(o: Prefix64Option): PcpOption {
  const n = o.prefix.len / 8;
  if (!PREFIX64_LENGTHS_OCTETS.includes(n)) {
    throw new PcpError(`PREFIX64 prefix length ${o.prefix.len} (RFC 7225 4: 32..96 per RFC 6052)`);
  }
  const suffixLen = 12 - n;
  if (o.suffix.length !== suffixLen) {
    throw new PcpError(`PREFIX64 suffix must be ${suffixLen} octets for a /${o.prefix.len}`);
  }
  const size = 2 + n + suffixLen + (o.ipv4Prefixes.length > 0 ? 2 + 6 * o.ipv4Prefixes.length : 0);
  const data = new Uint8Array(size);
  data[1] = n;
  data.set(o.prefix.addr.subarray(0, n), 2);
  data.set(o.suffix, 2 + n);
  if (o.ipv4Prefixes.length > 0) {
    let off = 14;
    data[off] = o.ipv4Prefixes.length >> 8;
    data[off + 1] = o.ipv4Prefixes.length & 255;
    off += 2;
    for (const p of o.ipv4Prefixes) {
      data[off + 1] = p.len;
      write4(data, off + 2, p.addr);
      off += 6;
    }
  }
  return { code: OPTION.PREFIX64, data };
}

export function decodePrefix64(data: Uint8Array): Prefix64Option {
  if (data.length < 2) throw new PcpError("PREFIX64 shorter than its length field");
  const n = (data[0] << 8) | data[1];
  if (!PREFIX64_LENGTHS_OCTETS.includes(n)) {
    throw new PcpError(`PREFIX64 Prefix64-Length ${n} octets (RFC 7225 4: 4,5,6,7,8,12)`);
  }
  if (data.length < 14) throw new PcpError("PREFIX64 truncated before the IPv4 prefix list");
  const addr = new Uint8Array(16);
  addr.set(data.subarray(2, 2 + n));
  const out: Prefix64Option = {
    prefix: prefix6(addr, n * 8),
    suffix: data.slice(2 + n, 14),
    ipv4Prefixes: [],
  };
  if (data.length === 14) return out;
  if (data.length < 16) throw new PcpError("PREFIX64 IPv4 Prefix Count truncated");
  const count = (data[14] << 8) | data[15];
  if (data.length !== 16 + 6 * count) {
    throw new PcpError(`PREFIX64 IPv4 prefix list: ${count} entries in ${data.length - 16} octets`);
  }
  for (let off = 16; off < data.length; off += 6) {
    const len = (data[off] << 8) | data[off + 1];
    if (len > 32) throw new PcpError(`PREFIX64 IPv4 prefix length ${len}`);
    const a = read4(data, off + 2);
    try {
      out.ipv4Prefixes.push(prefix4(a, len));
    } catch {
      throw new PcpError(`PREFIX64 IPv4 prefix with host bits set`);
    }
  }
  return out;
}

/** Every well-formed PREFIX64 option in `options` (RFC 7225 4: there may be several). */
export function prefix64Options(options: readonly PcpOption[]): Prefix64Option[] {
  const out: Prefix64Option[] = [];
  for (const o of options) {
    if (o.code !== OPTION.PREFIX64) continue;
    try {
      out.push(decodePrefix64(o.data));
    } catch (e) {
      if (!(e instanceof PcpError)) throw e;
    }
  }
  return out;
}
