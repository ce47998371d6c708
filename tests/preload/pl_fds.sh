#!/bin/bash
# pl_fds.sh PL_FDS LIB - pl_fds natively (127.0.0.1) and under the layer
# (one shard on net_ring0, its address 10.0.0.2): every check must hold.
IT_NAME=pl_fds
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_preload.sh"

PROG=${1:?usage: pl_fds.sh PL_FDS LIB}
LIB=${2:?}
it_require_no_tsan
timeout 30 "$PROG" 127.0.0.1 || it_fail "Linux: checks failed"
it_config "$IT_TMP/ring.ini" "mlwplf_$$" net_ring0 1 10.0.0.2/24
timeout 30 env LD_PRELOAD="$(pl_preload "$LIB")" MLWIP_CONFIG="$IT_TMP/ring.ini" MLWIP_STATS=1 \
	ASAN_OPTIONS="detect_leaks=0 abort_on_error=1" "$PROG" 10.0.0.2 >"$IT_TMP/out" 2>&1
rc=$?
cat "$IT_TMP/out"
[ $rc = 0 ] || it_fail "under the layer: checks failed (exit $rc)"
grep -q "inherited across fork() is unusable in the child" "$IT_TMP/out" || it_fail "no message for the child's EBADF"
grep -q "libmlwip-preload: stopped (clean)" "$IT_TMP/out" || it_fail "no clean stop"
it_check_sanitizer "$IT_TMP/out"
it_log "PASS"
