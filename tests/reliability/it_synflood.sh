#!/bin/bash
# it_synflood.sh SERVER_BIN - SYN flood against mlw_apps_server (lwIP httpd
# on port 80, lwiperf on 5001; 2 shards on net_af_packet) from a Linux
# namespace: hping3 --flood --rand-source SYNs to port 80 (at most FLOOD_S
# seconds) while NEW_CONNS new curl connections are made one after the
# other, then an established iperf stream is measured. Every one of
# them must succeed (SYN cookies, lwip-port/syn_cookie.c; before: 0 of 30).
# Prints the figures (the benchmark of issue 12 item 5): iperf goodput
# without and with the flood and their ratio, the SYN rate hping3 reached,
# new connections made, the server's heap and inter-shard ring drops.
# Everything stays in the two namespaces made here: the spoofed sources are
# off-link for mlwip, so its SYN-ACKs go to the gateway (the peer
# namespace), whose kernel drops them (no forwarding in a new namespace).
IT_NAME=it_synflood
. "$(dirname "$0")/../integration/lib.sh"

SERVER=${1:?usage: it_synflood.sh MLW_APPS_SERVER}
it_require_no_tsan
it_require_root_netns
it_require_cmd hping3 curl iperf ping ethtool timeout

FLOOD_S=${FLOOD_S:-90}	# at most; stopped once the connections and iperf are done
NEW_CONNS=${NEW_CONNS:-100}
IPERF_S=${IPERF_S:-5}
MLW_ADDR=10.91.0.2
PEER_ADDR=10.91.0.1
it_netns_pair sf "$PEER_ADDR/24"
it_start_apps_server "$SERVER" "mlwit_sf_$$" "$MLW_ADDR" "$PEER_ADDR"

# iperf2 client for IPERF_S seconds: prints Mbit/s.
goodput() {
	ip netns exec "$NS_P" timeout $((IPERF_S + 15)) iperf -c "$MLW_ADDR" -t "$IPERF_S" -f m \
		>"$IT_TMP/iperf.$1.log" 2>&1
	awk '/Mbits\/sec/ { v = $(NF - 1) } END { print v + 0 }' "$IT_TMP/iperf.$1.log"
}

BASE=$(goodput base)
it_log "no flood: iperf $BASE Mbit/s"

ip netns exec "$NS_P" timeout -s INT "$FLOOD_S" hping3 -q -S -p 80 --flood --rand-source "$MLW_ADDR" \
	>"$IT_TMP/hping.log" 2>&1 &
HPID=$!
IT_PIDS="$IT_PIDS $HPID"
T0=$(date +%s.%N)
sleep 1
ok=0
for ((i = 0; i < NEW_CONNS; i++)); do
	kill -0 $HPID 2>/dev/null || break
	code=$(ip netns exec "$NS_P" curl -s -m 10 -o /dev/null -w '%{http_code}' "http://$MLW_ADDR/") &&
		[ "$code" = 200 ] && ok=$((ok + 1))
done
UNDER=$(goodput flood)
STILL=0
kill -0 $HPID 2>/dev/null && STILL=1
kill -INT $HPID 2>/dev/null
wait $HPID
T1=$(date +%s.%N)
cat "$IT_TMP/hping.log"
SENT=$(awk '/packets transmitted/ { print $1 }' "$IT_TMP/hping.log")
RATE=$(awk -v n="${SENT:-0}" -v a="$T0" -v b="$T1" 'BEGIN { printf "%.0f", n / (b - a) }')
it_log "flood: $SENT SYNs in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s ($RATE/s)"
it_log "flood: iperf $UNDER Mbit/s ($(awk -v u="$UNDER" -v b="$BASE" 'BEGIN { printf "%.2f", (b > 0 ? u / b : 0) }') of no flood)"
it_log "flood: $ok of $NEW_CONNS new connections made (curl)"

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
grep -v '^EAL\|^TELEMETRY' "$IT_TMP/server.log" | tail -n 12
[ $rc -eq 0 ] || it_fail "mlw_apps_server exited $rc"
it_check_clean "$IT_TMP/server.log"
it_log "ring drops (fwd_drop): $(it_stats_sum "$IT_TMP/server.log" fwd_drop)"
[ "$STILL" -eq 1 ] || it_fail "the flood ended before the $NEW_CONNS connections (raise FLOOD_S)"
[ "$ok" -eq "$NEW_CONNS" ] || it_fail "$ok of $NEW_CONNS new connections during the flood"
[ "${SENT:-0}" -gt 0 ] || it_fail "hping3 sent nothing"
it_log "PASS: $ok/$NEW_CONNS new connections during a $RATE SYN/s flood"
