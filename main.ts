#!/usr/bin/env -S deno run -A
// xlat64 command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import denoJson from "./deno.json" with { type: "json" };
import {
  ConfigError,
  DEFAULT_CONFIG_TOML,
  defaultConfig,
  loadConfig,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  type SocketAddr,
} from "./src/config/mod.ts";
import { getLogger, setupLogging } from "./src/log.ts";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const VERSION: string = denoJson.version;

interface GlobalLogOpts {
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

const EXAMPLES = `
Examples:
  xlat64 lab                                   build a throwaway lab and watch translation work
  xlat64 config --print-default > xlat64.toml  start a config from the defaults
  xlat64 check --config xlat64.toml            validate it (exit 2 with every error)
  xlat64 run --config xlat64.toml              run the appliance
  xlat64 status --sessions                     what the running appliance is doing
  xlat64 replay --config xlat64.toml in.pcap out.pcap   translate a capture offline

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.`;

function buildProgram(setExit: (code: number) => void) {
  const program = new Command()
    .name("xlat64")
    .description(
      "NAT64/464XLAT edge appliance: SIIT (RFC 7915), stateful NAT64 (RFC 6146), CLAT " +
        "(RFC 6877), DNS64 (RFC 6147), prefix discovery, status endpoint.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .addOption(
      new Option("--log-level <level>", "log level (default: [log] level, else info)")
        .choices(LOG_LEVELS),
    )
    .addOption(
      new Option("--log-format <format>", "log format: text lines, or JSON lines")
        .choices(LOG_FORMATS),
    )
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXAMPLES);

  const globals = (): GlobalLogOpts => program.opts();
  const logFrom = (level?: LogLevel, format?: LogFormat) =>
    setupLogging({
      level: globals().logLevel ?? level ?? "info",
      format: globals().logFormat ?? format ?? "text",
    });

  program.command("run")
    .description("start the appliance (embedded default config without --config)")
    .option("-c, --config <file>", "TOML config file")
    .action(async (opts) => {
      const cfg = opts.config ? await loadConfig(opts.config) : defaultConfig();
      await logFrom(cfg.log.level, cfg.log.format);
      const { runAppliance } = await import("./src/io/supervisor.ts");
      setExit(await runAppliance(cfg, { configPath: opts.config }));
    });

  program.command("check")
    .description("validate a config file; prints every error with file, key and reason")
    .requiredOption("-c, --config <file>", "TOML config file")
    .action(async (opts) => {
      await loadConfig(opts.config);
      console.log(`ok: ${opts.config}`);
    });

  program.command("discover")
    .description(
      "find the NAT64 prefix on this network with every method (PREF64 in RAs, PCP, " +
        "RFC 7050, config), print what each found and exit",
    )
    .option("-c, --config <file>", "TOML config file ([discovery] section; default: embedded)")
    .option("-i, --interface <name>", "where to listen for RAs (default: the IPv6 default route's)")
    .option("-t, --seconds <n>", "how long to listen", "3")
    .option("--json", "print JSON")
    .action(async (opts) => {
      const base = opts.config ? await loadConfig(opts.config) : defaultConfig();
      const cfg = opts.interface
        ? { ...base, discovery: { ...base.discovery, interface: opts.interface } }
        : base;
      await logFrom("warning", cfg.log.format);
      const { discoverFor, formatDiscovery, hostFacts } = await import(
        "./src/clat/discovery_run.ts"
      );
      const { readRoutes } = await import("./src/io/netconf.ts");
      const seconds = Number(opts.seconds);
      if (!(seconds > 0)) throw new Error("--seconds must be a positive number");
      // Without a config file nothing is "configured": report only what the network says.
      const overrides = opts.config ? {} : { staticPrefixes: [] };
      const st = await discoverFor(cfg, await hostFacts(readRoutes), seconds, overrides);
      console.log(opts.json ? JSON.stringify(st, null, 2) : formatDiscovery(st));
      setExit(st.active ? 0 : 1);
    });

  program.command("replay")
    .description(
      "run every packet of IN through the translator (pcap timestamps as the clock) and " +
        "write what it emits to OUT (raw IP)",
    )
    .option("-c, --config <file>", "TOML config file (default: the embedded default)")
    .argument("<in>", "input pcap (raw IP, Ethernet or Linux cooked link type)")
    .argument("<out>", "output pcap (raw IP)")
    .action(async (inPath, outPath, opts) => {
      const cfg = opts.config ? await loadConfig(opts.config) : defaultConfig();
      await logFrom(cfg.log.level, cfg.log.format);
      const { replay, formatReplaySummary } = await import("./src/io/replay.ts");
      console.log(formatReplaySummary(await replay(cfg, inPath, outPath)));
    });

  program.command("lab")
    .description(
      "build a throwaway lab in network namespaces (IPv6-only client, IPv4-only server, " +
        "xlat64 between), run real clients through it, print what happened, tear it down",
    )
    .option("--keep", "keep the lab up after the checks until Ctrl-C, to poke at it")
    .action(async (opts) => {
      const { runLab } = await import("./src/lab/lab.ts");
      setExit(await runLab({ keep: opts.keep }));
    });

  program.command("status")
    .description("pretty-print the running appliance's /status")
    .option("--url <url>", "status endpoint (default: [status] listen, else 127.0.0.1:8064)")
    .option("-c, --config <file>", "take the endpoint from this config's [status] listen")
    .option("--sessions [n]", "also list NAT64 (or CLAT NAT44) sessions (up to n, default 100)")
    .action(async (opts) => {
      const { printStatus, DEFAULT_STATUS_URL } = await import("./src/status/client.ts");
      const sessions = opts.sessions === undefined
        ? undefined
        : opts.sessions === true
        ? true
        : positiveInt(opts.sessions, "--sessions");
      let url = opts.url ?? DEFAULT_STATUS_URL;
      if (opts.url === undefined && opts.config !== undefined) {
        const listen = (await loadConfig(opts.config)).status.listen;
        if (!listen) {
          throw new ConfigError([{
            file: opts.config,
            key: "status.listen",
            reason: "the status endpoint is off",
          }]);
        }
        url = statusBaseUrl(listen);
      }
      const r: unknown = await printStatus(url, { sessions });
      if (typeof r === "number") setExit(r);
    });

  const pcp = program.command("pcp")
    .description("PCP client (RFC 6887): ask a PCP server (xlat64's [pcp]) and print the answer")
    .requiredOption("--server <addr>", 'server, e.g. "[2001:db8::1]:5351" (port default 5351)')
    .option("--client <addr>", "this host's address (default: the source toward the server)")
    .option("--timeout <ms>", "give up after this long", "8000");
  const pcpRun = async (op: "announce" | "map", o: Record<string, unknown>) => {
    const g = pcp.opts();
    const { pcpCommand, parseServer } = await import("./src/discovery/pcp_cli.ts");
    const { RESULT } = await import("./src/discovery/pcp.ts");
    const { res, text } = await pcpCommand({
      server: parseServer(g.server),
      client: g.client,
      op,
      timeoutMs: positiveInt(g.timeout, "--timeout"),
      ...o,
    });
    console.log(text);
    if (res.result !== RESULT.SUCCESS) setExit(EXIT_FAILURE);
  };
  pcp.command("announce")
    .description("ANNOUNCE: the server's epoch and NAT64 prefixes (RFC 7225 PREFIX64)")
    .action(() => pcpRun("announce", {}));
  pcp.command("map")
    .description("MAP: an inbound mapping to this host's port; --lifetime 0 deletes it")
    .addOption(new Option("--protocol <p>", "transport").choices(["tcp", "udp"]).default("tcp"))
    .requiredOption("--internal-port <n>", "the port on this host")
    .option("--external-port <n>", "suggested external port")
    .option("--lifetime <s>", "seconds (0 deletes)", "7200")
    .option("--prefer-failure", "fail rather than take another external port (RFC 6887 13.2)")
    .option("--nonce <hex>", "24 hex digits: the nonce that created the mapping (refresh/delete)")
    .action((o) =>
      pcpRun("map", {
        protocol: o.protocol as "tcp" | "udp",
        internalPort: portNumber(o.internalPort, "--internal-port"),
        externalPort: o.externalPort ? portNumber(o.externalPort, "--external-port") : 0,
        lifetime: o.lifetime === "0" ? 0 : positiveInt(o.lifetime, "--lifetime"),
        preferFailure: o.preferFailure === true,
        nonce: o.nonce,
      })
    );

  program.command("config")
    .description("configuration helpers")
    .option("--print-default", "print the embedded default config (every key, documented)")
    .action((opts, cmd) => {
      if (!opts.printDefault) {
        cmd.error("error: nothing to do: try --print-default", { exitCode: 2 });
      }
      const b = new TextEncoder().encode(DEFAULT_CONFIG_TOML);
      for (let o = 0; o < b.length;) o += Deno.stdout.writeSync(b.subarray(o));
    });

  program.command("version")
    .description("print the version of xlat64 and of the runtime")
    .action(() => {
      console.log(
        `xlat64 ${VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8}, ` +
          `typescript ${Deno.version.typescript})`,
      );
    });

  program.hook("preAction", async () => {
    await logFrom();
  });
  return program;
}

/** Where to reach a status listener: wildcard binds are reached over loopback. */
export function statusBaseUrl(a: SocketAddr): string {
  const host = a.family === 6
    ? `[${a.host === "::" ? "::1" : a.host}]`
    : a.host === "0.0.0.0"
    ? "127.0.0.1"
    : a.host;
  return `http://${host}:${a.port}`;
}

function portNumber(s: string, flag: string): number {
  const n = positiveInt(s, flag);
  if (n > 65535) {
    throw new CommanderError(EXIT_USAGE, "xlat64.usage", `error: ${flag} must be 1-65535`);
  }
  return n;
}

function positiveInt(s: string, flag: string): number {
  if (!/^[1-9][0-9]*$/.test(s)) {
    throw new CommanderError(EXIT_USAGE, "xlat64.usage", `error: ${flag} needs a positive integer`);
  }
  return Number(s);
}

/** Runs the CLI on `args` (without the program name) and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram((c) => code = c);
  try {
    await program.parseAsync(args, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "xlat64.usage") console.error(e.message);
      // Commander already printed its message; help and --version exit 0.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof ConfigError) {
      console.error(e.message);
      return EXIT_USAGE;
    }
    const msg = e instanceof Error ? e.message : String(e);
    getLogger("main").debug("failed: {error}", { error: e });
    const detail = e instanceof Error && !isOperational(e) ? e.stack ?? msg : msg;
    console.error(`xlat64: ${detail}`);
    return EXIT_FAILURE;
  }
}

/** Errors whose message says it all (no stack trace needed). */
function isOperational(e: Error): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied ||
    e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.BrokenPipe ||
    e.name === "PcapError" || e.name === "ReplayError";
}

if (import.meta.main) Deno.exit(await main(Deno.args));
