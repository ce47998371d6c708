#!/bin/bash
# it_afp_idle.sh ECHO_BIN - [stack] idle = interrupt on the kernel engine (as
# a board runs it, contrib/config/board-kernel.ini): a 2-shard
# mlw_epoll_echo on a veth into a namespace this test creates.
#  1. with no traffic every thread of the process uses < 5% of a core over
#     5 s (the shards sleep in epoll on their queue sockets);
#  2. a connection opened then, and one after 3 s of silence, each echo
#     byte-exact (a frame wakes its shard);
#  3. the stop is clean (it wakes the sleeping shards) and the shards say
#     they slept and were woken by received frames.
# Runs with or without DPDK (IT_NO_EAL: the build without DPDK).
IT_NAME=it_afp_idle
. "$(dirname "$0")/../integration/lib.sh"

ECHO=${1:?usage: it_afp_idle.sh MLW_EPOLL_ECHO}
it_require_no_tsan
it_require_root_netns
it_require_cmd timeout python3 ethtool
MLW_ADDR=10.97.0.2
PEER_ADDR=10.97.0.1
CPU_MAX_PCT=${MLW_IDLE_CPU_MAX_PCT:-5}
it_netns_pair aid "$PEER_ADDR/24"
IT_ENGINE=afpacket IT_IDLE=interrupt it_config "$IT_TMP/echo.ini" "mlwit_aidle$$" "net_af_packet0,iface=$IF_M" 2 \
	"$MLW_ADDR/24" "$PEER_ADDR"
it_start mlw_epoll_echo "$IT_TMP/server.log" \
	ip netns exec "$NS_M" timeout -k 10 60 "$ECHO" "$IT_TMP/echo.ini" --duration 50
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "shard 1: echo listening" 30 "$SPID"
it_wait_log "$IT_TMP/server.log" "shard 0: echo listening" 5 "$SPID"
it_wait_ping "$NS_P" "$MLW_ADDR" 15
EPID=$(pgrep -f "$IT_TMP/echo.ini" | while read -r p; do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = mlw_epoll_echo ] && echo "$p"; done | head -1)
[ -n "$EPID" ] || it_fail "cannot find the mlw_epoll_echo process"

sleep 1
it_idle_cpu "$EPID" "$CPU_MAX_PCT" "no connection"

# 2. Echoes after idle periods, byte-exact.
ip netns exec "$NS_P" timeout 30 python3 - "$MLW_ADDR" <<'PY' || it_fail "echo after idle failed"
import os, socket, sys, time
addr = sys.argv[1]
for pause in (0, 3):
    time.sleep(pause)
    t0 = time.monotonic()
    s = socket.create_connection((addr, 7007), timeout=5)
    msg = os.urandom(64 * 1024)
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    if got != msg:
        print(f"after {pause} s idle: {len(got)} of {len(msg)} bytes, or not the same")
        sys.exit(1)
    print(f"after {pause} s idle: 64 KiB echoed byte-exact in {1000 * (time.monotonic() - t0):.1f} ms")
PY

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $rc -eq 0 ] || it_fail "server exited $rc"
it_check_clean "$IT_TMP/server.log"
grep -q "idle: interrupt, sleeps [1-9]" "$IT_TMP/server.log" || it_fail "the shards did not sleep on their queue sockets"
grep -Eq "woken by rx [1-9]" "$IT_TMP/server.log" || it_fail "no shard was woken by a received frame"
it_log "PASS: idle threads < $CPU_MAX_PCT% of a core; echoes after idle byte-exact; clean stop"
