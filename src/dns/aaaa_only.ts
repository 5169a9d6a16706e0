// RFC 8683 3.1.2 "DNS load optimization" (and RFC 6877 6.4): a CLAT's DNS proxy sends
// only AAAA queries to the provider's DNS64. An A query is answered from the DNS64's
// synthesized AAAA: under a known PLAT prefix, the IPv4 address is in it (RFC 6052 2.2).
// When no synthesized AAAA comes back, the caller falls back to a real A query.
import { contains6, type Prefix6 } from "../addr/ip.ts";
import { extract4 } from "../addr/rfc6052.ts";
import { type Answer, answerFromMessage } from "./answer.ts";
import { CLASS_IN, type Message, RCODE, rcodeOf, type ResourceRecord, TYPE } from "./wire.ts";

const covers = (r: ResourceRecord, type: number) =>
  r.type === TYPE.RRSIG && r.data.length >= 2 && ((r.data[0] << 8) | r.data[1]) === type;

/**
 * The A answer hidden in the upstream DNS64's AAAA answer, or null when the A query must
 * go upstream after all: an error, no AAAA (the DNS64 may have mapped the A out, RFC 6147
 * 5.1.5), or any AAAA outside the PLAT prefixes (real AAAA say nothing about A, 5.1.1).
 */
export function aFromSynthesized(aaaa: Message, plat: readonly Prefix6[]): Answer | null {
  if (plat.length === 0) return null;
  const rc = rcodeOf(aaaa.flags);
  // RFC 6147 5.1.2: NXDOMAIN holds for every type, A included.
  if (rc === RCODE.NXDOMAIN) return { ...answerFromMessage(aaaa), ad: false };
  if (rc !== RCODE.NOERROR) return null;
  const a: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const r of aaaa.answer) {
    if (r.type !== TYPE.AAAA || r.class !== CLASS_IN) continue;
    if (r.data.length !== 16) return null;
    const p = plat.find((p) => contains6(p, r.data));
    const v4 = p ? extract4(p, r.data, 0) : -1;
    if (v4 < 0) return null;
    const key = `${r.name.toLowerCase()}/${v4}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const data = new Uint8Array([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]);
    a.push({ name: r.name, type: TYPE.A, class: CLASS_IN, ttl: r.ttl, data });
  }
  if (a.length === 0) return null;
  // The CNAME/DNAME chain stays in front (RFC 6147 5.1.6); signatures over AAAA do not
  // cover the A records made here.
  const chain = aaaa.answer.filter((r) => r.type !== TYPE.AAAA && !covers(r, TYPE.AAAA));
  return {
    rcode: RCODE.NOERROR,
    aa: false,
    ad: false,
    answer: [...chain, ...a],
    authority: [],
    additional: [],
    synthesized: false,
  };
}
