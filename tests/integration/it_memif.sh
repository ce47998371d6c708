#!/bin/bash
# it_memif.sh SERVER_BIN CLIENT_BIN - two mlwip processes (2 shards each)
# joined by net_memif: mlw_echo_client against mlw_apps_server's echo
# service, twice: with mlw_tcp_bind_rss_v4() and with plain tcp_connect()
# as an unmodified lwIP application calls it (mlwip's wrapper picks the port). Every byte comes back unchanged, no frame
# is forwarded between shards on either side (the client's port choice and
# both sides' steering agree), both stacks stop with empty heaps.
IT_NAME=it_memif
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_memif.sh MLW_APPS_SERVER MLW_ECHO_CLIENT}
CLIENT=${2:?usage: it_memif.sh MLW_APPS_SERVER MLW_ECHO_CLIENT}
it_require_no_tsan
it_require_cmd timeout
[ -w /var/run/dpdk ] || [ "$(id -u)" = 0 ] || mkdir -p "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk" 2>/dev/null ||
	it_skip "DPDK cannot write its runtime directory (/var/run/dpdk or \$XDG_RUNTIME_DIR)"

CONNS=8
BYTES=$((4 * 1024 * 1024))
SOCK="$IT_TMP/memif.sock"
# socket-abstract=no: a socket file in our own temporary directory.
MEMIF="socket=$SOCK,socket-abstract=no,id=0"
it_config "$IT_TMP/server.ini" "mlwit_memif_s$$" "net_memif0,role=server,$MEMIF" 2 10.94.0.1/24
it_config "$IT_TMP/client.ini" "mlwit_memif_c$$" "net_memif0,role=client,$MEMIF" 2 10.94.0.2/24
# Both ends would otherwise derive the same MAC from the memif defaults.
echo "mac = 02:00:00:94:00:01" >>"$IT_TMP/server.ini"
echo "mac = 02:00:00:94:00:02" >>"$IT_TMP/client.ini"

it_start mlw_apps_server "$IT_TMP/server.log" timeout -k 10 150 "$SERVER" "$IT_TMP/server.ini" --duration 140
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "serving lwiperf" 30 "$SPID"

crc=0
for mode in rss plain; do
	flag=""
	[ $mode = plain ] && flag=--plain-connect
	timeout -k 10 120 "$CLIENT" "$IT_TMP/client.ini" --server 10.94.0.1 --port 7 --conns $CONNS \
		--bytes $BYTES --timeout 90 $flag >"$IT_TMP/client-$mode.log" 2>&1 || crc=$?
	cat "$IT_TMP/client-$mode.log"
done
it_stop "$SPID" "$IT_TMP/server.log"
src=$?
cat "$IT_TMP/server.log"

[ $crc -eq 0 ] || it_fail "mlw_echo_client exited $crc"
want=$((2 * CONNS))
for mode in rss plain; do
	log="$IT_TMP/client-$mode.log"
	grep -q "^mlw_echo_client: PASS" "$log" || it_fail "client ($mode) did not PASS"
	grep -q "^total: connections ok $want/$want failed 0, bytes verified $((want * BYTES))/$((want * BYTES)), mismatches 0" \
		"$log" || it_fail "client ($mode) totals are not $want connections x $BYTES bytes"
	it_check_clean "$log"
	[ "$(it_stats "$log" fwd_out | wc -l)" -eq 2 ] || it_fail "client ($mode): expected 2 shards in the stats"
	fwd=$(it_stats_sum "$log" fwd_out)
	[ "$fwd" -eq 0 ] || it_fail "client ($mode) forwarded $fwd frames between shards (expected 0)"
	while read -r shard op; do
		[ "$op" -eq $CONNS ] || it_fail "client ($mode) shard $shard opened $op connections, expected $CONNS"
	done < <(it_stats "$log" opens)
done
[ $src -eq 0 ] || it_fail "mlw_apps_server exited $src"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
[ "$(it_stats "$IT_TMP/server.log" fwd_out | wc -l)" -eq 2 ] || it_fail "server: expected 2 shards in the stats"
fwd=$(it_stats_sum "$IT_TMP/server.log" fwd_out)
[ "$fwd" -eq 0 ] || it_fail "server forwarded $fwd frames between shards (expected 0)"
# Each client shard's connections are accepted by the server shard of the
# same number: both runs, CONNS each.
while read -r shard acc; do
	[ "$acc" -eq $((2 * CONNS)) ] || it_fail "server shard $shard accepted $acc connections, expected $((2 * CONNS))"
done < <(it_stats "$IT_TMP/server.log" accepts)
it_log "PASS: 2 x $want connections x $BYTES bytes echoed byte-exact (RSS bind and plain tcp_connect); fwd_out server=0 client=0"
