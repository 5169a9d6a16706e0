// Presentation-format records (RFC 1035 5.1, RFC 4034 2.2/3.2/4.2/5.3, RFC 5155 3.3/4.3):
// enough of the master-file syntax for trust anchor files (/usr/share/dns/root.ds,
// root.key, Unbound's auto-trust-anchor files) and the signed zones of the tests.
import { CLASS_IN, nameToWire, type ResourceRecord, soaData, TYPE } from "../wire.ts";
import { fromBase32hex } from "./nsec3hash.ts";
import { typeBitmap } from "./rdata.ts";
import { parseIPv6 } from "../../addr/ip.ts";

export class ZoneSyntaxError extends Error {}

const TYPE_BY_NAME: Readonly<Record<string, number>> = {
  ...TYPE,
  NSEC3PARAM: 51,
  HINFO: 13,
  NAPTR: 35,
  CDS: 59,
  CDNSKEY: 60,
};
const NAME_BY_TYPE = new Map(Object.entries(TYPE_BY_NAME).map(([k, v]) => [v, k]));
const ALG_BY_NAME: Readonly<Record<string, number>> = {
  RSAMD5: 1,
  DSA: 3,
  RSASHA1: 5,
  "DSA-NSEC3-SHA1": 6,
  "RSASHA1-NSEC3-SHA1": 7,
  RSASHA256: 8,
  RSASHA512: 10,
  "ECC-GOST": 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
};

export function typeNumber(s: string): number {
  const u = s.toUpperCase();
  if (u in TYPE_BY_NAME) return TYPE_BY_NAME[u];
  const m = /^TYPE([0-9]+)$/.exec(u);
  if (m && Number(m[1]) < 65536) return Number(m[1]);
  throw new ZoneSyntaxError(`unknown type ${s}`);
}

export const typeName = (t: number): string => NAME_BY_TYPE.get(t) ?? `TYPE${t}`;

function algNumber(s: string): number {
  const n = ALG_BY_NAME[s.toUpperCase()] ?? Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new ZoneSyntaxError(`bad algorithm ${s}`);
  return n;
}

function int(s: string, max: number): number {
  if (!/^[0-9]+$/.test(s) || Number(s) > max) throw new ZoneSyntaxError(`bad number ${s}`);
  return Number(s);
}

function hex(s: string): Uint8Array {
  if (s === "-") return new Uint8Array(0);
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new ZoneSyntaxError(`bad hex ${s}`);
  return Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function b64(s: string): Uint8Array {
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    throw new ZoneSyntaxError("bad base64");
  }
}

/** RFC 4034 3.2: YYYYMMDDHHmmSS (UTC) or a plain number of seconds. */
function sigTime(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s);
  if (!m) return int(s, 0xffffffff);
  return (Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000) >>> 0;
}

const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const be16 = (v: number) => Uint8Array.of(v >> 8, v & 255);
const be32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);

function fqdn(name: string, origin: string): string {
  if (name === "@") return origin;
  if (name.endsWith(".") && !name.endsWith("\\.")) return name;
  return origin === "." ? name + "." : `${name}.${origin}`;
}

/** RDATA from presentation fields. */
export function rdataFromText(type: number, f: string[], origin = "."): Uint8Array {
  const nm = (s: string) => nameToWire(fqdn(s, origin));
  if (f[0] === "\\#") {
    const d = hex(f.slice(2).join(""));
    if (d.length !== int(f[1], 65535)) throw new ZoneSyntaxError("\\# length mismatch");
    return d;
  }
  switch (type) {
    case TYPE.A: {
      const p = f[0].split(".").map((x) => int(x, 255));
      if (p.length !== 4) throw new ZoneSyntaxError(`bad IPv4 ${f[0]}`);
      return Uint8Array.from(p);
    }
    case TYPE.AAAA: {
      try {
        return parseIPv6(f[0]);
      } catch {
        throw new ZoneSyntaxError(`bad IPv6 ${f[0]}`);
      }
    }
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.DNAME:
    case TYPE.PTR:
      return nm(f[0]);
    case TYPE.MX:
      return cat(be16(int(f[0], 65535)), nm(f[1]));
    case TYPE.SOA:
      return soaData({
        mname: fqdn(f[0], origin),
        rname: fqdn(f[1], origin),
        serial: int(f[2], 0xffffffff),
        refresh: int(f[3], 0xffffffff),
        retry: int(f[4], 0xffffffff),
        expire: int(f[5], 0xffffffff),
        minimum: int(f[6], 0xffffffff),
      });
    case TYPE.TXT:
      return cat(...f.map((s) => {
        const t = new TextEncoder().encode(s.replace(/^"|"$/g, ""));
        return cat(Uint8Array.of(t.length), t);
      }));
    case TYPE.DS:
    case 59:
      return cat(
        be16(int(f[0], 65535)),
        Uint8Array.of(algNumber(f[1]), int(f[2], 255)),
        hex(f.slice(3).join("")),
      );
    case TYPE.DNSKEY:
    case 60:
      return cat(
        be16(int(f[0], 65535)),
        Uint8Array.of(int(f[1], 255), algNumber(f[2])),
        b64(f.slice(3).join("")),
      );
    case TYPE.RRSIG:
      return cat(
        be16(typeNumber(f[0])),
        Uint8Array.of(algNumber(f[1]), int(f[2], 255)),
        be32(int(f[3], 0xffffffff)),
        be32(sigTime(f[4])),
        be32(sigTime(f[5])),
        be16(int(f[6], 65535)),
        nm(f[7]),
        b64(f.slice(8).join("")),
      );
    case TYPE.NSEC:
      return cat(nm(f[0]), typeBitmap(f.slice(1).map(typeNumber)));
    case TYPE.NSEC3: {
      const salt = hex(f[3]);
      const next = fromBase32hex(f[4]);
      if (!next) throw new ZoneSyntaxError(`bad base32hex ${f[4]}`);
      return cat(
        Uint8Array.of(int(f[0], 255), int(f[1], 255)),
        be16(int(f[2], 65535)),
        Uint8Array.of(salt.length),
        salt,
        Uint8Array.of(next.length),
        next,
        typeBitmap(f.slice(5).map(typeNumber)),
      );
    }
    case 51: {
      const salt = hex(f[3]);
      return cat(
        Uint8Array.of(int(f[0], 255), int(f[1], 255)),
        be16(int(f[2], 65535)),
        Uint8Array.of(salt.length),
        salt,
      );
    }
    default:
      throw new ZoneSyntaxError(`no presentation parser for ${typeName(type)}`);
  }
}

/** Split into tokens, honouring quotes, comments and parentheses (RFC 1035 5.1). */
function logicalLines(text: string): { tokens: string[]; indented: boolean }[] {
  const out: { tokens: string[]; indented: boolean }[] = [];
  let cur: string[] = [];
  let depth = 0;
  let indented = false;
  for (const raw of text.split("\n")) {
    if (depth === 0) indented = /^[ \t]/.test(raw);
    let i = 0;
    while (i < raw.length) {
      const c = raw[i];
      if (c === ";") break;
      if (c === " " || c === "\t" || c === "\r") {
        i++;
      } else if (c === "(") {
        depth++;
        i++;
      } else if (c === ")") {
        depth--;
        i++;
      } else if (c === '"') {
        let j = i + 1;
        while (j < raw.length && raw[j] !== '"') j += raw[j] === "\\" ? 2 : 1;
        cur.push(raw.slice(i, j + 1));
        i = j + 1;
      } else {
        let j = i;
        while (j < raw.length && !" \t\r;()".includes(raw[j])) j += raw[j] === "\\" ? 2 : 1;
        cur.push(raw.slice(i, j));
        i = j;
      }
    }
    if (depth === 0 && cur.length > 0) {
      out.push({ tokens: cur, indented });
      cur = [];
    }
  }
  if (depth !== 0) throw new ZoneSyntaxError("unbalanced parentheses");
  return out;
}

const CLASSES = new Set(["IN", "CH", "HS", "CS"]);

/** Parse master-file text into records ($ORIGIN and $TTL honoured, class IN only). */
export function parseZone(text: string, origin = "."): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  let ttl = 3600;
  let last = origin;
  for (const { tokens, indented } of logicalLines(text)) {
    if (tokens[0] === "$ORIGIN") {
      origin = fqdn(tokens[1], ".");
      continue;
    }
    if (tokens[0] === "$TTL") {
      ttl = int(tokens[1], 0x7fffffff);
      continue;
    }
    if (tokens[0].startsWith("$")) continue;
    let i = 0;
    const owner = indented ? last : fqdn(tokens[i++], origin);
    last = owner;
    let rrTtl = ttl;
    for (let k = 0; k < 2 && i < tokens.length; k++) {
      if (/^[0-9]+$/.test(tokens[i])) rrTtl = int(tokens[i++], 0x7fffffff);
      else if (CLASSES.has(tokens[i].toUpperCase())) {
        if (tokens[i].toUpperCase() !== "IN") throw new ZoneSyntaxError("class IN only");
        i++;
      }
    }
    if (i >= tokens.length) throw new ZoneSyntaxError(`no type in "${tokens.join(" ")}"`);
    const type = typeNumber(tokens[i++]);
    out.push({
      name: owner,
      type,
      class: CLASS_IN,
      ttl: rrTtl,
      data: rdataFromText(type, tokens.slice(i), origin),
    });
  }
  return out;
}
