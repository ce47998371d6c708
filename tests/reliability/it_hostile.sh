#!/bin/bash
# it_hostile.sh ECHO_BIN ITDIR - hostile input against a 2-shard mlw_epoll_echo (net_af_packet,
# qpairs=2, IPv4 and IPv6) while a legitimate Linux client echoes BYTES random bytes over IPv4:
# first clean, then once per kind of hostile_gen.py (random frames, IPv4/IPv6 header fuzz, TCP
# flags/options/offsets, truncation, bad checksums, fragments, IPv6 extension headers, ICMP
# errors quoting the live connection, IPv6 from unresolvable sources), then all kinds mixed.
#
#   NS_M (mlw_epoll_echo .2 / fd98::2)  --veth--  NS_P (Linux client .1; hostile_gen.py)
#
# Asserts, per kind: the transfer is byte-exact and its throughput is at least FLOOR (default
# 0.5) of a clean transfer's measured right before it (below it, the pair is measured again, up
# to three times, best against best: a shared host's load moves single transfers); then the
# server stops clean
# (every heap empty, no sanitizer report) and each shard's heap never reserved more than
# HEAP_BOUND_MB (default 64) MiB (the allocator's chunks, a high-water mark).
# Note: net_af_packet with two queues uses PACKET_FANOUT with the defrag flag, so the kernel
# reassembles IPv4 fragments before mlwip sees them (frag4 tests little here; test_limits feeds
# fragments to lwIP directly).
#
# Environment: HOSTILE_RATE (frames/s, default 18000, the issue's rate; 6000 in the ASan build,
# see RATE below), HOSTILE_BYTES (default
# 32 MiB), HOSTILE_WARM (seconds of hostile frames before the transfer, default 4: queues that grow need time;
# with 2 s main's lwIP 2.1.3 ND queue passed once), HOSTILE_KINDS (default: every kind, then "all"), HOSTILE_SEED (default 7),
# HOSTILE_LOGS=DIR (keep the logs).
IT_NAME=it_hostile
ECHO=${1:?usage: it_hostile.sh MLW_EPOLL_ECHO ITDIR}
ITDIR=${2:?}
. "$ITDIR/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
LOGDIR=${HOSTILE_LOGS:-$IT_TMP}
mkdir -p "$LOGDIR" || it_fail "cannot create $LOGDIR"

it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

# The issue's rate, 18,000 frames/s, in plain builds. ASan+UBSan makes mlwip's receive path about
# three times dearer per frame (CPU per hostile frame of any kind, random bytes dropped at the
# Ethernet layer included: 15-27 us against 4-12 us plain, on this 2-core VM): at 18,000/s the
# shards' share of the CPU, not any kind, halved the session there (random bytes: 0.09-0.39 of
# clean). Sanitizer builds send a third as many.
case "${MLW_SANITIZE:-}" in
address) RATE=${HOSTILE_RATE:-6000} ;;
*) RATE=${HOSTILE_RATE:-18000} ;;
esac
BYTES=${HOSTILE_BYTES:-$((32 * 1024 * 1024))}
SEED=${HOSTILE_SEED:-7}
FLOOR=${FLOOR:-0.5}
HEAP_BOUND_MB=${HEAP_BOUND_MB:-64}
KINDS=${HOSTILE_KINDS:-"random ip4hdr ip6hdr tcpflags trunc badsum frag4 frag6 ip6ext icmperr ip6unres all"}
TMO=60
MLW_ADDR=10.98.0.2
PEER_ADDR=10.98.0.1
MLW6=fd98::2
PEER6=fd98::1

it_netns_pair hs "$PEER_ADDR/24"
it_config "$LOGDIR/echo.ini" "mlwit_hs_$$" "net_af_packet0,iface=$IF_M,qpairs=2" 2 "$MLW_ADDR/24"
echo "ipv6 = $MLW6/64" >>"$LOGDIR/echo.ini"
MAC=$(ip netns exec "$NS_M" cat "/sys/class/net/$IF_M/address") || it_fail "no MAC for $IF_M"
it_start mlw_epoll_echo "$LOGDIR/server.log" \
	ip netns exec "$NS_M" timeout -k 10 400 "$ECHO" "$LOGDIR/echo.ini" --duration 390
SPID=$IT_LAST_PID
it_wait_log "$LOGDIR/server.log" "shard 1: echo listening" 30 "$SPID"
it_wait_log "$LOGDIR/server.log" "shard 0: echo listening" 5 "$SPID"
it_wait_ping "$NS_P" "$MLW_ADDR" 15

transfer() {	# transfer TAG: seconds, or FAIL:why
	ip netns exec "$NS_P" timeout -k 5 $((TMO + 10)) python3 "$HERE/imp_echo.py" "$MLW_ADDR" 7007 \
		"$BYTES" "$TMO" >"$LOGDIR/$1.client.log" 2>&1
	if grep -q "^PASS" "$LOGDIR/$1.client.log"; then
		awk '/^PASS/ { print $5 }' "$LOGDIR/$1.client.log"
	else
		echo "FAIL:$(head -c 200 "$LOGDIR/$1.client.log" | tr ' \n' '_ ')"
	fi
}

ratio() { awk -v t="$1" -v c="$2" 'BEGIN { printf "%.2f", c / t }'; }
mbit() { awk -v t="$1" -v n="$BYTES" 'BEGIN { printf "%.1f", n * 8 / t / 1e6 }'; }

# hostile KIND TAG: one transfer while hostile_gen.py sends KIND; seconds or FAIL:why
hostile() {
	local r
	# The generator runs past the transfer's timeout at most; stopped as soon as it is done.
	# (inside $(...): it_start's line goes to stderr, the result alone to stdout)
	it_start hostile_gen "$LOGDIR/$2.gen.log" ip netns exec "$NS_P" timeout -k 5 $((TMO + 15)) \
		python3 "$HERE/hostile_gen.py" --iface "$IF_P" --dst-mac "$MAC" --src4 "$PEER_ADDR" \
		--dst4 "$MLW_ADDR" --src6 "$PEER6" --dst6 "$MLW6" --prefix6 "fd98::" --kinds "$1" \
		--rate "$RATE" --duration $((TMO + 10)) --seed "$SEED" >&2
	GPID=$IT_LAST_PID
	sleep "${HOSTILE_WARM:-4}"	# pools built, frames flowing
	r=$(transfer "$2")
	it_stop "$GPID" "$LOGDIR/$2.gen.log"
	echo "$r"
}

# Per kind, a clean transfer right before the hostile one, so both see the same machine: the
# floor is FLOOR x that clean throughput. Below it, the pair is measured again, up to three
# times, and the best hostile transfer is held against the best clean one (other load on a
# shared host slows single transfers of either; a kind that really harms the session, as lwIP
# 2.1.3's ND queue did, slows every hostile one: 0.02 and 0.20 of clean).
bad=0
declare -A RES
for k in $KINDS; do
	r=FAIL c=FAIL x=0 bc="" br=""
	for try in 1 2 3; do
		c=$(transfer "$k.clean$try")
		case "$c" in FAIL*) it_fail "clean transfer before $k failed: $c" ;; esac
		r=$(hostile "$k" "$k.$try")
		case "$r" in FAIL*) it_log "$k: $r"; break ;; esac
		it_log "$k (try $try): ${r}s, $(mbit "$r") Mbit/s; clean ${c}s, $(mbit "$c") Mbit/s:" \
			"$(ratio "$r" "$c") of clean (generator: $(tail -n 1 "$LOGDIR/$k.$try.gen.log"))"
		# The best of each so far: a load spike elsewhere slows single transfers, a kind that
		# harms the session slows every hostile one.
		bc=$(awk -v a="$c" -v b="${bc:-$c}" 'BEGIN { print (a < b ? a : b) }')
		br=$(awk -v a="$r" -v b="${br:-$r}" 'BEGIN { print (a < b ? a : b) }')
		x=$(ratio "$br" "$bc")
		awk -v x="$x" -v f="$FLOOR" 'BEGIN { exit !(x < f) }' || break
	done
	case "$r" in
	FAIL*) bad=$((bad + 1)); RES[$k]="FAIL - $c $(mbit "$c") -" ;;
	*)
		if awk -v x="$x" -v f="$FLOOR" 'BEGIN { exit !(x < f) }'; then
			it_log "$k: best of three below the floor ($FLOOR of the best clean)"
			bad=$((bad + 1))
		fi
		RES[$k]="$br $(mbit "$br") $bc $(mbit "$bc") $x"
		;;
	esac
	kill -0 "$SPID" 2>/dev/null || { cat "$LOGDIR/server.log"; it_fail "mlw_epoll_echo died under $k"; }
done

it_stop "$SPID" "$LOGDIR/server.log"
rc=$?
sed -n '/^shard /,$p' "$LOGDIR/server.log"
[ $rc -eq 0 ] || { cat "$LOGDIR/server.log"; it_fail "mlw_epoll_echo exited $rc"; }
grep -q "mlwip: stopped (clean)" "$LOGDIR/server.log" || { cat "$LOGDIR/server.log"; it_fail "server did not stop clean"; }
it_check_clean "$LOGDIR/server.log"
# Heap high-water mark per shard (the limits table: heap_reserved in bytes).
over=$(awk -v b=$((HEAP_BOUND_MB * 1024 * 1024)) '
	/^shard +heap_reserved/ { for (i = 1; i <= NF; i++) idx[$i] = i; t = 1; next }
	t && $1 ~ /^[0-9]+$/ { if ($(idx["heap_reserved"]) > b) print "shard " $1 ": " $(idx["heap_reserved"]); next }
	t { t = 0 }' "$LOGDIR/server.log")
grep -Eq "^shard +heap_reserved" "$LOGDIR/server.log" || it_fail "no limits table in the server's stats"
[ -z "$over" ] || it_fail "heap reserved above ${HEAP_BOUND_MB} MiB: $over"

printf '%-10s %10s %10s %10s %10s %8s\n' kind seconds Mbit/s clean_s clean_Mbit ratio
for k in $KINDS; do
	set -- ${RES[$k]}
	printf '%-10s %10s %10s %10s %10s %8s\n' "$k" "$1" "$2" "$3" "$4" "$5"
done
[ $bad -eq 0 ] || it_fail "$bad kind(s) failed or fell below $FLOOR of clean"
it_log "PASS: every transfer byte-exact and at least $FLOOR of the clean one beside it at $RATE" \
	"hostile frames/s; server stopped clean, heaps under $HEAP_BOUND_MB MiB"
