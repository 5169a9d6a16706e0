// The translator's counters and the appliance's state as Prometheus families.
import { DROP_REASONS, SLOT } from "../xlat/stats.ts";
import type { MetricFamily, Sample } from "./metrics.ts";
import { DIRECTIONS, directionStatus } from "./snapshot.ts";
import { isHealthy, type StatusSource, type WorkerState } from "./source.ts";

const WORKER_STATES: readonly WorkerState[] = [
  "starting",
  "running",
  "stopping",
  "stopped",
  "failed",
];

export function applianceFamilies(src: StatusSource): MetricFamily[] {
  const s = src.stats();
  const dirs = DIRECTIONS.map((d) => [d, directionStatus(s, d)] as const);
  const packets: Sample[] = [];
  const bytes: Sample[] = [];
  const drops: Sample[] = [];
  for (const [direction, st] of dirs) {
    packets.push({ labels: { direction, stage: "in" }, value: st.in.packets });
    packets.push({ labels: { direction, stage: "out" }, value: st.out.packets });
    bytes.push({ labels: { direction, stage: "in" }, value: st.in.bytes });
    bytes.push({ labels: { direction, stage: "out" }, value: st.out.bytes });
    for (const reason of DROP_REASONS) {
      drops.push({ labels: { direction, reason }, value: st.dropsByReason[reason] });
    }
  }
  const ws = src.workers();
  return [
    {
      name: "xlat64_build_info",
      help: "Version and mode of the running xlat64; always 1.",
      type: "gauge",
      samples: [{ labels: { version: src.version, mode: src.mode }, value: 1 }],
    },
    {
      name: "xlat64_start_time_seconds",
      help: "Start time of the appliance in seconds since the Unix epoch.",
      type: "gauge",
      samples: [{ labels: {}, value: src.startedAt.getTime() / 1000 }],
    },
    {
      name: "xlat64_up",
      help: "1 when every translator worker is running, 0 otherwise.",
      type: "gauge",
      samples: [{ labels: {}, value: isHealthy(src) ? 1 : 0 }],
    },
    {
      name: "xlat64_workers",
      help: "Translator workers by state.",
      type: "gauge",
      samples: WORKER_STATES.map((state) => ({
        labels: { state },
        value: ws.filter((w) => w.state === state).length,
      })),
    },
    {
      name: "xlat64_packets_total",
      help: "Packets received (stage=in) and emitted (stage=out) by the translator.",
      type: "counter",
      samples: packets,
    },
    {
      name: "xlat64_bytes_total",
      help: "Bytes of IP packets received (stage=in) and emitted (stage=out) by the translator.",
      type: "counter",
      samples: bytes,
    },
    {
      name: "xlat64_drops_total",
      help: "Packets the translator dropped, by direction of the dropped packet and reason.",
      type: "counter",
      samples: drops,
    },
    {
      name: "xlat64_icmp_errors_sent_total",
      help: "ICMP errors the translator generated itself (Time Exceeded, Packet Too Big, ...).",
      type: "counter",
      samples: [{ labels: {}, value: s.v[SLOT.icmpErrorsSent] }],
    },
  ];
}
