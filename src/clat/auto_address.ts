// clat.ipv6-address = "auto". Without a dedicated prefix (RFC 6877 6.3), the CLAT needs
// one IPv6 address of its own that the host does not use (RFC 8683 4.8), else the kernel
// would take the return traffic for itself. It is taken from the uplink's /64, where SLAAC
// put the host's addresses, with a stable opaque interface identifier in the manner of
// RFC 7217 (a hash over the prefix, the interface and a counter): restarts and reloads get
// the same address, and a clash with any address of the host moves to the next counter
// (as RFC 7217's DAD_Counter does).
import { createHash } from "node:crypto";
import { formatIPv6, parseIPv6 } from "../addr/ip.ts";

/** An address of the host as Deno.networkInterfaces() lists it. */
export interface HostAddress {
  readonly name: string;
  readonly family: string;
  readonly address: string;
  /** "2001:db8::2/64"; absent means /64. */
  readonly cidr?: string;
}

const MAX_TRIES = 16;

const parse = (s: string): Uint8Array | null => {
  try {
    return parseIPv6(s.replace(/%.*$/, ""));
  } catch {
    return null;
  }
};

/** Global unicast (2000::/3) first, then unique local (fc00::/7); nothing link-local. */
const rank = (a: Uint8Array): number =>
  (a[0] & 0xe0) === 0x20 ? 0 : (a[0] & 0xfe) === 0xfc ? 1 : -1;

/**
 * RFC 5453 reserved interface identifiers (for a /64): the subnet-router anycast (all
 * zero), the reserved subnet anycast range fdff:ffff:ffff:ff80-ffff, and the range
 * 0200:5efe:0000:0000-0200:5eff:ffff:ffff.
 */
export function reservedIid(a: Uint8Array): boolean {
  const iid = a.subarray(8);
  if (iid.every((b) => b === 0)) return true;
  if (
    iid[0] === 0xfd && iid[1] === 0xff && iid[2] === 0xff && iid[3] === 0xff &&
    iid[4] === 0xff && iid[5] === 0xff && iid[6] === 0xff && iid[7] >= 0x80
  ) return true;
  return iid[0] === 0x02 && iid[1] === 0x00 && iid[2] === 0x5e && (iid[3] & 0xfe) === 0xfe;
}

/**
 * The CLAT's address in the /64 of `uplink`'s global (else unique local) address, not one
 * of `hostAddrs`. Throws with a reason a person can act on.
 */
export function autoClatAddress(uplink: string, hostAddrs: readonly HostAddress[]): Uint8Array {
  const own = hostAddrs.filter((h) => h.family === "IPv6").map((h) => parse(h.address))
    .filter((a): a is Uint8Array => a !== null);
  const candidates = hostAddrs
    .filter((h) => h.name === uplink && h.family === "IPv6")
    .map((h) => ({ a: parse(h.address), len: Number(h.cidr?.split("/")[1] ?? 64) }))
    .filter((c): c is { a: Uint8Array; len: number } => c.a !== null && rank(c.a) >= 0)
    .sort((x, y) => rank(x.a) - rank(y.a));
  const base = candidates.find((c) => c.len <= 64);
  if (!base) {
    const why = candidates.length
      ? `its addresses are in prefixes longer than /64 (${
        candidates.map((c) => `${formatIPv6(c.a)}/${c.len}`).join(", ")
      })`
      : "it has no global or unique-local IPv6 address (SLAAC not done yet?)";
    throw new Error(
      `clat.ipv6-address = "auto": no /64 on ${uplink} to take an address from: ${why}; ` +
        "set clat.ipv6-address to an address the host does not use",
    );
  }
  const prefix = base.a.subarray(0, 8);
  for (let counter = 0; counter < MAX_TRIES; counter++) {
    const h = createHash("sha256")
      .update("xlat64 clat address\0")
      .update(prefix)
      .update(`\0${uplink}\0${counter}`)
      .digest();
    const a = new Uint8Array(16);
    a.set(prefix);
    a.set(h.subarray(0, 8), 8);
    if (reservedIid(a)) continue;
    if (own.some((o) => o.every((b, i) => b === a[i]))) continue;
    return a;
  }
  throw new Error(`clat.ipv6-address = "auto": no free address found in ${formatIPv6(base.a)}/64`);
}
