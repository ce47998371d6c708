#!/bin/sh
# fetch-lwip.sh DEST - put pristine lwIP 2.1.3 (Debian's orig tarball, checksum-pinned) in DEST/lwip-2.1.3.
#
# Uses a private apt configuration under DEST/apt: the system's apt sources
# are neither read for this nor modified. MLW_LWIP_TARBALL=/path/to/
# lwip_2.1.3+dfsg1.orig.tar.xz skips the download (offline builds).
set -eu

DEST=${1:?usage: fetch-lwip.sh DEST}
SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24
TARBALL=lwip_2.1.3+dfsg1.orig.tar.xz
MIRROR=${MLW_DEBIAN_MIRROR:-http://deb.debian.org/debian}

fail() {
	echo "fetch-lwip: $1" >&2
	echo "fetch-lwip: mlwip builds lwIP from Debian's pristine source package 'lwip' 2.1.3+dfsg1 (orig tarball sha256 $SHA256). Fix the problem above, or download $TARBALL yourself and set MLW_LWIP_TARBALL=/path/to/it, or configure with -DMLW_LWIP_SOURCE_DIR=/path/to/an/lwip/tree to use an lwIP tree you already have." >&2
	exit 1
}

mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
if [ -f "$DEST/lwip-2.1.3/.mlw-verified" ]; then
	exit 0
fi

if [ -n "${MLW_LWIP_TARBALL:-}" ]; then
	[ -f "$MLW_LWIP_TARBALL" ] || fail "MLW_LWIP_TARBALL=$MLW_LWIP_TARBALL does not exist."
	cp "$MLW_LWIP_TARBALL" "$DEST/$TARBALL"
else
	command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available on this machine."
	APT="$DEST/apt"
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts" "$APT/prefs" "$APT/src"
	KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$KEYRING" ] || fail "$KEYRING is missing (Debian package 'debian-archive-keyring')."
	echo "deb-src [signed-by=$KEYRING] $MIRROR bookworm main" > "$APT/sources.list"
	set -- -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts="$APT/parts" \
		-o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$APT/prefs" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
	apt-get "$@" -q update > "$APT/update.log" 2>&1 ||
		fail "apt-get update of the private source list failed (see $APT/update.log); is $MIRROR reachable?"
	(cd "$APT/src" && apt-get "$@" -q source --download-only lwip > "$APT/source.log" 2>&1) ||
		fail "apt-get source lwip failed (see $APT/source.log)."
	[ -f "$APT/src/$TARBALL" ] || fail "apt-get source did not deliver $TARBALL (Debian may have moved to another lwIP version)."
	cp "$APT/src/$TARBALL" "$DEST/$TARBALL"
fi

GOT=$(sha256sum "$DEST/$TARBALL" | cut -d' ' -f1)
[ "$GOT" = "$SHA256" ] || fail "checksum mismatch for $TARBALL: got $GOT, want $SHA256. The file is not the pristine lwIP this project pins."
rm -rf "$DEST/lwip-2.1.3"
tar -xJf "$DEST/$TARBALL" -C "$DEST" || fail "could not unpack $DEST/$TARBALL."
[ -f "$DEST/lwip-2.1.3/src/core/tcp.c" ] || fail "unpacked tarball has no src/core/tcp.c."
touch "$DEST/lwip-2.1.3/.mlw-verified"
echo "fetch-lwip: pristine lwIP 2.1.3 (sha256 verified) in $DEST/lwip-2.1.3"
