// A small typed toolkit over `ip` for the lab and the end-to-end tests: throwaway network
// namespaces, veth links, addresses, routes, sysctls, commands and background processes
// inside them, and a cleanup that removes everything it created.

export class NetnsError extends Error {}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the command in milliseconds. */
  readonly ms: number;
}

export interface ExecOptions {
  /** Kill the command after this long (SIGKILL); the result then has code 124. */
  readonly timeoutMs?: number;
  readonly stdin?: string | Uint8Array;
  readonly env?: Record<string, string>;
}

const dec = new TextDecoder();

/** Why the lab and the e2e tests cannot run here, or null when they can. */
export function whyNoNamespaces(): string | null {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "network namespaces need root (run with sudo)";
  return null;
}

async function runCommand(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const t0 = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: opts.env,
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
    );
    await w.close();
  }
  let timedOut = false;
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs);
  try {
    const out = await child.output();
    return {
      code: timedOut ? 124 : out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      ms: performance.now() - t0,
    };
  } finally {
    clearTimeout(timer);
  }
}

function failure(what: string, r: ExecResult): NetnsError {
  const detail = (r.stderr || r.stdout).trim();
  return new NetnsError(`${what} failed (exit ${r.code})${detail ? `: ${detail}` : ""}`);
}

/** A process running in a namespace; its output is kept (last 64 KiB) for diagnostics. */
export class Background {
  #out = "";
  #exited = false;
  readonly #readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  readonly #drained: Promise<unknown>;
  /** Resolves when the process exits (its orphaned children may live on). */
  readonly done: Promise<Deno.CommandStatus>;

  constructor(readonly label: string, readonly child: Deno.ChildProcess) {
    const keep = async (s: ReadableStream<Uint8Array>) => {
      const r = s.getReader();
      this.#readers.push(r);
      for (;;) {
        const { value, done } = await r.read();
        if (done) return;
        this.#out = (this.#out + dec.decode(value, { stream: true })).slice(-65536);
      }
    };
    this.#drained = Promise.all([keep(child.stdout), keep(child.stderr)]).catch(() => {});
    this.done = child.status.then((s) => {
      this.#exited = true;
      return s;
    });
  }

  get pid(): number {
    return this.child.pid;
  }
  get exited(): boolean {
    return this.#exited;
  }
  /** What the process printed so far (stdout and stderr interleaved). */
  output(): string {
    return this.#out;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; then stops reading its output. */
  async stop(graceMs = 2000): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGTERM");
      } catch { /* exited meanwhile */ }
      const t = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }, graceMs);
      try {
        await this.done;
      } finally {
        clearTimeout(t);
      }
    }
    await this.release();
    return await this.done;
  }

  /** Stop reading output: children that inherited the pipes may keep them open. */
  async release(waitMs = 200): Promise<void> {
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#drained, new Promise((r) => t = setTimeout(r, waitMs))]);
    clearTimeout(t);
    await Promise.all(this.#readers.map((r) => r.cancel().catch(() => {})));
    await this.#drained;
  }
}

export interface RouteOptions {
  readonly via?: string;
  readonly dev?: string;
  readonly mtu?: number;
}

/** One namespace created by a NetLab. */
export class Netns {
  constructor(readonly name: string, readonly lab: NetLab) {}

  /** argv prefixed so that it runs inside this namespace. */
  argv(cmd: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...cmd];
  }

  exec(cmd: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return runCommand(this.argv(cmd), opts);
  }

  /** Like exec, but a non-zero exit is an error; returns stdout. */
  async run(cmd: readonly string[], opts?: ExecOptions): Promise<string> {
    const r = await this.exec(cmd, opts);
    if (r.code !== 0) throw failure(`[${this.name}] ${cmd.join(" ")}`, r);
    return r.stdout;
  }

  /** `ip <args>` inside the namespace. */
  ip(...args: string[]): Promise<string> {
    return this.run(["ip", ...args]);
  }

  /** A long-running process in the namespace; stopped by `lab.cleanup()` at the latest. */
  spawn(cmd: readonly string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", this.name, ...cmd],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: opts.env,
      cwd: opts.cwd,
    }).spawn();
    const bg = new Background(`[${this.name}] ${cmd.join(" ")}`, child);
    this.lab.track(bg);
    return bg;
  }

  sysctl(key: string, value: string | number): Promise<string> {
    return this.run(["sysctl", "-qw", `${key}=${value}`]);
  }

  up(dev: string): Promise<string> {
    return this.ip("link", "set", dev, "up");
  }

  /** Adds an address; IPv6 addresses skip duplicate address detection so they work at once. */
  addr(dev: string, cidr: string): Promise<string> {
    const v6 = cidr.includes(":");
    return v6
      ? this.ip("-6", "addr", "add", cidr, "dev", dev, "nodad")
      : this.ip("-4", "addr", "add", cidr, "dev", dev);
  }

  route(dst: string, o: RouteOptions): Promise<string> {
    const v6 = (o.via ?? dst).includes(":");
    const args = [v6 ? "-6" : "-4", "route", "add", dst];
    if (o.via) args.push("via", o.via);
    if (o.dev) args.push("dev", o.dev);
    if (o.mtu) args.push("mtu", String(o.mtu));
    return this.ip(...args);
  }

  /** Turns on IPv4 and IPv6 forwarding. */
  async router(): Promise<void> {
    await this.sysctl("net.ipv4.ip_forward", 1);
    await this.sysctl("net.ipv6.conf.all.forwarding", 1);
  }

  /** Waits until `dev` exists (e.g. a TUN another process creates). */
  async waitLink(dev: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if ((await this.exec(["ip", "link", "show", "dev", dev])).code === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new NetnsError(`[${this.name}] link ${dev} did not appear within ${timeoutMs} ms`);
  }

  /** Pids of every process in the namespace. */
  async pids(): Promise<number[]> {
    const r = await runCommand(["ip", "netns", "pids", this.name]);
    return r.stdout.split(/\s+/).filter(Boolean).map(Number);
  }
}

let serial = 0;

/**
 * Owns the namespaces it creates. `cleanup()` stops background processes, kills whatever
 * still runs inside the namespaces and deletes them (veths go with them); it is idempotent
 * and never throws.
 */
export class NetLab {
  readonly id: string;
  readonly namespaces: Netns[] = [];
  readonly #bg: Background[] = [];
  readonly #atCleanup: (() => unknown)[] = [];
  #cleaning: Promise<void> | undefined;

  constructor(readonly tag = "x64") {
    const rnd = crypto.getRandomValues(new Uint8Array(3));
    this.id = `${Deno.pid.toString(36)}${serial++}${[...rnd].map((b) => b.toString(16)).join("")}`;
  }

  track(bg: Background): void {
    this.#bg.push(bg);
  }

  /** Also run `fn` at cleanup, after the namespaces are gone (temporary files, say). */
  atCleanup(fn: () => unknown): void {
    this.#atCleanup.push(fn);
  }

  /** A fresh namespace "<tag>-<role>-<id>" with loopback up and IPv6 DAD off. */
  async netns(role: string): Promise<Netns> {
    if (this.#cleaning) throw new NetnsError("lab is being cleaned up");
    const name = `${this.tag}-${role}-${this.id}`;
    const r = await runCommand(["ip", "netns", "add", name]);
    if (r.code !== 0) throw failure(`ip netns add ${name}`, r);
    const ns = new Netns(name, this);
    this.namespaces.push(ns);
    await ns.ip("link", "set", "lo", "up");
    await ns.sysctl("net.ipv6.conf.all.accept_dad", 0);
    await ns.sysctl("net.ipv6.conf.default.accept_dad", 0);
    return ns;
  }

  /** A veth pair: `aIf` in `a`, `bIf` in `b`, both up. Names live inside the namespaces. */
  async veth(a: Netns, aIf: string, b: Netns, bIf: string, o: { mtu?: number } = {}) {
    const mtu = o.mtu ? ["mtu", String(o.mtu)] : [];
    await a.ip(
      "link",
      "add",
      aIf,
      ...mtu,
      "type",
      "veth",
      "peer",
      "name",
      bIf,
      ...mtu,
      "netns",
      b.name,
    );
    await a.up(aIf);
    await b.up(bIf);
  }

  async cleanup(): Promise<void> {
    return await (this.#cleaning ??= this.#cleanup());
  }

  async #cleanup(): Promise<void> {
    await Promise.all(this.#bg.map((bg) => bg.stop(1500).catch(() => {})));
    for (const ns of this.namespaces) {
      try {
        // Children of our processes (or anything else started in our namespace).
        for (const pid of await ns.pids()) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch { /* gone */ }
        }
      } catch { /* best effort */ }
    }
    await Promise.all(this.#bg.map((bg) => bg.release().catch(() => {})));
    for (const ns of [...this.namespaces].reverse()) {
      await runCommand(["ip", "netns", "del", ns.name]).catch(() => {});
    }
    for (const fn of this.#atCleanup) {
      try {
        await fn();
      } catch { /* best effort */ }
    }
  }

  /**
   * Cleans up on SIGINT/SIGTERM, then exits 130/143. Returns a function that removes the
   * handlers (call it after a normal cleanup).
   */
  cleanupOnSignals(onSignal?: (sig: Deno.Signal) => void): () => void {
    const handlers: [Deno.Signal, () => void][] = [];
    for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const h = () => {
        onSignal?.(sig);
        this.cleanup().finally(() => Deno.exit(code));
      };
      Deno.addSignalListener(sig, h);
      handlers.push([sig, h]);
    }
    return () => {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/** Runs `body` with a fresh lab and always cleans it up afterwards. */
export async function withLab<T>(tag: string, body: (lab: NetLab) => Promise<T>): Promise<T> {
  const lab = new NetLab(tag);
  try {
    return await body(lab);
  } finally {
    await lab.cleanup();
  }
}
