// Which IPv4 addresses may appear under the Well-Known Prefix (RFC 6052 3.1).
import type { Prefix6 } from "./ip.ts";

// IANA IPv4 Special-Purpose Address Registry (RFC 6890; checked against the registry
// revision of 2020-09-04), every block whose "Globally Reachable" column is False, as
// [first address, prefix length].
// Blocks marked True inside 192.0.0.0/24 (192.0.0.9/32 PCP anycast, 192.0.0.10/32 TURN
// anycast) are handled as exceptions below. Blocks marked True or N/A elsewhere
// (192.31.196.0/24, 192.52.193.0/24, 192.88.99.0/24, 192.175.48.0/24) are global.
// Multicast (224.0.0.0/4) is in a different registry and is not listed here; the
// denylist keeps it out of translation (RFC 7915).
export const NON_GLOBAL_BLOCKS: readonly (readonly [string, number])[] = [
  ["0.0.0.0", 8], // "This network" (RFC 791, RFC 1122 3.2.1.3)
  ["10.0.0.0", 8], // Private-Use (RFC 1918)
  ["100.64.0.0", 10], // Shared Address Space (RFC 6598)
  ["127.0.0.0", 8], // Loopback (RFC 1122 3.2.1.3)
  ["169.254.0.0", 16], // Link Local (RFC 3927)
  ["172.16.0.0", 12], // Private-Use (RFC 1918)
  ["192.0.0.0", 24], // IETF Protocol Assignments (RFC 6890 2.1), except .9 and .10
  ["192.0.2.0", 24], // Documentation TEST-NET-1 (RFC 5737)
  ["192.168.0.0", 16], // Private-Use (RFC 1918)
  ["198.18.0.0", 15], // Benchmarking (RFC 2544)
  ["198.51.100.0", 24], // Documentation TEST-NET-2 (RFC 5737)
  ["203.0.113.0", 24], // Documentation TEST-NET-3 (RFC 5737)
  ["240.0.0.0", 4], // Reserved (RFC 1112 4)
  ["255.255.255.255", 32], // Limited Broadcast (RFC 919 7, RFC 8190)
];

/**
 * Is `v4` (uint32) globally reachable per the IANA IPv4 Special-Purpose Address
 * Registry? RFC 6052 3.1: "The Well-Known Prefix MUST NOT be used to represent
 * non-global IPv4 addresses". Branch-only, no table walk: it runs per packet.
 */
export function isGlobal4(v4: number): boolean {
  const a = v4 >>> 24;
  switch (a) {
    case 0:
    case 10:
    case 127:
      return false;
    case 100:
      return ((v4 >>> 22) & 3) !== 1; // 100.64.0.0/10
    case 169:
      return ((v4 >>> 16) & 255) !== 254;
    case 172:
      return ((v4 >>> 20) & 15) !== 1; // 172.16.0.0/12
    case 192: {
      const b = (v4 >>> 16) & 255;
      if (b === 168) return false;
      if (b !== 0) return true;
      const c = (v4 >>> 8) & 255;
      if (c === 2) return false;
      if (c !== 0) return true;
      const d = v4 & 255;
      return d === 9 || d === 10; // 192.0.0.0/24: only the two anycast addresses
    }
    case 198: {
      const b = (v4 >>> 16) & 255;
      if (b === 18 || b === 19) return false;
      return !(b === 51 && ((v4 >>> 8) & 255) === 100);
    }
    case 203:
      return ((v4 >>> 8) & 0xffff) !== 0x0071; // 203.0.113.0/24
    default:
      return a < 240; // 240.0.0.0/4 and 255.255.255.255
  }
}

const WKP = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

/** Is `p` the Well-Known Prefix 64:ff9b::/96 (RFC 6052 2.1)? 64:ff9b:1::/48 is not. */
export function isWkp(p: Prefix6): boolean {
  if (p.len !== 96) return false;
  for (let i = 0; i < 12; i++) if (p.addr[i] !== WKP[i]) return false;
  return true;
}
