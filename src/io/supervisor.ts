// The running appliance: opens the TUN queues, sets up routes, drops privileges, starts
// one data-path worker per queue and the status endpoint, and handles SIGHUP (reload)
// and SIGTERM/SIGINT (clean shutdown).
//
// Privileges: after start-up the process keeps only what a reload may need.
// CAP_NET_ADMIN when [tun] manage = true (reload adds/removes routes and may change the
// MTU; `ip` run by us inherits only this), CAP_NET_BIND_SERVICE when a configured
// listener uses a port below 1024, CAP_NET_RAW when RAs are heard (CLAT discovering
// PREF64) or sent (announce-pref64).
// Everything else (CAP_SYS_ADMIN, CAP_DAC_OVERRIDE, ...) is gone, on every thread, so a
// config file re-read on SIGHUP must be readable by uid 0 without CAP_DAC_OVERRIDE (owned
// by root, or world-readable), and a reload cannot newly bind a port below 1024 unless
// the starting config already had one.
import denoJson from "../../deno.json" with { type: "json" };
import type { Prefix6 } from "../addr/ip.ts";
import { type Config, ConfigError, loadConfig } from "../config/mod.ts";
import { engineOptions } from "../nat64/options.ts";
import { type DnsServerHandle, startDnsServer } from "../dns/server.ts";
import { dnsOptionsFromConfig } from "../dns/options.ts";
import { validationFromConfig } from "../dns/validator/setup.ts";
import { getLogger } from "../log.ts";
import { MetricsRegistry } from "../status/metrics.ts";
import type { StatusServer } from "../status/server.ts";
import { startStatusServer } from "../status/server.ts";
import type { Mode, StatusSource, WorkerInfo } from "../status/source.ts";
import { Stats } from "../xlat/stats.ts";
import type { EamEntry, XlatOptions } from "../xlat/options.ts";
import { createEngine } from "./engines.ts";
import { needsPrefixControl, type PrefixControl, startPrefixControl } from "../clat/plat_prefix.ts";
import { clatCollision } from "../clat/options.ts";
import { autoClatAddress } from "../clat/auto_address.ts";
import { formatIPv6, parseIPv6 } from "../addr/ip.ts";
import { type CapName, dropCaps, setMtu } from "./ffi.ts";
import { missingRoutes, NetConfigurator, planNetwork, readRoutes } from "./netconf.ts";
import { TunDevice } from "./tun.ts";
import { WorkerPool } from "./worker_pool.ts";
import { loadNat64Snapshot, Nat64Service, type Nat64Status } from "./nat64_service.ts";
import type { SessionRow } from "../status/source.ts";
import { ClatNat44, type Nat44Status } from "./clat_nat44.ts";
import { IO } from "./worker_protocol.ts";

const log = getLogger("appliance");

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;

export interface RunOptions {
  /** The file to re-read on SIGHUP; absent when running on the embedded default. */
  readonly configPath?: string;
  /** Tests: a module exporting `createEngine` for the workers. */
  readonly engineModule?: string;
  /** Called once everything runs (tests; the lab). */
  readonly onReady?: (app: Appliance) => void;
}

function socketText(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Capabilities a reload may still need (see the header comment). */
export function capabilitiesToKeep(cfg: Config): CapName[] {
  const keep: CapName[] = [];
  if (cfg.mode !== "none" && cfg.tun.manage) keep.push("NET_ADMIN");
  const ports = [
    ...cfg.dns.listen.map((a) => a.port),
    ...cfg.pcp.listen.map((a) => a.port),
    ...(cfg.status.listen ? [cfg.status.listen.port] : []),
  ];
  if (ports.some((p) => p > 0 && p < 1024)) keep.push("NET_BIND_SERVICE");
  // Discovery runs in clat mode whenever PREF64 is a method (a static prefix may rank lower).
  const hearsRa = cfg.mode === "clat" && cfg.discovery.methods.includes("pref64");
  if (hearsRa || cfg.discovery.announcePref64.length > 0) keep.push("NET_RAW");
  return keep;
}

/** Config changes a reload cannot apply to a running appliance. */
export function restartOnlyChanges(a: Config, b: Config): string[] {
  const out: string[] = [];
  if (a.mode !== b.mode) out.push("mode");
  if (a.tun.name !== b.tun.name) out.push("tun.name");
  if (a.tun.workers !== b.tun.workers) out.push("tun.workers");
  if (a.tun.manage !== b.tun.manage) out.push("tun.manage");
  const sl = (c: Config) => c.status.listen ? socketText(c.status.listen) : "";
  if (sl(a) !== sl(b)) out.push("status.listen");
  return out;
}

/**
 * The running appliance as the status endpoint and other parts see it: current config,
 * workers, and counters summed over the workers (read live from shared memory).
 */
export class Appliance implements StatusSource {
  readonly version: string = denoJson.version;
  readonly startedAt = new Date();
  readonly metrics = new MetricsRegistry();
  #config: Config;
  #options: XlatOptions;
  pool: WorkerPool | null = null;
  dns: DnsServerHandle | null = null;
  /** PLAT prefix discovery (clat) and PREF64 announcing. */
  prefixControl: PrefixControl | null = null;
  /** NAT64 state across restarts, PCP, table gauges (mode nat64). */
  nat64: Nat64Service | null = null;
  /** The single-address CLAT's NAT44 tables (mode clat without a translation prefix). */
  nat44: ClatNat44 | null = null;

  constructor(cfg: Config) {
    this.#config = cfg;
    this.#options = engineOptions(cfg);
    this.metrics.provide(() => this.#ioFamilies());
    this.metrics.provide(() => this.nat44?.families() ?? []);
    this.metrics.provide(() => this.prefixControl?.families() ?? []);
  }

  get config(): Config {
    return this.#config;
  }
  get options(): XlatOptions {
    return this.#options;
  }
  get mode(): Mode {
    return this.#config.mode;
  }
  setConfig(cfg: Config, options: XlatOptions): void {
    this.#config = cfg;
    this.#options = options;
  }

  prefixes(): readonly Prefix6[] {
    return this.#options.pool6 ? [this.#options.pool6] : [];
  }
  eam(): readonly EamEntry[] {
    return this.#options.eam;
  }
  /** Each discovery method and its answer, and what is announced (null: neither runs). */
  discovery(): unknown {
    return this.prefixControl?.status() ?? null;
  }
  workers(): (WorkerInfo & { readonly packets: number })[] {
    return this.pool ? this.pool.infos() : [];
  }
  stats(): Stats {
    return this.pool ? this.pool.stats() : new Stats();
  }
  /** NAT64 (or CLAT NAT44) session rows from the worker; undefined in modes without. */
  sessions(limit: number): Promise<readonly SessionRow[]> | undefined {
    return this.nat64?.sessions(limit) ?? this.nat44?.sessions(limit);
  }
  /** NAT64 tables and allocation failures for /status; null outside nat64 mode. */
  nat64Status(): Nat64Status | null {
    const n = this.nat64?.status() ?? null;
    return n === null ? null : { ...n, allocationFailures: this.#allocationFailures() };
  }
  /** The single-address CLAT's NAT44 tables for /status; null otherwise. */
  nat44Status(): Nat44Status | null {
    const n = this.nat44?.status() ?? null;
    return n === null ? null : { ...n, allocationFailures: this.#allocationFailures() };
  }
  /** Packets refused for want of a binding (the NAT44's drops are folded into stats). */
  #allocationFailures() {
    const s = this.stats();
    const both = (r: "pool4_exhausted" | "port_limit" | "session_limit") =>
      s.drops(r, true) + s.drops(r, false);
    return {
      pool4Exhausted: both("pool4_exhausted"),
      portLimit: both("port_limit"),
      sessionLimit: both("session_limit"),
    };
  }

  *#ioFamilies() {
    const ws = this.pool?.workers ?? [];
    const fam = (name: string, help: string, slot: number) => ({
      name,
      help,
      type: "counter" as const,
      samples: ws.map((w) => ({ labels: { worker: String(w.id) }, value: w.io[slot] })),
    });
    yield fam(
      "xlat64_tun_read_batches_total",
      "read_batch calls that returned packets",
      IO.batches,
    );
    yield fam("xlat64_tun_packets_read_total", "packets read from the TUN", IO.packetsIn);
    yield fam("xlat64_tun_packets_written_total", "packets written to the TUN", IO.packetsOut);
    yield fam(
      "xlat64_tun_write_failures_total",
      "packets the kernel refused on write",
      IO.writeFailures,
    );
    yield fam(
      "xlat64_engine_errors_total",
      "packets whose translation raised an error (a bug)",
      IO.engineErrors,
    );
  }
}

/**
 * Start the appliance and run until SIGTERM/SIGINT (exit code 0), or until start-up fails
 * or every data-path worker has failed (1).
 */
export async function runAppliance(cfg: Config, opts: RunOptions = {}): Promise<number> {
  try {
    cfg = await withClatAddress(cfg);
  } catch (e) {
    log.error(`start-up failed: ${(e as Error).message}`);
    return EXIT_FAILURE;
  }
  const app = new Appliance(cfg);
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => resolveDone = r);
  let started = false;
  let stopping = false;
  const rt: Runtime = {
    tun: null,
    status: null,
    net: new NetConfigurator({ info: (m) => log.info(m), warn: (m) => log.warn(m) }),
    managed: cfg.mode !== "none" && cfg.tun.manage,
    fatal: (why) => {
      if (started) stop(why, EXIT_FAILURE);
    },
  };
  app.metrics.provide(() => app.dns?.metrics() ?? []);

  // Signals are handled one at a time, in order, from the very start: a SIGTERM during
  // start-up waits for it and then undoes it.
  let chain: Promise<void> = startUp(app, rt, opts).then(
    () => {
      started = true;
      log.info(`xlat64 ${app.version} running (mode ${cfg.mode}); SIGHUP reloads, SIGTERM stops`);
      opts.onReady?.(app);
    },
    async (e) => {
      stopping = true;
      log.error(`start-up failed: ${(e as Error).message}`);
      await shutDown(app, rt).catch((c) => log.error(`cleanup after failed start: ${c}`));
      resolveDone(EXIT_FAILURE);
    },
  );
  const onHup = () => {
    chain = chain.then(() => {
      if (started && !stopping) return reload(app, opts.configPath, rt);
    }).catch((e) => log.error(`reload failed: ${(e as Error).message}`));
  };
  function stop(why: string, code: number): void {
    if (stopping) return;
    stopping = true;
    if (code === EXIT_OK) log.info(`${why}: shutting down`);
    else log.error(`${why}: shutting down`);
    chain = chain.then(async () => {
      await shutDown(app, rt);
      log.info("stopped");
      resolveDone(code);
    }).catch((e) => {
      log.error(`shutdown: ${(e as Error).message}`);
      resolveDone(EXIT_FAILURE);
    });
  }
  const onStop = (sig: Deno.Signal) => () => stop(sig, EXIT_OK);
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGHUP", onHup],
    ["SIGTERM", onStop("SIGTERM")],
    ["SIGINT", onStop("SIGINT")],
  ];
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    return await done;
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}

interface Runtime {
  tun: TunDevice | null;
  status: StatusServer | null;
  readonly net: NetConfigurator;
  readonly managed: boolean;
  /** Shut down with a failure exit code (the data path is gone). */
  readonly fatal: (why: string) => void;
}

async function startUp(app: Appliance, rt: Runtime, opts: RunOptions): Promise<void> {
  const cfg = app.config;
  if (cfg.mode === "clat") {
    const clash = clatCollision(cfg, Deno.networkInterfaces());
    if (clash) throw new Error(clash);
  }
  if (cfg.mode !== "none") {
    // Build one engine here first: bad options fail before anything is touched.
    if (!opts.engineModule) createEngine(cfg.mode, app.options, new Stats());
    const tun = rt.tun = TunDevice.open({
      name: cfg.tun.name,
      queues: cfg.tun.workers,
      mtu: cfg.tun.mtu,
    });
    log.info(
      `opened TUN ${tun.name} with ${tun.fds.length} queue(s)${
        tun.multiqueue ? " (IFF_MULTI_QUEUE)" : ""
      }`,
    );
    if (rt.managed) {
      await rt.net.quietTun(tun.name);
      tun.configure(cfg.tun.mtu);
      log.info(`${tun.name}: mtu ${cfg.tun.mtu}, up`);
      await rt.net.enableForwarding();
      await rt.net.apply(planNetwork(cfg, tun.name, await readRoutes()));
    } else {
      await checkUnmanaged(cfg, tun.name, rt.net);
    }
  }
  // Listeners before the privilege drop: they may need ports below 1024.
  app.dns = await startDns(cfg, dnsObserver(app), () => platPrefixes(app));
  if (cfg.status.listen) {
    rt.status = startStatusServer(socketText(cfg.status.listen), app);
    log.info(`status on ${rt.status.url} (/status, /metrics, /healthz)`);
  }
  // Before the privilege drop: the snapshot's directory may need creating.
  const restore = cfg.mode === "nat64" ? await loadNat64Snapshot(cfg, log) : undefined;
  if (Deno.uid() === 0) {
    const keep = capabilitiesToKeep(cfg);
    try {
      const n = dropCaps(keep);
      log.info(
        `dropped privileges on ${n} threads; kept ${keep.length ? keep.join(", ") : "none"}`,
      );
    } catch (e) {
      log.warn(`could not drop privileges: ${(e as Error).message}`);
    }
  }
  if (rt.tun) {
    app.pool = await WorkerPool.start({
      mode: cfg.mode,
      options: app.options,
      fds: rt.tun.fds,
      engineModule: opts.engineModule,
      restore,
      onEvent: (w, ev) => {
        if (ev.type === "failed") {
          log.error(`data-path worker ${w.id} failed: ${ev.error}`);
          // With every queue dead nothing is translated: exit so a supervisor restarts us.
          if (app.pool?.workers.every((x) => x.state === "failed")) {
            rt.fatal("every data-path worker failed");
          }
        } else if (ev.type === "reconfigure-failed") {
          log.error(`data-path worker ${w.id} kept its old config: ${ev.error}`);
        }
      },
    });
    log.info(`${app.pool.workers.length} data-path worker(s) running (mode ${cfg.mode})`);
    if (cfg.mode === "nat64") {
      app.nat64 = new Nat64Service(cfg, () => app.pool, log, app.metrics);
      await app.nat64.start();
    }
    await syncNat44(app);
  }
  // After the workers (new prefixes go to them); also without a TUN (announcing only).
  if (needsPrefixControl(cfg)) {
    app.prefixControl = await startPrefixControl(cfg, {
      apply: async (o) => {
        app.setConfig(app.config, o);
        await app.pool?.reconfigure(o);
      },
      config: () => app.config,
      readRoutes,
      log,
    });
  }
}

/**
 * clat.ipv6-address = "auto": the concrete address, before anything uses the config.
 * The uplink is found as netconf finds it for proxy ND (discovery.interface, else the
 * IPv6 default route). A reload keeps the running address while the host does not use it.
 */
export async function withClatAddress(cfg: Config, running?: Config): Promise<Config> {
  if (cfg.mode !== "clat" || !cfg.clat.ipv6AddressAuto) return cfg;
  const prev = running?.clat.ipv6AddressAuto ? running.clat.ipv6Address : null;
  const addrs = Deno.networkInterfaces();
  const taken = (a: Uint8Array) =>
    addrs.some((h) => {
      if (h.family !== "IPv6") return false;
      try {
        return parseIPv6(h.address.replace(/%.*$/, "")).every((b, i) => b === a[i]);
      } catch {
        return false;
      }
    });
  let a: Uint8Array;
  if (prev && !taken(prev)) a = prev;
  else {
    const uplink = cfg.discovery.interface ??
      (await readRoutes()).find((r) => r.family === 6 && r.dst === "default")?.dev;
    if (!uplink) {
      throw new Error(
        'clat.ipv6-address = "auto": no IPv6 default route to find the uplink by; ' +
          "set discovery.interface or an address",
      );
    }
    a = autoClatAddress(uplink, addrs);
    log.info(`clat.ipv6-address = "auto": ${formatIPv6(a)} on ${uplink}`);
  }
  return { ...cfg, clat: { ...cfg.clat, ipv6Address: a } };
}

/** Single-address CLAT: the NAT44's tables are polled; a reload may switch variants. */
async function syncNat44(app: Appliance): Promise<void> {
  const c = app.config;
  const want = c.mode === "clat" && c.clat.translationPrefix === null && app.pool !== null;
  if (want && !app.nat44) {
    app.nat44 = new ClatNat44(() => app.pool);
    await app.nat44.start();
  } else if (!want && app.nat44) {
    app.nat44.close();
    app.nat44 = null;
  }
}

/** Stop workers, remove what we added to the system, close the TUN and listeners. */
async function shutDown(app: Appliance, rt: Runtime): Promise<void> {
  await app.prefixControl?.stop();
  // The last NAT64 snapshot needs the worker: before it stops.
  await app.nat64?.close();
  app.nat44?.close();
  if (app.pool) await app.pool.stop();
  if (rt.managed) await rt.net.teardown();
  if (rt.tun) {
    rt.tun.close();
    log.info(`closed TUN ${rt.tun.name}`);
  }
  await app.dns?.close();
  await rt.status?.close();
}

/** clat.dynamic-eam learns from the DNS proxy's answers; otherwise nothing watches them. */
const dnsObserver = (app: Appliance) =>
  app.config.mode === "clat" && app.config.clat.dynamicEam
    ? (r: Uint8Array) => app.prefixControl?.observeDns(r)
    : undefined;

/** What marks a synthesized AAAA for [dns] aaaa-only-upstream: every known PLAT prefix. */
const platPrefixes = (app: Appliance): readonly Prefix6[] => {
  const k = app.prefixControl?.known() ?? [];
  return k.length > 0 ? k : app.prefixes();
};

/** The DNS proxy / DNS64 (src/dns) when [dns] listen is not empty. */
async function startDns(
  cfg: Config,
  onAnswer?: (response: Uint8Array) => void | Promise<void>,
  platPrefixes?: () => readonly Prefix6[],
): Promise<DnsServerHandle | null> {
  if (cfg.dns.listen.length === 0) return null;
  let resolvConf = "";
  if (cfg.dns.upstream.includes("resolv.conf")) {
    try {
      resolvConf = await Deno.readTextFile("/etc/resolv.conf");
    } catch (e) {
      log.warn(`cannot read /etc/resolv.conf for DNS upstreams: ${(e as Error).message}`);
    }
  }
  const o = dnsOptionsFromConfig(cfg, resolvConf);
  if (o.dns.upstream.length === 0) log.warn("DNS: no upstream servers; every query will fail");
  // RFC 8683 4.1.3: validate locally, then synthesize. Unreadable anchors fail the start.
  const validation = cfg.validator.enabled
    ? await validationFromConfig(cfg.validator, getLogger("dns"))
    : undefined;
  const h = await startDnsServer(
    { ...o, validation, onAnswer, platPrefixes },
    getLogger("dns"),
  );
  const st = h.status();
  log.info(
    `DNS proxy on ${st.listen.join(", ")} -> ${st.upstream.join(", ")}; DNS64 ${
      st.dns64Prefixes.length ? st.dns64Prefixes.join(", ") : "off"
    }`,
  );
  return h;
}

async function checkUnmanaged(cfg: Config, tunName: string, net: NetConfigurator): Promise<void> {
  log.info(`[tun] manage = false: not touching ${tunName}'s link, addresses or routes`);
  const routes = await readRoutes();
  const missing = missingRoutes(planNetwork(cfg, tunName, routes), routes);
  for (const r of missing) {
    log.warn(
      `route missing: ${r.prefix} dev ${r.dev} (${r.why}); add it with ` +
        `\`ip -${r.family} route add ${r.prefix} dev ${r.dev}\``,
    );
  }
  await net.checkForwarding();
}

const dnsKey = (c: Config) =>
  JSON.stringify([c.dns, c.dns64], (_k, v) => v instanceof Uint8Array ? [...v] : v);

/** SIGHUP: re-read the file; on error keep the old config, on success apply it live. */
async function reload(app: Appliance, path: string | undefined, rt: Runtime): Promise<void> {
  if (!path) {
    log.warn("SIGHUP: running on the embedded default config; there is no file to re-read");
    return;
  }
  log.info(`SIGHUP: re-reading ${path}`);
  let next: Config;
  let options: XlatOptions;
  try {
    next = await withClatAddress(await loadConfig(path), app.config);
    // clat: keep the discovered PLAT prefix across the reload.
    options = next.mode === "clat" && app.prefixControl
      ? app.prefixControl.optionsFor(next)
      : engineOptions(next);
  } catch (e) {
    const what = e instanceof ConfigError ? e.message : `${path}: ${(e as Error).message}`;
    log.error(`reload rejected, keeping the running config:\n${what}`);
    return;
  }
  const old = app.config;
  const fixed = restartOnlyChanges(old, next);
  if (fixed.length) {
    log.warn(`reload: ${fixed.join(", ")} changed; these take effect only after a restart`);
  }
  if (app.pool) {
    try {
      await app.pool.reconfigure(options);
    } catch (e) {
      log.error(`reload rejected by the translator, keeping the running config: ${e}`);
      return;
    }
  }
  // Restart-only keys keep their running values; the rest is the new file.
  const applied: Config = {
    ...next,
    mode: old.mode,
    tun: { ...next.tun, name: old.tun.name, workers: old.tun.workers, manage: old.tun.manage },
    status: old.status,
  };
  app.setConfig(applied, options);
  await app.nat64?.reconfigure(applied);
  await syncNat44(app);
  await app.prefixControl?.reload(applied);
  const tun = rt.tun;
  if (tun && rt.managed) {
    if (next.tun.mtu !== old.tun.mtu) {
      setMtu(tun.name, next.tun.mtu);
      log.info(`${tun.name}: mtu ${next.tun.mtu}`);
    }
    await rt.net.update(planNetwork(applied, tun.name, await readRoutes()));
  }
  if (dnsKey(old) !== dnsKey(applied)) {
    log.info("reload: DNS settings changed; restarting the DNS proxy");
    await app.dns?.close();
    app.dns = null;
    try {
      app.dns = await startDns(applied, dnsObserver(app), () => platPrefixes(app));
    } catch (e) {
      log.error(`DNS proxy did not restart: ${(e as Error).message}`);
    }
  }
  log.info(`reloaded ${path}`);
}
