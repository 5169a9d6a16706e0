#!/usr/bin/python3
"""Runs a corpus pcap through TAYGA 0.9.2 in network namespaces and writes what TAYGA
emits, grouped per input packet. Needs root, tayga, tcpdump, iproute2, scapy.

Topology (two namespaces, unique names, removed on exit):
  wire-N: w6, w4 -- no addresses, IPv6 off: a dumb wire we inject into and capture on
  xl-N:   x6 2001:db8:1::1/64 <-> TAYGA tun "nat64" <-> x4 198.51.100.1/24, forwarding on,
          static neighbours for every corpus host (so nothing answers from the far side)
IPv6 corpus packets leave w6, IPv4 ones leave w4; tcpdump -Q in on both records what
comes back from xl-N. Output packet k of input i gets timestamp (corpus ts of i, k usec).

usage: tayga_run.py CORPUS.pcap OUT.pcap [LOGFILE] [--xlat64 CONFIG.toml]
  --xlat64: run `xlat64 run --config CONFIG.toml` (tun "nat64", manage = false) in place
  of TAYGA, the same way, to compare the live appliance with `xlat64 replay`.
"""
import ctypes
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

from scapy.utils import rdpcap

GAP = 0.03  # seconds between injected packets; outputs are attributed by time window
CLONE_NEWNET = 0x40000000
LINKTYPE_RAW = 101
V6_HOSTS = ["2001:db8:1::2", "2001:db8:1::3", "2001:db8:1::99"]
V4_HOSTS = ["198.51.100.2", "198.51.100.9"]
TAYGA_CONF = """tun-device nat64
ipv4-addr 192.0.2.1
ipv6-addr 2001:db8:ff::1
prefix 2001:db8:64::/96
map 192.0.2.2 2001:db8:1::2
map 192.0.2.3 2001:db8:1::3
"""


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


def mac(ns, dev):
    return open_in_ns(ns, f"/sys/class/net/{dev}/address").strip()


def open_in_ns(ns, path):
    return sh("cat", path, ns=ns)


def setup(xl, wire):
    sh("ip", "netns", "add", xl)
    sh("ip", "netns", "add", wire)
    for ns in (xl, wire):
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "netns", "exec", wire, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
       "net.ipv6.conf.default.disable_ipv6=1")
    sh("ip", "netns", "exec", xl, "sysctl", "-qw", "net.ipv4.ip_forward=1",
       "net.ipv6.conf.all.forwarding=1", "net.ipv4.conf.all.rp_filter=0",
       "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.all.send_redirects=0",
       "net.ipv4.conf.default.send_redirects=0")
    sh("ip", "-n", xl, "link", "add", "x6", "type", "veth", "peer", "name", "w6", "netns", wire)
    sh("ip", "-n", xl, "link", "add", "x4", "type", "veth", "peer", "name", "w4", "netns", wire)
    for d in ("w6", "w4"):
        sh("ip", "-n", wire, "link", "set", d, "up")
    sh("ip", "-n", xl, "addr", "add", "2001:db8:1::1/64", "dev", "x6", "nodad")
    sh("ip", "-n", xl, "addr", "add", "198.51.100.1/24", "dev", "x4")
    sh("ip", "netns", "exec", xl, "sysctl", "-qw", "net.ipv6.conf.x4.disable_ipv6=1")
    for d in ("x6", "x4"):
        sh("ip", "-n", xl, "link", "set", d, "up")
    w6, w4 = mac(wire, "w6"), mac(wire, "w4")
    for h in V6_HOSTS:
        sh("ip", "-n", xl, "-6", "neigh", "replace", h, "lladdr", w6, "dev", "x6", "nud",
           "permanent")
    for h in V4_HOSTS:
        sh("ip", "-n", xl, "neigh", "replace", h, "lladdr", w4, "dev", "x4", "nud", "permanent")
    return mac(xl, "x6"), mac(xl, "x4"), w6, w4


def start_tayga(xl, tmp, log):
    conf = os.path.join(tmp, "tayga.conf")
    with open(conf, "w") as f:
        f.write(TAYGA_CONF + f"data-dir {tmp}\n")
    sh("tayga", "-c", conf, "--mktun", ns=xl)
    sh("ip", "-n", xl, "link", "set", "nat64", "up")
    sh("ip", "-n", xl, "route", "add", "2001:db8:64::/96", "dev", "nat64")
    sh("ip", "-n", xl, "route", "add", "2001:db8:ff::1/128", "dev", "nat64")
    sh("ip", "-n", xl, "route", "add", "192.0.2.0/24", "dev", "nat64")
    return subprocess.Popen(["ip", "netns", "exec", xl, "tayga", "-c", conf, "-d"],
                            stdout=log, stderr=subprocess.STDOUT)


MAIN_TS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "main.ts")


def start_xlat64(xl, config, log):
    p = subprocess.Popen(["ip", "netns", "exec", xl, os.environ.get("DENO", "deno"), "run", "-A", MAIN_TS, "run",
                          "--config", config], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while sh("ip", "-n", xl, "link", "show", "nat64", check=False) == "":
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError("xlat64 run did not create its TUN (see the log)")
        time.sleep(0.1)
    sh("ip", "-n", xl, "link", "set", "nat64", "up")
    sh("ip", "-n", xl, "route", "replace", "2001:db8:64::/96", "dev", "nat64")
    sh("ip", "-n", xl, "route", "replace", "192.0.2.0/24", "dev", "nat64")
    return p


def start_tcpdump(wire, dev, path, direction="in"):
    p = subprocess.Popen(["ip", "netns", "exec", wire, "tcpdump", "-i", dev, "-Q", direction, "-n", "--immediate-mode",
                          "-U", "-s", "0", "-w", path, "ip or ip6"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()  # "listening on ..." once the socket is bound
    if "listening" not in line:
        raise RuntimeError(f"tcpdump on {dev}: {line}")
    return p


def enter_ns(ns):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


def inject(wire, corpus, x6mac, x4mac, w6mac, w4mac):
    """Sends each corpus packet from the wire namespace; returns the send times."""
    import socket
    enter_ns(wire)
    socks = {}
    for dev in ("w6", "w4"):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((dev, 0))
        socks[dev] = s
    hdr6 = bytes.fromhex(x6mac.replace(":", "") + w6mac.replace(":", "") + "86dd")
    hdr4 = bytes.fromhex(x4mac.replace(":", "") + w4mac.replace(":", "") + "0800")
    times = []
    for raw in corpus:
        times.append(time.time())
        if raw[0] >> 4 == 6:
            socks["w6"].send(hdr6 + raw)
        else:
            socks["w4"].send(hdr4 + raw)
        time.sleep(GAP)
    return times


def noise(raw):
    """Packets the xl kernel sends on its own (MLD, ND, IGMP), not translations."""
    if raw[0] >> 4 == 6:
        if raw[24] == 0xFF:
            return True
        if raw[6] == 58 and raw[40] in (133, 134, 135, 136, 137, 143):
            return True
    elif raw[16] >= 224:
        return True
    return False


def main():
    args = sys.argv[1:]
    xlat64_conf = None
    if "--xlat64" in args:
        k = args.index("--xlat64")
        xlat64_conf = args[k + 1]
        del args[k:k + 2]
    corpus_path, out_path = args[0], args[1]
    log_path = args[2] if len(args) > 2 else os.devnull
    pkts = rdpcap(corpus_path)
    corpus = [bytes(p) for p in pkts]
    stamps = [int(p.time) for p in pkts]
    uid = f"{os.getpid()}"
    xl, wire = f"xl-td{uid}", f"wire-td{uid}"
    procs = []
    tmp = tempfile.mkdtemp(prefix="tayga-diff-")
    try:
        x6, x4, w6, w4 = setup(xl, wire)
        log = open(log_path, "w")
        tayga = start_xlat64(xl, xlat64_conf, log) if xlat64_conf else start_tayga(xl, tmp, log)
        procs.append(tayga)
        caps = {d: os.path.join(tmp, f"{d}.pcap") for d in ("w6", "w4")}
        for d, path in caps.items():
            procs.append(start_tcpdump(wire, d, path))
        debug = os.environ.get("TAYGA_DEBUG_DIR")
        if debug:  # also record what the translator's namespace sees on each interface
            for d in ("x6", "x4", "nat64"):
                procs.append(start_tcpdump(xl, d, os.path.join(debug, f"{d}.pcap"), "inout"))
        time.sleep(0.3)
        if tayga.poll() is not None:
            raise RuntimeError(f"translator exited with {tayga.returncode}; see {log_path}")
        child = os.fork()
        if child == 0:  # setns only in a child: the parent stays in the root namespace
            code = 0
            try:
                times = inject(wire, corpus, x6, x4, w6, w4)
                with open(os.path.join(tmp, "times"), "w") as f:
                    f.write("\n".join(repr(t) for t in times))
            except BaseException as e:  # noqa: BLE001
                print(f"inject: {e}", file=sys.stderr)
                code = 1
            os._exit(code)
        _, status = os.waitpid(child, 0)
        if status != 0:
            raise RuntimeError("injection failed")
        times = [float(x) for x in open(os.path.join(tmp, "times")).read().split()]
        time.sleep(0.3)
        if tayga.poll() is not None:
            raise RuntimeError(f"translator exited with {tayga.returncode} during the run")
        for p in procs[1:]:
            p.send_signal(signal.SIGINT)
            p.wait(5)
        out, late = [], []
        for path in caps.values():
            for p in rdpcap(path):
                raw = bytes(p)[14:]
                t = float(p.time)
                if noise(raw) or t < times[0]:
                    continue
                i = max(j for j, s in enumerate(times) if s <= t)
                if t - times[i] > GAP * 0.7:
                    late.append(f"input {i}: output {(t - times[i]) * 1e3:.1f} ms after it")
                out.append((i, t, raw))
        out.sort(key=lambda x: (x[0], x[1]))
        with open(out_path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
            k, last = 0, -1
            for i, _, raw in out:
                k = k + 1 if i == last else 0
                last = i
                f.write(struct.pack("<IIII", stamps[i], k, len(raw), len(raw)) + raw)
        print(f"{'xlat64' if xlat64_conf else 'tayga'}: {len(corpus)} packets in, {len(out)} out")
        if late:  # too close to the next input to attribute by time: let the caller retry
            print("late outputs, attribution unsure: " + "; ".join(late), file=sys.stderr)
            sys.exit(3)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for ns in (xl, wire):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
