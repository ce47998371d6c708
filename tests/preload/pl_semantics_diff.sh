#!/bin/bash
# pl_semantics_diff.sh PL_SEMANTICS LIB PL_COMPARE - the differential suite's
# bodies on the POSIX calls: natively on Linux's loopback, then under the
# layer on mlwip's (one shard on net_ring0, in-process); the traces must
# match step by step except the intended differences pl_compare.py names.
IT_NAME=pl_semantics_diff
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_preload.sh"

PROG=${1:?usage: pl_semantics_diff.sh PL_SEMANTICS LIB PL_COMPARE}
LIB=${2:?}
CMP=${3:?}
it_require_no_tsan
it_require_cmd python3 timeout

it_config "$IT_TMP/ring.ini" "mlwpls_$$" net_ring0 1 10.0.0.2/24
# The bodies' settle() is a 5 ms epoll_wait; the native suite's settle polls
# the shard for those 5 ms. idle = poll makes the layer's wait do the same.
# (With the default backoff, full_sndbuf's wait.drained found no EPOLLOUT
# once in about ten runs on a loaded machine: probably the drain ended
# during stretched idle sleeps while data was still in flight.)
sed -i 's/^\[stack\]$/[stack]\nidle = poll/' "$IT_TMP/ring.ini"
timeout 120 "$PROG" >"$IT_TMP/linux.trace" 2>"$IT_TMP/linux.err" ||
	{ cat "$IT_TMP/linux.err"; it_fail "native run: exit status $?"; }
timeout 180 env LD_PRELOAD="$(pl_preload "$LIB")" MLWIP_CONFIG="$IT_TMP/ring.ini" MLWIP_STATS=1 \
	ASAN_OPTIONS="detect_leaks=0 abort_on_error=1" \
	"$PROG" >"$IT_TMP/mlwip.trace" 2>"$IT_TMP/mlwip.err" ||
	{ cat "$IT_TMP/mlwip.err"; it_fail "run under the layer: exit status $?"; }
it_check_sanitizer "$IT_TMP/mlwip.err"
grep -q "libmlwip-preload: stopped (clean)" "$IT_TMP/mlwip.err" || { cat "$IT_TMP/mlwip.err"; it_fail "no clean stop"; }
python3 "$CMP" "$IT_TMP/linux.trace" "$IT_TMP/mlwip.trace" || it_fail "traces differ"
it_log "PASS"
