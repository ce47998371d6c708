#!/bin/bash
# it_tw_reopen.sh SERVER_BIN - a Linux client (in a namespace) that comes
# back on the same local port to lwIP's httpd on a 2-shard mlwip stack over
# net_af_packet: httpd closes first, so each connection leaves mlwip's side
# in TIME-WAIT, and each new connect on the same 4-tuple must complete at
# once (lwip-port/tcp_tw.c: the SYN's sequence number is after the old
# connection's, so TIME-WAIT ends and the listener takes it, as on Linux).
# Every such SYN is counted in the stats table (tw_reopen).
IT_NAME=it_tw_reopen
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_tw_reopen.sh MLW_APPS_SERVER}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

COUNT=5
LPORT=40000
MLW_ADDR=10.89.0.2
PEER_ADDR=10.89.0.1
it_netns_pair tw "$PEER_ADDR/24"
it_start_apps_server "$SERVER" "mlwit_tw_$$" "$MLW_ADDR" "$PEER_ADDR"

ip netns exec "$NS_P" timeout 60 python3 "$(dirname "$0")/tw_client.py" \
	"$MLW_ADDR" "$PEER_ADDR" "$LPORT" "$COUNT" >"$IT_TMP/client.log" 2>&1
crc=$?
cat "$IT_TMP/client.log"
it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $crc -eq 0 ] || it_fail "the client failed (exit $crc)"
[ $rc -eq 0 ] || it_fail "mlw_apps_server exited $rc"
it_check_clean "$IT_TMP/server.log"
REOPEN=$(it_stats_sum "$IT_TMP/server.log" tw_reopen)
[ "$REOPEN" -eq $((COUNT - 1)) ] ||
	it_fail "$REOPEN SYNs ended a TIME-WAIT, expected $((COUNT - 1))"
it_log "PASS: $COUNT connections from port $LPORT, $REOPEN through TIME-WAIT"
