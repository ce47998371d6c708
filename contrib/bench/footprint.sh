#!/bin/bash
# footprint.sh SERVER [INI] - the board profile's memory: mlw_apps_server (lwIP's
# httpd on 80, echo on 7, lwiperf on 5001) with 4 shards on net_af_packet over a
# veth into a namespace of its own, configured from contrib/config/board.ini
# (interface, addresses, cores and file prefix replaced), then from a Linux
# peer: 1,000 echo connections opened and kept open (each echoes 1 KiB once),
# 100 HTTP requests, a 2-second iperf stream. Prints the server process's
# resident memory (VmRSS, its parts, and the high-water mark VmHWM) idle
# after start, with the connections open, and after the load, as lines
#   FOOTPRINT phase=<p> rss_kib=N hwm_kib=N anon_kib=N file_kib=N shmem_kib=N
# plus the server's own stats table at stop. Needs root; bounded (about 60 s).
#   contrib/bench/footprint.sh build/bench-release/contrib/lwip-apps/mlw_apps_server
IT_NAME=footprint
. "$(dirname "$0")/../../tests/integration/lib.sh"

SERVER=${1:?usage: footprint.sh MLW_APPS_SERVER [INI]}
INI=${2:-$(dirname "$0")/../config/board.ini}
CONNS=${CONNS:-1000}
it_require_root_netns
it_require_cmd curl iperf python3 timeout ethtool
MLW_ADDR=10.93.0.2
PEER_ADDR=10.93.0.1
it_netns_pair fp "$PEER_ADDR/24"
PREFIX="mlwfp_$$"
IT_PREFIXES="$IT_PREFIXES $PREFIX"
NCPU=$(nproc)
CORES=$(python3 -c "print(','.join(str(i % $NCPU) for i in range(4)))")
# The profile with this run's interface, addresses, cores and prefix.
sed -e "s/--file-prefix=[^ ]*/--file-prefix=$PREFIX/" -e "s/iface=eth0/iface=$IF_M/" \
	-e "s|^ipv4 = .*|ipv4 = $MLW_ADDR/24|" -e "s|^gateway = .*|gateway = $PEER_ADDR|" \
	-e "s|^cores = .*|cores = $CORES|" "$INI" >"$IT_TMP/board.ini"
it_start mlw_apps_server "$IT_TMP/server.log" \
	ip netns exec "$NS_M" timeout -k 10 120 "$SERVER" "$IT_TMP/board.ini" --duration 110
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "serving lwiperf" 30 "$SPID"
it_wait_ping "$NS_P" "$MLW_ADDR" 15
SRV=$(pgrep -f "^$SERVER $IT_TMP/board.ini" | head -1)
[ -n "$SRV" ] || it_fail "no server process"

footprint() {
	awk -v phase="$1" '/^VmRSS/ { rss = $2 } /^VmHWM/ { hwm = $2 } /^RssAnon/ { a = $2 }
		/^RssFile/ { f = $2 } /^RssShmem/ { s = $2 }
		END { printf "FOOTPRINT phase=%s rss_kib=%d hwm_kib=%d anon_kib=%d file_kib=%d shmem_kib=%d\n",
		      phase, rss, hwm, a, f, s }' "/proc/$SRV/status"
}
sleep 1
footprint idle

# The connections: opened, one echo each, held until $IT_TMP/release exists.
cat >"$IT_TMP/hold.py" <<PY
import os, socket, sys, time
n, addr = int(sys.argv[1]), sys.argv[2]
socks, msg = [], os.urandom(1024)
for i in range(n):
    s = socket.create_connection((addr, 7), timeout=10)
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        d = s.recv(len(msg) - len(got))
        if not d:
            sys.exit("echo closed")
        got += d
    if got != msg:
        sys.exit("echo differs")
    socks.append(s)
print("held", len(socks), flush=True)
t = time.time()
while not os.path.exists(sys.argv[3]) and time.time() - t < 60:
    time.sleep(0.1)
PY
ip netns exec "$NS_P" sh -c "ulimit -n 4096; exec python3 '$IT_TMP/hold.py' $CONNS $MLW_ADDR '$IT_TMP/release'" \
	>"$IT_TMP/hold.log" 2>&1 &
HOLD=$!
for _ in $(seq 600); do
	grep -q held "$IT_TMP/hold.log" && break
	kill -0 "$HOLD" 2>/dev/null || { cat "$IT_TMP/hold.log"; it_fail "the client failed"; }
	sleep 0.1
done
grep -q "held $CONNS" "$IT_TMP/hold.log" || { cat "$IT_TMP/hold.log"; it_fail "connections not held"; }
footprint "conns_$CONNS"
for _ in $(seq 100); do
	ip netns exec "$NS_P" curl -s -m 5 -o /dev/null "http://$MLW_ADDR/" || it_fail "curl failed"
done
ip netns exec "$NS_P" timeout 15 iperf -c "$MLW_ADDR" -t 2 -f m >"$IT_TMP/iperf.log" 2>&1 ||
	{ cat "$IT_TMP/iperf.log"; it_fail "iperf failed"; }
footprint "conns_${CONNS}_after_http_iperf"
echo "iperf: $(awk '/Mbits\/sec/ { v = $(NF - 1) } END { print v }' "$IT_TMP/iperf.log") Mbit/s"
touch "$IT_TMP/release"
wait "$HOLD"
it_stop "$SPID" "$IT_TMP/server.log" || { cat "$IT_TMP/server.log"; it_fail "server exit"; }
sed -n '/^shard /,$p' "$IT_TMP/server.log"
