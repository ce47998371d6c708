#!/usr/bin/env python3
"""tw_client.py SERVER LOCAL_ADDR LOCAL_PORT COUNT - HTTP/1.0 GETs to SERVER:80, each from the same local port.

The server (lwIP's httpd) closes first, so each connection leaves its side
in TIME-WAIT; the next one comes back on the same 4-tuple, as a Linux
client reusing its port does (SO_REUSEADDR, bind, connect). Each connect
must complete within 1 s (lwIP alone answered the SYN with an ACK or a
reset: connect hung until TIME-WAIT ended, or failed). Prints one line per
connection; exits 1 at the first that fails.
"""
import socket
import sys
import time


def one(server, local, i):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(local)
        s.settimeout(1.0)
        t0 = time.monotonic()
        s.connect((server, 80))
        ms = (time.monotonic() - t0) * 1000
        s.settimeout(5.0)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        print(f"connection {i} from port {local[1]}: {e}")
        return False
    finally:
        s.close()
    status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "none"
    print(f"connection {i} from port {local[1]}: connect {ms:.1f} ms, status {status}, {len(data)} bytes")
    return status == "200"


def main():
    server, addr, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    for i in range(count):
        if not one(server, (addr, port), i):
            sys.exit(1)
        # Our FIN's ACK comes back before the port is bound again.
        time.sleep(0.1)


if __name__ == "__main__":
    main()
