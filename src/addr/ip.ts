// IPv4/IPv6 address and prefix values: parsing, formatting, matching.
// IPv4 addresses are unsigned 32-bit numbers; IPv6 addresses are 16-byte arrays.

declare const prefix4Brand: unique symbol;
declare const prefix6Brand: unique symbol;

/** An IPv4 prefix with all host bits zero. */
export type Prefix4 = { readonly addr: number; readonly len: number } & {
  readonly [prefix4Brand]: true;
};
/** An IPv6 prefix with all host bits zero. */
export type Prefix6 = { readonly addr: Uint8Array; readonly len: number } & {
  readonly [prefix6Brand]: true;
};

export class AddressError extends Error {}

export function parseIPv4(s: string): number {
  const parts = s.split(".");
  if (parts.length !== 4) throw new AddressError(`not an IPv4 address: "${s}"`);
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) throw new AddressError(`not an IPv4 address: "${s}"`);
    const n = Number(p);
    if (n > 255) throw new AddressError(`not an IPv4 address: "${s}"`);
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function parseIPv6(text: string): Uint8Array {
  const bad = () => new AddressError(`not an IPv6 address: "${text}"`);
  if (text.length < 2 || text.length > 45) throw bad();
  let s = text;
  const lastColon = s.lastIndexOf(":");
  if (s.indexOf(".", lastColon) > 0) {
    // Trailing dotted quad (RFC 4291 2.2 form 3) becomes two hex words.
    const v4 = parseIPv4(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const parseWords = (part: string): number[] => {
    if (part === "") return [];
    return part.split(":").map((w) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw bad();
      return parseInt(w, 16);
    });
  };
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) throw bad();
  let words: number[];
  if (dbl >= 0) {
    const left = parseWords(s.slice(0, dbl));
    const right = parseWords(s.slice(dbl + 2));
    const fill = 8 - left.length - right.length;
    if (fill < 1) throw bad();
    words = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    words = parseWords(s);
    if (words.length !== 8) throw bad();
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 255;
  }
  return out;
}

/** RFC 5952 canonical text form. */
export function formatIPv6(a: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((a[off + 2 * i] << 8) | a[off + 2 * i + 1]);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}

export function prefix4(addr: number, len: number): Prefix4 {
  if (!Number.isInteger(len) || len < 0 || len > 32) {
    throw new AddressError(`bad IPv4 prefix length ${len}`);
  }
  if ((addr & ~mask4(len)) !== 0) {
    throw new AddressError(`host bits set in ${formatIPv4(addr)}/${len}`);
  }
  return { addr: addr >>> 0, len } as Prefix4;
}

export function prefix6(addr: Uint8Array, len: number): Prefix6 {
  if (!Number.isInteger(len) || len < 0 || len > 128) {
    throw new AddressError(`bad IPv6 prefix length ${len}`);
  }
  for (let bit = len; bit < 128; bit++) {
    if (addr[bit >> 3] & (0x80 >> (bit & 7))) {
      throw new AddressError(`host bits set in ${formatIPv6(addr)}/${len}`);
    }
  }
  return { addr: addr.slice(0, 16), len } as Prefix6;
}

function splitCidr(s: string, max: number): [string, number] {
  const slash = s.indexOf("/");
  if (slash < 0) return [s, max];
  const lenText = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lenText)) throw new AddressError(`bad prefix length in "${s}"`);
  return [s.slice(0, slash), Number(lenText)];
}

/** "192.0.2.0/24" (or a bare address, meaning /32). */
export function parsePrefix4(s: string): Prefix4 {
  const [a, len] = splitCidr(s, 32);
  return prefix4(parseIPv4(a), len);
}

/** "2001:db8::/32" (or a bare address, meaning /128). */
export function parsePrefix6(s: string): Prefix6 {
  const [a, len] = splitCidr(s, 128);
  return prefix6(parseIPv6(a), len);
}

export const formatPrefix4 = (p: Prefix4): string => `${formatIPv4(p.addr)}/${p.len}`;
export const formatPrefix6 = (p: Prefix6): string => `${formatIPv6(p.addr)}/${p.len}`;

export function mask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function contains4(p: Prefix4, a: number): boolean {
  return ((a & mask4(p.len)) >>> 0) === p.addr;
}

/** Does p contain the address stored at a[off..off+16]? */
export function contains6(p: Prefix6, a: Uint8Array, off = 0): boolean {
  const full = p.len >> 3;
  for (let i = 0; i < full; i++) if (a[off + i] !== p.addr[i]) return false;
  const rem = p.len & 7;
  if (rem === 0) return true;
  const m = (0xff << (8 - rem)) & 0xff;
  return (a[off + full] & m) === p.addr[full];
}

export const read4 = (b: Uint8Array, off: number): number =>
  ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;

export function write4(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 255;
  b[off + 2] = (v >>> 8) & 255;
  b[off + 3] = v & 255;
}
