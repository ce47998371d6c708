#!/usr/bin/env python3
"""echo_server.py ADDR PORT - a threaded TCP echo server for the integration tests.

Each connection is served by one thread that sends back what it receives
(recv, then sendall), so a bulk sender never deadlocks it, unlike
`ncat -e /bin/cat`, whose relay between socket and pipes stalls once both
pipes are full. Prints "listening" when ready; runs until killed.
"""
import socket
import sys
import threading


def serve(conn):
    with conn:
        while True:
            data = conn.recv(262144)
            if not data:
                return
            conn.sendall(data)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(128)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
