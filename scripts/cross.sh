#!/bin/sh
# cross.sh - cross-build mlwip's DPDK-free parts for ARM with Debian's cross
# toolchain and run their tests under qemu-user (qemu-user-static).
# Usage: scripts/cross.sh arm64|armhf
#   arm64: aarch64-linux-gnu; armhf: arm-linux-gnueabihf (32-bit ARMv7).
# Builds build/cross-ARCH with -DMLW_WITH_DPDK=OFF (the lwIP derivation and
# mlwip_lwip, the allocator, flow, config and runtime libraries, tests/unit but
# test_steer, tests/instances, lwIP's unit suite, tests/derive, the
# shared-nothing checks; see the configure message) and runs ctest there,
# every target program under qemu. Exits non-zero if a test fails.
# Installs what it needs first (scripts/deps.sh cross-ARCH; root or sudo).
set -eu
cd "$(dirname "$0")/.."

case ${1:-} in
arm64) toolchain=aarch64-linux-gnu ;;
armhf) toolchain=arm-linux-gnueabihf ;;
*) echo "usage: scripts/cross.sh arm64|armhf" >&2; exit 2 ;;
esac
arch=$1
scripts/deps.sh "cross-$arch"

# Tests left out under emulation, with the reason (ctest -E by exact name).
# test_instances_long: the same code as test_instances with 96 MiB per
# endpoint so that lwIP's ND timer fires; under qemu it takes ~9 minutes
# and adds no path the 8 MiB run does not take.
# lwip_unit_suite_pristine: the reference run of lwIP's suite on pristine
# lwIP (the native builds compare both); building lwIP a second time for
# it cost ~15% of the cross build's CPU time (1m41s -> 1m27s user, armhf).
# test_afpacket: built (so the kernel engine's port compiles for the target)
# but not run: qemu-user passes no SOL_PACKET option to the kernel
# (setsockopt PACKET_VERSION fails with ENOPROTOOPT), so no TPACKET_V3 ring.
excluded="test_instances_long lwip_unit_suite_pristine test_afpacket it_afp_iperf it_afp_httpd it_afp_wrk
it_afp_epoll_echo it_afp_client_linux it_afp_steer it_afp_errors it_afp_idle"
reason_test_afpacket="qemu-user refuses setsockopt(SOL_PACKET, PACKET_VERSION) with ENOPROTOOPT: no TPACKET_V3 ring under emulation"
reason_test_instances_long="96 MiB per endpoint: ~9 min under qemu; test_instances runs the same code"
reason_lwip_unit_suite_pristine="pristine reference run, compared in the native builds; not built here"
# The stack's programs on the kernel engine (it_afp_*) are built for the
# target, and it_nodpdk_links checks they link no DPDK, but they cannot run
# under qemu-user (no TPACKET_V3 ring, as test_afpacket); the nodpdk variant
# of scripts/test.sh runs them natively.
for t in it_afp_iperf it_afp_httpd it_afp_wrk it_afp_epoll_echo it_afp_client_linux it_afp_steer it_afp_errors it_afp_idle; do
	eval "reason_$t=\"the kernel engine under qemu-user: no TPACKET_V3 ring (see test_afpacket); run natively by test.sh nodpdk\""
done
# What the other tests need (the DPDK-free tree also has mlw_instances_demo
# and mlw_impair_link, which no test runs here).
targets="test_alloc test_flow test_config test_chksum test_siphash test_runtime test_frame_pool test_fwd_hold test_instances
lwip_unittests test_derive test_impair_link mlwip_lwip mlwip_alloc mlwip_flow
mlwip_config mlwip_app_lwiperf mlwip_app_httpd derive_fixture_lib derive_fixture_app
mlwip_afpacket_netif test_afpacket mlwip mlwip_socket mlw_apps_server mlw_epoll_echo mlw_http_server
mlw_echo_client test_semantics test_icmp_errors test_input_guards"

b="build/cross-$arch"
start=$(date +%s)
echo "=== mlwip: cross build $arch ($toolchain, MLW_WITH_DPDK=OFF, lwIP 2.2.1)"
mkdir -p build
cmake -S . -B "$b" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/$toolchain.cmake" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLW_SANITIZE= -DMLW_LWIP_VERSION=2.2.1 \
	-DMLW_WITH_DPDK=OFF >"$b.configure.log" 2>&1 || { cat "$b.configure.log"; exit 1; }
# -j2: the CI machine has two cores.
# shellcheck disable=SC2086
cmake --build "$b" -j 2 --target $targets >"$b.build.log" 2>&1 || { tail -n 60 "$b.build.log"; exit 1; }
built=$(date +%s)
# A warning of our own code on this target fails the step (lwIP's own
# sources are compiled with -w).
if grep -n "warning:" "$b.build.log"; then
	echo "cross.sh: $arch build has warnings (above)" >&2
	exit 1
fi

# The differential suite (test_semantics) compares mlwip with Linux's
# sockets. Under qemu-user the Linux side would go through qemu's syscall
# translation, which is not Linux (accept4() with an invalid flag blocks
# there instead of failing with EINVAL), so its traces are recorded by a
# native build (build/nodpdk, made here if missing) and the emulated run
# compares mlwip with them (SEM_LINUX_FROM, tests/semantics/CMakeLists.txt).
host_sem=build/nodpdk/tests/semantics/test_semantics
if [ ! -f build/nodpdk/CMakeCache.txt ]; then
	cmake -S . -B build/nodpdk -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLW_SANITIZE= -DMLW_LWIP_VERSION=2.2.1 \
		-DMLW_WITH_DPDK=OFF >"build/nodpdk.configure.log" 2>&1 || { cat build/nodpdk.configure.log; exit 1; }
fi
cmake --build build/nodpdk -j 2 --target test_semantics >"$b.host.build.log" 2>&1 ||
	{ tail -n 40 "$b.host.build.log"; exit 1; }
SEM_RECORD_LINUX="$PWD/$b/sem_linux_traces.txt" "$host_sem" >"$b.sem_linux.log" 2>&1 ||
	{ cat "$b.sem_linux.log"; echo "cross.sh: recording the Linux traces failed" >&2; exit 1; }

echo "=== mlwip: cross tests $arch (target programs under qemu-user)"
pattern=""
for t in $excluded; do
	eval "why=\$reason_$t"
	echo "cross.sh: not run under qemu: $t ($why)"
	pattern="$pattern${pattern:+|}^$t\$"
done
status=0
ctest --test-dir "$b" --output-on-failure -j 1 -E "$pattern" || status=1
end=$(date +%s)
echo "=== mlwip: cross $arch: build $((built - start)) s, tests $((end - built)) s"
exit $status
