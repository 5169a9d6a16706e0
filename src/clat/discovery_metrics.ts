// PLAT prefix discovery (RFC 7050, RFC 7225, RFC 8781) as Prometheus metric families:
// what each source currently holds, which prefix is in use, and how often it changed.
import type { DiscoveryStatus } from "../discovery/discovery.ts";
import type { MetricFamily } from "../status/metrics.ts";

export function discoveryFamilies(st: DiscoveryStatus, changes: number): MetricFamily[] {
  const per = new Map<string, number>(st.precedence.map((s) => [s, 0]));
  for (const l of st.learned) per.set(l.source, (per.get(l.source) ?? 0) + 1);
  return [
    {
      name: "xlat64_discovery_prefixes",
      help: "PLAT prefixes each discovery source holds now (unexpired)",
      type: "gauge",
      samples: [...per].map(([source, value]) => ({ labels: { source }, value })),
    },
    {
      name: "xlat64_discovery_active_prefix",
      help: "The PLAT prefix in use (1) and the source it came from",
      type: "gauge",
      samples: st.active?.prefixes.slice(0, 1).map((prefix) => ({
        labels: { prefix, source: st.active!.source },
        value: 1,
      })) ?? [],
    },
    {
      name: "xlat64_discovery_changes_total",
      help: "Changes of the PLAT prefix in use (the first one found included)",
      type: "counter",
      samples: [{ labels: {}, value: changes }],
    },
  ];
}
