#!/bin/sh
# deps.sh - install what mlwip needs to build and test, from Debian 12's packages.
# Idempotent and quiet when everything is present. Needs root (or sudo).
set -eu

PACKAGES="build-essential cmake pkg-config python3 clang libfuzzer-14-dev binutils xz-utils
debian-archive-keyring ca-certificates libdpdk-dev libnuma-dev libcmocka-dev check libinih-dev doxygen file dpkg-dev
iproute2 iperf iputils-ping apache2-utils ncat tshark curl ethtool wrk gnuplot-nox valgrind
redis-server redis-tools nginx-light nghttp2-client hping3 dpdk-dev"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps.sh: need root to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
