#!/bin/bash
# it_afp_steer.sh ECHO_BIN CLIENT_BIN - steering on a kernel engine port
# ([port0] engine = afpacket, 2 shards) with Linux peers in namespaces:
#   1. steer = ports, passive opens: 16 Linux clients echo through
#      mlw_epoll_echo; connections land on both shards and no frame is
#      forwarded between shards (fwd_out 0; fwd_in only the ARP copies one
#      shard hands the other, at most a few);
#   2. steer = ports, active opens: mlw_echo_client (8 connections per
#      shard) to a Linux echo server; every byte back, fwd_out 0: connect()
#      picked local ports whose replies the fanout program gives the
#      opening shard;
#   3. steer = hash, passive opens: the kernel's flow hash is not the
#      stack's, so frames are forwarded (fwd_out > 0) and still echoed.
IT_NAME=it_afp_steer
. "$(dirname "$0")/../integration/lib.sh"

ECHO=${1:?usage: it_afp_steer.sh MLW_EPOLL_ECHO MLW_ECHO_CLIENT}
CLIENT=${2:?usage: it_afp_steer.sh MLW_EPOLL_ECHO MLW_ECHO_CLIENT}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout
export IT_ENGINE=afpacket

CONNS=16
BYTES=$((256 * 1024))
MLW_ADDR=10.97.0.2
PEER_ADDR=10.97.0.1
it_netns_pair st "$PEER_ADDR/24"

# passive STEER: mlw_epoll_echo steered STEER, Linux clients; prints the
# server's log path.
passive() {
	local steer=$1 log
	IT_AFP_STEER=$steer it_start_epoll_echo "$ECHO" "mlwit_afs${steer}_$$" "$MLW_ADDR" "$PEER_ADDR" 60
	ip netns exec "$NS_P" timeout -k 5 60 python3 "$(dirname "$0")/../integration/echo_clients.py" "$MLW_ADDR" $CONNS $BYTES \
		>"$IT_TMP/client-$steer.log" 2>&1
	crc=$?
	it_stop "$SPID" "$IT_TMP/server.log"
	rc=$?
	log="$IT_TMP/server-$steer.log"
	mv "$IT_TMP/server.log" "$log"
	cat "$IT_TMP/client-$steer.log"
	[ $crc -eq 0 ] || { cat "$log"; it_fail "steer = $steer: Linux clients exited $crc"; }
	[ $rc -eq 0 ] || { cat "$log"; it_fail "steer = $steer: mlw_epoll_echo exited $rc"; }
	it_check_clean "$log"
}

passive ports
LOG="$IT_TMP/server-ports.log"
acc0=$(awk '/shard 0: echo accepted/ { s += $5 } END { print s + 0 }' "$LOG")
acc1=$(awk '/shard 1: echo accepted/ { s += $5 } END { print s + 0 }' "$LOG")
[ $((acc0 + acc1)) -eq $CONNS ] || { cat "$LOG"; it_fail "steer = ports: accepted $acc0 + $acc1, expected $CONNS"; }
[ "$acc0" -gt 0 ] && [ "$acc1" -gt 0 ] || { cat "$LOG"; it_fail "steer = ports: connections on one shard only ($acc0/$acc1)"; }
FOUT=$(it_stats_sum "$LOG" fwd_out)
FIN=$(it_stats_sum "$LOG" fwd_in)
[ "$FOUT" -eq 0 ] || { cat "$LOG"; it_fail "steer = ports, passive opens: $FOUT frames forwarded between shards"; }
[ "$FIN" -le 10 ] || { cat "$LOG"; it_fail "steer = ports, passive opens: $FIN frames in from other shards (more than ARP copies)"; }
it_log "steer = ports, passive: accepted $acc0/$acc1, fwd_out $FOUT, fwd_in $FIN (ARP copies)"

# Active opens from both shards to a Linux echo server.
it_start "Linux echo server" "$IT_TMP/echo.log" \
	ip netns exec "$NS_P" timeout -k 5 100 python3 "$(dirname "$0")/../integration/echo_server.py" "$PEER_ADDR" 7
it_wait_log "$IT_TMP/echo.log" listening 20 "$IT_LAST_PID"
it_config "$IT_TMP/client.ini" "mlwit_afsc_$$" "" 2 "$MLW_ADDR/24" "$PEER_ADDR"
grep -q "^steer" "$IT_TMP/client.ini" && it_fail "client.ini sets steer: the default (ports) is what is tested"
ip netns exec "$NS_M" timeout -k 10 90 "$CLIENT" "$IT_TMP/client.ini" --server "$PEER_ADDR" --port 7 \
	--conns 8 --bytes $BYTES --timeout 60 >"$IT_TMP/cl.log" 2>&1
crc=$?
[ $crc -eq 0 ] || { cat "$IT_TMP/cl.log"; it_fail "mlw_echo_client exited $crc"; }
grep -q "^total: connections ok 16/16 failed 0, bytes verified $((16 * BYTES))/$((16 * BYTES)), mismatches 0" \
	"$IT_TMP/cl.log" || { cat "$IT_TMP/cl.log"; it_fail "client totals are not 16 connections x $BYTES bytes"; }
it_check_clean "$IT_TMP/cl.log"
FOUT=$(it_stats_sum "$IT_TMP/cl.log" fwd_out)
FIN=$(it_stats_sum "$IT_TMP/cl.log" fwd_in)
OPENS=$(it_stats "$IT_TMP/cl.log" opens | awk '{ printf "%s=%s ", $1, $2 }')
[ "$FOUT" -eq 0 ] || { cat "$IT_TMP/cl.log"; it_fail "steer = ports, active opens: $FOUT frames forwarded between shards"; }
[ "$FIN" -le 10 ] || { cat "$IT_TMP/cl.log"; it_fail "steer = ports, active opens: $FIN frames in from other shards"; }
it_log "steer = ports, active: opens $OPENS fwd_out $FOUT, fwd_in $FIN"

passive hash
LOG="$IT_TMP/server-hash.log"
HOUT=$(it_stats_sum "$LOG" fwd_out)
[ "$HOUT" -gt 0 ] || { cat "$LOG"; it_fail "steer = hash: nothing forwarded (the kernel's hash cannot agree with the stack's for $CONNS flows)"; }
it_log "steer = hash, passive: fwd_out $HOUT (software steering at work)"
it_log "PASS: steer = ports forwards nothing for passive and active opens; steer = hash forwards $HOUT frames"
