#!/bin/bash
# it_iperf.sh SERVER_BIN - iperf 2 (Linux, in a namespace) against lwIP's
# lwiperf on a 2-shard mlwip stack over net_af_packet (qpairs=2): every
# stream reports a bandwidth, connections are accepted on both shards, and
# the stack stops with every shard's heap empty.
IT_NAME=it_iperf
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_iperf.sh MLW_APPS_SERVER}
it_require_no_tsan
it_require_root_netns
it_require_cmd iperf curl ping ethtool timeout

MLW_ADDR=10.91.0.2
PEER_ADDR=10.91.0.1
it_netns_pair ip "$PEER_ADDR/24"
PREFIX="mlwit_iperf_$$"
it_start_apps_server "$SERVER" "$PREFIX" "$MLW_ADDR" "$PEER_ADDR"

# iperf_run P LOG: run iperf with P streams for 5 s, print its figure.
iperf_run() {
	local p=$1 log=$2 streams sum
	ip netns exec "$NS_P" timeout 40 iperf -c "$MLW_ADDR" -P "$p" -t 5 -f m >"$log" 2>&1 ||
		{ cat "$log"; it_fail "iperf -P $p failed"; }
	# Per-stream result lines: "[  1] 0.0000-5.0032 sec  1.46 GBytes  2504 Mbits/sec"
	streams=$(grep -E '^\[ *[0-9]+\] .*sec .*[0-9.]+ Mbits/sec' "$log" | grep -c -v -E ' 0(\.0+)? Mbits/sec')
	if [ "$streams" -ne "$p" ]; then
		cat "$log"
		it_fail "iperf -P $p: $streams of $p streams reported a non-zero bandwidth"
	fi
	if [ "$p" -gt 1 ]; then
		sum=$(grep -E '^\[SUM\]' "$log" | tail -n 1 | grep -o -E '[0-9.]+ Mbits/sec' | awk '{ print $1 }')
	else
		sum=$(grep -E '^\[ *[0-9]+\] .*Mbits/sec' "$log" | tail -n 1 | grep -o -E '[0-9.]+ Mbits/sec' | awk '{ print $1 }')
	fi
	[ -n "$sum" ] || { cat "$log"; it_fail "iperf -P $p: no total bandwidth"; }
	awk -v m="$sum" 'BEGIN { printf "%.2f", m / 1000 }'
}

P4=$(iperf_run 4 "$IT_TMP/iperf4.log") || exit 1
it_log "iperf -P 4: $P4 Gbit/s"
P1=$(iperf_run 1 "$IT_TMP/iperf1.log") || exit 1
it_log "iperf -P 1: $P1 Gbit/s"

# iperf reports a stream when it has closed its socket, which may still
# hold data: the stream ends at lwiperf when the last byte and the FIN
# arrive. On a loaded machine (a shard without CPU for seconds, its peer's
# retransmission timeout backed off) that came after the stop below and
# the stream was counted as never ended. Wait for the 5 reports, 60 s at
# most, and say how long the last took.
for ((w = 0; w < 600; w++)); do
	[ "$(grep -c -E 'iperf (done|aborted)' "$IT_TMP/server.log")" -ge 5 ] && break
	sleep 0.1
done
[ "$w" -gt 0 ] && it_log "the last of the 5 streams ended at lwiperf $((w / 10)).$((w % 10)) s after iperf reported it"

# Steering spreads connections by their hash, so 5 iperf connections all
# land on one shard with probability 1/16; 16 more short connections (HTTP)
# make "accepts on both shards" fail only if steering is broken (2^-20).
for i in $(seq 16); do
	code=$(ip netns exec "$NS_P" curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$MLW_ADDR/") || true
	[ "$code" = 200 ] || it_fail "curl #$i: HTTP status '$code'"
done

# Stop while iperf streams are still running: the shards must abort those
# connections before lwiperf frees its state (a stop in the other order
# freed lwiperf's connection state twice: caught by the allocator's check).
ip netns exec "$NS_P" timeout 30 iperf -c "$MLW_ADDR" -P 2 -t 20 >"$IT_TMP/iperf-stop.log" 2>&1 &
IPERF_BG=$!
sleep 3
it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
kill "$IPERF_BG" 2>/dev/null
wait "$IPERF_BG" 2>/dev/null
cat "$IT_TMP/server.log"
[ $rc -eq 0 ] || it_fail "mlw_apps_server exited $rc"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
# Every stream of the -P 4 and -P 1 runs must have ended at lwiperf (the
# client's FIN acknowledged, its report printed). Before SACK and the 1 ms
# timer wheel, a stream that lost a run of segments under load (the shard
# not scheduled, its af_packet ring overflowing) could take minutes to
# recover: Linux without SACK retransmits one segment per round trip and
# lwIP held each ACK for its 250 ms timer (README, "Soak").
done_reports=$(grep -c "iperf done" "$IT_TMP/server.log")
if [ "$done_reports" -ne 5 ]; then
	for port in $(grep -h -o -E 'local [0-9.]+ port [0-9]+ connected' "$IT_TMP/iperf4.log" "$IT_TMP/iperf1.log" |
		awk '{ print $4 }'); do
		grep -q "iperf done from [0-9.]*:$port:" "$IT_TMP/server.log" ||
			it_log "the stream from client port $port never ended at lwiperf"
	done
	it_fail "lwiperf reported $done_reports finished sessions, expected 5"
fi
while read -r shard acc; do
	[ "$acc" -gt 0 ] || it_fail "shard $shard accepted no connection"
done < <(it_stats "$IT_TMP/server.log" accepts)
[ "$(it_stats "$IT_TMP/server.log" accepts | wc -l)" -eq 2 ] || it_fail "expected 2 shards in the stats"
it_log "accepts per shard: $(it_stats "$IT_TMP/server.log" accepts | awk '{ printf "%s=%s ", $1, $2 }')"
it_log "forwarded (fwd_out) per shard: $(it_stats "$IT_TMP/server.log" fwd_out | awk '{ printf "%s=%s ", $1, $2 }')"
it_check_rings "$IT_TMP/server.log"
it_log "PASS: iperf -P 1 $P1 Gbit/s, -P 4 $P4 Gbit/s"
