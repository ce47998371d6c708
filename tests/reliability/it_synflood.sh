#!/bin/bash
# it_synflood.sh SERVER_BIN FLOOD_BIN - SYN flood against mlw_apps_server (lwIP httpd on port
# 80, lwiperf on 5001; 2 shards on net_af_packet) from a Linux namespace: mlw_syn_flood sends
# SYNs from random IPv4 sources to port 80 at FLOOD_RATE per second (at most FLOOD_S seconds)
# while NEW_CONNS new curl connections are made one after the other, then two established
# iperf streams are measured: one as fast as it goes, one paced at IPERF_B. Every connection
# must succeed (SYN cookies, lwip-port/syn_cookie.c; before them: 0 of 30).
# Prints the figures (the benchmark of issue 12 item 5): iperf goodput without and with the
# flood and their ratios, the SYN rate reached, new connections made and inter-shard ring
# drops.
# Everything stays in the two namespaces made here: the spoofed sources are off-link for
# mlwip, so its SYN-ACKs go to the gateway (the peer namespace), whose kernel drops them (no
# forwarding in a new namespace).
IT_NAME=it_synflood
. "$(dirname "$0")/../integration/lib.sh"

SERVER=${1:?usage: it_synflood.sh MLW_APPS_SERVER MLW_SYN_FLOOD}
FLOOD=${2:?usage: it_synflood.sh MLW_APPS_SERVER MLW_SYN_FLOOD}
it_require_no_tsan
it_require_root_netns
it_require_cmd curl iperf ping ethtool timeout

. "$(dirname "$0")/synflood_lib.sh"
MLW_ADDR=10.91.0.2
PEER_ADDR=10.91.0.1
it_netns_pair sf "$PEER_ADDR/24"
# The kernel's packet ring per queue: DPDK's default (512 frames) overflows whenever a shard
# waits a few milliseconds for a core while 150k SYN/s arrive, and the established stream's
# segments are lost with the flood's (1 Gbit/s fell to 0.3-0.7 of itself, with ~26,000
# retransmissions in 5 s); 4096 frames is what a NIC's RX ring usually has.
it_start_apps_server "$SERVER" "mlwit_sf_$$" "$MLW_ADDR" "$PEER_ADDR" ",framecnt=4096"
sf_measure "$NS_P" "$IF_P" "$MLW_ADDR" "$IT_TMP" || it_fail "no neighbour entry for $MLW_ADDR in $NS_P"
while IFS= read -r line; do it_log "$line"; done <<<"$SF_SUMMARY"

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
grep -v '^EAL\|^TELEMETRY' "$IT_TMP/server.log" | tail -n 12
[ $rc -eq 0 ] || it_fail "mlw_apps_server exited $rc"
it_check_clean "$IT_TMP/server.log"
it_log "ring drops (fwd_drop): $(it_stats_sum "$IT_TMP/server.log" fwd_drop)"
[ "$SF_FRC" -eq 0 ] || it_fail "mlw_syn_flood exited $SF_FRC"
[ "$SF_STILL" -eq 1 ] || it_fail "the flood ended before the $NEW_CONNS connections (raise FLOOD_S)"
[ "$SF_OK" -eq "$NEW_CONNS" ] || it_fail "$SF_OK of $NEW_CONNS new connections during the flood"
[ "${SF_RATE:-0}" -gt 0 ] || it_fail "mlw_syn_flood sent nothing"
it_log "PASS: $SF_OK/$NEW_CONNS new connections during a $SF_RATE SYN/s flood"
