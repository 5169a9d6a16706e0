// Shared setup for the NAT64 tests: a pool4 config and IPv6 address bytes.
import { parseIPv4, parseIPv6, parsePrefix4 } from "../../src/addr/ip.ts";
import type { Pool4Entry, Protocol, StaticBibEntry } from "../../src/config/types.ts";

export function pool4(
  prefix = "198.51.100.1/32",
  min = 1,
  max = 65535,
  protocols: Protocol[] = ["tcp", "udp", "icmp"],
): Pool4Entry {
  return { prefix: parsePrefix4(prefix), ports: { min, max }, protocols };
}

export function staticBib(protocol: Protocol, v4: string, p4: number, v6: string, p6: number) {
  return {
    protocol,
    ipv4: { addr: parseIPv4(v4), port: p4 },
    ipv6: { addr: parseIPv6(v6), port: p6 },
  } satisfies StaticBibEntry;
}

export const v6 = (s: string): Uint8Array => parseIPv6(s);
export const v4 = (s: string): number => parseIPv4(s);
