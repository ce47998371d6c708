#!/bin/bash
# synflood_linux.sh - Linux's own figures for it_synflood's benchmark (issue 12 item 5), not a
# test: the same flood (hping3 --flood --rand-source to port 80, from a namespace) against
# Linux's stack in another namespace (tcp_syncookies=1, a default route back through the
# flooder's side as mlwip has), while 100 new HTTP connections are made one after the other
# (python3 -m http.server), then an iperf stream; prints iperf goodput without and with the
# flood, the ratio, the SYN rate and the connections made. Run as root:
#   bash tests/reliability/synflood_linux.sh
# Bounded: the flood lasts at most FLOOD_S (90) seconds; only the namespaces it creates.
set -u
FLOOD_S=${FLOOD_S:-90}
NEW_CONNS=${NEW_CONNS:-100}
IPERF_S=${IPERF_S:-5}
NS_S=lsfs$$
NS_P=lsfp$$
SRV=10.92.0.2
CLI=10.92.0.1
TMP=$(mktemp -d)
cleanup() {
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_P" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "synflood_linux.sh: needs root (namespaces)" >&2; exit 77; }
for c in hping3 iperf curl python3; do
	command -v $c >/dev/null || { echo "synflood_linux.sh: $c missing" >&2; exit 77; }
done
ip netns add "$NS_S" && ip netns add "$NS_P" || exit 1
ip link add "vs$$" netns "$NS_S" type veth peer name "vp$$" netns "$NS_P" || exit 1
ip -n "$NS_S" addr add "$SRV/24" dev "vs$$"
ip -n "$NS_P" addr add "$CLI/24" dev "vp$$"
for ns in "$NS_S" "$NS_P"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link set "vs$$" up
ip -n "$NS_P" link set "vp$$" up
ip -n "$NS_S" route add default via "$CLI"
ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=1
ip netns exec "$NS_S" iperf -s >/dev/null 2>&1 &
(cd "$TMP" && echo ok >index.html && exec ip netns exec "$NS_S" python3 -m http.server 80 --bind "$SRV") \
	>/dev/null 2>&1 &
sleep 1

goodput() {
	ip netns exec "$NS_P" timeout $((IPERF_S + 15)) iperf -c "$SRV" -t "$IPERF_S" -f m >"$TMP/iperf.$1.log" 2>&1
	awk '/Mbits\/sec/ { v = $(NF - 1) } END { print v + 0 }' "$TMP/iperf.$1.log"
}

BASE=$(goodput base)
echo "linux: no flood: iperf $BASE Mbit/s"
ip netns exec "$NS_P" timeout -s INT "$FLOOD_S" hping3 -q -S -p 80 --flood --rand-source "$SRV" \
	>"$TMP/hping.log" 2>&1 &
HPID=$!
T0=$(date +%s.%N)
sleep 1
ok=0
for ((i = 0; i < NEW_CONNS; i++)); do
	code=$(ip netns exec "$NS_P" curl -s -m 10 -o /dev/null -w '%{http_code}' "http://$SRV/") &&
		[ "$code" = 200 ] && ok=$((ok + 1))
done
UNDER=$(goodput flood)
kill -INT $HPID 2>/dev/null
wait $HPID
T1=$(date +%s.%N)
SENT=$(awk '/packets transmitted/ { print $1 }' "$TMP/hping.log")
echo "linux: flood: ${SENT:-0} SYNs in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s" \
	"($(awk -v n="${SENT:-0}" -v a="$T0" -v b="$T1" 'BEGIN { printf "%.0f", n / (b - a) }')/s)"
echo "linux: flood: iperf $UNDER Mbit/s ($(awk -v u="$UNDER" -v b="$BASE" 'BEGIN { printf "%.2f", (b > 0 ? u / b : 0) }') of no flood)"
echo "linux: flood: $ok of $NEW_CONNS new connections made (curl)"
echo "linux: SYN cookies sent: $(ip netns exec "$NS_S" nstat -az TcpExtSyncookiesSent 2>/dev/null | awk '/Syncookies/ { print $2 }')"
