// `xlat64 pcp`: a PCP client for people and scripts (RFC 6887 ANNOUNCE and MAP), printing
// the server's answer: result, lifetime, epoch, the external address, PREFIX64 options.
import { formatIPv4, formatIPv6, formatPrefix4, formatPrefix6, parseIPv6 } from "../addr/ip.ts";
import {
  encodeRequest,
  OPCODE,
  OPTION,
  type PcpOption,
  type PcpResponse,
  prefix64Options,
  RESULT,
  RESULT_NAME,
  unmapV4,
} from "./pcp.ts";
import { sourceBytes } from "./pcp_server.ts";
import { pcpRequest } from "./pcp_udp.ts";

export interface PcpCommand {
  readonly server: { hostname: string; port: number };
  readonly op: "announce" | "map";
  /** The PCP client address (must be the packet's source); default: the route's source. */
  readonly client?: string;
  readonly protocol?: "tcp" | "udp";
  readonly internalPort?: number;
  readonly externalPort?: number;
  /** Seconds; 0 deletes the mapping (RFC 6887 15). */
  readonly lifetime?: number;
  readonly preferFailure?: boolean;
  /** Hex, 24 digits; default random. Deleting or refreshing needs the creating nonce. */
  readonly nonce?: string;
  /** Total time to wait, ms (retransmissions per RFC 6887 8.1.1 inside it). */
  readonly timeoutMs?: number;
}

/** "[2001:db8::1]:5351", "2001:db8::1", "192.0.2.1:5351" -> host and port (default 5351). */
export function parseServer(s: string): { hostname: string; port: number } {
  const b = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (b) return { hostname: b[1], port: b[2] ? Number(b[2]) : 5351 };
  const v4 = /^([0-9.]+)(?::(\d+))?$/.exec(s);
  if (v4) return { hostname: v4[1], port: v4[2] ? Number(v4[2]) : 5351 };
  parseIPv6(s); // a bare IPv6 address, or an error saying why not
  return { hostname: s, port: 5351 };
}

/** The source address the kernel would use toward `server` (`ip route get`). */
async function routeSource(server: string): Promise<string> {
  const fam = server.includes(":") ? "-6" : "-4";
  const out = await new Deno.Command("ip", { args: [fam, "route", "get", server] }).output();
  const m = /\bsrc (\S+)/.exec(new TextDecoder().decode(out.stdout));
  if (out.code !== 0 || !m) {
    throw new Error(`cannot tell this host's address toward ${server}; give --client`);
  }
  return m[1];
}

function nonceOf(hex?: string): Uint8Array {
  if (hex === undefined) return crypto.getRandomValues(new Uint8Array(12));
  if (!/^[0-9a-fA-F]{24}$/.test(hex)) throw new Error("--nonce needs 24 hex digits");
  return Uint8Array.from(hex.match(/../g)!.map((x) => parseInt(x, 16)));
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

export async function pcpCommand(c: PcpCommand): Promise<{ res: PcpResponse; text: string }> {
  const client = c.client ?? await routeSource(c.server.hostname);
  const clientAddress = sourceBytes(client);
  const options: PcpOption[] = c.preferFailure
    ? [{ code: OPTION.PREFER_FAILURE, data: new Uint8Array(0) }]
    : [];
  const nonce = nonceOf(c.nonce);
  const msg = c.op === "announce"
    ? encodeRequest({ opcode: OPCODE.ANNOUNCE, lifetime: 0, clientAddress, options: [] })
    : encodeRequest({
      opcode: OPCODE.MAP,
      lifetime: c.lifetime ?? 7200,
      clientAddress,
      map: {
        nonce,
        protocol: c.protocol === "udp" ? 17 : 6,
        internalPort: c.internalPort ?? 0,
        externalPort: c.externalPort ?? 0,
        externalAddress: new Uint8Array(16),
      },
      options,
    });
  const res = await pcpRequest(c.server, msg, {
    bindHostname: client,
    irtMs: 1000,
    retries: 3,
    timeoutMs: c.timeoutMs ?? 8000,
  });
  return { res, text: formatPcpResponse(res, c.op === "map" ? nonce : null) };
}

export function formatPcpResponse(r: PcpResponse, nonce: Uint8Array | null = null): string {
  const lines = [
    `result   ${RESULT_NAME[r.result] ?? r.result}${r.result === RESULT.SUCCESS ? "" : " (error)"}`,
    `opcode   ${
      r.opcode === OPCODE.MAP ? "MAP" : r.opcode === OPCODE.ANNOUNCE ? "ANNOUNCE" : r.opcode
    }`,
    `lifetime ${r.lifetime} s`,
    `epoch    ${r.epoch} s`,
  ];
  if (r.map) {
    const v4 = unmapV4(r.map.externalAddress);
    const ext = v4 >= 0 ? formatIPv4(v4) : formatIPv6(r.map.externalAddress);
    lines.push(
      `mapping  ${r.map.protocol === 17 ? "udp" : r.map.protocol === 6 ? "tcp" : r.map.protocol} ` +
        `internal port ${r.map.internalPort} -> external ${ext}:${r.map.externalPort}`,
    );
    if (nonce) lines.push(`nonce    ${hex(nonce)} (give it with --nonce to refresh or delete)`);
  }
  for (const p of prefix64Options(r.options)) {
    const v4 = p.ipv4Prefixes.length ? ` for ${p.ipv4Prefixes.map(formatPrefix4).join(", ")}` : "";
    lines.push(`prefix64 ${formatPrefix6(p.prefix)}${v4}`);
  }
  return lines.join("\n");
}
