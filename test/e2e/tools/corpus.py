#!/usr/bin/python3
"""Writes the translator test corpus: a raw-IP pcap (LINKTYPE_RAW) of IPv4 and IPv6
packets built with scapy, a builder we did not write, plus a JSON index naming each one.

Addressing (SIIT, the same for TAYGA and xlat64):
  pool6 2001:db8:64::/96; EAM 192.0.2.2 <-> 2001:db8:1::2 (the IPv6 host H6)
  and 192.0.2.3 <-> 2001:db8:1::3 (an IPv6 router with a translatable address).
  IPv4 server S4 198.51.100.2 = 2001:db8:64::c633:6402, IPv4 router R4 198.51.100.9.
Packet i has timestamp BASE + i seconds, so outputs can be matched to inputs by time and
no rate limiter sees two packets in the same second.

usage: corpus.py OUT.pcap OUT.json
"""
import json
import struct
import sys

from scapy.all import (
    IP,
    TCP,
    UDP,
    ICMP,
    IPv6,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    ICMPv6EchoRequest,
    ICMPv6EchoReply,
    ICMPv6DestUnreach,
    ICMPv6PacketTooBig,
    ICMPv6TimeExceeded,
    ICMPv6ParamProblem,
    IPOption_RR,
    IPOption_NOP,
    PadN,
    Raw,
    fragment,
)
from scapy.layers.inet6 import ICMPv6Unknown

BASE = 1_700_000_000
LINKTYPE_RAW = 101
H6 = "2001:db8:1::2"
H4 = "192.0.2.2"
R6 = "2001:db8:1::3"  # EAM-mapped router on the IPv6 side
R6_UNMAPPED = "2001:db8:1::99"
S4 = "198.51.100.2"
S6 = "2001:db8:64::c633:6402"
R4 = "198.51.100.9"
UNMAPPED4 = "192.0.2.99"

TCP_OPTS = [("MSS", 1440), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None),
            ("WScale", 7)]


def pay(tag, n):
    """Payload of n bytes starting with a readable tag."""
    base = (tag + ":").encode()
    return (base + bytes((i * 7 + 3) & 0xFF for i in range(max(0, n - len(base)))))[:n]


def v6(**kw):
    d = dict(src=H6, dst=S6, hlim=64)
    d.update(kw)
    return IPv6(**d)


def v4(**kw):
    d = dict(src=S4, dst=H4, ttl=64, id=0x1234, flags="DF")
    d.update(kw)
    return IP(**d)


def corpus():
    c = []

    def add(name, pkt):
        c.append((name, pkt))

    # ---- IPv6 -> IPv4 ----
    add("6to4 udp small", v6() / UDP(sport=40000, dport=5053) / pay("u6s", 20))
    add("6to4 udp 1000", v6() / UDP(sport=40001, dport=9) / pay("u6m", 1000))
    add("6to4 udp 1400", v6() / UDP(sport=40002, dport=9) / pay("u6l", 1400))
    add("6to4 udp zero checksum", v6() / UDP(sport=40003, dport=9, chksum=0) / pay("u6z", 30))
    add("6to4 tcp syn options", v6() / TCP(sport=40004, dport=5080, flags="S", seq=1000,
                                           window=64800, options=TCP_OPTS))
    add("6to4 tcp ack payload", v6() / TCP(sport=40004, dport=5080, flags="PA", seq=1001,
                                           ack=5001, window=502) / pay("t6", 300))
    add("6to4 icmp echo request", v6() / ICMPv6EchoRequest(id=0x4242, seq=1) / pay("e6", 56))
    add("6to4 icmp echo reply", v6() / ICMPv6EchoReply(id=0x4243, seq=2) / pay("r6", 56))
    add("6to4 traffic class and flow label",
        v6(tc=0xB8, fl=0x12345) / UDP(sport=40005, dport=9) / pay("tc6", 40))
    add("6to4 hop-by-hop options",
        v6() / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00\x00\x00\x00")]) /
        UDP(sport=40006, dport=9) / pay("hbh", 40))
    add("6to4 destination options",
        v6() / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00\x00\x00\x00")]) /
        UDP(sport=40007, dport=9) / pay("dst", 40))
    add("6to4 routing header segments left 0",
        v6() / IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:db8:1::5"]) /
        UDP(sport=40008, dport=9) / pay("rt0", 40))
    add("6to4 routing header segments left 1",
        v6() / IPv6ExtHdrRouting(type=0, segleft=1, addresses=[S6]) /
        UDP(sport=40009, dport=9) / pay("rt1", 40))
    add("6to4 atomic fragment",
        v6() / IPv6ExtHdrFragment(id=0xABCD, offset=0, m=0) /
        UDP(sport=40010, dport=9) / pay("atm", 40))
    whole6 = v6() / IPv6ExtHdrFragment(id=0x1111) / UDP(sport=40011, dport=9) / pay("f6", 1200)
    frags6 = fragment6_list(whole6, 800)
    add("6to4 fragment first", frags6[0])
    add("6to4 fragment last", frags6[1])
    echo6 = fragment6_list(v6() / IPv6ExtHdrFragment(id=0x2222) /
                           ICMPv6EchoRequest(id=5, seq=5) / pay("fe6", 1200), 800)
    add("6to4 fragmented icmp echo first", echo6[0])
    add("6to4 fragmented icmp echo last", echo6[1])
    add("6to4 gre (protocol 47)", v6(nh=47) / Raw(b"\x00\x00\x88\xb5" + pay("gre6", 40)))
    add("6to4 icmp private experimentation type 200 (untranslatable informational)",
        v6() / ICMPv6Unknown(type=200, code=0, msgbody=pay("ni", 24)))

    inner_udp6 = IPv6(src=S6, dst=H6, hlim=61) / UDP(sport=5053, dport=40000) / pay("iu6", 40)
    inner_tcp6 = IPv6(src=S6, dst=H6, hlim=61) / TCP(sport=5080, dport=40004, flags="A", seq=5001,
                                                     ack=1301, window=502) / pay("it6", 100)
    inner_echo6 = IPv6(src=H6, dst=S6, hlim=1) / ICMPv6EchoRequest(id=7, seq=9) / pay("ie6", 32)
    add("6to4 icmp port unreachable", v6() / ICMPv6DestUnreach(code=4) / inner_udp6)
    add("6to4 icmp admin prohibited", v6() / ICMPv6DestUnreach(code=1) / inner_udp6)
    add("6to4 icmp no route", v6() / ICMPv6DestUnreach(code=0) / inner_tcp6)
    add("6to4 icmp address unreachable", v6(src=R6) / ICMPv6DestUnreach(code=3) / inner_tcp6)
    add("6to4 icmp packet too big 1400",
        v6(src=R6) / ICMPv6PacketTooBig(mtu=1400) / inner_tcp6)
    add("6to4 icmp packet too big 1280",
        v6(src=R6) / ICMPv6PacketTooBig(mtu=1280) / inner_tcp6)
    add("6to4 icmp time exceeded", v6(src=R6) / ICMPv6TimeExceeded(code=0) / inner_udp6)
    add("6to4 icmp time exceeded about echo",
        v6(src=R6) / ICMPv6TimeExceeded(code=0) /
        IPv6(src=S6, dst=H6, hlim=1) / ICMPv6EchoReply(id=7, seq=9) / pay("ie6r", 32))
    add("6to4 icmp parameter problem hop limit pointer",
        v6() / ICMPv6ParamProblem(code=0, ptr=7) / inner_udp6)
    add("6to4 icmp parameter problem next header",
        v6() / ICMPv6ParamProblem(code=1, ptr=6) / inner_udp6)
    add("6to4 icmp error from untranslatable source",
        v6(src=R6_UNMAPPED) / ICMPv6TimeExceeded(code=0) / inner_udp6)
    add("6to4 icmp error quoting 8 bytes of tcp",
        v6(src=R6) / ICMPv6TimeExceeded(code=0) / bytes(inner_tcp6)[:48])
    add("6to4 icmp error quoting 1232 bytes",
        v6(src=R6) / ICMPv6TimeExceeded(code=0) /
        bytes(IPv6(src=S6, dst=H6, hlim=61) / UDP(sport=5053, dport=40000) /
              pay("big6", 1400))[:1232])
    del inner_echo6

    # ---- IPv4 -> IPv6 ----
    add("4to6 udp small", v4() / UDP(sport=5053, dport=40000) / pay("u4s", 20))
    add("4to6 udp 1000", v4() / UDP(sport=9, dport=40001) / pay("u4m", 1000))
    add("4to6 udp zero checksum", v4() / UDP(sport=9, dport=40003, chksum=0) / pay("u4z", 30))
    add("4to6 tcp syn-ack options", v4() / TCP(sport=5080, dport=40004, flags="SA", seq=5000,
                                               ack=1001, window=65160, options=TCP_OPTS))
    add("4to6 tcp ack payload", v4() / TCP(sport=5080, dport=40004, flags="PA", seq=5001,
                                           ack=1301, window=502) / pay("t4", 300))
    add("4to6 icmp echo request", v4() / ICMP(type=8, id=0x4242, seq=1) / pay("e4", 56))
    add("4to6 icmp echo reply", v4() / ICMP(type=0, id=0x4243, seq=2) / pay("r4", 56))
    add("4to6 tos", v4(tos=0xB8) / UDP(sport=9, dport=40005) / pay("tos4", 40))
    add("4to6 ip options record route",
        v4(options=[IPOption_NOP(), IPOption_RR(routers=["0.0.0.0"] * 2)]) /
        UDP(sport=9, dport=40006) / pay("rr4", 40))
    add("4to6 df 1400", v4() / UDP(sport=9, dport=40007) / pay("df4", 1400))
    add("4to6 no df small", v4(flags=0, id=0x2222) / UDP(sport=9, dport=40008) / pay("nd4", 40))
    add("4to6 no df 1400 (fragmented to 1280)",
        v4(flags=0, id=0x3333) / UDP(sport=9, dport=40009) / pay("nd4l", 1400))
    add("4to6 no df 1400 with ip options (fragmented to 1280)",
        v4(flags=0, id=0x3334, options=[IPOption_NOP(), IPOption_RR(routers=["0.0.0.0"])]) /
        UDP(sport=9, dport=40013) / pay("nd4o", 1400))
    frags4 = fragment(v4(flags=0, id=0x4444) / UDP(sport=9, dport=40010) / pay("f4", 1200),
                      fragsize=800)
    add("4to6 fragment first", frags4[0])
    add("4to6 fragment last", frags4[1])
    add("4to6 gre (protocol 47)", v4(proto=47) / Raw(b"\x00\x00\x88\xb5" + pay("gre4", 40)))
    add("4to6 icmp timestamp (untranslatable informational)",
        v4() / ICMP(type=13, id=1, seq=1) / Raw(b"\x00" * 12))

    inner_udp4 = IP(src=H4, dst=S4, ttl=61, id=0x5555) / UDP(sport=40000, dport=5053) / pay("iu4", 40)
    inner_tcp4 = IP(src=H4, dst=S4, ttl=61, id=0x5556, flags="DF") / TCP(
        sport=40004, dport=5080, flags="PA", seq=1301, ack=5001, window=502) / pay("it4", 100)
    add("4to6 icmp port unreachable", v4() / ICMP(type=3, code=3) / inner_udp4)
    add("4to6 icmp host unreachable", v4(src=R4) / ICMP(type=3, code=1) / inner_udp4)
    add("4to6 icmp protocol unreachable", v4() / ICMP(type=3, code=2) / inner_udp4)
    add("4to6 icmp admin prohibited", v4(src=R4) / ICMP(type=3, code=13) / inner_tcp4)
    add("4to6 icmp fragmentation needed 1400",
        v4(src=R4) / ICMP(type=3, code=4, nexthopmtu=1400) / inner_tcp4)
    add("4to6 icmp fragmentation needed 1000 (below 1280)",
        v4(src=R4) / ICMP(type=3, code=4, nexthopmtu=1000) / inner_tcp4)
    add("4to6 icmp fragmentation needed mtu 0 (plateau)",
        v4(src=R4) / ICMP(type=3, code=4, nexthopmtu=0) / inner_tcp4)
    add("4to6 icmp time exceeded", v4(src=R4) / ICMP(type=11, code=0) / inner_udp4)
    add("4to6 icmp time exceeded about echo",
        v4(src=R4) / ICMP(type=11, code=0) /
        IP(src=H4, dst=S4, ttl=1, id=0x5557) / ICMP(type=8, id=7, seq=9) / pay("ie4", 32))
    add("4to6 icmp parameter problem ttl pointer",
        v4() / ICMP(type=12, code=0, ptr=8) / inner_udp4)
    add("4to6 icmp parameter problem protocol pointer",
        v4() / ICMP(type=12, code=0, ptr=9) / inner_udp4)
    add("4to6 icmp net admin prohibited (code 9)", v4(src=R4) / ICMP(type=3, code=9) / inner_udp4)
    add("4to6 icmp error quoting 8 bytes of tcp",
        v4(src=R4) / ICMP(type=11, code=0) / bytes(inner_tcp4)[:28])
    add("4to6 icmp source quench (obsolete)", v4(src=R4) / ICMP(type=4, code=0) / inner_udp4)
    add("4to6 icmp error quoting 548 bytes",
        v4(src=R4) / ICMP(type=11, code=0) /
        bytes(IP(src=H4, dst=S4, ttl=1, id=0x5558) / UDP(sport=40000, dport=5053) /
              pay("big4", 1000))[:548])
    add("4to6 df 1500 (over the IPv6 MTU)", v4() / UDP(sport=9, dport=40012) / pay("df15", 1472))
    echo_frags = fragment(v4(flags=0, id=0x6666) / ICMP(type=8, id=9, seq=1) / pay("fe4", 1200),
                          fragsize=800)
    add("4to6 fragmented icmp echo first", echo_frags[0])
    add("4to6 fragmented icmp echo last", echo_frags[1])
    add("4to6 to unmapped ipv4 destination",
        v4(dst=UNMAPPED4) / UDP(sport=9, dport=40011) / pay("um4", 20))
    return c


def fragment6_list(pkt, size):
    from scapy.all import fragment6
    return fragment6(pkt, size)


def main():
    out_pcap, out_json = sys.argv[1], sys.argv[2]
    index = []
    with open(out_pcap, "wb") as w:
        w.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for i, (name, pkt) in enumerate(corpus()):
            raw = bytes(pkt)  # fills in lengths and checksums the corpus did not pin
            w.write(struct.pack("<IIII", BASE + i, 0, len(raw), len(raw)) + raw)
            index.append({"i": i, "name": name, "ts": BASE + i, "v": raw[0] >> 4,
                          "len": len(raw)})
    with open(out_json, "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
