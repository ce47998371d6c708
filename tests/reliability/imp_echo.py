#!/usr/bin/env python3
"""imp_echo.py - Linux's TCP endpoints for the fault matrix.

  imp_echo.py [--cc ALG] ADDR PORT BYTES TIMEOUT
      one timed echo transfer: connect, send BYTES random bytes (then SHUT_WR) while reading
      the echo until EOF, check every byte. Prints "PASS bytes N seconds T cc ALG" (T from
      connect() to EOF; ALG as the socket reports it) or "FAIL why"; exit 0 on PASS.
  imp_echo.py --serve [--cc ALG] ADDR PORT
      a threaded echo server (recv, then sendall, per connection). Prints "listening cc ALG"
      when ready, and "conn cc ALG" for every accepted connection; runs until killed.

--cc sets the congestion control per socket with setsockopt(TCP_CONGESTION) before connect()
or listen() (accepted sockets inherit the listener's; set again after accept() to be sure) and
reads it back: the reference must be what was asked for, whatever the namespace's default is
(here bbr, inherited from the host). Setting an algorithm that is not in
net.ipv4.tcp_allowed_congestion_control needs CAP_NET_ADMIN (root in the test's namespaces).
Without --cc the namespace's default is used (and reported).
"""
import os
import socket
import sys
import threading
import time

CCS = ("cubic", "bbr", "reno")


def set_cc(s, cc):
    if cc is not None:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    got = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).split(b"\0")[0].decode()
    if cc is not None and got != cc:
        raise OSError("TCP_CONGESTION reads back %r, asked for %r" % (got, cc))
    return got


def serve(addr, port, cc):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    got = set_cc(srv, cc)
    srv.bind((addr, port))
    srv.listen(128)
    print("listening cc %s" % got, flush=True)

    def one(conn):
        with conn:
            try:
                print("conn cc %s" % set_cc(conn, cc), flush=True)
                while True:
                    data = conn.recv(262144)
                    if not data:
                        return
                    conn.sendall(data)
            except OSError as e:
                print("conn error %r" % (e,), flush=True)

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def transfer(addr, port, n, timeout, cc):
    data = os.urandom(n)
    got = bytearray()
    err = []
    t0 = time.monotonic()
    deadline = t0 + timeout
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        used = set_cc(s, cc)
        s.settimeout(timeout)
        s.connect((addr, port))
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
    print("PASS bytes %d seconds %.3f cc %s" % (n, secs, used))
    return 0


def main():
    args = sys.argv[1:]
    cc = None
    serving = False
    while args and args[0].startswith("--"):
        if args[0] == "--serve":
            serving = True
            args = args[1:]
        elif args[0] == "--cc" and len(args) > 1:
            cc = args[1]
            if cc not in CCS:
                print("FAIL --cc %r: one of %s" % (cc, " ".join(CCS)))
                return 2
            args = args[2:]
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if serving and len(args) == 2:
        serve(args[0], int(args[1]), cc)
        return 0
    if not serving and len(args) == 4:
        return transfer(args[0], int(args[1]), int(args[2]), float(args[3]), cc)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
