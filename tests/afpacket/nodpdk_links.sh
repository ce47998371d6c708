#!/bin/bash
# nodpdk_links.sh PROGRAM... - programs built with -DMLW_WITH_DPDK=OFF need
# no DPDK: no shared library of DPDK's in their DT_NEEDED entries (readelf),
# and none of DPDK's symbols linked in statically (nm: no rte_ symbol).
# Exit 0 if so, 1 naming the program and what it links, 77 without readelf/nm.
set -u
command -v readelf >/dev/null && command -v nm >/dev/null || { echo "SKIP: readelf/nm (binutils) not installed"; exit 77; }
status=0
for prog in "$@"; do
	needed=$(readelf -d "$prog" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	echo "$(basename "$prog"): needs $needed"
	if echo " $needed" | grep -Eq " (librte_|libdpdk)"; then
		echo "FAIL: $prog links DPDK: $needed"
		status=1
	fi
	rte=$(nm "$prog" 2>/dev/null | grep -c " rte_")
	if [ "$rte" -ne 0 ]; then
		echo "FAIL: $prog has $rte DPDK symbols (rte_*) linked in"
		status=1
	fi
	# A positive control, so that an empty readelf output cannot pass.
	echo " $needed" | grep -q " libc\.so" || { echo "FAIL: no DT_NEEDED read from $prog"; status=1; }
done
exit $status
