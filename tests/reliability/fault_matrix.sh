#!/bin/bash
# fault_matrix.sh RELAY ECHO CLIENT ITDIR - byte-exact echo transfers through an impaired link
# (mlw_impair_link, tests/support/) under clean, 5% loss, 5% reorder, 5% dup, 1% corruption,
# combined 5/5/5/1 and 20% loss (both directions impaired alike), mlwip against Linux's own TCP
# measured through the same link in the same run.
#
#   NS_A (Linux .3 echo server; mlw_epoll_echo .2)  --veth--  NS_R (mlw_impair_link)
#   --veth--  NS_B (Linux .1 clients; imp_echo_client .6)
#
# Per condition, each with its own relay run from the same seed:
#   linux_nosack  Linux client -> Linux echo server, net.ipv4.tcp_sack=0 in both namespaces
#   linux_sack    the same with SACK (Linux's default)
# Every Linux endpoint (imp_echo.py, client and server) sets its congestion control per socket
# (setsockopt TCP_CONGESTION, MLW_IMPAIR_LINUX_CC: cubic, Linux's own default, unless set to bbr
# or reno): new namespaces inherit the host's net.ipv4.tcp_congestion_control (bbr here), and
# only the init namespace may allow cubic as a default, which a test must not change. The
# algorithm used is read back from every socket, checked with ss -ti once, and printed.
#   mlw_srv       Linux client (SACK on) -> mlw_epoll_echo (1 shard, net_af_packet)
#   mlw_cli       imp_echo_client (mlwip, 1 shard) -> Linux echo server (SACK on)
#   mlw2          imp_echo_client -> mlw_epoll_echo (MLW_IMPAIR_MLW2=1)
# Every transfer is bounded by a timeout and checked byte for byte.
#
# Floors (mlw_srv and mlw_cli): time <= FLOOR_X * linux_nosack + FLOOR_S (default 1.5 x + 1 s)
# for the conditions in MUST (default: loss5 combined, the issue's must-reach); every other
# condition must complete byte-exact within its timeout. Transfers listed in GAP (where mlwip
# does not complete today, see README) run only with MLW_IMPAIR_ALL=1, and floors listed in
# FLOOR_GAP (not met today) are asserted only then.
#
# The relay impairs IPv4/IPv6 TCP and UDP only: ARP, ND, MLD and ICMP pass unimpaired and take
# no random draw, so both stacks' segments meet the same decisions for the same seed.
#
# Environment: MLW_IMPAIR_LINUX_CC (cubic, bbr or reno; default cubic), MLW_IMPAIR_ALL=1, MLW_IMPAIR_MLW2=1, MLW_IMPAIR_LOGS=DIR (keep the logs),
# MLW_IMPAIR_PCAP=1 (a capture of every transfer on the A side, in MLW_IMPAIR_LOGS), MLW_IMPAIR_BYTES (default 4 MiB; 1 MiB at 20%
# loss: 256 KiB), MLW_IMPAIR_SEED (default 12345), MLW_IMPAIR_CONDS (names, to run a subset),
# MLW_IMPAIR_COLS (columns, to run a subset), MLW_IMPAIR_NSTAT=1 (Linux's TCP counters of each
# namespace over each transfer, nstat, in MLW_IMPAIR_LOGS/COND.COL.nstat).
IT_NAME=test_fault_matrix
RELAY=${1:?usage: fault_matrix.sh RELAY ECHO CLIENT ITDIR}
ECHO=${2:?}
CLIENT=${3:?}
ITDIR=${4:?}
. "$ITDIR/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
# Logs (relay counters, clients, the server) stay in MLW_IMPAIR_LOGS when it names a directory.
LOGDIR=${MLW_IMPAIR_LOGS:-$IT_TMP}
mkdir -p "$LOGDIR" || it_fail "cannot create $LOGDIR"

it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

LINUX_CC=${MLW_IMPAIR_LINUX_CC:-cubic}
case "$LINUX_CC" in
cubic | bbr | reno) ;;
*) it_fail "MLW_IMPAIR_LINUX_CC='$LINUX_CC': the Linux reference's congestion control must be cubic (default, Linux's own), bbr or reno" ;;
esac
grep -qw "$LINUX_CC" /proc/sys/net/ipv4/tcp_available_congestion_control ||
	it_skip "congestion control $LINUX_CC is not available (net.ipv4.tcp_available_congestion_control)"

BYTES=${MLW_IMPAIR_BYTES:-$((4 * 1024 * 1024))}
BYTES20=$((BYTES / 16))
SEED=${MLW_IMPAIR_SEED:-12345}
FLOOR_X=${FLOOR_X:-1.5}
FLOOR_S=${FLOOR_S:-1}
TMO=60		# seconds per transfer (4 MiB)
TMO20=120	# at 20% loss (256 KiB)

# name|spec|bytes|timeout
CONDS="clean||$BYTES|$TMO
loss5|loss=5|$BYTES|$TMO
reorder5|reorder=5|$BYTES|$TMO
dup5|dup=5|$BYTES|$TMO
corrupt1|corrupt=1|$BYTES|$TMO
combined|loss=5,reorder=5,dup=5,corrupt=1|$BYTES|$TMO
loss20|loss=20|$BYTES20|$TMO20"
MUST=" loss5 combined "
# Known gaps (README, "Impaired link"), run only with MLW_IMPAIR_ALL=1:
# - loss20.linux_nosack: 30-90 s for 256 KiB (RTO backoff), no floor depends on it.
# (mlw_srv and mlw2 ran only with MLW_IMPAIR_ALL=1 while lwIP's "tcp_receive: ooseq tcplen >
# rcv_wnd" assertion aborted mlw_epoll_echo under reordering and corruption: fixed, issue 12.)
GAP=${MLW_IMPAIR_GAP:-"loss20.linux_nosack"}
# Run, must complete byte-exact, but the floor is only reported (asserted with MLW_IMPAIR_ALL=1).
# None since the RACK reordering timer: in every run of 2026-12-07 mlw_srv took 0.37-0.67 s at 5%
# loss (Linux without SACK 2.4-5.7 s) and 0.65-1.78 s combined (Linux without SACK 7.9-22 s).
FLOOR_GAP=${MLW_IMPAIR_FLOOR_GAP:-""}
COLS="linux_nosack linux_sack mlw_srv mlw_cli"
[ "${MLW_IMPAIR_MLW2:-0}" = 1 ] && COLS="$COLS mlw2"
COLS=${MLW_IMPAIR_COLS:-$COLS}	# a subset of the columns (to chase one transfer)

A_LINUX=10.97.0.3
A_MLW=10.97.0.2
B_LINUX=10.97.0.1
B_MLW=10.97.0.6

# --- topology -------------------------------------------------------------------------------
NS_A="mlwfa$$"
NS_R="mlwfr$$"
NS_B="mlwfb$$"
IF_A="fa$$"
IF_RA="fra$$"
IF_RB="frb$$"
IF_B="fb$$"
for ns in $NS_A $NS_R $NS_B; do
	ip netns add "$ns" || it_fail "ip netns add $ns"
	IT_NETNS="$IT_NETNS $ns"
	ip netns exec "$ns" ip link set lo up
done
veth() {	# veth IF1 NS1 IF2 NS2
	ip link add "$1" type veth peer name "$3" || it_fail "veth $1/$3"
	ip link set "$1" netns "$2" || it_fail "move $1"
	ip link set "$3" netns "$4" || it_fail "move $3"
}
veth "$IF_A" "$NS_A" "$IF_RA" "$NS_R"
veth "$IF_RB" "$NS_R" "$IF_B" "$NS_B"
for pair in "$NS_A $IF_A" "$NS_R $IF_RA" "$NS_R $IF_RB" "$NS_B $IF_B"; do
	set -- $pair
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
	# MTU-sized frames with real checksums: the relay carries frames, the endpoints check them.
	ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1
	ip netns exec "$1" ip link set "$2" up
done
ip netns exec "$NS_A" ip addr add "$A_LINUX/24" dev "$IF_A"
ip netns exec "$NS_B" ip addr add "$B_LINUX/24" dev "$IF_B"
# ARP passes the relay unimpaired (only TCP/UDP is impaired); kept from when it was not (at 20%
# loss Linux's 3 solicitations all failed in about 1 run in 20): keep asking, every 200 ms.
for pair in "$NS_A $IF_A" "$NS_B $IF_B"; do
	set -- $pair
	ip netns exec "$1" sysctl -qw "net.ipv4.neigh.$2.mcast_solicit=30" \
		"net.ipv4.neigh.$2.ucast_solicit=30" "net.ipv4.neigh.$2.retrans_time_ms=200"
done

# The Linux echo server in NS_A, for the whole run, with the reference's congestion control.
it_start "Linux echo server" "$LOGDIR/lecho.log" \
	ip netns exec "$NS_A" timeout -k 5 900 python3 "$HERE/imp_echo.py" --serve --cc "$LINUX_CC" "$A_LINUX" 7
it_wait_log "$LOGDIR/lecho.log" "^listening cc $LINUX_CC" 20 "$IT_LAST_PID"
# What ss -ti sees on an accepted connection (the namespace's default is the host's).
ip netns exec "$NS_A" python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], 7)); time.sleep(1.5)' "$A_LINUX" &
HOLD=$!
sleep 0.7
SS_CC=$(ip netns exec "$NS_A" ss -tin state established "( sport = :7 )" | grep -o -w -E "cubic|bbr|reno|[a-z]+_?cc" | head -1)
wait $HOLD
[ "$SS_CC" = "$LINUX_CC" ] ||
	it_fail "ss -ti shows '$SS_CC' on the Linux echo server's connection, not $LINUX_CC"
it_log "Linux reference: congestion control $LINUX_CC per socket (ss -ti: $SS_CC; namespace default" \
	"$(ip netns exec "$NS_A" cat /proc/sys/net/ipv4/tcp_congestion_control))"

# mlwip configurations: 1 shard on net_af_packet (qpairs=1).
it_config "$LOGDIR/srv.ini" "mlwfm_s_$$" "net_af_packet0,iface=$IF_A,qpairs=1" 1 "$A_MLW/24"
it_config "$LOGDIR/cli.ini" "mlwfm_c_$$" "net_af_packet0,iface=$IF_B,qpairs=1" 1 "$B_MLW/24"

relay_start() {	# relay_start SPEC LOGTAG
	it_start mlw_impair_link "$LOGDIR/relay.$2.log" ip netns exec "$NS_R" timeout -k 5 400 \
		"$RELAY" --a "$IF_RA" --b "$IF_RB" --seed "$SEED" --both "${1:-loss=0}" --duration 390
	RPID=$IT_LAST_PID
	it_wait_log "$LOGDIR/relay.$2.log" "^ready" 10 "$RPID"
}
relay_stop() {	# relay_stop LOGTAG: stop, print its counters
	it_stop "$RPID" "$LOGDIR/relay.$1.log" || { cat "$LOGDIR/relay.$1.log"; it_fail "relay exited non-zero"; }
	grep -q "stopped" "$LOGDIR/relay.$1.log" || { cat "$LOGDIR/relay.$1.log"; it_fail "relay did not stop cleanly"; }
	sed -n 's/^\(a2b\|b2a\): /    link \1: /p' "$LOGDIR/relay.$1.log"
}

sack() {
	ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_sack="$1"
	ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_sack="$1"
}

# result "seconds" or "FAIL:why" into RES[cond.col]
declare -A RES
linux_client() {	# linux_client ADDR PORT BYTES TMO TAG
	ip netns exec "$NS_B" timeout -k 5 $(($4 + 10)) python3 "$HERE/imp_echo.py" --cc "$LINUX_CC" \
		"$1" "$2" "$3" "$4" >"$LOGDIR/$5.log" 2>&1
	if grep -q "^PASS.* cc $LINUX_CC\$" "$LOGDIR/$5.log"; then
		awk '/^PASS/ { print $5 }' "$LOGDIR/$5.log"
	else
		echo "FAIL:$(head -c 200 "$LOGDIR/$5.log" | tr ' \n' '_ ')"
	fi
}
mlw_client() {	# mlw_client ADDR PORT BYTES TMO TAG
	ip netns exec "$NS_B" timeout -k 10 $(($4 + 30)) "$CLIENT" "$LOGDIR/cli.ini" --server "$1" --port "$2" \
		--bytes "$3" --timeout "$4" >"$LOGDIR/$5.log" 2>&1
	local rc=$?
	it_check_sanitizer "$LOGDIR/$5.log" >&2
	if [ $rc -eq 0 ] && grep -q "^imp_echo_client: PASS" "$LOGDIR/$5.log"; then
		awk '/^imp_echo_client: PASS/ { print $6 }' "$LOGDIR/$5.log"
	else
		echo "FAIL:rc=${rc}_$(grep -m1 '^imp_echo_client' "$LOGDIR/$5.log" | tr ' ' '_')"
	fi
	echo "    mlwip client retrans $(it_stats_sum "$LOGDIR/$5.log" retrans)" >&2
}

selected() {
	[ -z "${MLW_IMPAIR_CONDS:-}" ] && return 0
	case " $MLW_IMPAIR_CONDS " in *" $1 "*) return 0 ;; esac
	return 1
}
GAP=$(echo $GAP)
FLOOR_GAP=$(echo $FLOOR_GAP)
gapped() {
	[ "${MLW_IMPAIR_ALL:-0}" = 1 ] && return 1
	case " $GAP " in *" $1 "*) return 0 ;; esac
	return 1
}

run_col() {	# run_col COND SPEC BYTES TMO COL
	local c=$1 spec=$2 bytes=$3 tmo=$4 col=$5 r
	relay_start "$spec" "$c.$col"
	if [ "${MLW_IMPAIR_PCAP:-0}" = 1 ]; then
		# headers only, on the relay's A-side veth: what A sends (before the impairment; mlwip's
		# af_packet TX bypasses the taps of its own interface) and what reaches A (after it)
		it_start tshark "$LOGDIR/$c.$col.tshark.log" ip netns exec "$NS_R" timeout -k 5 300 \
			tshark -q -i "$IF_RA" -s 96 -w "$LOGDIR/$c.$col.pcap"
		CPID=$IT_LAST_PID
		sleep 1
	fi
	if [ "${MLW_IMPAIR_NSTAT:-0}" = 1 ]; then	# Linux's TCP counters over the transfer
		NSTAT_HISTORY="$LOGDIR/.nstat.a" ip netns exec "$NS_A" nstat -n
		NSTAT_HISTORY="$LOGDIR/.nstat.b" ip netns exec "$NS_B" nstat -n
	fi
	case $col in
	linux_nosack) sack 0; r=$(linux_client "$A_LINUX" 7 "$bytes" "$tmo" "$c.$col"); sack 1 ;;
	linux_sack) r=$(linux_client "$A_LINUX" 7 "$bytes" "$tmo" "$c.$col") ;;
	mlw_srv) r=$(linux_client "$A_MLW" 7007 "$bytes" "$tmo" "$c.$col") ;;
	mlw_cli) r=$(mlw_client "$A_LINUX" 7 "$bytes" "$tmo" "$c.$col") ;;
	mlw2) r=$(mlw_client "$A_MLW" 7007 "$bytes" "$tmo" "$c.$col") ;;
	esac
	it_log "$c ($bytes bytes, ${spec:-no impairment}) $col: $r"
	if [ "${MLW_IMPAIR_NSTAT:-0}" = 1 ]; then
		{ echo "# A (Linux echo server side)"; NSTAT_HISTORY="$LOGDIR/.nstat.a" ip netns exec "$NS_A" nstat
		  echo "# B (Linux client side)"; NSTAT_HISTORY="$LOGDIR/.nstat.b" ip netns exec "$NS_B" nstat
		} >"$LOGDIR/$c.$col.nstat" 2>&1
	fi
	if [ "${MLW_IMPAIR_PCAP:-0}" = 1 ]; then
		sleep 0.5
		it_stop "$CPID" "$LOGDIR/$c.$col.tshark.log"
	fi
	relay_stop "$c.$col"
	RES[$c.$col]=$r
}

# mlw_epoll_echo is started for each mlw_srv/mlw2 transfer and must stop clean each time (its
# retransmission count is printed with the transfer).
srv_start() {	# srv_start TAG
	it_start mlw_epoll_echo "$LOGDIR/$1.server.log" \
		ip netns exec "$NS_A" timeout -k 10 300 "$ECHO" "$LOGDIR/srv.ini" --duration 280
	SPID=$IT_LAST_PID
	it_wait_log "$LOGDIR/$1.server.log" "shard 0: echo listening" 30 "$SPID"
}
srv_stop() {	# srv_stop TAG: SRV_WHY="" when it stopped clean, else why
	local log="$LOGDIR/$1.server.log" src
	it_stop "$SPID" "$log"
	src=$?
	SRV_WHY=""
	echo "    mlwip server retrans $(it_stats_sum "$log" retrans)" \
		"$(grep -m1 'echo accepted' "$log" | cut -d' ' -f3-)"
	if grep -q "lwIP assertion" "$log"; then
		SRV_WHY="CRASH:$(grep -m1 'lwIP assertion' "$log" | tr ' ' '_')"
	elif [ $src -ne 0 ] || ! grep -q "mlwip: stopped (clean)" "$log" ||
		it_stats "$log" heap_in_use | awk '$2 != 0 { bad = 1 } END { exit !bad }' ||
		grep -E -q "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$log"; then
		SRV_WHY="SERVER:exit_$src"
	fi
}

sack 1
while IFS='|' read -r c spec bytes tmo; do
	selected "$c" || continue
	for col in $COLS; do
		if gapped "$c.$col"; then
			it_log "$c $col: skipped (a known gap, see README; MLW_IMPAIR_ALL=1 runs it)"
			RES[$c.$col]=skip
			continue
		fi
		case $col in
		mlw_srv | mlw2)
			srv_start "$c.$col"
			# reachable through a clean link first (ARP)
			relay_start "" ping.$c.$col
			it_wait_ping "$NS_B" "$A_MLW" 15
			relay_stop ping.$c.$col >/dev/null
			run_col "$c" "$spec" "$bytes" "$tmo" "$col"
			srv_stop "$c.$col"
			if [ -n "$SRV_WHY" ]; then
				it_log "$c $col: the server did not stop clean: $SRV_WHY"
				RES[$c.$col]="FAIL:$SRV_WHY"
			fi
			;;
		*) run_col "$c" "$spec" "$bytes" "$tmo" "$col" ;;
		esac
	done
done <<<"$CONDS"

# --- the table and the floors ----------------------------------------------------------------
bad=0
GOAL=" loss5 combined "
GOAL_N=0
GOAL_OK=0
printf '%-10s %9s' condition bytes
for col in $COLS; do printf ' %13s' "$col"; done
printf '   floor (%s x nosack + %s s)\n' "$FLOOR_X" "$FLOOR_S"
echo "(seconds; linux_*: Linux with congestion control $LINUX_CC per socket, the Linux client of mlw_srv too)"
while IFS='|' read -r c spec bytes tmo; do
	selected "$c" || continue
	nos=${RES[$c.linux_nosack]:-}
	floor=""
	case "$nos" in FAIL* | skip | "") ;; *) floor=$(awk -v t="$nos" -v x="$FLOOR_X" -v s="$FLOOR_S" 'BEGIN { printf "%.2f", t * x + s }') ;; esac
	printf '%-10s %9s' "$c" "$bytes"
	for col in $COLS; do
		r=${RES[$c.$col]:-FAIL:missing}
		case "$r" in
		FAIL*) printf ' %13s' FAIL ;;
		skip) printf ' %13s' - ;;
		*) printf ' %11.2fs' "$r" ;;
		esac
	done
	case " $MUST " in *" $c "*) printf '   %ss (must)' "${floor:-?}" ;; *) printf '   %ss' "${floor:-?}" ;; esac
	# mlwip's speed as a fraction of Linux with SACK (issue 12's goal: >= 0.5 at loss5, combined)
	sk=${RES[$c.linux_sack]:-}
	for col in mlw_srv mlw_cli; do
		r=${RES[$c.$col]:-FAIL}
		case "$sk$r" in *FAIL* | *skip*) continue ;; esac
		[ -n "$sk" ] || continue
		q=$(awk -v s="$sk" -v t="$r" 'BEGIN { printf "%.2f", s / t }')
		printf '  %s/sack %s' "${col#mlw_}" "$q"
		case " $GOAL " in *" $c "*)
			GOAL_N=$((GOAL_N + 1))
			awk -v q="$q" 'BEGIN { exit !(q >= 0.5) }' && GOAL_OK=$((GOAL_OK + 1)) ;;
		esac
	done
	echo
	for col in $COLS; do
		r=${RES[$c.$col]:-FAIL:missing}
		case "$col:$r" in
		linux_*:FAIL:FAIL_after_*TimeoutError*)
			# Linux's own TCP against itself did not finish in time (its
			# RTO backoff at 20% loss: seed 2014 once, 234 of 256 KiB in
			# 120 s). A reference, not mlwip: reported, not counted; a
			# floor it would set is not asserted (mlwip must still finish).
			echo "  $c $col: the Linux reference did not finish in its timeout: $r"
			continue ;;
		*:FAIL*) echo "  $c $col: $r"; bad=$((bad + 1)); continue ;;
		*:skip) continue ;;
		esac
		case $col in mlw_srv | mlw_cli) ;; *) continue ;; esac
		case " $MUST " in *" $c "*) ;; *) continue ;; esac
		[ -n "$floor" ] || continue
		if awk -v t="$r" -v f="$floor" 'BEGIN { exit !(t > f) }'; then
			if [ "${MLW_IMPAIR_ALL:-0}" != 1 ] && case " $FLOOR_GAP " in *" $c.$col "*) true ;; *) false ;; esac; then
				echo "  $c $col: ${r}s is over the floor ${floor}s (known gap, not asserted)"
			else
				echo "  $c $col: ${r}s is over the floor ${floor}s"
				bad=$((bad + 1))
			fi
		fi
	done
done <<<"$CONDS"
it_log "goal (mlwip >= 0.5 x Linux SACK's speed, $LINUX_CC, at:$GOAL): $GOAL_OK of $GOAL_N checks"
[ $bad -eq 0 ] || it_fail "$bad transfer(s) failed or missed the floor (logs above)"
it_log "PASS: every transfer run was byte-exact within its timeout; floors asserted under:$MUST" \
	"$([ "${MLW_IMPAIR_ALL:-0}" = 1 ] || [ -z "$FLOOR_GAP" ] || echo "except the known gaps: $FLOOR_GAP")"
