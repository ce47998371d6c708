#!/bin/sh
# demo.sh - install dependencies, build mlwip and run the demo: independent
# lwIP instances, one per thread, moving data in pairs; prints per-shard
# throughput. Extra arguments go to the demo (see --help).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
mkdir -p build
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/plain.configure.log 2>&1 ||
	{ cat build/plain.configure.log; exit 1; }
cmake --build build/plain -j "$(nproc)" --target mlw_instances_demo >build/plain.build.log 2>&1 ||
	{ tail -n 60 build/plain.build.log; exit 1; }
exec build/plain/contrib/demo/mlw_instances_demo "$@"
