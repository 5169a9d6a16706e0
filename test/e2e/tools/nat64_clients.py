#!/usr/bin/env python3
"""Clients for the NAT64 end-to-end tests; each prints one JSON line.

  udp FLOWS SRC DST PORT     FLOWS sockets bound to SRC (one source port each) send one
                             datagram to DST:PORT (an echo server); counts the echoes
  tcp N DST PORT             N concurrent connections, each an HTTP GET /; counts 200s
"""
import json
import select
import socket
import sys
import threading
import time


def udp(flows, src, dst, port):
    socks = []
    for i in range(flows):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.setblocking(False)
        s.sendto(b"flow %d" % i, (dst, port))
        socks.append(s)
    got = set()
    end = time.time() + 2.0
    while len(got) < flows and time.time() < end:
        ready, _, _ = select.select([s for s in socks if s not in got], [], [], 0.2)
        for s in ready:
            try:
                s.recv(2048)
                got.add(s)
            except OSError:
                pass
    for s in socks:
        s.close()
    return {"sent": flows, "received": len(got)}


def tcp(n, dst, port):
    ok = [0]
    failed = [0]
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one():
        try:
            start.wait(10)
            s = socket.create_connection((dst, port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
            s.close()
            good = data.startswith(b"HTTP/1.1 200")
        except Exception:
            good = False
        with lock:
            if good:
                ok[0] += 1
            else:
                failed[0] += 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"ok": ok[0], "failed": failed[0], "seconds": round(time.time() - t0, 3)}


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "udp":
        r = udp(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "tcp":
        r = tcp(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)
    print(json.dumps(r))
