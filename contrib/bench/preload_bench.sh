#!/bin/bash
# preload_bench.sh BUILD_DIR [SECONDS] - unmodified servers on mlwip through
# libmlwip-preload.so against the same servers on Linux, over the same veth
# pair (mlwip: net_af_packet on its end; Linux: the kernel's address on it),
# clients in a Linux peer namespace; and the layer's own cost: mlw_bench's
# server on the native mlw_ API against its Linux-socket code run through
# the layer. Prints one table (also in BUILD_DIR/preload_bench.txt).
#
# Rows: redis-benchmark GET and SET at -P 1 and -P 16 (50 connections);
# wrk against nginx (1 KiB file, keep-alive and Connection: close, 50
# connections); mlw_bench rr (64 B, 50 connections). "server CPU us/req"
# is the server process's user + system time over the run divided by the
# requests: on Linux the kernel's TCP work done in softirq outside the
# process is not all counted, on mlwip everything is in the process.
# Needs root (namespaces). Every run is bounded by SECONDS (default 5).
set -u
BUILD=${1:?usage: preload_bench.sh BUILD_DIR [SECONDS]}
SECS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
IT_NAME=preload_bench
. "$HERE/../../tests/integration/lib.sh"
. "$HERE/../../tests/preload/lib_preload.sh"
LIB=$BUILD/preload/libmlwip-preload.so
BENCH=$BUILD/contrib/bench/app/mlw_bench
[ -e "$LIB" ] || it_fail "no $LIB (build the target mlwip_preload)"
it_require_root_netns
it_require_cmd redis-server redis-benchmark nginx wrk ethtool
OUT=$BUILD/preload_bench.txt
ADDR=10.99.0.2
it_netns_pair pb "10.99.0.1/24"
it_config "$IT_TMP/m.ini" "mlwpb_$$" "net_af_packet0,iface=$IF_M" 1 "$ADDR/24"
ROWS=""
row() { ROWS="$ROWS$(printf '%-34s %-6s %12s %10s\n' "$1" "$2" "$3" "$4")
"; }

# start_server STACK NAME CMD...: on mlwip (through the layer) or Linux.
start_server() {
	local stack=$1 name=$2
	shift 2
	if [ "$stack" = mlwip ]; then
		it_start "$name" "$IT_TMP/$name.$stack.log" ip netns exec "$NS_M" timeout -k 5 120 \
			env LD_PRELOAD="$LIB" MLWIP_CONFIG="$IT_TMP/m.ini" "$@"
	else
		it_start "$name" "$IT_TMP/$name.$stack.log" ip netns exec "$NS_M" timeout -k 5 120 "$@"
	fi
	SPID=$IT_LAST_PID
	SRV=$(pl_child "$SPID")
}
stop_server() { it_stop "$SPID" /dev/null >/dev/null 2>&1; }
linux_addr() { ip netns exec "$NS_M" ip addr "$1" "$ADDR/24" dev "$IF_M"; }
wait_port() {
	for _ in $(seq 100); do
		ip netns exec "$NS_P" bash -c "exec 3<>/dev/tcp/$ADDR/$1" 2>/dev/null && return 0
		sleep 0.1
	done
	it_fail "nothing listens on $ADDR:$1"
}

redis_rows() {
	local stack=$1 p t0 t1 line rps n
	start_server "$stack" redis redis-server --port 6379 --bind "$ADDR" --save '' --appendonly no \
		--protected-mode no --daemonize no --dir "$IT_TMP"
	wait_port 6379
	for p in 1 16; do
		for t in get set; do
			n=$((SECS * 40000 * (p == 16 ? 4 : 1)))
			t0=$(pl_cpu_ticks "$SRV")
			line=$(ip netns exec "$NS_P" timeout $((SECS * 6)) redis-benchmark -h "$ADDR" -q -c 50 \
				-P "$p" -t "$t" -n "$n" 2>&1 | tr '\r' '\n' | grep "requests per second" | tail -n 1)
			t1=$(pl_cpu_ticks "$SRV")
			rps=$(echo "$line" | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
			row "redis-benchmark $t -P $p" "$stack" "$rps" \
				"$(awk -v d=$((t1 - t0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')"
		done
	done
	stop_server
}

nginx_rows() {
	local stack=$1 h t0 t1 reqs rps hdr
	mkdir -p "$IT_TMP/www" "$IT_TMP/ng"
	head -c 1024 /dev/urandom >"$IT_TMP/www/f1k"
	cat >"$IT_TMP/ng/nginx.conf" <<EOC
daemon off; master_process off; worker_processes 1;
error_log $IT_TMP/ng/error.log crit; pid $IT_TMP/ng/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; keepalive_requests 1000000;
  client_body_temp_path $IT_TMP/ng/b; proxy_temp_path $IT_TMP/ng/p; fastcgi_temp_path $IT_TMP/ng/f;
  uwsgi_temp_path $IT_TMP/ng/u; scgi_temp_path $IT_TMP/ng/s;
  server { listen $ADDR:8080; root $IT_TMP/www; } }
EOC
	start_server "$stack" nginx nginx -c "$IT_TMP/ng/nginx.conf" -p "$IT_TMP/ng"
	wait_port 8080
	for h in keep-alive close; do
		t0=$(pl_cpu_ticks "$SRV")
		hdr=()
		[ "$h" = close ] && hdr=(-H "Connection: close")
		ip netns exec "$NS_P" timeout $((SECS + 20)) wrk -t1 -c50 -d"${SECS}s" "${hdr[@]}" \
			"http://$ADDR:8080/f1k" >"$IT_TMP/wrk.log" 2>&1
		t1=$(pl_cpu_ticks "$SRV")
		reqs=$(awk '/requests in/ { print $1 }' "$IT_TMP/wrk.log")
		rps=$(awk '/Requests\/sec/ { print $2 }' "$IT_TMP/wrk.log")
		grep -qE "Socket errors|Non-2xx" "$IT_TMP/wrk.log" && rps="$rps(err)"
		row "wrk nginx 1 KiB $h" "$stack" "$rps" \
			"$(awk -v d=$((t1 - t0)) -v n="${reqs:-1}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')"
	done
	stop_server
}

# The layer's cost: one program (mlw_bench's server), native mlw_ calls
# against its POSIX-socket code through the layer, same stack underneath.
bench_rows() {
	local how=$1 t0 t1 res tps
	if [ "$how" = native ]; then
		it_start mlw_bench "$IT_TMP/b.log" ip netns exec "$NS_M" timeout -k 5 120 \
			"$BENCH" --stack mlwip --role server --config "$IT_TMP/m.ini" --bind "$ADDR"
	else
		it_start mlw_bench "$IT_TMP/b.log" ip netns exec "$NS_M" timeout -k 5 120 \
			env LD_PRELOAD="$LIB" MLWIP_CONFIG="$IT_TMP/m.ini" \
			"$BENCH" --stack linux --threads 1 --role server --bind "$ADDR"
	fi
	SPID=$IT_LAST_PID
	SRV=$(pl_child "$SPID")
	wait_port 9000
	t0=$(pl_cpu_ticks "$SRV")
	res=$(ip netns exec "$NS_P" timeout $((SECS + 30)) "$BENCH" --stack linux --role client --server "$ADDR" \
		--workload rr --conns 50 --duration "$SECS" 2>/dev/null | grep '^RESULT')
	t1=$(pl_cpu_ticks "$SRV")
	tps=$(echo "$res" | sed -E 's/.*"tps": ?([0-9.]+).*/\1/')
	row "mlw_bench rr 64 B, 50 conns" "$how" "$tps" \
		"$(awk -v d=$((t1 - t0)) -v t="$tps" -v s="$SECS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", d / hz * 1e6 / (t * s) }')"
	stop_server
}

redis_rows mlwip
nginx_rows mlwip
if [ -x "$BENCH" ]; then
	bench_rows native
	bench_rows preload
fi
linux_addr add
redis_rows linux
nginx_rows linux
linux_addr del
{
	echo "preload benchmark: $(date -u +%FT%TZ), $(nproc) cores, ${SECS}s runs, veth + net_af_packet, 1 shard"
	printf '%-34s %-6s %12s %10s\n' "workload" "stack" "req/s" "server CPU us/req"
	printf '%s' "$ROWS" | sort -s -k1,4
} | tee "$OUT"
