// Reverse-mapping names: ip6.arpa (RFC 3596 2.5) and in-addr.arpa (RFC 1035 3.5).
import { canonicalName } from "./wire.ts";

const IP6_ARPA = "ip6.arpa.";

/** The IPv6 address of a full 32-nibble ip6.arpa name, or null. */
export function parseIp6Arpa(name: string): Uint8Array | null {
  const n = canonicalName(name);
  if (!n.endsWith("." + IP6_ARPA)) return null;
  const labels = n.slice(0, -IP6_ARPA.length - 1).split(".");
  if (labels.length !== 32) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 32; i++) {
    const l = labels[31 - i];
    if (l.length !== 1) return null;
    const v = parseInt(l, 16);
    if (Number.isNaN(v)) return null;
    out[i >> 1] |= (i & 1) === 0 ? v << 4 : v;
  }
  return out;
}

export function inAddrArpaName(v4: number): string {
  return `${v4 & 255}.${(v4 >>> 8) & 255}.${(v4 >>> 16) & 255}.${v4 >>> 24}.in-addr.arpa.`;
}

export function ip6ArpaName(a: Uint8Array): string {
  let s = "";
  for (let i = 15; i >= 0; i--) s += `${(a[i] & 15).toString(16)}.${(a[i] >> 4).toString(16)}.`;
  return s + IP6_ARPA;
}
