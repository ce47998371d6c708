#!/bin/bash
# it_afp_errors.sh ECHO_BIN - a kernel engine port that cannot open says why:
# mlw_epoll_echo with [port0] engine = afpacket on an interface that does
# not exist, on one that is down, without CAP_NET_RAW (root with the
# capability dropped from its bounding set), and with no iface at all (a
# configuration error with its line); each exits 1 with the reason.
IT_NAME=it_afp_errors
. "$(dirname "$0")/../integration/lib.sh"

ECHO=${1:?usage: it_afp_errors.sh MLW_EPOLL_ECHO}
it_require_root_netns
it_require_cmd ethtool timeout setpriv
export IT_ENGINE=afpacket

it_netns_pair er "10.98.0.1/24"

# expect CASE PATTERN CMD...: CMD exits 1 and its output matches PATTERN.
expect() {
	local what=$1 pat=$2 rc
	shift 2
	timeout -k 5 60 "$@" >"$IT_TMP/out.log" 2>&1
	rc=$?
	cat "$IT_TMP/out.log"
	[ $rc -eq 1 ] || it_fail "$what: exit $rc, expected 1"
	grep -q -- "$pat" "$IT_TMP/out.log" || it_fail "$what: no '$pat' in the output"
	it_log "$what: exit 1, '$pat'"
}

it_config "$IT_TMP/noif.ini" "mlwit_afe1_$$" "net_af_packet0,iface=nosuch$$" 2 "10.98.0.2/24"
expect "no such interface" "\[port0\] engine = afpacket: nosuch$$: no such interface" \
	ip netns exec "$NS_M" "$ECHO" "$IT_TMP/noif.ini" --duration 5

ip netns exec "$NS_M" ip link set "$IF_M" down
it_config "$IT_TMP/down.ini" "mlwit_afe2_$$" "net_af_packet0,iface=$IF_M" 2 "10.98.0.2/24"
expect "interface down" "$IF_M: the interface is down (ip link set $IF_M up)" \
	ip netns exec "$NS_M" "$ECHO" "$IT_TMP/down.ini" --duration 5
ip netns exec "$NS_M" ip link set "$IF_M" up

it_config "$IT_TMP/nocap.ini" "mlwit_afe3_$$" "net_af_packet0,iface=$IF_M" 2 "10.98.0.2/24"
expect "no CAP_NET_RAW" "AF_PACKET sockets need CAP_NET_RAW" \
	ip netns exec "$NS_M" setpriv --bounding-set=-net_raw --inh-caps=-net_raw "$ECHO" "$IT_TMP/nocap.ini" --duration 5

it_config "$IT_TMP/noiface.ini" "mlwit_afe4_$$" "" 2 "10.98.0.2/24"
sed -i '/^iface/d' "$IT_TMP/noiface.ini"
line=$(grep -n "^engine" "$IT_TMP/noiface.ini" | cut -d: -f1)
expect "no iface" "noiface.ini:$line: \[port0\] engine: afpacket needs the Linux interface: add iface = NAME" \
	ip netns exec "$NS_M" "$ECHO" "$IT_TMP/noiface.ini" --duration 5

it_log "PASS: missing interface, interface down, no CAP_NET_RAW, no iface: each refused with its reason"
