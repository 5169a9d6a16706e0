// Trust anchors (RFC 4033 3.1 "trust anchor", RFC 4035 4.4): DS or DNSKEY records in
// master-file format, as in /usr/share/dns/root.ds, root.key or Unbound's
// auto-trust-anchor-file. RFC 5011 rollover tracking is not done here: the file is
// re-read when the config is reloaded.
import { normalName } from "./names.ts";
import { type Dnskey, DNSKEY_REVOKE, type Ds, parseDnskey, parseDs } from "./rdata.ts";
import { parseZone, ZoneSyntaxError } from "./zonefile.ts";
import { TYPE } from "../wire.ts";

export interface TrustAnchor {
  /** The zone the anchor is for (normal form, e.g. "."). */
  readonly zone: string;
  readonly ds: readonly Ds[];
  readonly keys: readonly Dnskey[];
}

export class TrustAnchorError extends Error {}

/** Anchors from master-file text; DS and DNSKEY lines, everything else ignored. */
export function parseTrustAnchors(text: string, source = "trust anchors"): TrustAnchor[] {
  let records;
  try {
    // Unbound's auto-trust-anchor files put state in ";;" comments, which the parser skips.
    records = parseZone(
      text.split("\n").filter((l) => !/^\s*\$/.test(l) || /^\s*\$(ORIGIN|TTL)/.test(l)).join("\n"),
    );
  } catch (e) {
    if (e instanceof ZoneSyntaxError) throw new TrustAnchorError(`${source}: ${e.message}`);
    throw e;
  }
  const byZone = new Map<string, { ds: Ds[]; keys: Dnskey[] }>();
  for (const r of records) {
    if (r.type !== TYPE.DS && r.type !== TYPE.DNSKEY) continue;
    const z = normalName(r.name);
    const a = byZone.get(z) ?? { ds: [], keys: [] };
    byZone.set(z, a);
    if (r.type === TYPE.DS) {
      const ds = parseDs(r.data);
      if (!ds) throw new TrustAnchorError(`${source}: malformed DS for ${r.name}`);
      a.ds.push(ds);
    } else {
      const k = parseDnskey(r.data);
      if (!k) throw new TrustAnchorError(`${source}: malformed DNSKEY for ${r.name}`);
      // RFC 5011 7: a revoked key is no anchor.
      if ((k.flags & DNSKEY_REVOKE) === 0) a.keys.push(k);
    }
  }
  if (byZone.size === 0) throw new TrustAnchorError(`${source}: no DS or DNSKEY records`);
  return [...byZone].map(([zone, a]) => ({ zone, ...a }));
}

export async function loadTrustAnchors(path: string): Promise<TrustAnchor[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new TrustAnchorError(`cannot read trust anchors ${path}: ${(e as Error).message}`);
  }
  return parseTrustAnchors(text, path);
}
