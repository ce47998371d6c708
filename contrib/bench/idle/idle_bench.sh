#!/bin/bash
# idle_bench.sh BUILD_DIR [N_BACK_TO_BACK] [N_PACED] [GAP_MS] - what [stack]
# idle costs: mlw_epoll_echo (mlwip, net_tap in a namespace this script makes
# and removes) against a Linux client (mlw_idle_rr) over the tap, one
# connection, 64-byte exchanges, for each configuration:
#   poll-2      2 shards on cores 0,1, idle = poll (one polling thread per core)
#   backoff-2   2 shards on cores 0,1, idle = backoff
#   interrupt-2 2 shards on cores 0,1, idle = interrupt
#   backoff-4   4 shards on cores 0,1,0,1 (two per core), idle = backoff
#   interrupt-4 4 shards on cores 0,1,0,1, idle = interrupt
# and reports: rr C=1 back to back (p50/p99), rr C=1 with GAP_MS between
# exchanges (every exchange meets an idle server: the wake-up), and the
# server's CPU while idle (all its threads, 3 s, from /proc/PID/task/*/schedstat).
# CONFIGS="poll-2 interrupt-4" runs only those. Run as root. Figures depend
# on the machine's load: compare within one run.
set -u
BUILD=${1:?usage: idle_bench.sh BUILD_DIR [N_BACK_TO_BACK] [N_PACED] [GAP_MS]}
NB=${2:-20000}
NP=${3:-200}
GAP_MS=${4:-20}
ECHO=$BUILD/contrib/socket-apps/mlw_epoll_echo
RR=$BUILD/contrib/bench/mlw_idle_rr
[ -x "$ECHO" ] && [ -x "$RR" ] || { echo "idle_bench: build mlw_epoll_echo and mlw_idle_rr in $BUILD" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "idle_bench: needs root (network namespace, net_tap)" >&2; exit 1; }
NS="mlwidleb$$"
TAP="mib$$"
TMP=$(mktemp -d /tmp/idle_bench.XXXXXX)
SPID=""
cleanup() {
	[ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "/var/run/dpdk/mlwidleb$$" "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up

proc_cpu_ns() {	# PID -> CPU ns of all its threads
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

run() {	# NAME SHARDS CORES IDLE
	local name=$1 shards=$2 cores=$3 idle=$4 epid c0 c1 t0 t1 b2b paced cpu
	cat >"$TMP/echo.ini" <<INI
[eal]
args = --no-huge --no-pci -m 512 --file-prefix=mlwidleb$$ --vdev=net_tap0,iface=$TAP
[stack]
shards = $shards
cores = $cores
idle = $idle
[port0]
ipv4 = 10.95.0.2/24
INI
	ip netns exec "$NS" timeout -k 5 300 "$ECHO" "$TMP/echo.ini" --duration 280 >"$TMP/$name.log" 2>&1 &
	SPID=$!
	for ((i = 0; i < 300; i++)); do
		grep -q "shard 0: echo listening" "$TMP/$name.log" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1"
	ip netns exec "$NS" ip addr add 10.95.0.1/24 dev "$TAP"
	ip netns exec "$NS" ip link set "$TAP" up
	ip netns exec "$NS" ethtool -K "$TAP" tx off rx off tso off gso off gro off >/dev/null 2>&1
	ip netns exec "$NS" ping -c 3 -i 0.2 -W 1 10.95.0.2 >/dev/null 2>&1 || echo "idle_bench: $name: no ping answer" >&2
	epid=$(pgrep -P "$SPID" -x mlw_epoll_echo)
	sleep 1
	c0=$(proc_cpu_ns "$epid"); t0=$(date +%s%N)
	sleep 3
	c1=$(proc_cpu_ns "$epid"); t1=$(date +%s%N)
	cpu=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", 100 * c / t }')
	b2b=$(ip netns exec "$NS" "$RR" 10.95.0.2 7007 "$NB" 0)
	paced=$(ip netns exec "$NS" "$RR" 10.95.0.2 7007 "$NP" $((GAP_MS * 1000)))
	kill -TERM "$SPID"; wait "$SPID"; SPID=""
	[ -n "${IDLE_BENCH_LOGS:-}" ] && cp "$TMP/$name.log" "$IDLE_BENCH_LOGS/"
	grep "idle:" "$TMP/$name.log" 2>/dev/null | sed "s/^/  $name: /" >&2
	python3 - "$name" "$shards" "$cores" "$idle" "$cpu" "$b2b" "$paced" <<'PY'
import json, sys
name, shards, cores, idle, cpu, b2b, paced = sys.argv[1:]
b, p = json.loads(b2b), json.loads(paced)
print("%-12s %-8s %-8s %-9s %10s %10s %12s %12s %12s" % (name, shards, cores, idle, "%.1f" % b["p50_us"],
      "%.1f" % b["p99_us"], "%.1f" % p["p50_us"], "%.1f" % p["p99_us"], cpu))
PY
}

echo "mlw_epoll_echo on net_tap <- Linux mlw_idle_rr, 1 connection, 64 B; back to back: $NB exchanges;" \
	"paced: $NP exchanges $GAP_MS ms apart; idle CPU: % of one core, all server threads, 3 s; $(nproc) cores;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-12s %-8s %-8s %-9s %10s %10s %12s %12s %12s\n" config shards cores idle "b2b p50" "b2b p99" \
	"paced p50" "paced p99" "idle CPU %"
for c in ${CONFIGS:-poll-2 backoff-2 interrupt-2 backoff-4 interrupt-4}; do
	case $c in
	poll-2) run poll-2 2 0,1 poll ;;
	backoff-2) run backoff-2 2 0,1 backoff ;;
	interrupt-2) run interrupt-2 2 0,1 interrupt ;;
	backoff-4) run backoff-4 4 0,1,0,1 backoff ;;
	interrupt-4) run interrupt-4 4 0,1,0,1 interrupt ;;
	*) echo "idle_bench: unknown configuration $c" >&2; exit 2 ;;
	esac
done
echo "(microseconds; load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
