#!/bin/sh
# fetch-lwip.sh VERSION DEST - put pristine lwIP VERSION (2.2.1 or 2.1.3:
# Debian's orig tarball, checksum-pinned) in DEST/lwip-VERSION.
#
# 2.2.1 comes from Debian 13 (trixie), 2.1.3 from Debian 12 (bookworm). Uses
# a private apt configuration under DEST/apt-VERSION: the system's apt
# sources are neither read for this nor modified.
# MLW_LWIP_TARBALL=/path/to/lwip_VERSION+dfsg1.orig.tar.xz skips the
# download (offline builds); it is checked against the same checksum.
set -eu

usage() {
	echo "usage: fetch-lwip.sh VERSION DEST (VERSION: 2.2.1 or 2.1.3)" >&2
	exit 2
}
[ $# -eq 2 ] || usage
VERSION=$1
DEST=$2
case $VERSION in
2.2.1)
	SUITE=trixie
	SHA256=83729c274c499d3348e9fbbe043a3113f3fa8953e7efddc7c21c7fcbb1f2b7b1 ;;
2.1.3)
	SUITE=bookworm
	SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24 ;;
*)
	echo "fetch-lwip: lwIP version '$VERSION' is not one mlwip pins: use 2.2.1 (Debian 13, the default) or 2.1.3 (Debian 12), or configure with -DMLW_LWIP_SOURCE_DIR=/path/to/an/lwip/tree." >&2
	exit 2 ;;
esac
TARBALL=lwip_$VERSION+dfsg1.orig.tar.xz
MIRROR=${MLW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
TREE=lwip-$VERSION

fail() {
	echo "fetch-lwip: $1" >&2
	echo "fetch-lwip: mlwip builds lwIP $VERSION from Debian $SUITE's pristine source package 'lwip' $VERSION+dfsg1 (orig tarball sha256 $SHA256). Fix the problem above, or download $TARBALL yourself and set MLW_LWIP_TARBALL=/path/to/it, or configure with -DMLW_LWIP_SOURCE_DIR=/path/to/an/lwip/tree to use an lwIP tree you already have." >&2
	exit 1
}

mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
if [ -f "$DEST/$TREE/.mlw-verified" ]; then
	exit 0
fi

if [ -n "${MLW_LWIP_TARBALL:-}" ]; then
	[ -f "$MLW_LWIP_TARBALL" ] || fail "MLW_LWIP_TARBALL=$MLW_LWIP_TARBALL does not exist."
	cp "$MLW_LWIP_TARBALL" "$DEST/$TARBALL"
else
	command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available on this machine."
	# One private configuration per version: each lists only its own suite,
	# so 'apt-get source lwip' cannot pick the other suite's version.
	APT="$DEST/apt-$VERSION"
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts" "$APT/prefs" "$APT/src"
	KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$KEYRING" ] || fail "$KEYRING is missing (Debian package 'debian-archive-keyring')."
	echo "deb-src [signed-by=$KEYRING] $MIRROR $SUITE main" > "$APT/sources.list"
	set -- -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts="$APT/parts" \
		-o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$APT/prefs" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
	apt-get "$@" -q update > "$APT/update.log" 2>&1 ||
		fail "apt-get update of the private source list ($SUITE) failed (see $APT/update.log); is $MIRROR reachable?"
	(cd "$APT/src" && apt-get "$@" -q source --download-only lwip > "$APT/source.log" 2>&1) ||
		fail "apt-get source lwip ($SUITE) failed (see $APT/source.log)."
	[ -f "$APT/src/$TARBALL" ] || fail "apt-get source did not deliver $TARBALL (Debian $SUITE may have moved to another lwIP version; see $APT/source.log)."
	cp "$APT/src/$TARBALL" "$DEST/$TARBALL"
fi

GOT=$(sha256sum "$DEST/$TARBALL" | cut -d' ' -f1)
[ "$GOT" = "$SHA256" ] || fail "checksum mismatch for $TARBALL: got $GOT, want $SHA256. The file is not the pristine lwIP $VERSION this project pins."
rm -rf "$DEST/$TREE"
tar -xJf "$DEST/$TARBALL" -C "$DEST" || fail "could not unpack $DEST/$TARBALL."
[ -f "$DEST/$TREE/src/core/tcp.c" ] || fail "unpacked tarball has no $TREE/src/core/tcp.c."
touch "$DEST/$TREE/.mlw-verified"
echo "fetch-lwip: pristine lwIP $VERSION (sha256 verified) in $DEST/$TREE"
