// PREF64 over the shim's raw ICMPv6 socket: a listener that hears Router Advertisements
// (CLAT side, feeding PrefixSources) and an announcer that sends RAs with PREF64 and
// router lifetime 0 (PLAT side, `announce-pref64`). The codec is in pref64.ts.
import { formatIPv6, parseIPv6 } from "../addr/ip.ts";
import {
  closeFd,
  type Icmp6Meta,
  icmp6Open,
  icmp6RecvAsync,
  icmp6Send,
  ifIndex,
} from "../io/ffi.ts";
import { buildRa, parseRa, type Pref64, RaError, type RouterAdvert } from "./pref64.ts";
import type { PrefixSources } from "./sources.ts";

const ND_ROUTER_SOLICIT = 133;
const ALL_NODES = parseIPv6("ff02::1");

/** RFC 4861 6.1.2 checks the socket leaves to us: hop limit 255 and a link-local source. */
export function raSourceProblem(meta: Icmp6Meta): string | null {
  if (meta.hopLimit !== 255) return `hop limit ${meta.hopLimit}, not 255`;
  if (meta.src[0] !== 0xfe || (meta.src[1] & 0xc0) !== 0x80) {
    return `source ${formatIPv6(meta.src)} is not link-local`;
  }
  return null;
}

export interface RaEvent {
  from: string;
  ifindex: number;
  ra: RouterAdvert;
}

/** Feed one RA's PREF64 options into the sources; per router, merged (RFC 8781 5). */
export function learnFromRa(sources: PrefixSources, ev: RaEvent): boolean {
  return sources.update("pref64", `${ev.from}%${ev.ifindex}`, ev.ra.pref64);
}

export interface ListenerStats {
  received: number;
  accepted: number;
  rejected: Record<string, number>;
}

/**
 * Hear RAs on `ifname` until `signal` aborts, calling `onRa` for each valid one. Invalid
 * messages are counted by reason, never thrown. Needs CAP_NET_RAW.
 */
export async function listenRas(
  ifname: string,
  onRa: (ev: RaEvent) => void,
  opts: { signal?: AbortSignal; pollMs?: number; stats?: ListenerStats } = {},
): Promise<ListenerStats> {
  const stats = opts.stats ?? { received: 0, accepted: 0, rejected: {} };
  const reject = (why: string) => stats.rejected[why] = (stats.rejected[why] ?? 0) + 1;
  const fd = icmp6Open(ifname);
  const buf = new Uint8Array(65536);
  try {
    while (!opts.signal?.aborted) {
      const got = await icmp6RecvAsync(fd, buf, opts.pollMs ?? 200);
      if (!got) continue;
      stats.received++;
      if (buf[0] !== 134) continue; // a Router Solicitation
      const bad = raSourceProblem(got.meta);
      if (bad) {
        reject(bad.startsWith("hop") ? "hop_limit" : "source");
        continue;
      }
      let ra: RouterAdvert;
      try {
        ra = parseRa(buf.subarray(0, got.len));
      } catch (e) {
        if (!(e instanceof RaError)) throw e;
        reject("malformed");
        continue;
      }
      stats.accepted++;
      onRa({ from: formatIPv6(got.meta.src), ifindex: got.meta.ifindex, ra });
    }
  } finally {
    closeFd(fd);
  }
  return stats;
}

export interface AnnouncerOptions {
  ifname: string;
  pref64: Pref64[];
  /** Unsolicited RA interval (RFC 4861 6.2.1 MaxRtrAdvInterval), default 200 s. */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called after each RA sent, with the reason ("periodic", "solicited", "final"). */
  onSent?: (why: string) => void;
}

/**
 * Send RAs carrying PREF64 with router lifetime 0 (announcing a prefix must not make us a
 * default router) to ff02::1 on `ifname`: at start, every interval, in answer to Router
 * Solicitations, and once more with lifetime 0 when stopped so hosts drop the prefix.
 */
export async function announcePref64(o: AnnouncerOptions): Promise<void> {
  const fd = icmp6Open(o.ifname);
  const idx = ifIndex(o.ifname);
  const ra = buildRa({ pref64: o.pref64 });
  const send = (msg: Uint8Array<ArrayBuffer>, why: string) => {
    icmp6Send(fd, msg, ALL_NODES as Uint8Array<ArrayBuffer>, idx);
    o.onSent?.(why);
  };
  const interval = o.intervalMs ?? 200_000;
  const buf = new Uint8Array(2048);
  try {
    send(ra, "periodic");
    let next = Date.now() + interval;
    while (!o.signal?.aborted) {
      const got = await icmp6RecvAsync(fd, buf, Math.max(1, Math.min(200, next - Date.now())));
      if (got && buf[0] === ND_ROUTER_SOLICIT && got.meta.hopLimit === 255) send(ra, "solicited");
      if (Date.now() >= next) {
        send(ra, "periodic");
        next = Date.now() + interval;
      }
    }
    send(buildRa({ pref64: o.pref64.map((p) => ({ ...p, lifetimeS: 0 })) }), "final");
  } finally {
    closeFd(fd);
  }
}

/**
 * RA interval for a PREF64 lifetime: RFC 8781 4.1 sizes the lifetime at 3 x
 * MaxRtrAdvInterval, so send every third of it, within RFC 4861 6.2.1's 4..1800 s.
 */
export const announceIntervalMs = (lifetimeS: number): number =>
  Math.min(1800, Math.max(4, Math.floor(lifetimeS / 3))) * 1000;

/** `announce-pref64`: one announcer per interface; stop() sends the withdrawing RAs. */
export function startPref64Announcers(o: {
  interfaces: readonly string[];
  pref64: Pref64[];
  onError?: (ifname: string, e: unknown) => void;
}): { stop(): Promise<void> } {
  const ac = new AbortController();
  const intervalMs = announceIntervalMs(Math.min(...o.pref64.map((p) => p.lifetimeS)));
  const runs = o.interfaces.map((ifname) =>
    announcePref64({ ifname, pref64: o.pref64, intervalMs, signal: ac.signal })
      .catch((e) => o.onError?.(ifname, e))
  );
  return {
    async stop() {
      ac.abort();
      await Promise.all(runs);
    },
  };
}
