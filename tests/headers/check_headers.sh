#!/bin/sh
# check_headers.sh CC INCLUDE_DIR - every public header compiles on its own,
# as C11 with -pedantic, and includes neither DPDK nor lwIP headers.
set -u
CC=${1:?usage: check_headers.sh CC INCLUDE_DIR}
INC=${2:?usage: check_headers.sh CC INCLUDE_DIR}
n=0 bad=0
for h in "$INC"/mlwip/*.h; do
	name=mlwip/$(basename "$h")
	n=$((n + 1))
	if ! printf '#include <%s>\nint mlw_header_check;\n' "$name" |
		"$CC" -std=c11 -pedantic -Wall -Wextra -Werror -I"$INC" -fsyntax-only -x c -; then
		echo "FAIL: $name does not compile on its own"
		bad=$((bad + 1))
	fi
	if grep -nE '#include *[<"](rte_|lwip/|netif/|arch/)' "$h"; then
		echo "FAIL: $name includes a DPDK or lwIP header"
		bad=$((bad + 1))
	fi
done
echo "$((n - bad)) passed, $bad failed"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
