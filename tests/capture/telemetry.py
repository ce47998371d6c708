#!/usr/bin/env python3
"""telemetry.py SOCKET COMMAND - send one command to a DPDK telemetry socket
(AF_UNIX SOCK_SEQPACKET, dpdk_telemetry.v2) and print its JSON answer, the
value under the command's name. Exit 2 when the socket cannot be used."""
import json
import socket
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, cmd = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    try:
        s.connect(path)
        hello = json.loads(s.recv(16384).decode())
        s.send(cmd.encode())
        reply = json.loads(s.recv(int(hello.get("max_output_len", 16384))).decode())
    except (OSError, ValueError) as e:
        print(f"telemetry.py: {path}: {e}", file=sys.stderr)
        return 2
    finally:
        s.close()
    name = cmd.split(",", 1)[0]
    print(json.dumps(reply.get(name, reply)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
