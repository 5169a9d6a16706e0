#!/usr/bin/python3
"""Checks every length and checksum in a pcap of IPv4/IPv6 packets, including the packets
quoted inside ICMP errors and the upper-layer checksum of fragmented datagrams (after
reassembly). Independent of xlat64's own code: parsing here is by hand over the RFC
layouts, checksums by scapy's Internet checksum (scapy.utils.checksum).

Prints one line per problem and a JSON summary on the last line; exits 1 on any problem.
usage: check_pcap.py FILE.pcap
"""
import json
import struct
import sys

from scapy.utils import checksum, rdpcap
from scapy.layers.l2 import Ether

ICMP4_ERRORS = {3, 4, 5, 11, 12}
ICMP6_ERRORS = {1, 2, 3, 4}
V6_EXT = {0, 43, 60}  # Hop-by-Hop, Routing, Destination Options (RFC 8200 4)
IPV6_MIN_MTU = 1280
ICMP4_ERROR_MAX = 576

problems = []
counts = {"packets": 0, "ipv4_hdr": 0, "udp": 0, "tcp": 0, "icmp": 0, "icmpv6": 0,
          "inner_packets": 0, "reassembled": 0, "lengths": 0}
frags = {}


def bad(where, msg):
    problems.append(f"{where}: {msg}")


def pseudo4(src, dst, proto, ln):
    return src + dst + struct.pack("!BBH", 0, proto, ln)


def pseudo6(src, dst, nh, ln):
    return src + dst + struct.pack("!I3xB", ln, nh)


def check_l4(where, proto, data, complete, pseudo, v6, inner, total_len=None):
    """data: the upper-layer bytes present; complete: nothing was cut off."""
    if proto == 17:
        if len(data) < 8:
            if not inner:
                bad(where, "UDP header truncated")
            return
        ulen, ck = struct.unpack("!HH", data[4:8])
        if complete:
            counts["lengths"] += 1
            if ulen != len(data):
                bad(where, f"UDP length {ulen} != {len(data)} bytes present")
                return
            if ck == 0:
                if v6:
                    bad(where, "UDP checksum 0 in IPv6 (RFC 8200 8.1)")
            else:
                counts["udp"] += 1
                if checksum(pseudo(17, len(data)) + data) != 0:
                    bad(where, f"bad UDP checksum 0x{ck:04x}")
        elif ulen < len(data):
            bad(where, f"UDP length {ulen} < {len(data)} bytes present (truncated inner)")
    elif proto == 6:
        if complete and len(data) >= 20:
            counts["tcp"] += 1
            if checksum(pseudo(6, len(data)) + data) != 0:
                bad(where, "bad TCP checksum 0x%04x" % struct.unpack("!H", data[16:18]))
        elif not inner:
            bad(where, "TCP header truncated")
    elif proto == 1 and not v6:
        if len(data) < 8:
            if not inner:
                bad(where, "ICMP truncated")
            return
        if complete:
            counts["icmp"] += 1
            if checksum(data) != 0:
                bad(where, "bad ICMP checksum 0x%04x" % struct.unpack("!H", data[2:4]))
        if data[0] in ICMP4_ERRORS and not inner:
            if total_len is not None and total_len > ICMP4_ERROR_MAX:
                bad(where, f"ICMPv4 error of {total_len} bytes exceeds 576 (RFC 1812 4.3.2.3)")
            check_ip(where + " inner", data[8:], inner=True)
    elif proto == 58 and v6:
        if len(data) < 8:
            if not inner:
                bad(where, "ICMPv6 truncated")
            return
        if complete:
            counts["icmpv6"] += 1
            if checksum(pseudo(58, len(data)) + data) != 0:
                bad(where, "bad ICMPv6 checksum 0x%04x" % struct.unpack("!H", data[2:4]))
        if data[0] in ICMP6_ERRORS and not inner:
            if total_len is not None and total_len > IPV6_MIN_MTU:
                bad(where, f"ICMPv6 error of {total_len} bytes exceeds 1280 (RFC 4443 2.4 c)")
            check_ip(where + " inner", data[8:], inner=True)
    elif proto == 1 and v6 or proto == 58 and not v6:
        bad(where, f"{'ICMPv4 in IPv6' if v6 else 'ICMPv6 in IPv4'}")


def check_ip(where, b, inner=False):
    if inner:
        counts["inner_packets"] += 1
    if len(b) < 1:
        bad(where, "empty")
        return
    ver = b[0] >> 4
    if ver == 4:
        check_ip4(where, b, inner)
    elif ver == 6:
        check_ip6(where, b, inner)
    else:
        bad(where, f"IP version {ver}")


def check_ip4(where, b, inner):
    if len(b) < 20:
        bad(where, "IPv4 header truncated")
        return
    ihl = (b[0] & 15) * 4
    tot, ident, fl, proto = struct.unpack("!HHHxB", b[2:10])
    if ihl < 20 or len(b) < ihl:
        bad(where, f"IPv4 IHL {ihl}")
        return
    counts["lengths"] += 1
    if not inner and tot != len(b):
        bad(where, f"IPv4 total length {tot} != {len(b)} bytes")
        return
    if inner and tot < len(b):
        bad(where, f"inner IPv4 total length {tot} < {len(b)} bytes quoted")
        return
    counts["ipv4_hdr"] += 1
    if checksum(b[:ihl]) != 0:
        bad(where, "bad IPv4 header checksum 0x%04x" % struct.unpack("!H", b[10:12]))
    mf, off = fl & 0x2000, (fl & 0x1FFF) * 8
    src, dst = b[12:16], b[16:20]
    data = b[ihl:tot]
    complete = len(b) >= tot
    ps = lambda p, n: pseudo4(src, dst, p, n)  # noqa: E731
    if mf or off:
        if not inner:
            frags.setdefault((4, src, dst, ident, proto), []).append((off, data, bool(mf), where))
        elif off == 0:
            check_l4(where, proto, data, False, ps, False, True)
        return
    check_l4(where, proto, data, complete, ps, False, inner, total_len=len(b))


def check_ip6(where, b, inner):
    if len(b) < 40:
        bad(where, "IPv6 header truncated")
        return
    plen, nh = struct.unpack("!HB", b[4:7])
    counts["lengths"] += 1
    if not inner and 40 + plen != len(b):
        bad(where, f"IPv6 payload length {plen} != {len(b) - 40} bytes")
        return
    if inner and 40 + plen < len(b):
        bad(where, f"inner IPv6 payload length {plen} < {len(b) - 40} bytes quoted")
        return
    complete = len(b) >= 40 + plen
    src, dst = b[8:24], b[24:40]
    end = min(len(b), 40 + plen)
    o = 40
    while nh in V6_EXT or nh == 44:
        if o + 8 > end:
            bad(where, "IPv6 extension header truncated")
            return
        if nh == 44:
            nxt, offm, ident = b[o], struct.unpack("!H", b[o + 2:o + 4])[0], b[o + 4:o + 8]
            off, mf = offm & 0xFFF8, offm & 1
            if off or mf:
                data = b[o + 8:end]
                if not inner:
                    frags.setdefault((6, src, dst, ident, nxt), []).append((off, data, bool(mf),
                                                                            where))
                elif off == 0:
                    check_l4(where, nxt, data, False, lambda p, n: pseudo6(src, dst, p, n), True,
                             True)
                return
            nh, o = nxt, o + 8
        else:
            nh, o = b[o], o + (b[o + 1] + 1) * 8
    if o > end:
        bad(where, "IPv6 extension header chain overruns the payload")
        return
    check_l4(where, nh, b[o:end], complete, lambda p, n: pseudo6(src, dst, p, n), True, inner,
             total_len=len(b))


def reassemble():
    for (v, src, dst, ident, proto), parts in frags.items():
        where = parts[0][3] + " (reassembled)"
        parts.sort(key=lambda p: p[0])
        buf, ok = b"", True
        for i, (off, data, mf, w) in enumerate(parts):
            if off != len(buf):
                ok = False
                bad(w, f"fragment at offset {off}, expected {len(buf)} (gap or overlap)")
                break
            if mf and len(data) % 8:
                bad(w, f"non-last fragment of {len(data)} bytes, not a multiple of 8")
            if mf != (i < len(parts) - 1):
                ok = False
                bad(w, "missing last fragment" if mf else "M=0 fragment before the end")
                break
            buf += data
        if not ok:
            continue
        counts["reassembled"] += 1
        if v == 4:
            check_l4(where, proto, buf, True, lambda p, n: pseudo4(src, dst, p, n), False, False)
        else:
            check_l4(where, proto, buf, True, lambda p, n: pseudo6(src, dst, p, n), True, False)


def main():
    pkts = rdpcap(sys.argv[1])
    for i, p in enumerate(pkts):
        raw = bytes(p)
        if isinstance(p, Ether):
            raw = raw[14:]
        counts["packets"] += 1
        check_ip(f"packet {i + 1}", raw)
    reassemble()
    for m in problems:
        print(m)
    print(json.dumps({"problems": len(problems), **counts}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
