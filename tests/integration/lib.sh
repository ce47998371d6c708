# lib.sh - helpers for mlwip's integration tests (sourced by bash scripts).
#
# Every test creates its own network namespaces and veth pair (named after
# its PID), uses addresses only inside them, and removes everything it made
# in an EXIT trap. Exit codes: 0 pass, 1 fail, 77 skipped (reason printed).

set -u

IT_NAME=${IT_NAME:-$(basename "$0" .sh)}
IT_PIDS=""
IT_NETNS=""
IT_TMP=$(mktemp -d "/tmp/${IT_NAME}.XXXXXX")
IT_PREFIXES=""

it_log() { echo "[$IT_NAME] $*"; }
# The tests' Python clients import their shared checks (it_echo.py) from here.
export PYTHONPATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"
# glibc writes fatal errors (heap corruption, stack smashing) to /dev/tty
# unless told otherwise: send them to the log.
export LIBC_FATAL_STDERR_=1

it_skip() { echo "[$IT_NAME] SKIP: $*"; exit 77; }
it_fail() { echo "[$IT_NAME] FAIL: $*"; exit 1; }

it_cleanup() {
	local rc=$? p ns
	for p in $IT_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $IT_PIDS; do
		# Give a stopping stack a moment, then insist.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	it_capture_keep "$rc"
	# Deleting a namespace destroys the veth ends inside it.
	for ns in $IT_NETNS; do
		ip netns del "$ns" 2>/dev/null
	done
	for p in $IT_PREFIXES; do
		rm -rf "/var/run/dpdk/$p" 2>/dev/null
	done
	rm -rf "$IT_TMP"
}
trap it_cleanup EXIT
trap 'exit 1' INT TERM HUP

# Skip under ThreadSanitizer: DPDK's rings (rte_ring, inlined from its
# headers) order their accesses with plain loads/stores and fences that TSan
# does not model, so every frame forwarded between shards, and every mbuf
# field read after it, is reported as a race (hundreds per run), which would
# hide real ones. MLW_SANITIZE is set by CMake for every integration test.
it_require_no_tsan() {
	if [ "${MLW_SANITIZE:-}" = thread ]; then
		it_skip "ThreadSanitizer build: DPDK's rte_ring (inlined from its headers) orders memory" \
			"with x86 compiler barriers TSan cannot see, so every frame passed between shards is" \
			"reported as a race; the plain and address builds run this test"
	fi
}

it_require_root_netns() {
	[ "$(id -u)" = 0 ] || it_skip "needs root (creates network namespaces and veth pairs)"
	command -v ip >/dev/null 2>&1 || it_skip "iproute2 'ip' is not installed"
	ip netns list >/dev/null 2>&1 || it_skip "'ip netns' is unavailable here"
	local probe="mlwprobe$$"
	ip netns add "$probe" 2>/dev/null || it_skip "cannot create a network namespace ('ip netns add' failed)"
	ip netns del "$probe"
}

it_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || it_skip "'$c' is not installed (scripts/deps.sh installs it)"
	done
}

# it_netns_pair TAG PEER_CIDR: two namespaces (mlwip side, Linux peer side)
# joined by a veth pair. Sets NS_M, NS_P, IF_M, IF_P.
it_netns_pair() {
	it_netns_mlwip "$1"
	it_netns_port "$1" "$2"
}

# it_netns_mlwip TAG: the mlwip side's namespace alone (for ports whose
# interfaces the DPDK process creates itself, e.g. net_tap). Sets NS_M.
it_netns_mlwip() {
	NS_M="mlw${1}m$$"
	ip netns add "$NS_M" || it_fail "ip netns add $NS_M"
	IT_NETNS="$IT_NETNS $NS_M"
	ip netns exec "$NS_M" ip link set lo up
}

# it_netns_port TAG PEER_CIDR: one more veth pair from the mlwip namespace
# $NS_M (made by it_netns_pair) to a new Linux peer namespace, for a further
# mlwip port. TAG must differ from every other pair's. Sets NS_P, IF_M, IF_P
# to the new pair's (save the previous ones first).
it_netns_port() {
	local tag=$1 peer_cidr=$2
	NS_P="mlw${tag}p$$"
	IF_M="m${tag}$$"
	IF_P="p${tag}$$"
	[ ${#IF_M} -le 15 ] || it_fail "interface name $IF_M too long"
	ip netns add "$NS_P" || it_fail "ip netns add $NS_P"
	IT_NETNS="$IT_NETNS $NS_P"
	ip link add "$IF_M" type veth peer name "$IF_P" || it_fail "cannot create veth $IF_M/$IF_P"
	ip link set "$IF_M" netns "$NS_M" || { ip link del "$IF_M"; it_fail "move $IF_M"; }
	ip link set "$IF_P" netns "$NS_P" || it_fail "move $IF_P"
	# The mlwip side: up, no address, no IPv6 chatter from Linux.
	ip netns exec "$NS_M" sysctl -qw "net.ipv6.conf.$IF_M.disable_ipv6=1"
	ip netns exec "$NS_M" ip link set "$IF_M" up
	ip netns exec "$NS_P" sysctl -qw "net.ipv6.conf.$IF_P.disable_ipv6=1"
	ip netns exec "$NS_P" ip link set lo up
	ip netns exec "$NS_P" ip addr add "$peer_cidr" dev "$IF_P"
	ip netns exec "$NS_P" ip link set "$IF_P" up
	# af_packet would otherwise see frames with checksums left to offload.
	if command -v ethtool >/dev/null 2>&1; then
		ip netns exec "$NS_M" ethtool -K "$IF_M" tx off rx off tso off gso off gro off >/dev/null 2>&1
		ip netns exec "$NS_P" ethtool -K "$IF_P" tx off rx off tso off gso off gro off >/dev/null 2>&1
	else
		it_skip "'ethtool' is not installed (needed to turn veth offloads off)"
	fi
	it_capture_start
}

# IT_CAPTURE_DIR=DIR (optional): every test that makes a veth pair captures
# the headers (first 96 bytes of each frame, a 64 MiB buffer; at most 100
# files of 20 MB, the oldest dropped) on the Linux peer's end with dumpcap,
# for at most 300 s. A test that fails leaves the capture and the test's
# logs in DIR/NAME-PID/; a test that passes leaves nothing (IT_CAPTURE_ALL=1:
# it does too). For chasing rare failures: loop a test with this set and
# read the failing run's frames. Under load dumpcap itself drops frames
# (bulk streams: up to half of them): cap/dumpcap-*.log says how many, and
# a frame missing from such a capture proves nothing.
IT_CAP_PID=""
IT_CAP_FILES=""
it_capture_start() {
	[ -n "${IT_CAPTURE_DIR:-}" ] || return 0
	command -v dumpcap >/dev/null 2>&1 || it_skip "IT_CAPTURE_DIR is set but 'dumpcap' is not installed"
	mkdir -p "$IT_TMP/cap"
	ip netns exec "$NS_P" timeout -k 5 300 dumpcap -q -i "$IF_P" -s 96 -B 64 -b filesize:20000 -b files:100 \
		-w "$IT_TMP/cap/$IF_P.pcapng" >"$IT_TMP/cap/dumpcap-$IF_P.log" 2>&1 &
	IT_CAP_PID="$IT_CAP_PID $!"
	# dumpcap says "File: ..." once it captures.
	for _ in $(seq 50); do
		grep -q "File:" "$IT_TMP/cap/dumpcap-$IF_P.log" 2>/dev/null && break
		sleep 0.1
	done
}

# it_capture_keep RC: stop the captures; keep them (with the logs) if RC != 0.
it_capture_keep() {
	local rc=$1 p dest
	[ -n "$IT_CAP_PID" ] || return 0
	sleep 0.5
	for p in $IT_CAP_PID; do
		kill -INT "$p" 2>/dev/null
	done
	for p in $IT_CAP_PID; do
		wait "$p" 2>/dev/null
	done
	IT_CAP_PID=""
	{ [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; } || [ -n "${IT_CAPTURE_ALL:-}" ] || return 0
	dest="$IT_CAPTURE_DIR/$IT_NAME-$$"
	mkdir -p "$dest" && cp -r "$IT_TMP"/. "$dest"/ 2>/dev/null
	echo "[$IT_NAME] capture and logs of this run (exit $rc) kept in $dest"
}

# it_config FILE PREFIX VDEV SHARDS CIDR [GATEWAY]: write an mlwip INI file.
# IT_ENGINE=afpacket: port0 is the kernel engine on the interface VDEV's
# iface= names (else $IF_M) instead of the DPDK device VDEV, steered by
# IT_AFP_STEER (ports or hash; default: the engine's, ports); the EAL starts
# without a device (it still holds the mbuf pools). IT_IDLE: [stack] idle.
it_config() {
	local file=$1 prefix=$2 vdev=$3 shards=$4 cidr=$5 gw=${6:-} iface
	IT_PREFIXES="$IT_PREFIXES $prefix"
	{
		# IT_NO_EAL=1: a program built without DPDK, which has no EAL
		# and refuses [eal] args.
		if [ "${IT_NO_EAL:-}" != 1 ]; then
			echo "[eal]"
			if [ "${IT_ENGINE:-dpdk}" = afpacket ]; then
				echo "args = --no-huge --no-pci -m 512 --file-prefix=$prefix"
			else
				echo "args = --no-huge --no-pci -m 512 --file-prefix=$prefix --vdev=$vdev"
			fi
		fi
		echo "[stack]"
		echo "shards = $shards"
		[ -n "${IT_IDLE:-}" ] && echo "idle = $IT_IDLE"
		# IT_STACK_EXTRA: more [stack] lines ("ring_size = 256").
		[ -n "${IT_STACK_EXTRA:-}" ] && printf '%b\n' "$IT_STACK_EXTRA"
		echo "[port0]"
		echo "ipv4 = $cidr"
		[ -n "$gw" ] && echo "gateway = $gw"
		if [ "${IT_ENGINE:-dpdk}" = afpacket ]; then
			iface=$(echo ",$vdev," | sed -n 's/.*,iface=\([^,]*\),.*/\1/p')
			echo "engine = afpacket"
			echo "iface = ${iface:-$IF_M}"
			[ -n "${IT_AFP_STEER:-}" ] && echo "steer = $IT_AFP_STEER"
		fi
	} >"$file"
}

# it_start NAME LOG CMD...: start CMD in the background with its output in
# LOG; sets IT_LAST_PID. The command must bound its own run time.
it_start() {
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	IT_LAST_PID=$!
	IT_PIDS="$IT_PIDS $IT_LAST_PID"
	it_log "started $name (pid $IT_LAST_PID)"
}

# it_wait_log LOG PATTERN SECONDS PID: wait until LOG matches PATTERN.
it_wait_log() {
	local log=$1 pat=$2 secs=$3 pid=$4 i
	for ((i = 0; i < secs * 10; i++)); do
		grep -q -- "$pat" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$log"; it_fail "process $pid exited before '$pat'"; }
		sleep 0.1
	done
	cat "$log"
	it_fail "no '$pat' in $log after ${secs}s"
}

# it_wait_ping NS ADDR SECONDS: wait until ADDR answers pings from NS.
it_wait_ping() {
	local ns=$1 addr=$2 secs=$3 i
	for ((i = 0; i < secs; i++)); do
		ip netns exec "$ns" ping -c 1 -W 1 "$addr" >/dev/null 2>&1 && return 0
	done
	it_fail "$addr does not answer pings from $ns within ${secs}s"
}

# it_stop PID LOG: SIGTERM a stack process, wait for it; fail unless it
# exited 0 after printing "stopped (clean)" (mlw_apps_server) or PASS.
it_stop() {
	local pid=$1 log=$2 rc
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	IT_PIDS=$(echo " $IT_PIDS " | sed "s/ $pid / /")
	return $rc
}

# it_stats LOG COLUMN: print "shard value" for every shard of the stats
# table in LOG. Columns: rx_pkts tx_pkts rx_MB tx_MB rx_drop tx_drop
# fwd_out fwd_in fwd_drop opens accepts resets heap_in_use heap_fail
# tw_reuse tw_drop rx_copy retrans ck_drop tw_reopen tw_rst conns time_wait
# half_open fast_rexmit rto_rexmit rto_timeout. accepts: connections handed
# to the application (half_open: SYNs that made a half-open PCB); retrans =
# fast_rexmit + rto_rexmit (data segments); rto_timeout: timeouts.
it_stats() {
	awk -v col="$2" '
		/^shard +rx_pkts/ { for (i = 1; i <= NF; i++) idx[$i] = i; intable = 1; next }
		intable && $1 ~ /^[0-9]+$/ && NF >= 13 { print $1, $(idx[col]); next }
		intable { intable = 0 }' "$1"
}

# it_stats_sum LOG COLUMN
it_stats_sum() {
	it_stats "$1" "$2" | awk '{ s += $2 } END { print s + 0 }'
}

# it_idle_cpu PID MAX_PCT WHAT: every thread of process PID used less than
# MAX_PCT% of a core over 5 s (CPU time from /proc/PID/task/TID/schedstat,
# or the stat ticks); logs each thread, fails naming those at or above.
it_idle_cpu() {
	local pid=$1 max=$2 what=$3 t used pct bad="" T0 T1
	declare -A before
	for t in $(ls "/proc/$pid/task"); do before[$t]=$(_it_cpu_ns "$pid" "$t"); done
	T0=$(date +%s%N)
	sleep 5
	T1=$(date +%s%N)
	for t in "${!before[@]}"; do
		[ -r "/proc/$pid/task/$t/comm" ] || continue
		used=$(($(_it_cpu_ns "$pid" "$t") - before[$t]))
		pct=$(awk -v u="$used" -v d="$((T1 - T0))" 'BEGIN { printf "%.2f", 100 * u / d }')
		it_log "idle 5 s, $what: thread $t ($(cat "/proc/$pid/task/$t/comm")) used $((used / 1000)) us" \
			"= $pct% of a core"
		awk -v p="$pct" -v m="$max" 'BEGIN { exit !(p >= m) }' && bad="$bad $t"
	done
	[ -z "$bad" ] || it_fail "threads$bad used $max% of a core or more while idle ($what)"
}
_it_cpu_ns() {	# PID TID -> CPU time in ns (schedstat), or ticks * 10^7 from stat
	if [ -r "/proc/$1/task/$2/schedstat" ]; then
		awk '{ print $1 }' "/proc/$1/task/$2/schedstat"
	else
		awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' "/proc/$1/task/$2/stat"
	fi
}

# it_check_rings LOG: the ring table (mlw_stack_print_stats) agrees with
# the shard table: for each shard A, its rings A->* carried at least its
# fwd_out (plus its ARP/ND copies, not in the table), dropped exactly its
# fwd_drop, and no
# ring's peak exceeds its size. Prints the ring table.
it_check_rings() {
	local log=$1 out
	out=$(awk '
		/^shard +rx_pkts/ { for (i = 1; i <= NF; i++) idx[$i] = i; t = 1; next }
		t && $1 ~ /^[0-9]+$/ && NF >= 13 { want[$1] = $(idx["fwd_out"]); drop[$1] = $(idx["fwd_drop"]); n++; next }
		t { t = 0 }
		/^ring +sent +dropped/ { r = 1; next }
		r && $1 ~ /^[0-9]+->[0-9]+$/ { split($1, ab, "->"); sent[ab[1]] += $2; dropped[ab[1]] += $3
			if ($4 > $5) print "ring " $1 ": peak " $4 " above size " $5; next }
		r { r = 0 }
		END { for (s in want) {
			if (sent[s] + 0 < want[s]) print "shard " s ": rings carried " sent[s] + 0 ", fwd_out is " want[s]
			if (dropped[s] + 0 != drop[s]) print "shard " s ": rings dropped " dropped[s] + 0 ", fwd_drop is " drop[s] }
			if (n == 0) print "no shard table" }' "$log")
	grep -E "^ring +sent|^[0-9]+->[0-9]+ " "$log" | sed "s/^/[$IT_NAME] /"
	[ -z "$out" ] || it_fail "ring table: $out"
}

# it_port_stats LOG COLUMN: print "portN value" for every port of the port
# table in LOG (under the shard table). Columns: driver rx_pkts tx_pkts
# rx_bytes tx_bytes rx_missed rx_nombuf rx_errors tx_errors. A port without
# counters ("not started") prints "-".
it_port_stats() {
	awk -v col="$2" '
		/^port +driver +rx_pkts/ { for (i = 1; i <= NF; i++) idx[$i] = i; intable = 1; next }
		intable && $1 ~ /^port[0-9]+$/ { print $1, (NF >= 10 ? $(idx[col]) : "-"); next }
		intable { intable = 0 }' "$1"
}

# it_check_clean LOG: every shard's heap empty, "stopped (clean)" printed,
# and no sanitizer report in the log.
it_check_clean() {
	local log=$1 n
	n=$(it_stats "$log" heap_in_use | wc -l)
	[ "$n" -gt 0 ] || { cat "$log"; it_fail "no stats table in $log"; }
	if it_stats "$log" heap_in_use | awk '$2 != 0 { bad = 1 } END { exit !bad }'; then
		cat "$log"
		it_fail "heap not empty at stop ($log)"
	fi
	it_check_sanitizer "$log"
}

it_check_sanitizer() {
	if grep -E -q "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer" "$1"; then
		cat "$1"
		it_fail "sanitizer report in $1"
	fi
}

# it_start_apps_server SERVER PREFIX MLW_ADDR PEER_ADDR [VDEV_ARGS]: configure
# mlw_apps_server with 2 shards on net_af_packet (2 queue pairs) over $IF_M
# in $NS_M, start it (log: $IT_TMP/server.log), wait until it serves and
# answers ping from $NS_P. VDEV_ARGS (",framecnt=4096", ...) are appended
# to the vdev's. Sets SPID.
it_start_apps_server() {
	local server=$1 prefix=$2 addr=$3 peer=$4 vdev_args=${5:-}
	it_config "$IT_TMP/server.ini" "$prefix" "net_af_packet0,iface=$IF_M,qpairs=2$vdev_args" 2 "$addr/24" "$peer"
	it_start mlw_apps_server "$IT_TMP/server.log" \
		ip netns exec "$NS_M" timeout -k 10 150 "$server" "$IT_TMP/server.ini" --duration 140
	SPID=$IT_LAST_PID
	it_wait_log "$IT_TMP/server.log" "serving lwiperf" 30 "$SPID"
	it_wait_ping "$NS_P" "$addr" 15
}

# it_start_epoll_echo ECHO PREFIX MLW_ADDR PEER_ADDR DURATION: configure
# mlw_epoll_echo with 2 shards on net_af_packet (2 queue pairs) over $IF_M in
# $NS_M, run it for at most DURATION seconds (log: $IT_TMP/server.log), wait
# until both shards listen and it answers ping from $NS_P. Sets SPID.
it_start_epoll_echo() {
	local echo=$1 prefix=$2 addr=$3 peer=$4 duration=$5
	it_config "$IT_TMP/echo.ini" "$prefix" "net_af_packet0,iface=$IF_M,qpairs=2" 2 "$addr/24" "$peer"
	it_start mlw_epoll_echo "$IT_TMP/server.log" \
		ip netns exec "$NS_M" timeout -k 10 $((duration + 10)) "$echo" "$IT_TMP/echo.ini" --duration "$duration"
	SPID=$IT_LAST_PID
	it_wait_log "$IT_TMP/server.log" "shard 1: echo listening" 30 "$SPID"
	it_wait_log "$IT_TMP/server.log" "shard 0: echo listening" 5 "$SPID"
	it_wait_ping "$NS_P" "$addr" 15
}
