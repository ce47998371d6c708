#!/bin/bash
# it_preload_redis.sh LIB - Debian's redis-server, unmodified, on mlwip through
# libmlwip-preload.so (net_af_packet on a veth); redis-cli and
# redis-benchmark from a Linux namespace: SET/GET/INCR/LPUSH/LRANGE and a
# 1 MiB value byte-exact, redis-benchmark -q -n 100000 (every default test)
# without errors, the idle server off the CPU, a clean stop (every mlwip
# socket closed, shard heap empty), and a missing or bad configuration
# refused.
IT_NAME=it_preload_redis
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_preload.sh"

LIB=${1:?usage: it_preload_redis.sh LIBMLWIP_PRELOAD}
it_require_no_tsan
it_require_root_netns
it_require_cmd redis-server redis-cli redis-benchmark ethtool ping timeout cmp
pl_check_config_errors "$LIB" redis-server --port 0 --save ''

ADDR=10.97.0.2
it_netns_pair pr "10.97.0.1/24"
it_config "$IT_TMP/redis.ini" "mlwpr_$$" "net_af_packet0,iface=$IF_M" 1 "$ADDR/24"
# Idle: sleep up to 1 ms between passes (the idle check below).
sed -i 's/^\[stack\]$/[stack]\nidle_sleep_us = 1000/' "$IT_TMP/redis.ini"
it_start redis-server "$IT_TMP/server.log" ip netns exec "$NS_M" timeout -k 10 200 \
	env LD_PRELOAD="$(pl_preload "$LIB")" MLWIP_CONFIG="$IT_TMP/redis.ini" MLWIP_STATS=1 \
	ASAN_OPTIONS="detect_leaks=0 abort_on_error=1" \
	redis-server --port 6379 --bind "$ADDR" --save '' --appendonly no --protected-mode no \
	--daemonize no --dir "$IT_TMP"
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "Ready to accept connections" 30 "$SPID"
it_wait_ping "$NS_P" "$ADDR" 15

cli() { ip netns exec "$NS_P" timeout 20 redis-cli -h "$ADDR" "$@"; }
expect() {
	local want=$1 got
	shift
	got=$(cli "$@") || it_fail "redis-cli $*: exit status $?"
	[ "$got" = "$want" ] || it_fail "redis-cli $*: got '$got', want '$want'"
}
expect PONG PING
expect OK SET greeting hello
expect hello GET greeting
expect 1 INCR counter
expect 2 INCR counter
expect 12 INCRBY counter 10
expect 3 LPUSH list a b c
expect "$(printf 'c\nb\na')" LRANGE list 0 -1
expect 1 DEL greeting
expect "" GET greeting
head -c 1048576 /dev/urandom | base64 -w 0 >"$IT_TMP/big"
ip netns exec "$NS_P" timeout 20 redis-cli -h "$ADDR" -x SET big <"$IT_TMP/big" >/dev/null ||
	it_fail "SET of a 1.4 MB value"
cli --raw GET big | head -c "$(stat -c %s "$IT_TMP/big")" >"$IT_TMP/big.got"
cmp -s "$IT_TMP/big" "$IT_TMP/big.got" || it_fail "GET of the 1.4 MB value differs"
it_log "SET/GET/INCR/LPUSH/LRANGE and a 1.4 MB value: correct"

ip netns exec "$NS_P" timeout 240 redis-benchmark -h "$ADDR" -q -n 100000 >"$IT_TMP/bench.log" 2>&1 ||
	{ cat "$IT_TMP/bench.log"; it_fail "redis-benchmark: exit status $?"; }
tr '\r' '\n' <"$IT_TMP/bench.log" | grep "requests per second" >"$IT_TMP/bench.rps"
cat "$IT_TMP/bench.rps"
n=$(wc -l <"$IT_TMP/bench.rps")
[ "$n" -ge 15 ] || { cat "$IT_TMP/bench.log"; it_fail "redis-benchmark finished $n tests"; }
if tr '\r' '\n' <"$IT_TMP/bench.log" | grep -iE "error|refused|reset" >/dev/null; then
	cat "$IT_TMP/bench.log"
	it_fail "redis-benchmark reported errors"
fi

pl_check_idle "$(pl_child "$SPID")" 3 30

it_stop "$SPID" "$IT_TMP/server.log" || { cat "$IT_TMP/server.log"; it_fail "redis-server exit status $?"; }
grep -q "libmlwip-preload: stopped (clean)" "$IT_TMP/server.log" || { cat "$IT_TMP/server.log"; it_fail "no clean stop"; }
it_check_clean "$IT_TMP/server.log"
it_log "PASS"
