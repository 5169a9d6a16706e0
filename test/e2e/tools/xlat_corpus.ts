// Shared by the dissector and TAYGA tests: the scapy-built corpus, the SIIT config that
// mirrors tools/tayga_run.py's TAYGA config, and an in-process pcap translation through
// the translator core (the same path `xlat64 replay` drives).
import { parseConfig, toXlatOptions } from "../../../src/config/mod.ts";
import { PacketBatch } from "../../../src/packet/batch.ts";
import { PcapWriter, readPcap } from "../../../src/packet/pcap.ts";
import { Stats } from "../../../src/xlat/stats.ts";
import { Translator } from "../../../src/xlat/translator.ts";

export const TOOLS = new URL(".", import.meta.url).pathname;
/** Debian's interpreter: python3-scapy is installed for it, not for pyenv shims. */
export const PYTHON = "/usr/bin/python3";

/** xlat64's equivalent of TAYGA's `prefix`, `map` and `ipv4-addr` lines in tayga_run.py. */
export const SIIT_CONFIG = `mode = "siit"
[tun]
mtu = 1500
[translator]
pool6 = "2001:db8:64::/96"
lowest-ipv6-mtu = 1280
ipv4-mtu = 1500
ipv6-mtu = 1500
rfc6791v4-prefix = "192.0.2.1/32"
[[translator.eam]]
ipv4 = "192.0.2.2/32"
ipv6 = "2001:db8:1::2/128"
[[translator.eam]]
ipv4 = "192.0.2.3/32"
ipv6 = "2001:db8:1::3/128"
`;

/** SIIT_CONFIG for `xlat64 run` in tayga_run.py --xlat64: TUN "nat64", routes set by the
 *  harness (manage = false), no DNS proxy. */
export const LIVE_CONFIG = SIIT_CONFIG.replace(
  "[tun]\n",
  '[tun]\nname = "nat64"\nmanage = false\n',
) + "[dns]\nlisten = []\n";

export interface CorpusCase {
  i: number;
  name: string;
  ts: number;
  v: number;
  len: number;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<Run> {
  const o = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

/** Runs one of the Python tools next to this module, warnings silenced. */
export const runTool = (
  script: string,
  args: string[],
  env?: Record<string, string>,
): Promise<Run> => run(PYTHON, ["-W", "ignore", `${TOOLS}${script}`, ...args], env);

export async function haveCommand(cmd: string): Promise<boolean> {
  try {
    return (await run("sh", ["-c", `command -v ${cmd}`])).code === 0;
  } catch {
    return false;
  }
}

export async function haveScapy(): Promise<boolean> {
  try {
    return (await run(PYTHON, ["-c", "import scapy"])).code === 0;
  } catch {
    return false;
  }
}

/** Writes corpus.pcap and corpus.json into dir; returns their paths and the index. */
export async function makeCorpus(
  dir: string,
): Promise<{ pcap: string; json: string; cases: CorpusCase[] }> {
  const pcap = `${dir}/corpus.pcap`;
  const json = `${dir}/corpus.json`;
  const r = await run(PYTHON, [`${TOOLS}corpus.py`, pcap, json]);
  if (r.code !== 0) throw new Error(`corpus.py failed: ${r.stderr}`);
  return { pcap, json, cases: JSON.parse(await Deno.readTextFile(json)) };
}

export interface Translated {
  /** Output packets per input index. */
  perInput: Uint8Array[][];
  stats: Stats;
}

/**
 * Translates every packet of a pcap through a fresh Translator built from the TOML config,
 * writing the outputs with their input's timestamp plus k µs for the k-th output.
 */
export function translatePcap(configToml: string, input: Uint8Array): {
  result: Translated;
  pcap: Uint8Array;
} {
  const opts = toXlatOptions(parseConfig(configToml, "test.toml"));
  const stats = new Stats();
  const xlat = new Translator(opts, stats);
  const out = new PacketBatch(64);
  const w = new PcapWriter();
  const perInput: Uint8Array[][] = [];
  for (const p of readPcap(input)) {
    out.clear();
    xlat.translate(p.data, p.data.length, out, p.tsNs / 1e6);
    const pkts = out.packets();
    pkts.forEach((q, k) => w.write(q, p.tsNs + k * 1000));
    perInput.push(pkts);
  }
  return { result: { perInput, stats }, pcap: w.bytes() };
}
