#!/bin/sh
# fuzz.sh - build the libFuzzer harnesses (tests/fuzz: ASan+UBSan, clang, in
# build/fuzz) and run each for a bounded time, one job each, one after the
# other; then print per harness: executions, exec/s, crashes, coverage
# (libFuzzer's cov: edges of the instrumented code reached, of the total
# it loaded; ft: features) and corpus size.
#
# Usage: scripts/fuzz.sh [--smoke | --long SECONDS] [HARNESS ...]
#   --smoke         the test suite's bounded run: 15 s each (the default)
#   --long SECONDS  SECONDS per harness, corpus kept in build/fuzz/corpus
#   HARNESS         input icmp steer ini (default: all four)
# Seeds are made by tests/fuzz/seeds.py (crafted, plus frames from the pcap
# captures the test suite left under build/ and $FUZZ_PCAPS, if any).
# Crashing inputs are written to build/fuzz/artifacts/. Exits 1 if any
# harness crashed or did not run, 77 if clang or libFuzzer is missing (a
# shard harness whose DPDK stack cannot start is listed as skipped).
set -eu
cd "$(dirname "$0")/.."

secs=15
mode=smoke
case ${1:-} in
--smoke) shift ;;
--long) secs=${2:?--long needs SECONDS}; mode=long; shift 2 ;;
-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
esac
harnesses=${*:-input icmp steer ini}

CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "SKIP: fuzz.sh: clang not found (Debian package clang)"
	exit 77
fi
rt=$("$CC" -print-runtime-dir 2>/dev/null || true)
if [ ! -f "$rt/libclang_rt.fuzzer_no_main-x86_64.a" ]; then
	echo "SKIP: fuzz.sh: libFuzzer not found in '$rt' (Debian package libfuzzer-14-dev)"
	exit 77
fi

B=build/fuzz
mkdir -p build
echo "=== fuzz: configure and build $B (clang, ASan+UBSan, -fsanitize=fuzzer)"
CC=$CC cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLW_SANITIZE=address -DMLW_FUZZ=ON \
	-DMLW_LWIP_VERSION="${MLW_LWIP_VERSION:-2.2.1}" >"$B.configure.log" 2>&1 ||
	{ cat "$B.configure.log"; exit 1; }
targets=""
for h in $harnesses; do targets="$targets fuzz_$h"; done
# shellcheck disable=SC2086
cmake --build "$B" -j "$(nproc)" --target $targets >"$B.build.log" 2>&1 ||
	{ tail -n 60 "$B.build.log"; exit 1; }

# Seeds, made afresh; captures of the test suite's runs when there are any.
pcaps=$(find build -maxdepth 6 \( -name '*.pcap' -o -name '*.pcapng' \) -size -64M 2>/dev/null | head -n 8 || true)
rm -rf "$B/seeds"
# shellcheck disable=SC2086
python3 tests/fuzz/seeds.py "$B/seeds" $pcaps ${FUZZ_PCAPS:-}
mkdir -p "$B/artifacts" "$B/logs"

# Sanitizer reports end the run (libFuzzer saves the input); leaks of one
# input are LeakSanitizer's (malloc) and the harness's own heap check
# (fuzz_shard.c, the shard heap).
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
skipped=""
summary=""
for h in $harnesses; do
	bin="$B/tests/fuzz/fuzz_$h"
	log="$B/logs/$h.$mode.log"
	if [ "$mode" = long ]; then
		corpus="$B/corpus/$h"
	else
		corpus="$B/corpus-smoke/$h"
		rm -rf "$corpus"
	fi
	mkdir -p "$corpus"
	dict=""
	[ "$h" = ini ] && dict="-dict=$B/seeds/ini.dict"
	# Inputs that once crashed (tests/fuzz/repro/HARNESS-*) run first in
	# every run, smoke included: a regression fails the step.
	repro="$B/repro/$h"
	rm -rf "$repro"
	mkdir -p "$repro"
	cp tests/fuzz/repro/"$h"-* "$repro"/ 2>/dev/null || true
	echo "=== fuzz: $h for $secs s"
	before=$(ls "$B/artifacts" | grep -c "^$h-" || true)
	# -timeout: an input that takes longer than 120 s is reported as a hang (a
	# busy 2-CPU VM stalled a 0.1 s input for 11 s).
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=120 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$B/artifacts/$h-" $dict "$corpus" "$B/seeds/$h" "$repro" >"$log" 2>&1 || rc=$?
	rc=${rc:-0}
	after=$(ls "$B/artifacts" | grep -c "^$h-" || true)
	crashes=$((after - before))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	total=$(sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -n 1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\)\/.*/\1/p')
	line=$(printf '%-6s %12s %8s %7s %6s/%-6s %7s %6s' "$h" "${runs:-?}" "${eps:-?}" "$crashes" \
		"${cov:-?}" "${total:-?}" "${ft:-?}" "${corp:-?}")
	summary="$summary$line
"
	if [ "$rc" = 77 ] && [ -z "$runs" ] && [ "$crashes" = 0 ]; then
		# A shard harness whose stack could not start (DPDK), as the
		# other DPDK tests skip.
		grep 'did not start' "$log" | tail -n 3
		skipped="$skipped $h"
	elif [ "$rc" != 0 ] || [ "$crashes" != 0 ] || [ -z "$runs" ]; then
		echo "fuzz: $h failed (exit $rc, $crashes crashing inputs in $B/artifacts); the end of $log:"
		grep -v '^EAL\|^TELEMETRY' "$log" | tail -n 40
		status=1
	fi
	unset rc
done
echo "=== fuzz: $mode run, $secs s per harness ($(nproc) CPUs, one job each)"
printf '%-6s %12s %8s %7s %13s %7s %6s\n' harness executions exec/s crashes "cov/total" ft corpus
printf '%s' "$summary"
[ -z "$skipped" ] || echo "fuzz: skipped (the stack did not start):$skipped"
exit $status
