#!/bin/bash
# demo.sh BUILD_DIR - the README demo: mlwip with 2 shards serving lwIP's httpd
# and lwiperf on one end of a veth pair, Linux's curl and iperf on the other
# end (in network namespaces this script creates and removes). Needs root.
set -u
BUILD=${1:?usage: demo.sh BUILD_DIR (e.g. build/plain)}
SERVER="$BUILD/contrib/lwip-apps/mlw_apps_server"
[ -x "$SERVER" ] || { echo "demo: $SERVER not found (build first)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, veth pair)"; exit 1; }
for c in ip curl iperf ethtool timeout; do
	command -v $c >/dev/null || { echo "demo: '$c' is missing (scripts/deps.sh installs it)"; exit 1; }
done

NS_M="mlwdemom$$" NS_P="mlwdemop$$" IF_M="mdemo$$" IF_P="pdemo$$"
MLW_ADDR=10.98.0.2 PEER_ADDR=10.98.0.1
TMP=$(mktemp -d /tmp/mlw_demo.XXXXXX)
SPID=""
cleanup() {
	[ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	ip netns del "$NS_M" 2>/dev/null
	ip netns del "$NS_P" 2>/dev/null
	rm -rf "$TMP" "/var/run/dpdk/mlwdemo$$"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "== namespaces $NS_M (mlwip, $MLW_ADDR) <-> $NS_P (Linux, $PEER_ADDR)"
ip netns add "$NS_M" && ip netns add "$NS_P" || exit 1
ip link add "$IF_M" type veth peer name "$IF_P" || exit 1
ip link set "$IF_M" netns "$NS_M" && ip link set "$IF_P" netns "$NS_P" || exit 1
ip netns exec "$NS_M" sysctl -qw "net.ipv6.conf.$IF_M.disable_ipv6=1"
ip netns exec "$NS_P" sysctl -qw "net.ipv6.conf.$IF_P.disable_ipv6=1"
ip netns exec "$NS_M" ip link set "$IF_M" up
ip netns exec "$NS_P" ip addr add "$PEER_ADDR/24" dev "$IF_P"
ip netns exec "$NS_P" ip link set "$IF_P" up
# af_packet sees frames whose checksums were left to offload otherwise.
ip netns exec "$NS_M" ethtool -K "$IF_M" tx off rx off tso off gso off gro off >/dev/null 2>&1
ip netns exec "$NS_P" ethtool -K "$IF_P" tx off rx off tso off gso off gro off >/dev/null 2>&1

cat >"$TMP/demo.ini" <<INI
[eal]
args = --no-huge --no-pci -m 512 --file-prefix=mlwdemo$$ --vdev=net_af_packet0,iface=$IF_M,qpairs=2
[stack]
shards = 2
[port0]
ipv4 = $MLW_ADDR/24
gateway = $PEER_ADDR
INI
echo "== mlw_apps_server, 2 shards"
ip netns exec "$NS_M" timeout -k 5 90 "$SERVER" "$TMP/demo.ini" --duration 80 >"$TMP/server.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do
	grep -q "serving" "$TMP/server.log" && break
	kill -0 "$SPID" 2>/dev/null || { cat "$TMP/server.log"; exit 1; }
	sleep 0.1
done
for _ in $(seq 10); do
	ip netns exec "$NS_P" ping -c 1 -W 1 "$MLW_ADDR" >/dev/null 2>&1 && break
done

echo "== curl http://$MLW_ADDR/"
ip netns exec "$NS_P" curl -s -m 10 -o /dev/null \
	-w 'HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n' "http://$MLW_ADDR/"
echo "== iperf -c $MLW_ADDR -P 2 -t 5"
ip netns exec "$NS_P" timeout 30 iperf -c "$MLW_ADDR" -P 2 -t 5 -f m | grep -E 'Mbits/sec'

echo "== stopping mlwip; per-shard stats"
kill -TERM "$SPID"
wait "$SPID"
rc=$?
SPID=""
grep -v -E '^(EAL|TELEMETRY):' "$TMP/server.log"
exit $rc
