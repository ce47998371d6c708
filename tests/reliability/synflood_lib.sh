# synflood_lib.sh - the SYN-flood measurement that it_synflood.sh (mlwip) and
# synflood_linux.sh (Linux) share, so that both stacks are measured the same way.
# Sourced. Settings (defaults below): FLOOD (mlw_syn_flood), FLOOD_RATE, FLOOD_S,
# NEW_CONNS, IPERF_S, IPERF_B.
FLOOD_S=${FLOOD_S:-90}		# at most; stopped once the connections and iperf are done
FLOOD_RATE=${FLOOD_RATE:-150000}	# SYNs per second (issue 12: at least 100k/s); 0: all it can
NEW_CONNS=${NEW_CONNS:-100}
IPERF_S=${IPERF_S:-5}
IPERF_B=${IPERF_B:-1000M}	# the paced stream's rate (iperf -b)

# sf_mac NS ADDR: the MAC address NS's neighbour table has for ADDR (empty: none).
sf_mac() {
	ip -n "$1" neigh show "$2" | awk '/lladdr/ { print $5; exit }'
}

# sf_goodput NS ADDR DIR TAG [RATE]: an iperf2 client in NS to ADDR for IPERF_S
# seconds (paced at RATE if given), its output in DIR/iperf.TAG.log; prints Mbit/s.
sf_goodput() {
	ip netns exec "$1" timeout $((IPERF_S + 15)) iperf -c "$2" -t "$IPERF_S" -f m ${5:+-b "$5"} \
		>"$3/iperf.$4.log" 2>&1
	awk '/Mbits\/sec/ { v = $(NF - 1) } END { print v + 0 }' "$3/iperf.$4.log"
}

sf_ratio() {
	awk -v u="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? u / b : 0) }'
}

# sf_measure NS IFACE ADDR DIR: from namespace NS (through IFACE), iperf to ADDR as fast
# as it goes and paced at IPERF_B; then FLOOD SYNs to ADDR port 80 while NEW_CONNS curl
# connections are made one after the other (stopping early if the flood ended), and the
# two iperf runs again; then the flood is stopped. Logs in DIR (flood.log: the
# generator's line). Sets SF_BASE, SF_BASE_B, SF_UNDER, SF_UNDER_B (Mbit/s), SF_OK
# (connections that got 200), SF_STILL (1: the flood outlasted them), SF_FRC (the
# generator's exit status), SF_RATE (SYNs per second sent) and SF_SUMMARY (the lines to
# print). Returns 1, measuring nothing, if NS has no neighbour entry for ADDR.
sf_measure() {
	local ns=$1 iface=$2 addr=$3 dir=$4 mac fpid code i
	mac=$(sf_mac "$ns" "$addr")
	[ -n "$mac" ] || return 1
	SF_BASE=$(sf_goodput "$ns" "$addr" "$dir" base)
	SF_BASE_B=$(sf_goodput "$ns" "$addr" "$dir" base_paced "$IPERF_B")
	ip netns exec "$ns" "$FLOOD" --iface "$iface" --dst-mac "$mac" --dst "$addr" \
		--port 80 --rate "$FLOOD_RATE" --seconds "$FLOOD_S" >"$dir/flood.log" 2>&1 &
	fpid=$!
	sleep 1
	SF_OK=0
	for ((i = 0; i < NEW_CONNS; i++)); do
		kill -0 $fpid 2>/dev/null || break
		code=$(ip netns exec "$ns" curl -s -m 10 -o /dev/null -w '%{http_code}' "http://$addr/") &&
			[ "$code" = 200 ] && SF_OK=$((SF_OK + 1))
	done
	SF_UNDER=$(sf_goodput "$ns" "$addr" "$dir" flood)
	SF_UNDER_B=$(sf_goodput "$ns" "$addr" "$dir" flood_paced "$IPERF_B")
	SF_STILL=0
	kill -0 $fpid 2>/dev/null && SF_STILL=1
	kill -INT $fpid 2>/dev/null
	wait $fpid
	SF_FRC=$?
	SF_RATE=$(awk '/^sent/ { gsub(/[(\/s),]/, "", $7); print $7 }' "$dir/flood.log")
	SF_SUMMARY="no flood: iperf $SF_BASE Mbit/s; paced at $IPERF_B: $SF_BASE_B Mbit/s
flood: $(head -n 1 "$dir/flood.log")
flood: iperf $SF_UNDER Mbit/s ($(sf_ratio "$SF_UNDER" "$SF_BASE") of no flood); paced at $IPERF_B: $SF_UNDER_B Mbit/s ($(sf_ratio "$SF_UNDER_B" "$SF_BASE_B") of no flood)
flood: $SF_OK of $NEW_CONNS new connections made (curl)"
}
