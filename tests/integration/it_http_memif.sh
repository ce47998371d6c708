#!/bin/bash
# it_http_memif.sh SERVER_BIN LOAD_BIN - mlw_http_load against mlw_http_server,
# two mlwip processes (2 shards each) joined by net_memif, both written only
# with mlwip's socket + epoll API: a keep-alive run for a fixed time and a
# "Connection: close" run with a fixed number of requests. Every response is
# valid (status 200, Content-Length equal to the body, FIN after a close
# response), no frame is forwarded between shards on either side, both
# stacks stop with empty heaps. Prints the load client's requests/s.
IT_NAME=it_http_memif
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_http_memif.sh MLW_HTTP_SERVER MLW_HTTP_LOAD}
LOAD=${2:?usage: it_http_memif.sh MLW_HTTP_SERVER MLW_HTTP_LOAD}
it_require_no_tsan
it_require_cmd timeout
[ -w /var/run/dpdk ] || [ "$(id -u)" = 0 ] || mkdir -p "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk" 2>/dev/null ||
	it_skip "DPDK cannot write its runtime directory (/var/run/dpdk or \$XDG_RUNTIME_DIR)"

CONNS=16
SECONDS_KA=5
CLOSE_REQS=1000
SOCK="$IT_TMP/memif.sock"
# socket-abstract=no: a socket file in our own temporary directory.
MEMIF="socket=$SOCK,socket-abstract=no,id=0"
it_config "$IT_TMP/server.ini" "mlwit_hmemif_s$$" "net_memif0,role=server,$MEMIF" 2 10.93.0.1/24
it_config "$IT_TMP/client.ini" "mlwit_hmemif_c$$" "net_memif0,role=client,$MEMIF" 2 10.93.0.2/24
# Both ends would otherwise derive the same MAC from the memif defaults.
echo "mac = 02:00:00:93:00:01" >>"$IT_TMP/server.ini"
echo "mac = 02:00:00:93:00:02" >>"$IT_TMP/client.ini"

it_start mlw_http_server "$IT_TMP/server.log" timeout -k 10 150 "$SERVER" "$IT_TMP/server.ini" --duration 140
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "shard 1: http listening" 30 "$SPID"
it_wait_log "$IT_TMP/server.log" "shard 0: http listening" 5 "$SPID"

crc=0
timeout -k 10 60 "$LOAD" "$IT_TMP/client.ini" --server 10.93.0.1 --conns $CONNS --duration $SECONDS_KA \
	--keepalive >"$IT_TMP/client-ka.log" 2>&1 || crc=$?
cat "$IT_TMP/client-ka.log"
[ $crc -eq 0 ] || it_fail "mlw_http_load (keep-alive) exited $crc"
timeout -k 10 90 "$LOAD" "$IT_TMP/client.ini" --server 10.93.0.1 --conns $CONNS --requests $CLOSE_REQS \
	--duration 60 --close >"$IT_TMP/client-close.log" 2>&1 || crc=$?
cat "$IT_TMP/client-close.log"
[ $crc -eq 0 ] || it_fail "mlw_http_load (close) exited $crc"

it_stop "$SPID" "$IT_TMP/server.log"
src=$?
cat "$IT_TMP/server.log"

for mode in ka close; do
	log="$IT_TMP/client-$mode.log"
	grep -q "^mlw_http_load: PASS" "$log" || it_fail "client ($mode) did not PASS"
	grep -q -E "^total: requests ok [1-9][0-9]* errors 0 " "$log" || it_fail "client ($mode): errors or no requests"
	it_check_clean "$log"
	[ "$(it_stats "$log" fwd_out | wc -l)" -eq 2 ] || it_fail "client ($mode): expected 2 shards in the stats"
	fwd=$(it_stats_sum "$log" fwd_out)
	[ "$fwd" -eq 0 ] || it_fail "client ($mode) forwarded $fwd frames between shards (expected 0)"
	# Both shards did work (the client's ports steer replies back to each).
	while read -r shard ok; do
		[ "$ok" -gt 0 ] || it_fail "client ($mode) shard $shard got no answers"
	done < <(awk '/^shard [0-9]+: requests ok/ { sub(":", "", $2); print $2, $5 }' "$log")
done
grep -q -E "^total: requests ok $CLOSE_REQS errors 0 " "$IT_TMP/client-close.log" ||
	it_fail "client (close): not all $CLOSE_REQS requests answered"
[ $src -eq 0 ] || it_fail "mlw_http_server exited $src"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
fwd=$(it_stats_sum "$IT_TMP/server.log" fwd_out)
[ "$fwd" -eq 0 ] || it_fail "server forwarded $fwd frames between shards (expected 0)"
sreq=$(awk '/: http accepted/ { s += $9 } END { print s + 0 }' "$IT_TMP/server.log")
sbad=$(awk '/: http accepted/ { s += $11 + $13 } END { print s + 0 }' "$IT_TMP/server.log")
cok=$(awk '/^total: requests ok/ { s += $4 } END { print s + 0 }' "$IT_TMP/client-ka.log" "$IT_TMP/client-close.log")
[ "$sbad" -eq 0 ] || it_fail "server counted $sbad bad requests or errors"
# The timed run lets requests in flight finish: both sides count the same.
[ "$sreq" -eq "$cok" ] || it_fail "server answered $sreq requests, client counted $cok"
KA_RPS=$(awk '/^total: requests ok/ { print $(NF - 1) }' "$IT_TMP/client-ka.log")
CL_RPS=$(awk '/^total: requests ok/ { print $(NF - 1) }' "$IT_TMP/client-close.log")
it_log "PASS: keep-alive ${SECONDS_KA}s x $((2 * CONNS)) connections: $KA_RPS requests/s;" \
	"Connection: close $CLOSE_REQS requests: $CL_RPS requests/s; every response valid, fwd_out 0"
