#!/usr/bin/env python3
"""telemetry_load.py - read a running mlwip stack's telemetry at a fixed rate (a benchmark load, not a test).

  telemetry_load.py [--glob PATTERN] [--hz 100] [--duration SECONDS]

Every 1/HZ seconds: /mlwip/stats (every counter of every shard) and
/mlwip/conns (a fresh connection listing of every shard, counted by
state) on the newest socket matching PATTERN (default: the server of
contrib/bench/run.py, /var/run/dpdk/mlwb*s/dpdk_telemetry.v2), reconnecting
when a newer one appears. At the end (SIGTERM, SIGINT or --duration) one
JSON line: ticks, replies, errors (a stack starting or stopping answers
with errors, its shards not running passes), ticks without a stack, ticks
with both replies good and their rate (ok_rate_hz: 100 while the stack
ran), and the replies' mean and maximum latency in microseconds.
"""
import argparse
import glob
import json
import os
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--glob", default="/var/run/dpdk/mlwb*s/dpdk_telemetry.v2")
    ap.add_argument("--hz", type=float, default=100.0)
    ap.add_argument("--duration", type=float, default=0.0, help="seconds (default: until signalled)")
    args = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    period = 1.0 / args.hz
    sock, path = None, None
    st = {"ticks": 0, "replies": 0, "errors": 0, "conns_errors": 0, "idle_ticks": 0,
          "lat_sum_us": 0.0, "lat_max_us": 0.0, "sockets": 0, "ok_ticks": 0}
    first_ok = last_ok = None
    t_end = time.monotonic() + args.duration if args.duration > 0 else None
    nxt = time.monotonic()
    while not stop and (t_end is None or time.monotonic() < t_end):
        nxt += period
        st["ticks"] += 1
        cands = sorted(glob.glob(args.glob), key=lambda p: os.stat(p).st_mtime if os.path.exists(p) else 0)
        newest = cands[-1] if cands else None
        if newest != path:
            if sock is not None:
                sock.close()
            sock, path = None, newest
            if newest is not None:
                try:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                    sock.connect(newest)
                    sock.recv(4096)
                    st["sockets"] += 1
                except OSError:
                    sock, path = None, None
        if sock is None:
            st["idle_ticks"] += 1
        else:
            ok = 0
            for cmd in ("/mlwip/stats", "/mlwip/conns"):
                t0 = time.monotonic()
                try:
                    sock.send(cmd.encode())
                    reply = json.loads(sock.recv(65536).decode())
                except (OSError, ValueError):
                    st["errors"] += 1
                    sock, path = None, None
                    break
                lat = (time.monotonic() - t0) * 1e6
                st["replies"] += 1
                st["lat_sum_us"] += lat
                st["lat_max_us"] = max(st["lat_max_us"], lat)
                r = reply.get(cmd)
                if cmd == "/mlwip/conns":
                    # One entry per shard, "" when it answered (a stack
                    # starting or stopping: its shards run no passes).
                    if not isinstance(r, dict) or any(r.get("error", ["?"])):
                        st["conns_errors"] += 1
                    else:
                        ok += 1
                elif not isinstance(r, dict) or "error" in r:
                    st["errors"] += 1	# unknown before the stack registered its commands
                else:
                    ok += 1
            if ok == 2:
                st["ok_ticks"] += 1
                last_ok = time.monotonic()
                first_ok = first_ok or last_ok
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            nxt = time.monotonic()
    # The rate while the stack ran: ticks with both replies good.
    st["ok_rate_hz"] = round((st["ok_ticks"] - 1) / (last_ok - first_ok), 1) if st["ok_ticks"] > 1 else None
    st["lat_mean_us"] = round(st.pop("lat_sum_us") / st["replies"], 1) if st["replies"] else None
    st["lat_max_us"] = round(st["lat_max_us"], 1)
    print(json.dumps(st))
    return 0


if __name__ == "__main__":
    sys.exit(main())
