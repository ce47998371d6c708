#!/bin/bash
# telemetry_bench.sh BUILD [PAIRS] [SIZE] - what reading the telemetry costs a
# running stack: contrib/bench/run.py's rr run (mlwip-2: 2-shard client and
# server over net_memif, SIZE connections, default 16) PAIRS times (default
# 3) without and with contrib/bench/telemetry_load.py reading the server's
# /mlwip/stats and /mlwip/conns at 100 Hz, alternated (off, on, off, on...)
# so that the machine's drift falls on both. Prints each run's transactions
# per second, the reader's own figures, and the ratio of the means (on/off).
# A benchmark, not a test: needs root (run.py does); BUILD must hold
# contrib/bench/app/mlw_bench.
set -u
BUILD=${1:?usage: telemetry_bench.sh BUILD [PAIRS] [SIZE]}
PAIRS=${2:-3}
SIZE=${3:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d /tmp/mlw_telbench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

run() {	# run TAG -> prints tps
	local tag=$1 lpid=""
	if [ "$tag" = on ]; then
		python3 "$HERE/telemetry_load.py" --hz 100 >"$OUT/load_$2.json" 2>&1 &
		lpid=$!
	fi
	python3 "$HERE/run.py" --build "$BUILD" --configs mlwip-2 --workloads rr --sizes "rr=$SIZE" \
		--duration 5 --no-callgrind --out "$OUT/run_$2" >"$OUT/run_$2.log" 2>&1
	if [ -n "$lpid" ]; then
		kill -TERM "$lpid"
		wait "$lpid"
	fi
	python3 - "$OUT/run_$2/results.json" <<'EOF'
import json, sys
try:
    runs = json.load(open(sys.argv[1]))["runs"]
    print(next(r["client"]["tps"] for r in runs if r["status"] == "ok"))
except Exception as e:
    print("nan")
EOF
}

off=() on=()
for ((i = 0; i < PAIRS; i++)); do
	a=$(run off "off$i")
	b=$(run on "on$i")
	off+=("$a")
	on+=("$b")
	echo "pair $i: without $a tps, with 100 Hz reads $b tps; reader: $(cat "$OUT/load_on$i.json")"
done
python3 - "${off[*]}" "${on[*]}" <<'EOF'
import sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
mo, mn = sum(off) / len(off), sum(on) / len(on)
print(f"mean without {mo:.0f} tps, with {mn:.0f} tps: ratio {mn / mo:.3f}")
EOF
