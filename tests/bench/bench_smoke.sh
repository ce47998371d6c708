#!/bin/bash
# bench_smoke.sh RUN_PY MLW_BENCH MLW_RAWIO OUTDIR - the benchmark suite in
# its smallest form (run.py --quick --check): rr, crr, stream and conns once
# each on linux-lo and mlwip-1 for about a second, mlw_rawio both ways for 1 s.
# Passes when every run succeeded with non-zero figures and the report (and,
# with gnuplot installed, the plots) was written. 77 = skipped.
set -u
RUN_PY=${1:?usage: bench_smoke.sh RUN_PY MLW_BENCH MLW_RAWIO OUTDIR}
BENCH=${2:?}
RAWIO=${3:?}
OUT=${4:?}

skip() { echo "[bench_smoke] SKIP: $*"; exit 77; }
fail() { echo "[bench_smoke] FAIL: $*"; exit 1; }

# Same reason as the integration tests (tests/integration/lib.sh): DPDK's
# rte_ring orders memory with barriers TSan does not model.
if [ "${MLW_SANITIZE:-}" = thread ]; then
	skip "ThreadSanitizer build: DPDK's rte_ring (inlined from its headers) uses barriers TSan" \
		"cannot see; the plain and address builds run this test"
fi
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, /var/run/dpdk)"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
command -v ip >/dev/null 2>&1 || skip "iproute2 'ip' is not installed"
command -v taskset >/dev/null 2>&1 || skip "'taskset' (util-linux) is not installed"
probe="mlwbprobe$$"
ip netns add "$probe" 2>/dev/null || skip "cannot create a network namespace"
ip netns del "$probe"

rm -rf "$OUT"
start=$(date +%s)
# run.py bounds every process itself; timeout is the last resort.
timeout -k 10 270 python3 "$RUN_PY" --quick --check --bench "$BENCH" --rawio "$RAWIO" --out "$OUT"
rc=$?
echo "[bench_smoke] run.py exited $rc after $(($(date +%s) - start)) s"
[ $rc -eq 0 ] || fail "run.py --quick --check exited $rc (see the problems above; logs in $OUT/logs)"
[ -s "$OUT/report.md" ] || fail "no report.md"
[ -s "$OUT/results.json" ] || fail "no results.json"
if command -v gnuplot >/dev/null 2>&1; then
	for p in rr_throughput_vs_conns.png rr_latency_cdf.png; do
		[ -s "$OUT/$p" ] || fail "gnuplot is installed but $p was not made"
	done
fi
# Nothing left behind: run.py names its namespaces mlwb<pid>{s,c,l} and its
# DPDK prefixes mlwb<pid>_<n>; any whose run.py is gone is a leak.
for name in $(ip netns list | awk '{ print $1 }') $(ls /var/run/dpdk 2>/dev/null); do
	case $name in
	mlwb[0-9]*) ;;
	*) continue ;;
	esac
	pid=${name#mlwb}
	pid=${pid%%[!0-9]*}
	kill -0 "$pid" 2>/dev/null || fail "$name (namespace or /var/run/dpdk entry) left behind"
done
echo "[bench_smoke] PASS"
