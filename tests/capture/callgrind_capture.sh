#!/bin/bash
# callgrind_capture.sh NEW_MLW_BENCH [OLD_MLW_BENCH] [TRANSACTIONS] - the
# capture's cost in instructions: the mlwip server (mlw_bench, 1 shard, core
# 0, idle = poll) under callgrind, counting only its shard thread
# (--toggle-collect=mlw__shard_main), a native mlwip client (core 1) doing
# exactly TRANSACTIONS (default 2000) rr transactions at C=1 over
# net_memif; runs: old (OLD_MLW_BENCH, a build without capture, when
# given), off (no capture), on ([capture] start = on). Prints, per run, the
# calls and instructions per call of the functions on the capture's path:
# poll_rx and send_some (where the off test sits), mlw__capture_rx (per RX
# burst; C=1: one frame), mlw__capture_tx_copy + _commit (per TX burst).
# Wall-clock figures on a shared machine swing too much to show an
# instruction or two per pass; these do not depend on the machine's load
# (only the number of idle passes does). TRANSACTIONS = idle: only the
# idle runs. A benchmark: run by hand as root.
set -u
NEW=${1:?usage: callgrind_capture.sh NEW_MLW_BENCH [OLD_MLW_BENCH] [TRANSACTIONS]}
OLD=${2:-}
N=${3:-2000}
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
	{ echo "callgrind_capture.sh: valgrind is not installed (scripts/deps.sh)" >&2; exit 77; }
TMP=$(mktemp -d /tmp/callgrind_capture.XXXXXX)
trap 'rm -rf "$TMP" /var/run/dpdk/mlwcg$$_* 2>/dev/null' EXIT

. "$(dirname "$0")/memif_ini.sh"

run() {	# NAME BIN CAPTURE
	local name=$1 bin=$2 cap=$3 spid i
	ini "$TMP/s.ini" "mlwcg$$_${name}s" server 0 10.79.0.1 02:00:00:4f:00:01 "$cap"
	ini "$TMP/c.ini" "mlwcg$$_${name}c" client 1 10.79.0.2 02:00:00:4f:00:02
	timeout -k 5 400 valgrind --tool=callgrind --toggle-collect=mlw__shard_main \
		--callgrind-out-file="$TMP/$name.out" "$bin" --stack mlwip --role server --config "$TMP/s.ini" \
		--duration 380 --port 9000 --nports 1 >"$TMP/$name.server" 2>&1 &
	spid=$!
	for ((i = 0; i < 120; i++)); do
		grep -q "mlw_bench: server listening" "$TMP/$name.server" && break
		sleep 1
	done
	timeout -k 5 300 "$bin" --stack mlwip --role client --config "$TMP/c.ini" --server 10.79.0.1 --port 9000 \
		--nports 1 --workload rr --conns 1 --msg 64 --transactions "$N" --duration 280 --warmup 0 \
		>"$TMP/$name.client" 2>&1
	kill -INT "$spid"
	wait "$spid"
	grep -q "\"transactions_all\": $N," "$TMP/$name.client" || { tail -5 "$TMP/$name.client"; echo "$name: client failed" >&2; return 1; }
	echo "== $name: $N transactions; $(grep -o 'capture [^:]*: .*' "$TMP/$name.server" | sed 's/^capture [^:]*: //')"
	callgrind_annotate --inclusive=yes --tree=caller --threshold=100 "$TMP/$name.out" 2>/dev/null |
		grep -E '=> .*:(poll_rx|send_some|mlw__capture_rx|mlw__capture_tx_copy|mlw__capture_tx_commit|rte_pcapng_copy) ' |
		sort -u | awk '{ ir = $1; gsub(",", "", ir); c = $NF; gsub(/[(),x]/, "", c); f = $0; sub(/.*=> /, "", f);
			sub(/ \(.*/, "", f); sub(/.*:/, "", f); printf "  %-24s %9d calls %8.1f Ir/call\n", f, c, ir / c }'
}

# NAME BIN: the server alone for 3 s, every pass idle: what one pass costs
# (the capture-off test included) without any traffic to vary it.
idle() {
	local name=$1 bin=$2 spid i
	ini "$TMP/s.ini" "mlwcg$$_${name}i" server 0 10.79.0.1 02:00:00:4f:00:01 ""
	timeout -k 5 400 valgrind --tool=callgrind --toggle-collect=mlw__shard_main \
		--callgrind-out-file="$TMP/$name-idle.out" "$bin" --stack mlwip --role server --config "$TMP/s.ini" \
		--duration 380 --port 9000 --nports 1 >"$TMP/$name-idle.server" 2>&1 &
	spid=$!
	for ((i = 0; i < 120; i++)); do
		grep -q "mlw_bench: server listening" "$TMP/$name-idle.server" && break
		sleep 1
	done
	sleep 3
	kill -INT "$spid"
	wait "$spid"
	echo "== $name, idle (no peer):"
	callgrind_annotate --inclusive=yes --tree=caller --threshold=100 "$TMP/$name-idle.out" 2>/dev/null |
		grep -E '=> .*:(mlw_shard_poll|poll_rx) ' | sort -u |
		awk '{ ir = $1; gsub(",", "", ir); c = $NF; gsub(/[(),x]/, "", c); f = $0; sub(/.*=> /, "", f);
			sub(/ \(.*/, "", f); sub(/.*:/, "", f); printf "  %-24s %9d calls %8.1f Ir/call\n", f, c, ir / c }'
}

[ -n "$OLD" ] && idle old "$OLD"
idle off "$NEW"
[ "$N" = idle ] && exit 0
[ -n "$OLD" ] && run old "$OLD" ""
run off "$NEW" ""
run on "$NEW" on
