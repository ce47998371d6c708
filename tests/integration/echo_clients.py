#!/usr/bin/env python3
"""echo_clients.py ADDR CONNS BYTES [PORT] - CONNS concurrent TCP connections to an
echo server at ADDR:PORT (default 7007), each sending BYTES random bytes while reading
them back; every connection must get exactly its bytes back. Prints one line per
failed connection, or PASS; exits 1 on any failure. Used by the integration tests
against mlw_epoll_echo (30 s socket timeout; bound the run with timeout(1))."""
import os
import socket
import sys
import threading

addr, conns, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
port = int(sys.argv[4]) if len(sys.argv) > 4 else 7007
bad = []


def echo(i):
    data = os.urandom(n)
    try:
        s = socket.create_connection((addr, port), timeout=30)
        t = threading.Thread(target=s.sendall, args=(data,))
        t.start()
        got = bytearray()
        while len(got) < n:
            b = s.recv(65536)
            if not b:
                break
            got += b
        t.join()
        s.close()
        if bytes(got) != data:
            bad.append("conn %d: %d of %d bytes, not identical" % (i, len(got), n))
    except Exception as e:  # noqa: BLE001 - every failure is reported
        bad.append("conn %d: %r" % (i, e))


ts = [threading.Thread(target=echo, args=(i,)) for i in range(conns)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("\n".join(bad) if bad else "PASS")
sys.exit(1 if bad else 0)
