#!/bin/bash
# capture_pcapng.sh SERVER_BIN TELEMETRY_PY - mlwip's own packet capture
# (capture/): mlw_apps_server with 2 shards on net_af_packet over a veth into
# a namespace this test creates, a Linux peer fetching pages from its httpd.
#  1. [capture] start = on: tshark finds the HTTP requests and responses, no
#     malformed frame and no expert warning, both directions, the port as
#     interface 0 and both shards as its queues, and every frame once (the
#     capture's RX/TX counts equal the stack's rx_pkts/tx_pkts).
#  2. Run-time control over the telemetry socket: status, errors (unwritable
#     path, bad parameter, already capturing, nothing to stop), start/stop.
#  3. limit_mb = 1 under a bounded iperf run: the file stays within it and
#     the capture stops; snaplen cuts frames.  4. rotate = 2: FILE, FILE.1,
#     FILE.2, each within the limit and readable.
#  5. Bad [capture] values are refused with a message naming the key.
IT_NAME=capture_pcapng
. "$(dirname "$0")/../integration/lib.sh"

SERVER=${1:?usage: capture_pcapng.sh MLW_APPS_SERVER TELEMETRY_PY}
TELE=${2:?usage: capture_pcapng.sh MLW_APPS_SERVER TELEMETRY_PY}
it_require_no_tsan
it_require_root_netns
it_require_cmd tshark capinfos iperf curl ping ethtool timeout python3

MLW_ADDR=10.96.0.2
PEER_ADDR=10.96.0.1
LIMIT=$((1024 * 1024))
it_netns_pair cp "$PEER_ADDR/24"

# tshark FILE ARGS...: tshark without its root warning.
ts() { tshark -r "$@" 2>/dev/null; }
count() { ts "$1" -Y "$2" | wc -l; }
# tele CMD: the answer of the running server's telemetry socket.
tele() { python3 "$TELE" "/var/run/dpdk/$PREFIX/dpdk_telemetry.v2" "$1" || it_fail "telemetry: $1"; }
# json_get JSON KEY
json_get() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

# start_server TAG [capture lines]: mlw_apps_server with 2 shards; sets SPID, PREFIX.
start_server() {
	local tag=$1
	shift
	PREFIX="mlwcp${tag}_$$"
	it_config "$IT_TMP/$tag.ini" "$PREFIX" "net_af_packet0,iface=$IF_M,qpairs=2" 2 "$MLW_ADDR/24" "$PEER_ADDR"
	if [ $# -gt 0 ]; then
		echo "[capture]" >>"$IT_TMP/$tag.ini"
		printf '%s\n' "$@" >>"$IT_TMP/$tag.ini"
	fi
	it_start "mlw_apps_server ($tag)" "$IT_TMP/$tag.log" \
		ip netns exec "$NS_M" timeout -k 10 110 "$SERVER" "$IT_TMP/$tag.ini" --duration 100
	SPID=$IT_LAST_PID
	it_wait_log "$IT_TMP/$tag.log" "serving lwiperf" 30 "$SPID"
	it_wait_ping "$NS_P" "$MLW_ADDR" 15
}

stop_server() {
	local log=$1
	it_stop "$SPID" "$log" || { cat "$log"; it_fail "mlw_apps_server exited $?"; }
	grep -q "mlwip: stopped (clean)" "$log" || { cat "$log"; it_fail "server did not stop clean"; }
	it_check_clean "$log"
	! grep "copies not returned" "$log" || it_fail "capture copy buffers leaked"
}

fetch_pages() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		for path in / /img/sics.gif; do
			ip netns exec "$NS_P" curl -s -m 10 -o /dev/null "http://$MLW_ADDR$path" || it_fail "curl $path"
		done
	done
}

# ---- 1. [capture] start = on ----
CAP1="$IT_TMP/ini.pcapng"
start_server ini "file = $CAP1" "start = on"
fetch_pages 6
stop_server "$IT_TMP/ini.log"
LINE=$(grep "mlwip: capture $CAP1:" "$IT_TMP/ini.log") || { cat "$IT_TMP/ini.log"; it_fail "no capture summary at stop"; }
it_log "$LINE"
echo "$LINE" | grep -q ", 0 dropped," || it_fail "frames dropped: $LINE"
REQ=$(count "$CAP1" http.request)
RSP=$(count "$CAP1" http.response)
[ "$REQ" -ge 12 ] || it_fail "tshark found $REQ HTTP requests (12 sent)"
[ "$RSP" -ge 12 ] || it_fail "tshark found $RSP HTTP responses (12 sent)"
BAD=$(ts "$CAP1" -Y "_ws.malformed || _ws.expert.severity >= warning")
[ -z "$BAD" ] || { echo "$BAD" | head -20; it_fail "malformed frames or expert warnings in $CAP1"; }
IN=$(count "$CAP1" "frame.packet_flags_direction == 1")
OUT=$(count "$CAP1" "frame.packet_flags_direction == 2")
TOTAL=$(ts "$CAP1" | wc -l)
[ "$IN" -gt 0 ] && [ "$OUT" -gt 0 ] && [ $((IN + OUT)) -eq "$TOTAL" ] ||
	it_fail "directions: $IN in, $OUT out of $TOTAL frames"
NAMES=$(ts "$CAP1" -T fields -e frame.interface_id -e frame.interface_name | sort -u)
[ "$NAMES" = "$(printf '0\t%s' "$IF_M")" ] || it_fail "interfaces recorded: '$NAMES' (want 0 $IF_M)"
QUEUES=$(ts "$CAP1" -T fields -e frame.interface_queue | sort -u | tr '\n' ' ')
[ "$QUEUES" = "0 1 " ] || it_fail "shards (interface queues) recorded: '$QUEUES' (want 0 1)"
# Every frame once: a frame received by one shard and forwarded to its
# owner is captured where it entered, once.
RX=$(it_stats_sum "$IT_TMP/ini.log" rx_pkts)
TX=$(it_stats_sum "$IT_TMP/ini.log" tx_pkts)
[ "$IN" -eq "$RX" ] && [ "$OUT" -eq "$TX" ] ||
	it_fail "captured $IN in / $OUT out, the stack counted rx_pkts $RX / tx_pkts $TX"
FWD=$(it_stats_sum "$IT_TMP/ini.log" fwd_out)
capinfos -o "$CAP1" 2>/dev/null | grep -q "Strict time order: *True" || it_fail "frames not in time order"
it_log "1 ok: $REQ requests, $RSP responses, $IN in + $OUT out = stack's rx/tx, $FWD forwarded, shards $QUEUES"

# ---- 2. telemetry control ----
start_server tele
R=$(tele /mlwip/capture/status)
[ "$(json_get "$R" capturing)" = 0 ] || it_fail "status before start: $R"
R=$(tele "/mlwip/capture/start,file=/nonexistent-$$/x.pcapng")
echo "$R" | grep -q '"error": "cannot create /nonexistent-[0-9]*/x.pcapng: No such file or directory"' ||
	it_fail "start with an unwritable path: $R"
R=$(tele "/mlwip/capture/start,file=$IT_TMP/x.pcapng snaplen=10")
echo "$R" | grep -q '"error": "snaplen: ' || it_fail "start with snaplen=10: $R"
R=$(tele "/mlwip/capture/start,file=$IT_TMP/x.pcapng;colour=blue")
echo "$R" | grep -q '"error": "colour: unknown key' || it_fail "start with an unknown parameter: $R"
R=$(tele "/mlwip/capture/start,file=$IT_TMP/x.pcapng shard=5")
echo "$R" | grep -q '"error": "shards: names shard 5, but there are 2 shards"' || it_fail "start with shard=5: $R"
R=$(tele /mlwip/capture/stop)
echo "$R" | grep -q '"error": "no capture running"' || it_fail "stop with nothing running: $R"
CAP2="$IT_TMP/tele.pcapng"
R=$(tele "/mlwip/capture/start,file=$CAP2 port=0;shard=all")
[ "$(json_get "$R" capturing)" = 1 ] && [ "$(json_get "$R" file)" = "$CAP2" ] || it_fail "start: $R"
R=$(tele "/mlwip/capture/start,file=$IT_TMP/y.pcapng")
echo "$R" | grep -q '"error": "already capturing to ' || it_fail "second start: $R"
fetch_pages 3
sleep 0.2
R=$(tele /mlwip/capture/status)
[ "$(json_get "$R" capturing)" = 1 ] && [ "$(json_get "$R" packets)" -gt 0 ] || it_fail "status: $R"
R=$(tele /mlwip/capture/stop)
[ "$(json_get "$R" capturing)" = 0 ] && [ "$(json_get "$R" dropped)" = 0 ] || it_fail "stop: $R"
P2=$(json_get "$R" packets)
[ "$(ts "$CAP2" | wc -l)" -eq "$P2" ] || it_fail "stop said $P2 packets, the file has $(ts "$CAP2" | wc -l)"
REQ=$(count "$CAP2" http.request)
RSP=$(count "$CAP2" http.response)
[ "$REQ" -ge 6 ] && [ "$RSP" -ge 6 ] || it_fail "run-time capture: $REQ requests, $RSP responses (6 sent)"
BAD=$(ts "$CAP2" -Y "_ws.malformed || _ws.expert.severity >= warning")
[ -z "$BAD" ] || { echo "$BAD" | head -20; it_fail "malformed frames or expert warnings in $CAP2"; }
it_log "2 ok: telemetry start/stop, $P2 packets, $REQ requests, $RSP responses; errors reported"

# ---- 3. limit_mb = 1, snaplen = 200, under a bounded bulk transfer ----
CAP3="$IT_TMP/limit.pcapng"
R=$(tele "/mlwip/capture/start,file=$CAP3 limit_mb=1 snaplen=200")
[ "$(json_get "$R" capturing)" = 1 ] || it_fail "start with limit_mb=1: $R"
ip netns exec "$NS_P" timeout 30 iperf -c "$MLW_ADDR" -t 2 -f m >"$IT_TMP/iperf3.log" 2>&1 ||
	{ cat "$IT_TMP/iperf3.log"; it_fail "iperf failed"; }
R=$(tele /mlwip/capture/status)
[ "$(json_get "$R" capturing)" = 0 ] && [ "$(json_get "$R" limit_reached)" = 1 ] ||
	it_fail "status after 2 s of iperf with limit_mb=1: $R"
R=$(tele /mlwip/capture/stop)
SIZE=$(stat -c %s "$CAP3")
[ "$SIZE" -le "$LIMIT" ] || it_fail "$CAP3 is $SIZE bytes, over the 1 MiB limit"
[ "$SIZE" -ge $((LIMIT - 70000)) ] || it_fail "$CAP3 is $SIZE bytes: the capture stopped well before its limit"
[ "$(count "$CAP3" _ws.malformed)" -eq 0 ] || it_fail "malformed frames in $CAP3"
MAXCAP=$(ts "$CAP3" -T fields -e frame.cap_len | sort -n | tail -1)
CUT=$(count "$CAP3" "frame.len > 200")
[ "$MAXCAP" -le 200 ] && [ "$CUT" -gt 0 ] || it_fail "snaplen 200: longest captured $MAXCAP, $CUT frames cut"
it_log "3 ok: limit_mb=1 -> $SIZE bytes, stopped at the limit; snaplen 200 cut $CUT frames"

# ---- 4. rotation ----
CAP4="$IT_TMP/rot.pcapng"
R=$(tele "/mlwip/capture/start,file=$CAP4 limit_mb=1 rotate=2")
[ "$(json_get "$R" capturing)" = 1 ] || it_fail "start with rotate=2: $R"
ip netns exec "$NS_P" timeout 30 iperf -c "$MLW_ADDR" -t 2 -f m >"$IT_TMP/iperf4.log" 2>&1 ||
	{ cat "$IT_TMP/iperf4.log"; it_fail "iperf failed"; }
R=$(tele /mlwip/capture/stop)
ROT=$(json_get "$R" rotations)
[ "$ROT" -ge 3 ] || it_fail "only $ROT rotations during 2 s of iperf: $R"
[ ! -e "$CAP4.3" ] || it_fail "$CAP4.3 exists with rotate=2"
for f in "$CAP4" "$CAP4.1" "$CAP4.2"; do
	[ -f "$f" ] || it_fail "$f missing"
	SIZE=$(stat -c %s "$f")
	[ "$SIZE" -le "$LIMIT" ] || it_fail "$f is $SIZE bytes, over the limit"
	N=$(ts "$f" | wc -l)
	[ "$N" -gt 0 ] && [ "$(count "$f" _ws.malformed)" -eq 0 ] || it_fail "$f: $N frames, or malformed ones"
done
it_log "4 ok: rotate=2 -> $ROT rotations, 3 files within 1 MiB"
stop_server "$IT_TMP/tele.log"
grep -q "mlwip: capture" "$IT_TMP/tele.log" && it_fail "a capture was left running at stop"

# ---- 5. bad [capture] values ----
bad_config() {
	local want=$1
	shift
	it_config "$IT_TMP/bad.ini" "mlwcpbad_$$" "net_null0" 1 "$MLW_ADDR/24"
	{ echo "[capture]"; printf '%s\n' "$@"; } >>"$IT_TMP/bad.ini"
	timeout 30 "$SERVER" "$IT_TMP/bad.ini" --duration 1 >"$IT_TMP/bad.log" 2>&1 &&
		{ cat "$IT_TMP/bad.log"; it_fail "[capture] $* accepted"; }
	grep -q -- "$want" "$IT_TMP/bad.log" || { cat "$IT_TMP/bad.log"; it_fail "no '$want' for [capture] $*"; }
}
bad_config "bad.ini:9: \[capture\] snaplen: \"10\" is not a number in 64..65535" "file = /tmp/x" "snaplen = 10"
bad_config "\[capture\] colour: unknown key in \[capture\]" "colour = blue"
bad_config "\[capture\] ports: names port 3, but there is 1 port" "file = /tmp/x" "ports = 3"
bad_config "\[capture\] file: no file to capture to" "start = on"
bad_config "\[capture\] start: \"yes\" is not on or off" "start = yes"
bad_config "\[capture\] rotate: rotates at limit_mb, which is not set" "file = /tmp/x" "rotate = 2"
it_log "5 ok: bad [capture] values refused"
it_log "PASS"
