// The discovery loops the supervisor starts for the CLAT: static config, PREF64 from RAs,
// PCP ANNOUNCE with PREFIX64, and RFC 7050, all feeding one PrefixSources. The I/O
// functions are injected so the loops run in tests without sockets.
import { formatIPv6, parseIPv6, type Prefix6 } from "../addr/ip.ts";
import { encodeRequest, OPCODE, type PcpResponse, prefix64Options, RESULT } from "./pcp.ts";
import { pcpRequest as realPcpRequest, type RetransmitOptions } from "./pcp_udp.ts";
import { learnFromRa, listenRas as realListenRas, type RaEvent } from "./ra_listener.ts";
import { discover7050, type Query } from "./rfc7050.ts";
import {
  type LearnedPrefix,
  PrefixSources,
  type SourceKind,
  type SourcesStatus,
} from "./sources.ts";

export interface DiscoveryOptions {
  methods: readonly SourceKind[];
  /** Configured prefixes (clat.plat-prefix when not "discover"). */
  staticPrefixes?: readonly Prefix6[];
  /** Where RAs are heard; null: PREF64 is not listened for. */
  interface?: string | null;
  /** PCP server address; null: no PCP. */
  pcpServer?: string | null;
  /** Our address as the PCP server sees it (RFC 6887 8.1: the Client IP Address field). */
  pcpClientAddress?: string | null;
  pcpRefreshS?: number;
  /** Resolver for RFC 7050; absent: no RFC 7050. */
  query?: Query;
  /** RFC 7050 3.1 validation against these domains when set. */
  trustedDomains?: string[];
  /** Seconds before retrying a method that failed. */
  retryS?: number;
  /** Monotonic seconds. */
  now?: () => number;
  onChange?: (active: { source: SourceKind; prefixes: LearnedPrefix[] } | null) => void;
  onError?: (method: SourceKind, e: unknown) => void;
  /** Injected I/O (tests). */
  io?: {
    listenRas?: (
      ifname: string,
      onRa: (ev: RaEvent) => void,
      o: { signal?: AbortSignal },
    ) => Promise<unknown>;
    pcpRequest?: (
      server: { hostname: string },
      msg: Uint8Array<ArrayBuffer>,
      o: RetransmitOptions,
    ) => Promise<PcpResponse>;
  };
}

export interface DiscoveryStatus extends SourcesStatus {
  methods: Record<string, { state: string; lastError?: string; lastSuccessAgoS?: number }>;
}

export interface RunningDiscovery {
  readonly sources: PrefixSources;
  status(): DiscoveryStatus;
  stop(): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Our own address for PCP: a global IPv6 address on `ifname` (or any interface). */
export function guessClientAddress(ifname: string | null | undefined): string | null {
  const ok = (a: Deno.NetworkInterfaceInfo) =>
    a.family === "IPv6" && !a.address.startsWith("fe80") && a.address !== "::1" &&
    (!ifname || a.name === ifname);
  return Deno.networkInterfaces().find(ok)?.address ?? null;
}

export function startDiscovery(o: DiscoveryOptions): RunningDiscovery {
  const now = o.now ?? (() => performance.now() / 1000);
  const sources = new PrefixSources({ precedence: o.methods, now });
  const ac = new AbortController();
  const retryMs = (o.retryS ?? 60) * 1000;
  const state: DiscoveryStatus["methods"] = {};
  const lastOk: Record<string, number> = {};
  const changed = (c: boolean) => {
    if (c) o.onChange?.(sources.active());
  };
  const fail = (m: SourceKind, e: unknown) => {
    state[m] = { state: "retrying", lastError: e instanceof Error ? e.message : String(e) };
    o.onError?.(m, e);
  };
  const ok = (m: SourceKind, what: string) => {
    state[m] = { state: what };
    lastOk[m] = now();
  };
  const loops: Promise<unknown>[] = [];

  if (sources.enabled("static")) {
    changed(sources.setStatic(o.staticPrefixes ?? []));
    ok("static", `${o.staticPrefixes?.length ?? 0} configured`);
  }

  if (sources.enabled("pref64")) {
    if (!o.interface) state.pref64 = { state: "off: no interface" };
    else {
      const listen = o.io?.listenRas ?? realListenRas;
      const ifname = o.interface;
      loops.push((async () => {
        while (!ac.signal.aborted) {
          try {
            state.pref64 = { state: `listening on ${ifname}` };
            await listen(ifname, (ev) => {
              ok("pref64", `listening on ${ifname}`);
              changed(learnFromRa(sources, ev));
            }, { signal: ac.signal });
          } catch (e) {
            fail("pref64", e);
            await sleep(retryMs, ac.signal);
          }
        }
      })());
    }
  }

  if (sources.enabled("pcp")) {
    const client = o.pcpClientAddress ?? guessClientAddress(o.interface);
    if (!o.pcpServer) state.pcp = { state: "off: no server" };
    else if (!client) state.pcp = { state: "off: no global IPv6 address for the client" };
    else {
      const request = o.io?.pcpRequest ?? realPcpRequest;
      const server = o.pcpServer;
      const refreshS = o.pcpRefreshS ?? 600;
      // RFC 7225 5: an ANNOUNCE is enough to be handed the PREFIX64 options.
      const msg = encodeRequest({
        opcode: OPCODE.ANNOUNCE,
        lifetime: 0,
        clientAddress: parseIPv6(client),
        options: [{ code: 129, data: new Uint8Array(0) }],
      });
      loops.push((async () => {
        while (!ac.signal.aborted) {
          let waitMs = retryMs;
          try {
            const r = await request({ hostname: server }, msg, { irtMs: 1000, retries: 3 });
            if (r.result !== RESULT.SUCCESS) throw new Error(`PCP result ${r.result}`);
            const ps = prefix64Options(r.options).map((p) => ({
              prefix: p.prefix,
              lifetimeS: 2 * refreshS,
            }));
            changed(sources.update("pcp", server, ps, { replace: true }));
            ok("pcp", `${ps.length} prefix(es) from ${server}`);
            waitMs = refreshS * 1000;
          } catch (e) {
            if (ac.signal.aborted) break;
            fail("pcp", e);
          }
          await sleep(waitMs, ac.signal);
        }
      })());
    }
  }

  if (sources.enabled("rfc7050")) {
    if (!o.query) state.rfc7050 = { state: "off: no resolver" };
    else {
      const query = o.query;
      loops.push((async () => {
        while (!ac.signal.aborted) {
          let waitMs = retryMs;
          try {
            const d = await discover7050(query, { trustedDomains: o.trustedDomains });
            // Valid until the next run plus a grace period, so re-discovery leaves no gap.
            const lifetimeS = d.ttlS + (o.retryS ?? 60);
            changed(
              sources.update(
                "rfc7050",
                "dns",
                d.prefixes.map((prefix) => ({ prefix, lifetimeS })),
                { replace: true },
              ),
            );
            ok("rfc7050", `${d.prefixes.length} prefix(es), next in ${d.ttlS}s`);
            waitMs = d.ttlS * 1000;
          } catch (e) {
            if (ac.signal.aborted) break;
            fail("rfc7050", e);
          }
          await sleep(waitMs, ac.signal);
        }
      })());
    }
  }

  const expiry = setInterval(() => changed(sources.expire()), 1000);

  return {
    sources,
    status: () => {
      const t = now();
      const methods: DiscoveryStatus["methods"] = {};
      for (const m of sources.precedence) {
        methods[m] = { ...(state[m] ?? { state: "starting" }) };
        if (lastOk[m] !== undefined) methods[m].lastSuccessAgoS = Math.round(t - lastOk[m]);
      }
      return { ...sources.status(), methods };
    },
    async stop() {
      clearInterval(expiry);
      ac.abort();
      await Promise.allSettled(loops);
    },
  };
}

export const describeActive = (
  a: { source: SourceKind; prefixes: LearnedPrefix[] } | null,
): string =>
  a
    ? `${a.source}: ${
      a.prefixes.map((p) => `${formatIPv6(p.prefix.addr)}/${p.prefix.len}`).join(", ")
    }`
    : "no NAT64 prefix";
