#!/usr/bin/env python3
"""imp_echo.py ADDR PORT BYTES TIMEOUT - one timed echo transfer from Linux's TCP for the fault
matrix: connect, send BYTES random bytes (then SHUT_WR) while reading the echo until EOF, check
every byte. Prints "PASS bytes N seconds T" (T from connect() to EOF) or "FAIL why"; exit 0 on PASS.
"""
import os
import socket
import sys
import threading
import time


def main():
    addr, port, n, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    data = os.urandom(n)
    got = bytearray()
    err = []
    t0 = time.monotonic()
    deadline = t0 + timeout
    try:
        s = socket.create_connection((addr, port), timeout=timeout)
    except OSError as e:
        print("FAIL connect: %r" % (e,))
        return 1

    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append("send: %r" % (e,))

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    try:
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            b = s.recv(262144)
            if not b:
                break
            got += b
    except OSError as e:
        print("FAIL after %d of %d bytes in %.1f s: %r" % (len(got), n, time.monotonic() - t0, e))
        return 1
    secs = time.monotonic() - t0
    t.join(1)
    s.close()
    if err:
        print("FAIL " + err[0])
        return 1
    if bytes(got) != data:
        first = next((i for i in range(min(len(got), n)) if got[i] != data[i]), min(len(got), n))
        print("FAIL mismatch: got %d of %d bytes, first difference at %d" % (len(got), n, first))
        return 1
    print("PASS bytes %d seconds %.3f" % (n, secs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
