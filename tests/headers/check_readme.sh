#!/bin/sh
# check_readme.sh CC README INCLUDE_DIRS - every ```c block of the README
# compiles (C11 with GNU extensions, -Wall -Wextra -Werror; unused functions
# and parameters allowed: the blocks are excerpts). Each block gets the
# system headers an excerpt may take for granted plus the mlwip headers;
# INCLUDE_DIRS (colon-separated) holds mlwip's and lwIP's include folders.
set -u
CC=${1:?usage: check_readme.sh CC README INCLUDE_DIRS}
README=${2:?usage: check_readme.sh CC README INCLUDE_DIRS}
DIRS=${3:?usage: check_readme.sh CC README INCLUDE_DIRS}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
incs=""
old_ifs=$IFS
IFS=:
for d in $DIRS; do
	[ -n "$d" ] && incs="$incs -I$d"
done
IFS=$old_ifs
# One file per block, named by the README line it starts on.
awk -v dir="$tmp" '
	/^```c[ \t]*$/ { inblock = 1; start = NR + 1; f = dir "/block_" start ".c"; next }
	/^```/ { if (inblock) close(f); inblock = 0; next }
	inblock { print > f }' "$README"
n=0 bad=0
for f in "$tmp"/block_*.c; do
	[ -e "$f" ] || break
	n=$((n + 1))
	line=${f##*/block_}
	line=${line%.c}
	{
		printf '#include <errno.h>\n#include <netinet/in.h>\n#include <stdio.h>\n'
		printf '#include <sys/socket.h>\n#include <unistd.h>\n'
		printf '#include "mlwip/epoll.h"\n#include "mlwip/socket.h"\n#include "mlwip/stack.h"\n'
		printf '#line %s "README.md"\n' "$line"
		cat "$f"
	} >"$f.full.c"
	# shellcheck disable=SC2086
	if ! "$CC" -std=gnu11 -Wall -Wextra -Werror -Wno-unused-function -Wno-unused-parameter \
		$incs -fsyntax-only "$f.full.c"; then
		echo "FAIL: the C example at README.md:$line does not compile"
		bad=$((bad + 1))
	fi
done
echo "README C examples: $((n - bad)) of $n compile"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
