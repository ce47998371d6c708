#!/bin/sh
# test_install.sh BUILD_DIR SOURCE_DIR CC [SANITIZE [DEB]] - mlwip used as an
# installed library, from outside the tree:
#  1. cmake --install into BUILD_DIR/tests/install/work/prefix; what is there;
#  2. libmlwip.so keeps the derived lwIP's TLS rules: initial-exec only
#     (DF_STATIC_TLS, no dynamic-TLS relocation, no __tls_get_addr), so it
#     must be loaded with the program, and it is (DT_NEEDED);
#  3. tests/install/example built with pkg-config (mlwip.pc: shared,
#     mlwip-static.pc: static) and with find_package(mlwip) (mlwip::mlwip,
#     mlwip::mlwip_static, app.c derived per shard by the installed
#     mlw_lwip_derive), each run: one shard on net_ring0 echoes 1 MiB to a
#     raw-API lwIP client over 127.0.0.1, checked byte by byte;
#  4. the .deb (cpack -G DEB): control fields and contents, unpacked with
#     dpkg-deb -x into a fresh root and used the same way.
# SANITIZE "address": the example is built with ASan+UBSan like the library;
# "none" (or empty): without sanitizer.
# DEB "deb" (the default): step 4 too; "no-deb": the install tree only.
set -u
B=${1:?usage: test_install.sh BUILD_DIR SOURCE_DIR CC [SANITIZE]}
S=${2:?}
CC=${3:?}
SAN=${4:-}
DEB=${5:-deb}
case $SAN in none | address | "") ;; *) echo "test_install.sh: SANITIZE must be none or address" >&2; exit 2 ;; esac
case $DEB in deb | no-deb) ;; *) echo "test_install.sh: DEB must be deb or no-deb" >&2; exit 2 ;; esac
EX=$S/tests/install/example
T=$B/tests/install/work
SANFLAGS=""
[ "$SAN" = address ] && SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
passed=0 failed=0
t0=$(date +%s)

ok() { echo "ok: $*"; passed=$((passed + 1)); }
stamp() { echo "=== $* (at $(($(date +%s) - t0)) s)"; }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # check WHAT COMMAND...
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
finish() {
	echo "install_example: $(($(date +%s) - t0)) s"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}
need() {
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not found (scripts/deps.sh installs it)"; exit 77; }
	done
}
need cmake cpack pkg-config readelf nm dpkg-deb

rm -rf "$T"
mkdir -p "$T"

# run_example NAME PROGRAM: run it, require exit 0 and its OK line.
run_example() {
	name=$1
	prog=$2
	if [ ! -x "$prog" ]; then
		bad "$name: not built"
		return
	fi
	out=$(timeout 60 "$prog" 2>&1)
	rc=$?
	echo "$out" | sed "s/^/  $name: /" | tail -n 8
	if [ $rc -eq 0 ] && echo "$out" | grep -q '^example: OK$'; then
		ok "$name runs: 1 MiB echoed over 127.0.0.1 and checked, heap empty"
	else
		bad "$name ran with exit status $rc"
	fi
}

# needed_mlwip PROGRAM: prints the libmlwip it needs, if any.
needed_mlwip() {
	readelf -d "$1" 2>/dev/null | sed -n 's/.*Shared library: \[\(libmlwip[^]]*\)\].*/\1/p'
}

# build_pkgconfig TAG PREFIX_ROOT PCDIR: the example with cc and pkg-config,
# against libmlwip.so (mlwip.pc) and libmlwip.a (mlwip-static.pc).
build_pkgconfig() {
	tag=$1
	pcdir=$2
	libdir=$(dirname "$pcdir")
	for pc in mlwip mlwip-static; do
		exe=$T/$tag-pkgconfig-$pc
		flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs "$pc") ||
			{ bad "$tag: pkg-config $pc"; continue; }
		# shellcheck disable=SC2086
		if "$CC" -std=gnu11 -O2 -Wall -Wextra -Werror $SANFLAGS -o "$exe" "$EX/main.c" "$EX/app.c" \
			$flags -Wl,-rpath,"$libdir" >"$exe.log" 2>&1; then
			ok "$tag: example built with pkg-config $pc"
		else
			bad "$tag: example built with pkg-config $pc: $(tail -n 20 "$exe.log")"
			continue
		fi
		needs=$(needed_mlwip "$exe")
		if [ "$pc" = mlwip ]; then
			check "$tag: $pc: the program needs libmlwip.so.0 (got '$needs')" test "$needs" = libmlwip.so.0
			# the program's own tcp_connect() call went to the wrap
			check "$tag: $pc: app.c's tcp_connect is linked to __wrap_tcp_connect in libmlwip.so" \
				sh -c "nm -u '$exe' | grep -qw __wrap_tcp_connect && ! nm -u '$exe' | grep -qw tcp_connect"
		else
			check "$tag: $pc: the program needs no libmlwip.so (got '$needs')" test -z "$needs"
		fi
		run_example "$tag-pkgconfig-$pc" "$exe"
	done
}

# build_cmake TAG PREFIX: the example with find_package(mlwip).
build_cmake() {
	tag=$1
	prefix=$2
	bdir=$T/$tag-cmake
	if cmake -S "$EX" -B "$bdir" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$CC" \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="$SANFLAGS" >"$bdir.log" 2>&1 &&
		cmake --build "$bdir" -j 2 >>"$bdir.log" 2>&1; then
		ok "$tag: example built with find_package(mlwip) (shared and static)"
	else
		bad "$tag: example built with find_package(mlwip): $(tail -n 30 "$bdir.log")"
		return
	fi
	grep -q "mlwip 0\\.1" "$bdir.log" && grep "mlwip 0" "$bdir.log" | sed 's/^/  /'
	report=$bdir/example_app.derived/report.txt
	vars=$(head -n 1 "$report" 2>/dev/null | grep -o '[0-9][0-9]* variables made thread-local' | grep -o '^[0-9]*')
	check "$tag: app.c derived per shard by the installed mlw_lwip_derive ($vars variables thread-local, 6 expected)" \
		test "${vars:-0}" -eq 6
	check "$tag: example_shared needs libmlwip.so.0" test "$(needed_mlwip "$bdir/example_shared")" = libmlwip.so.0
	check "$tag: example_static needs no libmlwip.so" test -z "$(needed_mlwip "$bdir/example_static")"
	run_example "$tag-cmake-shared" "$bdir/example_shared"
	run_example "$tag-cmake-static" "$bdir/example_static"
}

# --- 1. cmake --install ------------------------------------------------------
stamp "cmake --install"
P=$T/prefix
if cmake --install "$B" --prefix "$P" >"$T/install.log" 2>&1; then
	ok "cmake --install --prefix $P ($(grep -c 'Installing:' "$T/install.log") files)"
else
	bad "cmake --install: $(tail -n 20 "$T/install.log")"
	finish
fi
so=$(find "$P" -name 'libmlwip.so' | head -n 1)
LIBDIR=$(dirname "${so:-$P/lib/libmlwip.so}")
for f in include/mlwip/stack.h include/mlwip/socket.h include/mlwip/epoll.h include/mlwip/config.h \
	include/mlwip/lwip/lwip/tcp.h include/mlwip/lwip/lwipopts.h include/mlwip/lwip/arch/cc.h \
	share/mlwip/derive/derive.py share/mlwip/derive/mlwip_lwip.names.json \
	share/mlwip/derive/include/lwip/tcp.h share/mlwip/derive/include/lwipopts.h; do
	check "installed: $f" test -f "$P/$f"
done
check "installed: bin/mlwip-stat (executable)" test -x "$P/bin/mlwip-stat"
check "bin/mlwip-stat --help runs" sh -c "python3 '$P/bin/mlwip-stat' --help >/dev/null"
for f in libmlwip.a libmlwip.so libmlwip.so.0 pkgconfig/mlwip.pc pkgconfig/mlwip-static.pc \
	cmake/mlwip/mlwipConfig.cmake cmake/mlwip/mlwipConfigVersion.cmake cmake/mlwip/MlwDerive.cmake; do
	check "installed: $(basename "$LIBDIR")/$f" test -e "$LIBDIR/$f"
done
if command -v doxygen >/dev/null 2>&1; then
	check "installed: the API reference (share/doc/mlwip/html/index.html)" test -f "$P/share/doc/mlwip/html/index.html"
fi
# Raw-API programs compile against lwIP's headers as derived (thread-local
# declarations); the derivation reads the pristine ones.
check "installed lwIP headers are the derived ones (netif_list is _Thread_local)" \
	grep -q '_Thread_local.*netif_list' "$P/include/mlwip/lwip/lwip/netif.h"
check "the derivation's input headers are pristine (no _Thread_local)" \
	sh -c "! grep -rq _Thread_local '$P/share/mlwip/derive/include/lwip'"

# --- 2. libmlwip.so and TLS ----------------------------------------------------
stamp "libmlwip.so and TLS"
SO=$LIBDIR/libmlwip.so
check "libmlwip.so is DF_STATIC_TLS (initial-exec TLS only)" sh -c "readelf -d '$SO' | grep -q 'FLAGS.*STATIC_TLS'"
check "libmlwip.so has no dynamic-TLS relocation (DTPMOD64/DTPOFF64)" \
	sh -c "! readelf -rW '$SO' | grep -q 'R_X86_64_DTP'"
check "libmlwip.so never calls __tls_get_addr" sh -c "! nm -D '$SO' | grep -q __tls_get_addr"
tls=$(readelf -lW "$SO" | awk '$1 == "TLS" { print $6 }')
tpoff=$(readelf -rW "$SO" | grep -c 'R_X86_64_TPOFF64')
echo "  libmlwip.so: PT_TLS memsz $tls, $tpoff R_X86_64_TPOFF64 relocations"
# Loaded with the program it works (section 3); dlopen() later cannot place
# its TLS in the static TLS block, and glibc says so.
printf '#include <dlfcn.h>\n#include <stdio.h>\nint main(int c, char **v) { void *h = dlopen(v[1], RTLD_NOW);\n printf("%%s\\n", h ? "loaded" : dlerror()); return h != NULL; }\n' >"$T/dlopen.c"
if "$CC" $SANFLAGS -o "$T/dlopen" "$T/dlopen.c" -ldl >"$T/dlopen.log" 2>&1; then
	msg=$("$T/dlopen" "$SO" 2>&1)
	echo "  dlopen(libmlwip.so): $msg"
	check "libmlwip.so cannot be dlopen()ed (static TLS block)" sh -c "echo '$msg' | grep -q 'static TLS'"
else
	bad "dlopen probe did not build: $(cat "$T/dlopen.log")"
fi
for sym in mlw_stack_create mlw_socket mlw_epoll_wait tcp_new tcp_write pbuf_free netif_list \
	__wrap_tcp_connect __wrap_tcp_bind; do
	check "libmlwip.so exports $sym" sh -c "nm -D --defined-only '$SO' | grep -qw '$sym'"
done
check "libmlwip.so exports no internal mlw__ symbol" sh -c "! nm -D --defined-only '$SO' | grep -q ' mlw__'"
# The mlw_ functions it exports are exactly those the installed headers name.
nm -D --defined-only "$SO" | awk '{ sub(/@.*/, "", $3); print $3 }' | grep '^mlw_' | sort -u >"$T/exported.txt"
grep -ho 'mlw_[a-z0-9_]*(' "$P"/include/mlwip/*.h | tr -d '(' | sort -u >"$T/declared.txt"
if cmp -s "$T/exported.txt" "$T/declared.txt"; then
	ok "libmlwip.so exports the $(wc -l <"$T/exported.txt") mlw_ functions the headers name, no other"
else
	bad "exported mlw_ functions differ from the headers' (< exported only, > headers only): $(diff "$T/exported.txt" "$T/declared.txt" | grep '^[<>]' | tr '\n' ' ')"
fi
echo "  libmlwip.so: $(nm -D --defined-only "$SO" | wc -l) exported symbols"

# --- 3. the example against the installed tree ---------------------------------
stamp "the example against the installed tree"
build_pkgconfig prefix "$LIBDIR/pkgconfig"
build_cmake prefix "$P"

# --- 4. the .deb -----------------------------------------------------------------
stamp "the .deb"
if [ "$DEB" != deb ]; then
	echo "  (.deb: built and checked in the plain build on the default lwIP only)"
	finish
fi
(cd "$T" && cpack -G DEB --config "$B/CPackConfig.cmake" -B "$T/deb") >"$T/cpack.log" 2>&1
deb=$(ls "$T"/deb/mlwip_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	bad "cpack -G DEB: $(tail -n 20 "$T/cpack.log")"
	finish
fi
ok "cpack -G DEB: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"
dpkg-deb -I "$deb" >"$T/deb-info.txt"
dpkg-deb -c "$deb" >"$T/deb-contents.txt"
sed -n 's/^ *\(Package\|Version\|Architecture\|Depends\|Recommends\|Section\):/  &/p' "$T/deb-info.txt"
for dep in libdpdk-dev libnuma-dev libinih-dev 'librte-eal' libnuma1 libinih1 libc6; do
	check ".deb Depends names $dep" sh -c "grep '^ Depends:' '$T/deb-info.txt' | grep -q '$dep'"
done
for f in ./usr/lib/libmlwip.so.0 ./usr/lib/libmlwip.a ./usr/include/mlwip/stack.h \
	./usr/include/mlwip/lwip/lwip/tcp.h ./usr/lib/pkgconfig/mlwip.pc ./usr/lib/cmake/mlwip/mlwipConfig.cmake \
	./usr/lib/cmake/mlwip/MlwDerive.cmake ./usr/share/mlwip/derive/derive.py ./usr/share/doc/mlwip/README.md ./usr/bin/mlwip-stat; do
	check ".deb holds $f" grep -q " $f\( \|$\)" "$T/deb-contents.txt"
done
R=$T/root
mkdir -p "$R"
if dpkg-deb -x "$deb" "$R"; then
	ok "dpkg-deb -x into a fresh root ($(find "$R" -type f | wc -l) files)"
else
	bad "dpkg-deb -x"
	finish
fi
check "unpacked .deb has nothing outside /usr" sh -c "[ \"\$(ls '$R')\" = usr ]"
stamp "the example against the unpacked .deb"
build_pkgconfig deb "$R/usr/lib/pkgconfig"
build_cmake deb "$R/usr"
finish
