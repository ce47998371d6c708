#!/bin/bash
# synflood_linux.sh MLW_SYN_FLOOD - Linux's own figures for it_synflood's benchmark (issue 12
# item 5), not a test: the same flood (mlw_syn_flood, FLOOD_RATE SYNs per second from random
# IPv4 sources to port 80, from a namespace) against Linux's stack in another namespace
# (tcp_syncookies=1, a default route back through the flooder's side as mlwip has), while
# NEW_CONNS new HTTP connections are made one after the other to nginx, then two iperf
# streams (as fast as they go, and paced at IPERF_B); prints iperf goodput without and with
# the flood, the ratios, the SYN rate and the connections made. Run as root:
#   bash tests/reliability/synflood_linux.sh build/plain/tests/reliability/mlw_syn_flood
# Bounded: the flood lasts at most FLOOD_S (90) seconds; only the namespaces it creates.
set -u
FLOOD=${1:?usage: synflood_linux.sh MLW_SYN_FLOOD}
. "$(dirname "$0")/synflood_lib.sh"
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
for c in iperf curl nginx; do
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
mkdir -p "$TMP/www" "$TMP/ng"
echo ok >"$TMP/www/index.html"
cat >"$TMP/ng/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
error_log $TMP/ng/error.log;
pid $TMP/ng/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/ng/body;
  proxy_temp_path $TMP/ng/proxy;
  fastcgi_temp_path $TMP/ng/fcgi;
  uwsgi_temp_path $TMP/ng/uwsgi;
  scgi_temp_path $TMP/ng/scgi;
  server { listen $SRV:80; root $TMP/www; }
}
EOC
ip netns exec "$NS_S" timeout 300 nginx -c "$TMP/ng/nginx.conf" -p "$TMP/ng" >/dev/null 2>&1 &
sleep 1
ip netns exec "$NS_P" ping -c 1 -W 2 "$SRV" >/dev/null || { echo "synflood_linux.sh: no ping" >&2; exit 1; }
sf_measure "$NS_P" "vp$$" "$SRV" "$TMP" || { echo "synflood_linux.sh: no neighbour entry for $SRV" >&2; exit 1; }
sed 's/^/linux: /' <<<"$SF_SUMMARY"
echo "linux: SYN cookies sent: $(ip netns exec "$NS_S" nstat -az TcpExtSyncookiesSent 2>/dev/null | awk '/Syncookies/ { print $2 }')"
