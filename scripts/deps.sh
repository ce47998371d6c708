#!/bin/sh
# deps.sh - install what mlwip needs to build and test, from Debian 12's packages.
# Idempotent and quiet when everything is present. Needs root (or sudo).
# Usage: scripts/deps.sh [cross-arm64|cross-armhf]
#   cross-ARCH also installs Debian's cross toolchain for ARCH, qemu-user-static
#   and the target's -dev packages (multiarch: dpkg --add-architecture ARCH).
#   Not libdpdk-dev:arm64: Debian 12 cannot install it beside the native
#   libdpdk-dev (apt would remove libdpdk-dev, dpdk-dev and rdma-core).
set -eu

cross=""
case ${1:-} in
"") ;;
cross-arm64|cross-armhf) cross=${1#cross-} ;;
*) echo "deps.sh: unknown argument '$1' (cross-arm64, cross-armhf)" >&2; exit 2 ;;
esac

PACKAGES="build-essential cmake pkg-config python3 clang libfuzzer-14-dev binutils xz-utils
debian-archive-keyring ca-certificates libdpdk-dev libnuma-dev libcmocka-dev check libinih-dev doxygen file dpkg-dev
iproute2 iperf iputils-ping apache2-utils ncat tshark curl ethtool wrk gnuplot-nox valgrind
redis-server redis-tools nginx-light nghttp2-client dpdk-dev"

if [ -n "$cross" ]; then
	# libc6:ARCH: the target's own libc and loader, which qemu-user runs the
	# tests with (see cmake/toolchains/debian-cross.cmake).
	PACKAGES="$PACKAGES crossbuild-essential-$cross qemu-user-static libc6:$cross
libcmocka-dev:$cross check:$cross libinih-dev:$cross libnuma-dev:$cross"
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

if [ -n "$cross" ] && ! dpkg --print-foreign-architectures | grep -qx "$cross"; then
	echo "deps.sh: adding the $cross architecture (dpkg --add-architecture)"
	$SUDO dpkg --add-architecture "$cross"
	$SUDO apt-get update -q >/dev/null
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ -n "$SUDO" ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps.sh: need root to install:$missing" >&2; exit 1; }
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
