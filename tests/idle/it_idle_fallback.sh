#!/bin/bash
# it_idle_fallback.sh ECHO_BIN - [stack] idle = interrupt on a port without
# RX interrupts (net_af_packet over a veth pair to a Linux peer namespace):
# the stack says so once, naming the port and its driver, both shards back
# off instead of sleeping (their stop lines say "backoff (no RX
# interrupt)"), and traffic still flows: 4 connections echo 1 MiB each
# byte-exact, one of them after 2 s of idling.
IT_NAME=it_idle_fallback
. "$(dirname "$0")/../integration/lib.sh"

ECHO=${1:?usage: it_idle_fallback.sh MLW_EPOLL_ECHO}
# Runs under ThreadSanitizer too, as it_idle.sh does (rte_ring suppressed).
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 suppressions=$(cd "$(dirname "$0")/.." && pwd)/tsan.supp}"
it_require_root_netns
it_require_cmd timeout python3

it_netns_pair idf 10.93.0.1/24
PREFIX="mlwit_idf$$"
it_config "$IT_TMP/echo.ini" "$PREFIX" "net_af_packet0,iface=$IF_M,qpairs=2" 2 10.93.0.2/24
sed -i 's/^shards = 2$/shards = 2\nidle = interrupt/' "$IT_TMP/echo.ini"
it_start mlw_epoll_echo "$IT_TMP/server.log" \
	ip netns exec "$NS_M" timeout -k 10 70 "$ECHO" "$IT_TMP/echo.ini" --duration 60
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "shard 1: echo listening" 30 "$SPID"
it_wait_log "$IT_TMP/server.log" "shard 0: echo listening" 5 "$SPID"
it_wait_ping "$NS_P" 10.93.0.2 15

cat >"$IT_TMP/client.py" <<'PY'
import os, socket, sys, time
from it_echo import echo
addr = sys.argv[1]
ok = 0
socks = [socket.create_connection((addr, 7007), timeout=30) for _ in range(4)]
for i, s in enumerate(socks):
    ok += echo(s, os.urandom(1 << 20))
time.sleep(2)
ok += echo(socks[0], os.urandom(1 << 20))
for s in socks:
    s.close()
print("echoed byte-exact: %d/5" % ok)
sys.exit(0 if ok == 5 else 1)
PY
ip netns exec "$NS_P" timeout -k 5 60 python3 "$IT_TMP/client.py" 10.93.0.2 >"$IT_TMP/client.log" 2>&1
crc=$?
cat "$IT_TMP/client.log"
it_stop "$SPID" "$IT_TMP/server.log"
src=$?
cat "$IT_TMP/server.log"
[ $crc -eq 0 ] || it_fail "echo failed"
[ $src -eq 0 ] || it_fail "mlw_epoll_echo exited $src"
it_check_clean "$IT_TMP/server.log"
[ "$(grep -c "port 0 (net_af_packet) has no RX queue interrupts" "$IT_TMP/server.log")" -eq 1 ] ||
	it_fail "expected one line naming port 0 and net_af_packet"
[ "$(grep -c "^shard [01]: idle: backoff (no RX interrupt), sleeps 0," "$IT_TMP/server.log")" -eq 2 ] ||
	it_fail "both shards should have backed off without sleeping"
it_log "PASS: no RX interrupts on net_af_packet: logged once, both shards backed off, 5 x 1 MiB echoed byte-exact"
