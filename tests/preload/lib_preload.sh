# lib_preload.sh - helpers for the LD_PRELOAD layer's tests (sourced after tests/integration/lib.sh).

# pl_env LIB: the environment that runs a program on mlwip through LIB.
# ASan builds: the sanitizer's runtime must come first in the process, so
# it is preloaded before the layer (the program itself is not
# instrumented); leak checking is off, since the program's own
# allocations at exit are not the layer's.
pl_preload() {
	local lib=$1
	if [ "${MLW_SANITIZE:-}" = address ]; then
		local asan
		asan=$(gcc -print-file-name=libasan.so)
		[ -e "$asan" ] || it_skip "ASan build: gcc's libasan.so (to preload before the layer) is not found"
		echo "$asan:$lib"
	else
		echo "$lib"
	fi
}

# pl_check_config_errors LIB PROG...: the layer refuses to run without a
# configuration and with a bad one (message on stderr, exit status != 0).
pl_check_config_errors() {
	local lib=$1 rc out
	shift
	out=$(env -u MLWIP_CONFIG LD_PRELOAD="$(pl_preload "$lib")" ASAN_OPTIONS=detect_leaks=0 \
		timeout 20 "$@" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || it_fail "no MLWIP_CONFIG: exit status 0"
	echo "$out" | grep -q "MLWIP_CONFIG is not set" || { echo "$out"; it_fail "no MLWIP_CONFIG: no message"; }
	printf '[stack]\nshards = one\n' >"$IT_TMP/bad.ini"
	out=$(env MLWIP_CONFIG="$IT_TMP/bad.ini" LD_PRELOAD="$(pl_preload "$lib")" ASAN_OPTIONS=detect_leaks=0 \
		timeout 20 "$@" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || it_fail "bad configuration: exit status 0"
	echo "$out" | grep -q "bad configuration: .*bad.ini" || { echo "$out"; it_fail "bad configuration: no message"; }
	it_log "missing and bad configuration: refused with a message (exit $rc)"
}

# pl_cpu_ticks PID: user + system clock ticks the process has used.
pl_cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# pl_check_idle PID SECONDS MAX_PERCENT: the idle server uses at most
# MAX_PERCENT of one core over SECONDS (the shard's idle policy).
pl_check_idle() {
	local pid=$1 secs=$2 max=$3 t0 t1 hz pct
	hz=$(getconf CLK_TCK)
	t0=$(pl_cpu_ticks "$pid")
	sleep "$secs"
	t1=$(pl_cpu_ticks "$pid")
	pct=$(( (t1 - t0) * 100 / (hz * secs) ))
	it_log "idle for ${secs}s: ${pct}% of a core"
	[ "$pct" -le "$max" ] || it_fail "idle server used ${pct}% of a core (limit ${max}%)"
}

# pl_child PID: the program under 'ip netns exec ... timeout': timeout's child.
pl_child() {
	local i c
	for i in $(seq 50); do
		c=$(pgrep -P "$1" | head -n 1)
		[ -n "$c" ] && { echo "$c"; return; }
		sleep 0.1
	done
	it_fail "no child of $1"
}
