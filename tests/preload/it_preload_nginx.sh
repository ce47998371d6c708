#!/bin/bash
# it_preload_nginx.sh LIB - Debian's nginx (nginx-light), unmodified, with
# master_process off and one worker, on mlwip through libmlwip-preload.so
# (net_af_packet on a veth), serving static files with sendfile on: curl
# downloads of 1 B .. 10 MiB byte-exact; wrk and h2load --h1 with
# keep-alive and with "Connection: close" without errors; a clean stop.
IT_NAME=it_preload_nginx
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_preload.sh"

LIB=${1:?usage: it_preload_nginx.sh LIBMLWIP_PRELOAD}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
it_require_no_tsan
it_require_root_netns
it_require_cmd curl wrk ethtool ping timeout cmp
[ -x "$NGINX" ] || it_skip "nginx is not installed (scripts/deps.sh installs nginx-light)"
pl_check_config_errors "$LIB" "$NGINX" -t -c /dev/null

ADDR=10.98.0.2
PORT=8080
it_netns_pair pn "10.98.0.1/24"
it_config "$IT_TMP/nginx.ini" "mlwpn_$$" "net_af_packet0,iface=$IF_M" 1 "$ADDR/24"
mkdir -p "$IT_TMP/www" "$IT_TMP/ng"
SIZES="1 2 1000 1460 65535 65536 100000 1048576 4194305 10485760"
for s in $SIZES; do head -c "$s" /dev/urandom >"$IT_TMP/www/f$s"; done
cat >"$IT_TMP/ng/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
error_log $IT_TMP/ng/error.log notice;
pid $IT_TMP/ng/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $IT_TMP/ng/body;
  proxy_temp_path $IT_TMP/ng/proxy;
  fastcgi_temp_path $IT_TMP/ng/fcgi;
  uwsgi_temp_path $IT_TMP/ng/uwsgi;
  scgi_temp_path $IT_TMP/ng/scgi;
  server { listen $ADDR:$PORT; root $IT_TMP/www; }
}
EOC
it_start nginx "$IT_TMP/server.log" ip netns exec "$NS_M" timeout -k 10 250 \
	env LD_PRELOAD="$(pl_preload "$LIB")" MLWIP_CONFIG="$IT_TMP/nginx.ini" MLWIP_STATS=1 \
	ASAN_OPTIONS="detect_leaks=0 abort_on_error=1" \
	"$NGINX" -c "$IT_TMP/ng/nginx.conf" -p "$IT_TMP/ng"
SPID=$IT_LAST_PID
it_wait_ping "$NS_P" "$ADDR" 30
URL=http://$ADDR:$PORT
for i in $(seq 50); do
	ip netns exec "$NS_P" curl -s -o /dev/null "$URL/f1" && break
	sleep 0.2
done

for s in $SIZES; do
	ip netns exec "$NS_P" timeout 30 curl -sS -o "$IT_TMP/got" "$URL/f$s" || it_fail "curl f$s: exit status $?"
	cmp -s "$IT_TMP/got" "$IT_TMP/www/f$s" || it_fail "f$s: the download differs from the file"
done
# Several files on one keep-alive connection.
ip netns exec "$NS_P" timeout 30 curl -sS -o "$IT_TMP/k1" "$URL/f1048576" -o "$IT_TMP/k2" "$URL/f1000" \
	-o "$IT_TMP/k3" "$URL/f65536" || it_fail "keep-alive curl"
cmp -s "$IT_TMP/k1" "$IT_TMP/www/f1048576" && cmp -s "$IT_TMP/k2" "$IT_TMP/www/f1000" &&
	cmp -s "$IT_TMP/k3" "$IT_TMP/www/f65536" || it_fail "keep-alive downloads differ"
code=$(ip netns exec "$NS_P" curl -s -o /dev/null -w '%{http_code}' "$URL/missing")
[ "$code" = 404 ] || it_fail "missing file: HTTP $code"
it_log "curl: $(echo $SIZES | wc -w) files of 1 B .. 10 MiB byte-exact, keep-alive, 404"

# wrk_run NAME ARGS...: no socket errors, no non-2xx, some requests.
wrk_run() {
	local name=$1
	shift
	ip netns exec "$NS_P" timeout 60 wrk -t1 -c20 -d4s "$@" >"$IT_TMP/wrk.log" 2>&1 ||
		{ cat "$IT_TMP/wrk.log"; it_fail "wrk $name: exit status $?"; }
	if grep -qE "Socket errors|Non-2xx" "$IT_TMP/wrk.log"; then
		cat "$IT_TMP/wrk.log"
		it_fail "wrk $name: errors"
	fi
	grep -qE "^ +[1-9][0-9]* requests in" "$IT_TMP/wrk.log" || { cat "$IT_TMP/wrk.log"; it_fail "wrk $name: no requests"; }
	it_log "wrk $name: $(grep -E 'Requests/sec' "$IT_TMP/wrk.log")"
}
wrk_run keep-alive "$URL/f1000"
wrk_run "Connection: close" -H "Connection: close" "$URL/f1000"
wrk_run "keep-alive 100 KB" "$URL/f100000"

if command -v h2load >/dev/null 2>&1; then
	h2_run() {
		local name=$1
		shift
		ip netns exec "$NS_P" timeout 60 h2load --h1 -n 20000 -c 20 "$@" >"$IT_TMP/h2.log" 2>&1 ||
			{ cat "$IT_TMP/h2.log"; it_fail "h2load $name: exit status $?"; }
		grep -q "20000 succeeded, 0 failed, 0 errored, 0 timeout" "$IT_TMP/h2.log" ||
			{ cat "$IT_TMP/h2.log"; it_fail "h2load $name: failures"; }
		it_log "h2load --h1 $name: $(grep -E '^finished in' "$IT_TMP/h2.log")"
	}
	h2_run keep-alive "$URL/f1000"
	h2_run "Connection: close" -H "Connection: close" "$URL/f1000"
else
	it_log "h2load not installed (nghttp2-client): its runs are left out"
fi

pl_check_idle "$(pl_child "$SPID")" 3 30
it_stop "$SPID" "$IT_TMP/server.log" || { cat "$IT_TMP/server.log"; it_fail "nginx exit status $?"; }
# nginx sends its stderr (and so the layer's stop report) to its error log.
cat "$IT_TMP/ng/error.log" >>"$IT_TMP/server.log"
grep -q "libmlwip-preload: stopped (clean)" "$IT_TMP/server.log" || { cat "$IT_TMP/server.log"; it_fail "no clean stop"; }
if grep -E "\[(alert|crit|emerg|error)\]" "$IT_TMP/server.log" | grep -v "/www/missing"; then
	it_fail "nginx logged errors"
fi
it_check_clean "$IT_TMP/server.log"
it_log "PASS"
