// The discovery part of /status as text, for `xlat64 discover` and `xlat64 status`.
// Pure: it only reads the JSON shapes.
import type { DiscoveryStatus } from "../discovery/discovery.ts";

/** `xlat64 discover`'s report: each method, what it found, and the winner. */
export function formatDiscovery(st: DiscoveryStatus): string {
  const lines: string[] = [];
  lines.push(`precedence: ${st.precedence.join(" > ")}`);
  for (const m of st.precedence) {
    const s = st.methods[m];
    const found = st.learned.filter((l) => l.source === m);
    const what = found.length
      ? found.map((l) =>
        `${l.prefix} from ${l.origin}${l.expiresInS === null ? "" : ` (lifetime ${l.expiresInS}s)`}`
      ).join(", ")
      : "nothing";
    lines.push(`${m.padEnd(8)} ${what}`);
    lines.push(`${"".padEnd(8)} ${s?.state ?? "off"}${s?.lastError ? `: ${s.lastError}` : ""}`);
  }
  lines.push(
    st.active
      ? `active: ${st.active.prefixes.join(", ")} (${st.active.source})`
      : "active: none (no NAT64 prefix found)",
  );
  return lines.join("\n");
}

/** The "discovery" object of /status (src/clat/plat_prefix.ts PrefixControlStatus). */
export interface PrefixControlDoc {
  readonly discovery?: DiscoveryStatus;
  readonly dynamicEam?: readonly { name: string; ipv4: string; ipv6: string; expiresInS: number }[];
  readonly announcing?: {
    readonly interfaces: readonly string[];
    readonly prefix: string;
    readonly lifetimeS: number;
  };
}

export function renderPrefixControl(d: PrefixControlDoc): string[] {
  const out: string[] = [];
  if (d.discovery) out.push("NAT64 prefix discovery", formatDiscovery(d.discovery));
  if (d.dynamicEam) {
    out.push(`dynamic EAM: ${d.dynamicEam.length} mapping(s)`);
    for (const m of d.dynamicEam) {
      out.push(`  ${m.ipv4} -> ${m.ipv6} (${m.name}, ${m.expiresInS}s left)`);
    }
  }
  if (d.announcing) {
    const a = d.announcing;
    out.push(
      `announcing ${a.prefix} (PREF64, lifetime ${a.lifetimeS}s) on ${a.interfaces.join(", ")}`,
    );
  }
  return out;
}
