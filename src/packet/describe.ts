// One-line, tcpdump-like text for a packet: for the lab, replay logs and test failure
// messages (allocates; not for the packet path).
import { formatIPv4, formatIPv6 } from "../addr/ip.ts";
import { DROP_REASONS } from "../xlat/stats.ts";
import { Ipv4Info, parseIpv4 } from "./ipv4.ts";
import { Ipv6Info, parseIpv6 } from "./ipv6.ts";
import {
  dstPort,
  icmpCode,
  icmpEchoId,
  icmpEchoSeq,
  icmpRest,
  icmpType,
  srcPort,
  TCP_FLAG,
  tcpAck,
  tcpFlags,
  tcpHdrLen,
  tcpSeq,
  udpLength,
} from "./l4.ts";
import { ICMP4, ICMP6, IPPROTO, isIcmp4Error, isIcmp6Error } from "./proto.ts";

const reasonName = (r: number) => DROP_REASONS[r - 1] ?? `reason ${r}`;

const ICMP4_NAMES: Record<number, string> = {
  [ICMP4.ECHO_REPLY]: "echo-reply",
  [ICMP4.DEST_UNREACH]: "unreachable",
  [ICMP4.SOURCE_QUENCH]: "source-quench",
  [ICMP4.REDIRECT]: "redirect",
  [ICMP4.ECHO_REQUEST]: "echo-request",
  [ICMP4.TIME_EXCEEDED]: "time-exceeded",
  [ICMP4.PARAM_PROBLEM]: "param-problem",
  [ICMP4.TIMESTAMP]: "timestamp",
  [ICMP4.TIMESTAMP_REPLY]: "timestamp-reply",
};
const ICMP6_NAMES: Record<number, string> = {
  [ICMP6.DEST_UNREACH]: "unreachable",
  [ICMP6.PACKET_TOO_BIG]: "packet-too-big",
  [ICMP6.TIME_EXCEEDED]: "time-exceeded",
  [ICMP6.PARAM_PROBLEM]: "param-problem",
  [ICMP6.ECHO_REQUEST]: "echo-request",
  [ICMP6.ECHO_REPLY]: "echo-reply",
  [ICMP6.ROUTER_SOLICIT]: "router-solicit",
  [ICMP6.ROUTER_ADVERT]: "router-advert",
  [ICMP6.NEIGHBOR_SOLICIT]: "neighbor-solicit",
  [ICMP6.NEIGHBOR_ADVERT]: "neighbor-advert",
};

function flags(f: number): string {
  let s = "";
  if (f & TCP_FLAG.SYN) s += "S";
  if (f & TCP_FLAG.FIN) s += "F";
  if (f & TCP_FLAG.RST) s += "R";
  if (f & TCP_FLAG.PSH) s += "P";
  if (f & TCP_FLAG.ACK) s += ".";
  if (f & TCP_FLAG.URG) s += "U";
  if (f & TCP_FLAG.ECE) s += "E";
  if (f & TCP_FLAG.CWR) s += "W";
  return s || "none";
}

function l4(
  b: Uint8Array,
  off: number,
  len: number,
  proto: number,
  v6: boolean,
  depth: number,
): string {
  if (proto === IPPROTO.UDP && len >= 8) {
    return `UDP ${srcPort(b, off)} > ${dstPort(b, off)} len ${udpLength(b, off) - 8}`;
  }
  if (proto === IPPROTO.TCP && len >= 20) {
    const data = len - tcpHdrLen(b, off);
    return `TCP ${srcPort(b, off)} > ${dstPort(b, off)} [${flags(tcpFlags(b, off))}] seq ${
      tcpSeq(b, off)
    } ack ${tcpAck(b, off)} len ${data}`;
  }
  const icmp = v6 ? proto === IPPROTO.ICMPV6 : proto === IPPROTO.ICMP;
  if (icmp && len >= 8) {
    const t = icmpType(b, off);
    const name = (v6 ? ICMP6_NAMES : ICMP4_NAMES)[t] ?? `type ${t}`;
    let s = `${v6 ? "ICMPv6" : "ICMP"} ${name} code ${icmpCode(b, off)}`;
    const echo = v6
      ? t === ICMP6.ECHO_REQUEST || t === ICMP6.ECHO_REPLY
      : t === ICMP4.ECHO_REQUEST || t === ICMP4.ECHO_REPLY;
    if (echo) return `${s} id ${icmpEchoId(b, off)} seq ${icmpEchoSeq(b, off)} len ${len - 8}`;
    if (v6 ? t === ICMP6.PACKET_TOO_BIG : t === ICMP4.DEST_UNREACH && icmpCode(b, off) === 4) {
      s += ` mtu ${v6 ? icmpRest(b, off) : icmpRest(b, off) & 0xffff}`;
    }
    if (v6 ? t === ICMP6.PARAM_PROBLEM : t === ICMP4.PARAM_PROBLEM) {
      s += ` pointer ${v6 ? icmpRest(b, off) : icmpRest(b, off) >>> 24}`;
    }
    if ((v6 ? isIcmp6Error(t) : isIcmp4Error(t)) && depth === 0) {
      s += ` {${describeAt(b, off + 8, len - 8, 1)}}`;
    }
    return s;
  }
  return `proto ${proto} len ${len}`;
}

function describeAt(b: Uint8Array, off: number, len: number, depth: number): string {
  const inner = depth > 0;
  const v = len > 0 ? b[off] >> 4 : 0;
  if (v === 4) {
    const o = new Ipv4Info();
    const r = parseIpv4(b, len, o, off, inner);
    if (r !== 0) return `IPv4 invalid (${reasonName(r)})`;
    let s = `IPv4 ${formatIPv4(o.src)} > ${formatIPv4(o.dst)} ttl ${o.ttl}`;
    if (o.id !== 0 || o.isFragment) s += ` id ${o.id}`;
    if (o.df) s += " DF";
    if (o.isFragment) s += ` frag ${o.fragOffset}${o.mf ? "+" : ""}`;
    if (o.hdrLen > 20) s += ` options ${o.hdrLen - 20}`;
    if (o.truncated) s += ` (cut at ${len} of ${o.totalLen})`;
    const body = o.fragOffset === 0
      ? l4(b, o.l4Off, o.l4Len, o.proto, false, depth)
      : `proto ${o.proto} len ${o.l4Len}`;
    return `${s}: ${body}`;
  }
  if (v === 6) {
    const o = new Ipv6Info();
    const r = parseIpv6(b, len, o, off, inner);
    if (r !== 0) return `IPv6 invalid (${reasonName(r)})`;
    let s = `IPv6 ${formatIPv6(b, o.srcOff)} > ${formatIPv6(b, o.dstOff)} hlim ${o.hopLimit}`;
    const ext: string[] = [];
    if (o.hasHopByHop) ext.push("hbh");
    if (o.routingOff >= 0) ext.push(`rh${b[o.routingOff + 2]} left ${o.segmentsLeft}`);
    if (o.fragOff >= 0) ext.push(`frag ${o.fragOffset}${o.mf ? "+" : ""} id ${o.fragId}`);
    if (ext.length) s += ` [${ext.join(", ")}]`;
    if (o.truncated) s += ` (cut at ${len} of ${40 + o.payloadLen})`;
    const body = o.fragOffset === 0
      ? l4(b, o.l4Off, o.l4Len, o.proto, true, depth)
      : `proto ${o.proto} len ${o.l4Len}`;
    return `${s}: ${body}`;
  }
  return `not IP (${len} bytes)`;
}

/** e.g. "IPv6 2001:db8::1 > 64:ff9b::c000:201 hlim 64: UDP 1234 > 53 len 20". */
export function describe(b: Uint8Array, len = b.length): string {
  return describeAt(b, 0, len, 0);
}
