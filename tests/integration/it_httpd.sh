#!/bin/bash
# it_httpd.sh SERVER_BIN LWIP_DIR - curl and ab (Linux, in a namespace)
# against lwIP's httpd on a 2-shard mlwip stack over net_af_packet: status
# codes and bodies byte-identical to lwIP's built-in pages (the bytes of
# src/apps/http/fsdata.c, which are src/apps/http/fs's pages up to line
# ends: see fsdata_body.py), 5000 requests by ab without a failure, clean stop.
IT_NAME=it_httpd
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_httpd.sh MLW_APPS_SERVER LWIP_DIR}
HTTP=${2:?usage: it_httpd.sh MLW_APPS_SERVER LWIP_DIR}/src/apps/http
it_require_no_tsan
it_require_root_netns
it_require_cmd curl ab ping ethtool timeout cmp python3
# Expected bodies: what httpd serves (fsdata.c), checked against the pages
# they were made from, line ends aside.
FS="$IT_TMP/fs"
for f in index.html 404.html img/sics.gif; do
	[ -s "$HTTP/fs/$f" ] || it_fail "expected page $HTTP/fs/$f is missing"
	mkdir -p "$(dirname "$FS/$f")"
	python3 "$(dirname "$0")/fsdata_body.py" "$HTTP/fsdata.c" "/$f" "$FS/$f" ||
		it_fail "no body for /$f in $HTTP/fsdata.c"
	cmp <(tr -d '\r' <"$FS/$f") <(tr -d '\r' <"$HTTP/fs/$f") ||
		it_fail "$HTTP/fsdata.c's /$f is not $HTTP/fs/$f"
done

MLW_ADDR=10.92.0.2
PEER_ADDR=10.92.0.1
it_netns_pair ht "$PEER_ADDR/24"
# ab runs with Linux's default port range, whose port choice (random
# increments since Linux 5.18) comes back to ports used a few thousand
# connections before. TIME-WAIT is on the server (httpd closes first) and
# lasts 60 s (max_time_wait, 131072 per shard, is not reached), so many of
# ab's SYNs meet a TIME-WAIT entry of their 4-tuple: they are accepted as by
# a Linux server (lwip-port/tcp_tw.c; it_tw_reopen tests that alone; the
# stats' tw_reopen counts them).
PREFIX="mlwit_httpd_$$"
it_start_apps_server "$SERVER" "$PREFIX" "$MLW_ADDR" "$PEER_ADDR"

# get PATH STATUS EXPECTED_BODY_FILE
get() {
	local path=$1 want=$2 file=$3 code body="$IT_TMP/body.$RANDOM"
	code=$(ip netns exec "$NS_P" curl -s -m 10 -o "$body" -w '%{http_code}' "http://$MLW_ADDR$path") ||
		it_fail "curl $path failed (status '$code')"
	[ "$code" = "$want" ] || it_fail "GET $path: status $code, expected $want"
	cmp "$body" "$file" || it_fail "GET $path: body differs from $file"
	it_log "GET $path -> $code, $(stat -c %s "$body") bytes identical to ${file#"$FS"/}"
}
get / 200 "$FS/index.html"
get /index.html 200 "$FS/index.html"
get /img/sics.gif 200 "$FS/img/sics.gif"
get /no/such/page.html 404 "$FS/404.html"

# ab_fail WHY: ab's output, then the server's (its stats table says whether
# lwIP sent resets or a port dropped frames), then fail.
ab_fail() {
	cat "$IT_TMP/ab.log"
	it_stop "$SPID" "$IT_TMP/server.log"
	cat "$IT_TMP/server.log"
	it_fail "$1"
}
ip netns exec "$NS_P" timeout 100 ab -q -n 5000 -c 16 "http://$MLW_ADDR/" >"$IT_TMP/ab.log" 2>&1 ||
	ab_fail "ab failed"
grep -q -E '^Complete requests: +5000$' "$IT_TMP/ab.log" || ab_fail "ab did not complete 5000 requests"
grep -q -E '^Failed requests: +0$' "$IT_TMP/ab.log" || ab_fail "ab: failed requests"
grep -q 'Non-2xx responses' "$IT_TMP/ab.log" && ab_fail "ab: non-2xx responses"
RPS=$(awk '/^Requests per second:/ { print $4 }' "$IT_TMP/ab.log")
it_log "ab -n 5000 -c 16: $RPS requests/s, 0 failed"

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $rc -eq 0 ] || it_fail "mlw_apps_server exited $rc"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
ACC=$(it_stats_sum "$IT_TMP/server.log" accepts)
[ "$ACC" -ge 5004 ] || it_fail "only $ACC connections accepted, expected >= 5004"
it_log "accepts per shard: $(it_stats "$IT_TMP/server.log" accepts | awk '{ printf "%s=%s ", $1, $2 }')"
it_log "SYNs that reopened TIME-WAIT: $(it_stats_sum "$IT_TMP/server.log" tw_reopen)," \
	"resets sent: $(it_stats_sum "$IT_TMP/server.log" resets)"
it_log "PASS: ab $RPS requests/s"
