#!/bin/sh
# bench.sh - install dependencies, build mlwip for speed (Release, no
# sanitizers) in build/bench-release and run the benchmark suite
# (contrib/bench/run.py: mlwip against Linux TCP, the raw net_memif limit,
# callgrind instructions per transaction) as root. Arguments go to run.py;
# scripts/bench.sh --help lists them. The report lands in build/bench/<time>/.
set -eu
cd "$(dirname "$0")/.."
preload=""
idle=""
engine=""
for a in "$@"; do
	case $a in
	-h|--help) python3 contrib/bench/run.py --help
		echo "scripts/bench.sh --preload [SECONDS]: redis and nginx on mlwip through libmlwip-preload.so against Linux (contrib/bench/preload_bench.sh)"
		echo "scripts/bench.sh --idle [N_BACK_TO_BACK N_PACED GAP_MS]: what [stack] idle costs: rr C=1 back to back and paced (wake-up), idle CPU, poll/backoff/interrupt with 2 and 4 shards on 2 cores (contrib/bench/idle/idle_bench.sh)"
		echo "scripts/bench.sh --engine afpacket [run.py options]: the kernel engine: mlwip over AF_PACKET on a veth pair against Linux over the same kind of veth (configurations mlwip-afp-1, mlwip-afp-2, linux-veth-1, linux-veth; rr C=1,64,1024, crr, stream, CPU per transaction; no callgrind)"
		exit 0 ;;
	--preload) preload=1 ;;
	--idle) idle=1 ;;
	--engine) engine=next ;;
	*) [ "$engine" = next ] && engine=$a ;;
	esac
done
case $engine in
"" | dpdk) engine="" ;;
afpacket) ;;
*) echo "bench.sh: --engine takes dpdk or afpacket" >&2; exit 2 ;;
esac
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
if [ -n "$idle" ]; then
	cmake --build build/bench-release -j "$(nproc)" --target mlw_epoll_echo mlw_idle_rr \
		>>build/bench-release.build.log 2>&1 ||
		{ tail -n 60 build/bench-release.build.log; exit 1; }
	shift	# --idle comes first: scripts/bench.sh --idle [N_BACK_TO_BACK N_PACED GAP_MS]
	echo "=== mlwip benchmark: idle policies (rr C=1 back to back and paced, idle CPU)"
	exec $SUDO bash contrib/bench/idle/idle_bench.sh build/bench-release "$@"
fi
if [ -n "$preload" ]; then
	cmake --build build/bench-release -j "$(nproc)" --target mlwip_preload >>build/bench-release.build.log 2>&1 ||
		{ tail -n 60 build/bench-release.build.log; exit 1; }
	shift	# --preload comes first: scripts/bench.sh --preload [SECONDS]
	echo "=== mlwip benchmark: unmodified servers through the LD_PRELOAD layer against Linux"
	exec $SUDO bash contrib/bench/preload_bench.sh build/bench-release "$@"
fi
if [ -n "$engine" ]; then
	shift 2	# --engine afpacket comes first
	echo "=== mlwip benchmark: the kernel engine (AF_PACKET on veth) against Linux on veth"
	exec $SUDO python3 contrib/bench/run.py --build build/bench-release \
		--configs mlwip-afp-1,mlwip-afp-2,linux-veth-1,linux-veth --workloads rr,crr,stream \
		--sizes rr=1,64,1024 --no-callgrind "$@"
fi
exec $SUDO python3 contrib/bench/run.py --build build/bench-release "$@"
