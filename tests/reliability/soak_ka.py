#!/usr/bin/env python3
"""soak_ka.py ADDR PORT CONNS RATE SECONDS - paced keep-alive HTTP/1.1 load.

CONNS connections are opened once and kept; together they send RATE requests
per second (each connection one request every CONNS/RATE s, staggered), one
request in flight per connection, for SECONDS. Every response must be
"200" with a body of its Content-Length. Prints one summary line:

  ka: conns N requests R errors E reconnects C max_latency_ms L

and exits 1 if any request failed (connection refused, reset, closed by the
server, malformed or late response: 10 s) or a connection could not be kept.
"""
import selectors
import socket
import sys
import time

addr, port, nconns, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
REQ = b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n"
TIMEOUT = 10.0
period = nconns / rate
sel = selectors.DefaultSelector()
errors = 0
requests = 0
reconnects = 0
max_lat = 0.0
first_errors = []


class Conn:
    def __init__(self, i, now):
        self.i = i
        self.next_send = now + period * i / nconns
        self.sent_at = None
        self.buf = b""
        self.sock = None
        self.open()

    def open(self):
        s = socket.create_connection((addr, port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        self.sock = s
        sel.register(s, selectors.EVENT_READ, self)

    def fail(self, why):
        global errors, reconnects
        errors += 1
        if len(first_errors) < 10:
            first_errors.append("conn %d: %s" % (self.i, why))
        sel.unregister(self.sock)
        self.sock.close()
        self.sent_at = None
        self.buf = b""
        try:
            self.open()
            reconnects += 1
        except OSError as e:
            if len(first_errors) < 10:
                first_errors.append("conn %d: reconnect: %s" % (self.i, e))
            self.sock = None

    def response_done(self):
        """Parse one response from buf; True when complete and valid."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = self.buf[:end].decode("latin-1").split("\r\n")
        clen = None
        for h in head[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                clen = int(v.strip())
        if clen is None or not head[0].startswith("HTTP/1.1 200"):
            raise ValueError("bad response head %r" % head[:2])
        if len(self.buf) < end + 4 + clen:
            return False
        if len(self.buf) > end + 4 + clen:
            raise ValueError("extra bytes after a response")
        self.buf = b""
        return True


start = time.monotonic()
try:
    conns = [Conn(i, start) for i in range(nconns)]
except OSError as e:
    print("ka: cannot open the keep-alive connections: %s" % e)
    sys.exit(1)
deadline = start + secs
while True:
    now = time.monotonic()
    if now >= deadline and all(c.sent_at is None for c in conns if c.sock):
        break
    if now >= deadline + TIMEOUT:
        break
    wake = deadline
    for c in conns:
        if c.sock is None:
            continue
        if c.sent_at is None and now < deadline and now >= c.next_send:
            try:
                c.sock.send(REQ)
                c.sent_at = now
                c.next_send += period
                if c.next_send < now:
                    c.next_send = now + period
            except OSError as e:
                c.fail("send: %s" % e)
                continue
        if c.sent_at is not None:
            if now - c.sent_at > TIMEOUT:
                c.fail("no response in %.0f s" % TIMEOUT)
                continue
            wake = min(wake, c.sent_at + TIMEOUT)
        else:
            wake = min(wake, c.next_send)
    for key, _ in sel.select(max(0.0, min(wake - time.monotonic(), 0.05))):
        c = key.data
        try:
            data = c.sock.recv(65536)
        except OSError as e:
            c.fail("recv: %s" % e)
            continue
        if not data:
            c.fail("closed by the server")
            continue
        c.buf += data
        try:
            if c.response_done():
                if c.sent_at is None:
                    raise ValueError("response without a request")
                lat = time.monotonic() - c.sent_at
                max_lat = max(max_lat, lat)
                c.sent_at = None
                requests += 1
        except ValueError as e:
            c.fail(str(e))
lost = sum(1 for c in conns if c.sock is None)
for c in conns:
    if c.sock is not None:
        c.sock.close()
print("ka: conns %d requests %d errors %d reconnects %d max_latency_ms %.1f"
      % (nconns, requests, errors, reconnects, max_lat * 1000))
for e in first_errors:
    print("ka: " + e)
sys.exit(1 if errors or lost else 0)
