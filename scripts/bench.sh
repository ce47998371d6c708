#!/bin/sh
# bench.sh - install dependencies, build mlwip for speed (Release, no
# sanitizers) in build/bench-release and run the benchmark suite
# (contrib/bench/run.py: mlwip against Linux TCP, the raw net_memif limit,
# callgrind instructions per transaction) as root. Arguments go to run.py;
# scripts/bench.sh --help lists them. The report lands in build/bench/<time>/.
set -eu
cd "$(dirname "$0")/.."
for a in "$@"; do
	case $a in
	-h|--help) exec python3 contrib/bench/run.py --help ;;
	esac
done
scripts/deps.sh
mkdir -p build
echo "=== mlwip benchmark: release build in build/bench-release"
cmake -S . -B build/bench-release -DCMAKE_BUILD_TYPE=Release -DMLW_SANITIZE= \
	>build/bench-release.configure.log 2>&1 ||
	{ cat build/bench-release.configure.log; exit 1; }
cmake --build build/bench-release -j "$(nproc)" --target mlw_bench mlw_rawio \
	>build/bench-release.build.log 2>&1 ||
	{ tail -n 60 build/bench-release.build.log; exit 1; }
echo "=== mlwip benchmark: running the suite (needs root: network namespaces, DPDK)"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "bench.sh: run as root (or install sudo)" >&2; exit 1; }
	SUDO=sudo
fi
exec $SUDO python3 contrib/bench/run.py --build build/bench-release "$@"
