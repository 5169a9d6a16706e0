// RFC 8880 7.2: a DNS64 resolver answers ipv4only.arpa itself (A: the two well-known
// addresses, AAAA: synthesized with its own prefixes) and the PTR names of those two
// addresses, so RFC 7050 prefix discovery works without reaching the real zone.
import type { Prefix6 } from "../addr/ip.ts";
import { embed4 } from "../addr/rfc6052.ts";
import type { Answer } from "./answer.ts";
import {
  aData,
  CLASS_IN,
  isSubdomain,
  nameData,
  RCODE,
  type ResourceRecord,
  sameName,
  soaData,
  TYPE,
} from "./wire.ts";

export const IPV4ONLY_ARPA = "ipv4only.arpa.";
/** RFC 7050 2.2 / RFC 8880 2: the well-known IPv4-only addresses 192.0.0.170 and .171. */
export const WKA = [0xc00000aa, 0xc00000ab] as const;
/** Our TTL for these constant records (positive and negative). */
export const LOCAL_TTL = 3600;

const REVERSE = ["170.0.0.192.in-addr.arpa.", "171.0.0.192.in-addr.arpa."];

function soa(zone: string): ResourceRecord {
  return {
    name: zone,
    type: TYPE.SOA,
    class: CLASS_IN,
    ttl: LOCAL_TTL,
    data: soaData({
      mname: zone,
      rname: "nobody.invalid.",
      serial: 1,
      refresh: 3600,
      retry: 1200,
      expire: 604800,
      minimum: LOCAL_TTL,
    }),
  };
}

function local(rcode: number, answer: ResourceRecord[], zone: string, synth = false): Answer {
  return {
    rcode,
    aa: true,
    ad: false,
    answer,
    authority: answer.length === 0 ? [soa(zone)] : [],
    additional: [],
    synthesized: synth,
  };
}

/** The local answer for `name`/`type`, or null when the name is not one of ours. */
export function localAnswer(
  name: string,
  type: number,
  qclass: number,
  prefixes: readonly Prefix6[],
): Answer | null {
  if (qclass !== CLASS_IN || prefixes.length === 0) return null;
  if (sameName(name, IPV4ONLY_ARPA)) {
    if (type === TYPE.A) {
      return local(RCODE.NOERROR, WKA.map((a) => rec(name, TYPE.A, aData(a))), IPV4ONLY_ARPA);
    }
    if (type === TYPE.AAAA) {
      const out: ResourceRecord[] = [];
      for (const p of prefixes) {
        for (const a of WKA) {
          const d = new Uint8Array(16);
          embed4(p, a, d, 0);
          out.push(rec(name, TYPE.AAAA, d));
        }
      }
      return local(RCODE.NOERROR, out, IPV4ONLY_ARPA, true);
    }
    return local(RCODE.NOERROR, [], IPV4ONLY_ARPA);
  }
  if (isSubdomain(name, IPV4ONLY_ARPA)) return local(RCODE.NXDOMAIN, [], IPV4ONLY_ARPA);
  for (const r of REVERSE) {
    if (sameName(name, r)) {
      const ans = type === TYPE.PTR ? [rec(name, TYPE.PTR, nameData(IPV4ONLY_ARPA))] : [];
      return local(RCODE.NOERROR, ans, r);
    }
    if (isSubdomain(name, r)) return local(RCODE.NXDOMAIN, [], r);
  }
  return null;
}

function rec(name: string, type: number, data: Uint8Array): ResourceRecord {
  return { name, type, class: CLASS_IN, ttl: LOCAL_TTL, data };
}
