#!/bin/bash
# it_preload_threads.sh LIB MLW_BENCH - several shards, one per program thread:
# mlw_bench's Linux-socket server (POSIX calls only, one thread per worker,
# each with its own SO_REUSEPORT listener and epoll instance) with 2 threads
# through libmlwip-preload.so on 2 shards (net_af_packet, 2 queue pairs).
# The first thread to open a network socket becomes shard 0, the second
# shard 1. Linux clients (rr and crr) see no errors, both shards accept
# connections, and each thread's shard detaches clean when it exits.
IT_NAME=it_preload_threads
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_preload.sh"

LIB=${1:?usage: it_preload_threads.sh LIB MLW_BENCH}
BENCH=${2:?}
it_require_no_tsan
it_require_root_netns
it_require_cmd ethtool ping timeout

ADDR=10.95.0.2
it_netns_pair pt "10.95.0.1/24"
it_config "$IT_TMP/m.ini" "mlwpt_$$" "net_af_packet0,iface=$IF_M,qpairs=2" 2 "$ADDR/24"
it_start mlw_bench "$IT_TMP/server.log" ip netns exec "$NS_M" timeout -k 10 90 \
	env LD_PRELOAD="$(pl_preload "$LIB")" MLWIP_CONFIG="$IT_TMP/m.ini" MLWIP_STATS=1 \
	ASAN_OPTIONS="detect_leaks=0 abort_on_error=1" \
	"$BENCH" --stack linux --threads 2 --role server --bind "$ADDR" --duration 20
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "server listening" 30 "$SPID"
it_wait_ping "$NS_P" "$ADDR" 15
for w in "rr --conns 40" "crr --conns 8"; do
	# shellcheck disable=SC2086
	ip netns exec "$NS_P" timeout 40 "$BENCH" --stack linux --role client --server "$ADDR" \
		--workload $w --duration 3 >"$IT_TMP/client.log" 2>&1 ||
		{ cat "$IT_TMP/client.log"; it_fail "client $w: exit status $?"; }
	grep -q '^RESULT .*"errors": 0,.*"ok": true' "$IT_TMP/client.log" ||
		{ cat "$IT_TMP/client.log"; it_fail "client $w: errors"; }
	it_log "$w: $(grep -o '"tps": [0-9.]*' "$IT_TMP/client.log")"
done
wait "$SPID" || { cat "$IT_TMP/server.log"; it_fail "server exit status $?"; }
IT_PIDS=""
grep -q '^SERVER .*"errors": 0,.*"ok": true' "$IT_TMP/server.log" || { cat "$IT_TMP/server.log"; it_fail "server errors"; }
it_stats "$IT_TMP/server.log" accepts >"$IT_TMP/accepts"
[ "$(wc -l <"$IT_TMP/accepts")" = 2 ] || { cat "$IT_TMP/server.log"; it_fail "no stats for 2 shards"; }
while read -r shard n; do
	it_log "shard $shard accepted $n connections"
	[ "$n" -gt 0 ] || it_fail "shard $shard accepted no connection (its thread did not attach?)"
done <"$IT_TMP/accepts"
grep -q "libmlwip-preload: stopped (clean)" "$IT_TMP/server.log" || { cat "$IT_TMP/server.log"; it_fail "no clean stop"; }
it_check_clean "$IT_TMP/server.log"
it_log "PASS"
