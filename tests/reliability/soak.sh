#!/bin/bash
# soak.sh SOAK_SERVER - connection churn and keep-alive traffic for SOAK_SECONDS against
# mlw_http_server on a 2-shard mlwip stack (net_af_packet over a veth), Linux clients in a
# namespace; the server's sampler (soak_sampler.c) writes heap, TIME-WAIT, connections,
# mbuf pool and RSS every SOAK_INTERVAL_MS to a CSV. Passes when every churn round
# completed without a failed request or a refused connection, the keep-alive client saw no
# error, the stack stopped clean, and soak_check.py finds the resources flat.
#
#   SOAK_SECONDS=60       how long the load runs (the ctest run: 60; README: 3600)
#   SOAK_ROUND=2000       connections per churn round: ab -n SOAK_ROUND -c SOAK_CONC, no keep-alive
#   SOAK_CONC=8           ab's concurrency
#   SOAK_RATE=1000        churn ceiling in connections/s: a round that ends early waits
#   SOAK_KA_CONNS=32      keep-alive connections, open for the whole run
#   SOAK_KA_RATE=500      keep-alive requests/s over them
#   SOAK_INTERVAL_MS=2000 sampling interval
#   SOAK_MAX_TIME_WAIT=2048  the server's [stack] max_time_wait (per shard); "default": the
#                         stack's default (131072)
#   SOAK_CLIENT_PORTS="40000 44095"  the client namespace's ip_local_port_range;
#                         "default": Linux's (32768 60999)
#   SOAK_WARMUP=S         seconds left out before the flatness windows (default: 15 with a
#                         max_time_wait cap, 90 with the default one; see soak_check.py)
#   SOAK_OUT=DIR          keep samples.csv, rounds.csv, summary.txt and the logs in DIR
#
# The server closes first, so it holds TIME-WAIT; the client (ab) comes from one address
# and comes back to a port after as many connections as its port range has. TIME-WAIT
# lasts 60 s (2 MSL) unless max_time_wait trims it. Defaults (the 60 s ctest run): 4096
# client ports, a cap of 2048 per shard: at 1000 connections/s both turn over in ~4 s, so
# TIME-WAIT is at its plateau after a few seconds and SYNs keep meeting TIME-WAIT
# entries (lwip-port/tcp_tw.c reopens them) while others are trimmed at the cap. The 1 h
# run (SOAK_MAX_TIME_WAIT=default SOAK_CLIENT_PORTS=default) is the issue's case: ports
# come back after ~28 s while TIME-WAIT holds them 60 s, and TIME-WAIT grows for 60 s to
# ~60,000 entries before it is flat.
IT_NAME=soak
. "$(dirname "$0")/../integration/lib.sh"

SERVER=${1:?usage: soak.sh MLW_SOAK_HTTP_SERVER}
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${SOAK_SECONDS:-60}
ROUND=${SOAK_ROUND:-2000}
CONC=${SOAK_CONC:-8}
RATE=${SOAK_RATE:-1000}
KA_CONNS=${SOAK_KA_CONNS:-32}
KA_RATE=${SOAK_KA_RATE:-500}
INTERVAL=${SOAK_INTERVAL_MS:-2000}
TW_CAP=${SOAK_MAX_TIME_WAIT:-2048}
CPORTS=${SOAK_CLIENT_PORTS:-40000 44095}
if [ "$TW_CAP" = default ]; then WARMUP=${SOAK_WARMUP:-90}; else WARMUP=${SOAK_WARMUP:-15}; fi
it_require_no_tsan
it_require_root_netns
it_require_cmd ab ping ethtool timeout python3 curl

OUT=${SOAK_OUT:-$IT_TMP/out}
mkdir -p "$OUT"
MLW_ADDR=10.93.0.2
PEER_ADDR=10.93.0.1
PORT=8080
it_netns_pair sk "$PEER_ADDR/24"
PREFIX="mlwsoak_$$"
it_config "$IT_TMP/soak.ini" "$PREFIX" "net_af_packet0,iface=$IF_M,qpairs=2" 2 "$MLW_ADDR/24" "$PEER_ADDR"
[ "$TW_CAP" = default ] || sed -i "/^\[stack\]/a max_time_wait = $TW_CAP" "$IT_TMP/soak.ini"
[ "$CPORTS" = default ] || ip netns exec "$NS_P" sysctl -qw net.ipv4.ip_local_port_range="$CPORTS" ||
	it_fail "cannot set the client's port range to '$CPORTS'"
# The server runs SECS + 60 s at most (its own --duration), stopped by SIGTERM after the load.
it_start mlw_soak_http_server "$OUT/server.log" \
	ip netns exec "$NS_M" env MLW_SOAK_CSV="$OUT/samples.csv" MLW_SOAK_INTERVAL_MS="$INTERVAL" \
	timeout -k 10 $((SECS + 90)) "$SERVER" "$IT_TMP/soak.ini" --port "$PORT" --duration $((SECS + 60))
SPID=$IT_LAST_PID
it_wait_log "$OUT/server.log" "soak sampler: every" 30 "$SPID"
it_wait_ping "$NS_P" "$MLW_ADDR" 15
URL="http://$MLW_ADDR:$PORT/"
for _ in $(seq 20); do
	ip netns exec "$NS_P" curl -s -m 2 -o /dev/null "$URL" && break
	sleep 0.5
done
ip netns exec "$NS_P" curl -s -m 5 -o /dev/null "$URL" || it_fail "the server does not answer $URL"

it_log "soak: ${SECS}s, churn rounds of $ROUND connections (ab -c $CONC, at most $RATE/s)," \
	"$KA_CONNS keep-alive connections at $KA_RATE requests/s, samples every ${INTERVAL} ms," \
	"max_time_wait $TW_CAP, client ports $CPORTS"
T0=$(date +%s)
ip netns exec "$NS_P" timeout -k 5 $((SECS + 30)) python3 "$HERE/soak_ka.py" "$MLW_ADDR" "$PORT" \
	"$KA_CONNS" "$KA_RATE" "$SECS" >"$OUT/ka.log" 2>&1 &
KPID=$!

# Churn rounds until SECS have passed. A round is ab -n ROUND without keep-alive; its
# result goes to rounds.csv (round, start s, seconds, connections asked, complete, failed, ab exit code,
# refused: 1 if ab said "Connection refused", timed out: 1 if ab said "timed out" or
# was killed).
echo "round,start_s,seconds,n,complete,failed,rc,refused,timedout" >"$OUT/rounds.csv"
round=0
while :; do
	now=$(date +%s)
	[ $((now - T0)) -lt "$SECS" ] || break
	round=$((round + 1))
	rs=$(date +%s.%N)
	ip netns exec "$NS_P" timeout -k 5 60 ab -q -r -s 10 -n "$ROUND" -c "$CONC" "$URL" \
		>"$IT_TMP/ab.log" 2>&1
	rc=$?
	re=$(date +%s.%N)
	complete=$(awk '/^Complete requests:/ { print $3 }' "$IT_TMP/ab.log")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$IT_TMP/ab.log")
	refused=0
	grep -q -i "refused" "$IT_TMP/ab.log" && refused=1
	timedout=0
	{ grep -q -i "timed out\|timeout" "$IT_TMP/ab.log" || [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && timedout=1
	dur=$(awk -v a="$rs" -v b="$re" 'BEGIN { printf "%.2f", b - a }')
	echo "$round,$(awk -v a="$rs" -v t="$T0" 'BEGIN { printf "%.1f", a - t }'),$dur,$ROUND,${complete:-0},${failed:-0},$rc,$refused,$timedout" \
		>>"$OUT/rounds.csv"
	if [ "$rc" -ne 0 ] || [ "${complete:-0}" != "$ROUND" ] || [ "${failed:-1}" != 0 ]; then
		cp "$IT_TMP/ab.log" "$OUT/ab-round$round.log"
		it_log "round $round: ab exit $rc, complete ${complete:-?}, failed ${failed:-?} (ab-round$round.log)"
	fi
	# Pace: a round takes at least ROUND/RATE seconds.
	awk -v d="$dur" -v n="$ROUND" -v r="$RATE" 'BEGIN { w = n / r - d; if (w > 0) printf "%.2f\n", w; else print 0 }' |
		xargs sleep
done
wait "$KPID"
KRC=$?
T1=$(date +%s)
cat "$OUT/ka.log"

it_stop "$SPID" "$OUT/server.log"
SRC=$?
tail -n 12 "$OUT/server.log"
echo "$(date -u +%FT%TZ) soak ${SECS}s (load ran $((T1 - T0)) s): ROUND=$ROUND CONC=$CONC RATE=$RATE" \
	"KA_CONNS=$KA_CONNS KA_RATE=$KA_RATE INTERVAL_MS=$INTERVAL MAX_TIME_WAIT=$TW_CAP" \
	"CLIENT_PORTS='$CPORTS' WARMUP=$WARMUP" >"$OUT/summary.txt"
[ "$TW_CAP" = default ] && TW_CAP=131072
python3 "$HERE/soak_check.py" "$OUT/samples.csv" "$OUT/rounds.csv" "$WARMUP" "$TW_CAP" \
	>>"$OUT/summary.txt" 2>&1
CRC=$?
cat "$OUT/summary.txt"
[ $SRC -eq 0 ] || it_fail "mlw_soak_http_server exited $SRC"
grep -q "mlwip: stopped (clean)" "$OUT/server.log" || it_fail "server did not stop clean"
it_check_clean "$OUT/server.log"
[ $KRC -eq 0 ] || it_fail "the keep-alive client saw errors (ka.log above)"
[ $CRC -eq 0 ] || it_fail "soak_check.py: see above"
it_log "PASS: $round rounds, $(awk -F, 'NR > 1 { s += $5 } END { print s }' "$OUT/rounds.csv") churn connections," \
	"$(awk '/^ka:/ { print $5; exit }' "$OUT/ka.log") keep-alive requests in $((T1 - T0)) s; resources flat"
