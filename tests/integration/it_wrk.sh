#!/bin/bash
# it_wrk.sh HTTP_SERVER_BIN - mlw_http_server (mlwip's socket + epoll API) on
# net_af_packet against Linux clients in a peer namespace. First HTTP
# semantics from Python: keep-alive, pipelined requests answered in order,
# "Connection: close" and HTTP/1.0 close after the response, a malformed
# request gets 400 then close. Then `wrk -t2 -c32 -d5s`, once against 2
# shards (qpairs=2) and once against 1 shard: no socket errors, no non-2xx
# responses; both requests/s figures are printed. Clean stop each time.
IT_NAME=it_wrk
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_wrk.sh MLW_HTTP_SERVER}
it_require_no_tsan
it_require_root_netns
it_require_cmd wrk python3 ping ethtool timeout

MLW_ADDR=10.91.0.2
PEER_ADDR=10.91.0.1
it_netns_pair wk "$PEER_ADDR/24"

cat >"$IT_TMP/semantics.py" <<'PYEOF'
import socket, sys

addr = sys.argv[1]
bad = 0

def conn():
    return socket.create_connection((addr, 8080), timeout=10)

def read_response(s, buf, head=False):
    """Read one response from s (buf: bytes already received); returns
    (status, headers, body, rest)."""
    while b"\r\n\r\n" not in buf:
        b = s.recv(4096)
        if not b:
            raise EOFError("EOF inside a response head")
        buf += b
    hdr, rest = buf.split(b"\r\n\r\n", 1)
    lines = hdr.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = 0 if head else int(headers["content-length"])
    while len(rest) < n:
        b = s.recv(4096)
        if not b:
            raise EOFError("EOF inside a body")
        rest += b
    return status, headers, rest[:n], rest[n:]

def at_eof(s):
    s.settimeout(5)
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return False

def check(name, ok, detail=""):
    global bad
    print("%-48s %s %s" % (name, "ok" if ok else "FAIL", detail))
    bad += not ok

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
s = conn()
s.sendall(GET)
st, h, body, rest = read_response(s, b"")
s.sendall(GET)
st2, h2, body2, rest = read_response(s, rest)
check("keep-alive: two requests on one connection", st == 200 and st2 == 200 and body == body2 and
      len(body) == int(h["content-length"]) and "connection" not in h, repr(body))
s.close()

s = conn()
s.sendall(GET + b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
r1 = read_response(s, b"")
r2 = read_response(s, r1[3], head=True)
r3 = read_response(s, r2[3])
check("pipelined GET, HEAD, GET answered in order", [r[0] for r in (r1, r2, r3)] == [200] * 3 and
      r2[2] == b"" and r1[2] == r3[2] == body and r3[3] == b"")
s.close()

s = conn()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
st, h, b, rest = read_response(s, b"")
check("Connection: close -> answer, then EOF", st == 200 and h.get("connection") == "close" and
      rest == b"" and at_eof(s))
s.close()

s = conn()
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
st, h, b, rest = read_response(s, b"")
check("HTTP/1.0 without keep-alive -> answer, then EOF", st == 200 and at_eof(s))
s.close()

s = conn()
s.sendall(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
st, h, b, rest = read_response(s, b"")
s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
st2, h2, b2, rest = read_response(s, rest)
check("HTTP/1.0 with keep-alive stays open", st == st2 == 200 and h.get("connection") == "keep-alive")
s.close()

s = conn()
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + GET)
r1 = read_response(s, b"")
r2 = read_response(s, r1[3])
check("request body skipped (Content-Length)", r1[0] == r2[0] == 200 and r2[3] == b"")
s.close()

for req in (b"GARBAGE\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"):
    s = conn()
    s.sendall(req)
    st, h, b, rest = read_response(s, b"")
    check("malformed %r -> 400, EOF" % req[:24], st == 400 and at_eof(s))
    s.close()

s = conn()
s.sendall(b"GET /" + b"a" * 9000)
st, h, b, rest = read_response(s, b"")
check("request line over 8 KB -> 414", st == 414)
s.close()
print("PASS" if bad == 0 else "FAIL (%d)" % bad)
sys.exit(1 if bad else 0)
PYEOF

# run_wrk SHARDS: start the server with SHARDS shards (one queue pair each),
# run the semantics checks (2 shards only) and wrk, stop it; sets RPS.
run_wrk() {
	local shards=$1 log="$IT_TMP/server-$1.log" wlog="$IT_TMP/wrk-$1.log" rc reqs
	it_config "$IT_TMP/server-$shards.ini" "mlwit_wrk${shards}_$$" \
		"net_af_packet0,iface=$IF_M,qpairs=$shards" "$shards" "$MLW_ADDR/24" "$PEER_ADDR"
	it_start mlw_http_server "$log" \
		ip netns exec "$NS_M" timeout -k 10 100 "$SERVER" "$IT_TMP/server-$shards.ini" --duration 90
	SPID=$IT_LAST_PID
	it_wait_log "$log" "shard $((shards - 1)): http listening" 30 "$SPID"
	it_wait_log "$log" "shard 0: http listening" 5 "$SPID"
	it_wait_ping "$NS_P" "$MLW_ADDR" 15
	if [ "$shards" -eq 2 ]; then
		ip netns exec "$NS_P" timeout -k 5 60 python3 "$IT_TMP/semantics.py" "$MLW_ADDR" \
			>"$IT_TMP/semantics.log" 2>&1
		rc=$?
		cat "$IT_TMP/semantics.log"
		[ $rc -eq 0 ] || it_fail "HTTP semantics checks failed"
	fi
	ip netns exec "$NS_P" timeout -k 5 30 wrk -t2 -c32 -d5s "http://$MLW_ADDR:8080/" >"$wlog" 2>&1
	rc=$?
	cat "$wlog"
	[ $rc -eq 0 ] || it_fail "wrk exited $rc"
	grep -q "Socket errors" "$wlog" && it_fail "wrk reports socket errors ($shards shards)"
	grep -q "Non-2xx" "$wlog" && it_fail "wrk reports non-2xx responses ($shards shards)"
	RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$wlog")
	reqs=$(awk '/requests in/ { print $1 }' "$wlog")
	[ -n "$RPS" ] && [ "${reqs:-0}" -gt 0 ] || it_fail "no requests/s in wrk's output"
	it_stop "$SPID" "$log"
	rc=$?
	cat "$log"
	[ $rc -eq 0 ] || it_fail "mlw_http_server ($shards shards) exited $rc"
	grep -q "mlwip: stopped (clean)" "$log" || it_fail "server did not stop clean"
	it_check_clean "$log"
	[ "$(awk '/: http accepted/ { s += $13 } END { print s + 0 }' "$log")" -eq 0 ] ||
		it_fail "server ($shards shards) counted errors"
	sreq=$(awk '/: http accepted/ { s += $9 } END { print s + 0 }' "$log")
	[ "$sreq" -ge "$reqs" ] || it_fail "server answered $sreq requests, wrk counted $reqs"
	if [ "$shards" -eq 2 ]; then
		while read -r shard acc; do
			[ "$acc" -gt 0 ] || it_fail "shard $shard accepted no connection"
		done < <(awk '/: http accepted/ { sub(":", "", $2); print $2, $5 }' "$log")
	fi
}

run_wrk 2
RPS2=$RPS
run_wrk 1
RPS1=$RPS
it_log "PASS: wrk -t2 -c32 -d5s: 2 shards $RPS2 requests/s, 1 shard $RPS1 requests/s; no errors, all 2xx"
