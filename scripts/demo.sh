#!/bin/sh
# demo.sh - install dependencies, build mlwip and run the demos:
#  1. independent lwIP instances, one per thread, moving data in pairs
#     (per-shard throughput);
#  2. lwIP's own lwiperf and httpd on 2 shards over DPDK (net_af_packet on a
#     veth pair), with curl and iperf as Linux peers in a network namespace
#     (needs root; skipped otherwise).
# Extra arguments go to the first demo (see its --help).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
mkdir -p build
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/plain.configure.log 2>&1 ||
	{ cat build/plain.configure.log; exit 1; }
cmake --build build/plain -j "$(nproc)" >build/plain.build.log 2>&1 ||
	{ tail -n 60 build/plain.build.log; exit 1; }
echo "=== demo 1: independent lwIP instances on threads"
build/plain/contrib/demo/mlw_instances_demo "$@"
echo
echo "=== demo 2: lwiperf and httpd on 2 shards, Linux peers in a namespace"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root to create a network namespace"
	exit 0
fi
exec sh contrib/lwip-apps/demo.sh build/plain
