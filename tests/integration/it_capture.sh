#!/bin/bash
# it_capture.sh SERVER_BIN - capture what a 2-shard mlwip stack (net_af_packet)
# puts on the wire during iperf, curl and echo traffic, and let tshark check
# every frame from mlwip: no malformed packet and no bad IPv4/TCP/UDP
# checksum, with > 1000 verified-good TCP checksums (the check is not vacuous).
IT_NAME=it_capture
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_capture.sh MLW_APPS_SERVER}
it_require_no_tsan
it_require_root_netns
it_require_cmd tshark iperf curl ncat ping ethtool timeout cmp

MLW_ADDR=10.97.0.2
PEER_ADDR=10.97.0.1
it_netns_pair ca "$PEER_ADDR/24"
it_start_apps_server "$SERVER" "mlwit_cap_$$" "$MLW_ADDR" "$PEER_ADDR"

# Only frames from mlwip (full length, so checksums can be verified), bounded
# in time and count.
CAP="$IT_TMP/cap.pcap"
it_start tshark "$IT_TMP/tshark.log" ip netns exec "$NS_P" \
	timeout -k 5 100 tshark -i "$IF_P" -f "ether src not $(ip netns exec "$NS_P" cat /sys/class/net/"$IF_P"/address)" \
	-a duration:90 -c 1500000 -w "$CAP" -q
TPID=$IT_LAST_PID
it_wait_log "$IT_TMP/tshark.log" "Capturing on" 20 "$TPID"
sleep 1

ip netns exec "$NS_P" ping -c 3 -i 0.2 "$MLW_ADDR" >/dev/null || it_fail "ping"
ip netns exec "$NS_P" timeout 30 iperf -c "$MLW_ADDR" -P 2 -t 2 -f m >"$IT_TMP/iperf.log" 2>&1 ||
	{ cat "$IT_TMP/iperf.log"; it_fail "iperf failed"; }
for path in / /img/sics.gif /missing.html; do
	ip netns exec "$NS_P" curl -s -m 10 -o /dev/null "http://$MLW_ADDR$path" || it_fail "curl $path"
done
# mlwip sends full-sized data segments: 1 MB through its echo service.
head -c 1000000 /dev/urandom >"$IT_TMP/echo.in"
ip netns exec "$NS_P" timeout 30 ncat "$MLW_ADDR" 7 <"$IT_TMP/echo.in" >"$IT_TMP/echo.out" ||
	it_fail "ncat to the echo service failed"
cmp "$IT_TMP/echo.in" "$IT_TMP/echo.out" || it_fail "echo service returned different bytes"
sleep 1
kill -INT "$TPID"
wait "$TPID"
IT_PIDS=$(echo " $IT_PIDS " | sed "s/ $TPID / /")

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
[ $rc -eq 0 ] || { cat "$IT_TMP/server.log"; it_fail "mlw_apps_server exited $rc"; }
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"

CK="-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
# shellcheck disable=SC2086
BAD=$(tshark -r "$CAP" $CK -Y "(ip.src==$MLW_ADDR) && (_ws.malformed || ip.checksum.status==2 || tcp.checksum.status==2 || udp.checksum.status==2)" 2>/dev/null)
# shellcheck disable=SC2086
TOTAL=$(tshark -r "$CAP" $CK -Y "ip.src==$MLW_ADDR" 2>/dev/null | wc -l)
# shellcheck disable=SC2086
GOOD=$(tshark -r "$CAP" $CK -Y "ip.src==$MLW_ADDR && tcp.checksum.status==1 && ip.checksum.status==1" 2>/dev/null | wc -l)
# shellcheck disable=SC2086
DATA=$(tshark -r "$CAP" $CK -Y "ip.src==$MLW_ADDR && tcp.len >= 1000 && tcp.checksum.status==1" 2>/dev/null | wc -l)
if [ -n "$BAD" ]; then
	echo "$BAD" | head -n 40
	it_fail "$(echo "$BAD" | wc -l) malformed or bad-checksum frames from mlwip"
fi
[ "$TOTAL" -gt 1000 ] || it_fail "only $TOTAL IPv4 packets from mlwip captured (need > 1000)"
[ "$GOOD" -gt 1000 ] || it_fail "only $GOOD packets from mlwip with verified-good IP+TCP checksums (need > 1000)"
[ "$DATA" -gt 100 ] || it_fail "only $DATA full-sized data segments from mlwip verified (need > 100)"
# Seeds for the fuzz harnesses (scripts/fuzz.sh looks under build/): the
# control frames and the first data frames, not the whole capture.
if [ -n "${MLW_FUZZ_CAPTURES:-}" ] && mkdir -p "$MLW_FUZZ_CAPTURES" 2>/dev/null; then
	tshark -r "$CAP" -Y "frame.number <= 1000 || !tcp || tcp.len == 0" -c 3000 \
		-w "$MLW_FUZZ_CAPTURES/it_capture.pcapng" >/dev/null 2>&1 || true
fi
it_log "PASS: $TOTAL IPv4 packets from mlwip, $GOOD with verified IP+TCP checksums ($DATA data segments >= 1000 B), 0 bad"
