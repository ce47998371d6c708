#!/bin/bash
# bench_capture.sh NEW_MLW_BENCH [OLD_MLW_BENCH] [SECONDS] [ROUNDS] - what
# capture costs: mlw_bench rr (64 connections, 64-byte requests) between two
# mlwip processes over net_memif, 1 shard each (server core 0, client core
# 1, idle = poll: the bench's mlwip-1), in rounds of
#   old  OLD_MLW_BENCH (a build without capture), when given
#   off  NEW_MLW_BENCH, no capture
#   on   NEW_MLW_BENCH, the server capturing every frame ([capture] start = on)
# Prints each run's transactions/s and, at the end, the median of each and
# the ratios on/off and off/old. A benchmark, not a test: run it by hand as
# root (not from ctest); it bounds itself (timeout per process).
set -u
NEW=${1:?usage: bench_capture.sh NEW_MLW_BENCH [OLD_MLW_BENCH] [SECONDS] [ROUNDS]}
OLD=${2:-}
SECS=${3:-5}
ROUNDS=${4:-3}
TMP=$(mktemp -d /tmp/bench_capture.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$TMP" /var/run/dpdk/mlwbc$$_* 2>/dev/null
}
trap cleanup EXIT

. "$(dirname "$0")/memif_ini.sh"

# run NAME BIN CAPTURE: one rr run; prints "NAME tps dropped/captured".
run() {
	local name=$1 bin=$2 cap=$3 n=$RANDOM tps spid
	ini "$TMP/s.ini" "mlwbc$$_${n}s" server 0 10.78.0.1 02:00:00:4e:00:01 "$cap"
	ini "$TMP/c.ini" "mlwbc$$_${n}c" client 1 10.78.0.2 02:00:00:4e:00:02
	timeout -k 5 $((SECS + 40)) "$bin" --stack mlwip --role server --config "$TMP/s.ini" \
		--duration $((SECS + 30)) --port 9000 --nports 1 >"$TMP/server.out" 2>"$TMP/server.err" &
	spid=$!
	PIDS="$PIDS $spid"
	sleep 2
	timeout -k 5 $((SECS + 30)) "$bin" --stack mlwip --role client --config "$TMP/c.ini" --server 10.78.0.1 \
		--port 9000 --nports 1 --workload rr --conns 64 --msg 64 --duration "$SECS" --warmup 0.5 \
		>"$TMP/client.out" 2>"$TMP/client.err"
	kill -INT "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	tps=$(sed -n 's/^RESULT .*"tps": \([0-9.]*\).*/\1/p' "$TMP/client.out")
	[ -n "$tps" ] || { tail -n 5 "$TMP/client.err" "$TMP/server.err"; echo "$name: no RESULT" >&2; return 1; }
	echo "$name $tps $(grep -o 'mlwip: capture .*' "$TMP/server.err" | sed 's/.*: //')"
	echo "$name $tps" >>"$TMP/all"
	rm -f "$TMP/cap.pcapng" "/var/run/dpdk/mlwbc$$_${n}s" "/var/run/dpdk/mlwbc$$_${n}c" -r
}

echo "rr C=64 msg=64, ${SECS} s per run, $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < ROUNDS; r++)); do
	[ -n "$OLD" ] && run old "$OLD" ""
	run off "$NEW" ""
	run on "$NEW" on
done
median() { awk -v n="$1" '$1 == n { print $2 }' "$TMP/all" | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
OFF=$(median off)
ON=$(median on)
echo "median tps: off $OFF, on $ON; on/off $(awk -v a="$ON" -v b="$OFF" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
if [ -n "$OLD" ]; then
	OLDM=$(median old)
	echo "median tps: old $OLDM; off/old $(awk -v a="$OFF" -v b="$OLDM" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
fi
