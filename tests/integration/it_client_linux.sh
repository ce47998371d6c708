#!/bin/bash
# it_client_linux.sh CLIENT_BIN - mlw_echo_client (2 shards, net_af_packet
# qpairs=2) against a Linux echo server (ncat) in a namespace: every byte
# comes back unchanged, and replies are forwarded between shards (the
# kernel's af_packet fanout hash is not mlwip's Toeplitz hash, so some
# replies arrive on the other shard's queue; steering must fix that).
IT_NAME=it_client_linux
. "$(dirname "$0")/lib.sh"

CLIENT=${1:?usage: it_client_linux.sh MLW_ECHO_CLIENT}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

CONNS=8
BYTES=$((1024 * 1024))
MLW_ADDR=10.95.0.2
PEER_ADDR=10.95.0.1
it_netns_pair cl "$PEER_ADDR/24"
it_config "$IT_TMP/client.ini" "mlwit_cli_$$" "net_af_packet0,iface=$IF_M,qpairs=2" 2 "$MLW_ADDR/24" "$PEER_ADDR"

# Not `ncat -e /bin/cat`: its socket<->pipe relay deadlocks under bulk
# echo traffic (both 64 KiB pipes full) and stalls after ~56 KiB.
it_start "Linux echo server" "$IT_TMP/echo.log" \
	ip netns exec "$NS_P" timeout -k 5 150 python3 "$(dirname "$0")/echo_server.py" "$PEER_ADDR" 7
it_wait_log "$IT_TMP/echo.log" listening 20 "$IT_LAST_PID"

ip netns exec "$NS_M" timeout -k 10 120 "$CLIENT" "$IT_TMP/client.ini" --server "$PEER_ADDR" --port 7 \
	--conns $CONNS --bytes $BYTES --timeout 90 >"$IT_TMP/client.log" 2>&1
crc=$?
cat "$IT_TMP/client.log"
[ $crc -eq 0 ] || it_fail "mlw_echo_client exited $crc"
grep -q "^mlw_echo_client: PASS" "$IT_TMP/client.log" || it_fail "client did not PASS"
want=$((2 * CONNS))
grep -q "^total: connections ok $want/$want failed 0, bytes verified $((want * BYTES))/$((want * BYTES)), mismatches 0" \
	"$IT_TMP/client.log" || it_fail "client totals are not $want connections x $BYTES bytes"
it_check_clean "$IT_TMP/client.log"
[ "$(it_stats "$IT_TMP/client.log" fwd_out | wc -l)" -eq 2 ] || it_fail "expected 2 shards in the stats"
FWD=$(it_stats_sum "$IT_TMP/client.log" fwd_out)
[ "$FWD" -gt 0 ] || it_fail "no frame was forwarded between shards (expected some: fanout hash != Toeplitz)"
it_log "PASS: $want connections x $BYTES bytes echoed byte-exact by Linux;" \
	"forwarded (fwd_out) $(it_stats "$IT_TMP/client.log" fwd_out | awk '{ printf "%s=%s ", $1, $2 }')total $FWD"
