#!/bin/bash
# it_http_strict.sh HTTP_SERVER_BIN - mlw_http_server's limits, against a
# Linux client (Python) in a peer namespace, 1 shard on net_af_packet, with
# short timeouts (--header-timeout 1 --keepalive-timeout 2.5) and
# --max-conns 8: normal requests still answered (keep-alive, pipelined,
# HTTP/1.0 without Host); 400 for a NUL or 0xff byte in the target or a
# header value, a control byte in a header name, a bare LF, HTTP/1.1
# without Host or with two; 414 for a request line over 8 KiB, 431 for a
# head over 8 KiB; an idle keep-alive connection closed after the
# keep-alive timeout, a silent one and a slowloris (a byte every 0.2 s)
# after the header timeout; the 9th connection refused (closed unanswered)
# while 8 are open. Then a clean stop with the timeouts and refusals counted.
IT_NAME=it_http_strict
. "$(dirname "$0")/lib.sh"

SERVER=${1:?usage: it_http_strict.sh MLW_HTTP_SERVER}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

MLW_ADDR=10.98.0.2
PEER_ADDR=10.98.0.1
it_netns_pair hs "$PEER_ADDR/24"
it_config "$IT_TMP/server.ini" "mlwit_hs_$$" "net_af_packet0,iface=$IF_M,qpairs=1" 1 \
	"$MLW_ADDR/24" "$PEER_ADDR"
it_start mlw_http_server "$IT_TMP/server.log" \
	ip netns exec "$NS_M" timeout -k 10 90 "$SERVER" "$IT_TMP/server.ini" --duration 80 \
	--header-timeout 1 --keepalive-timeout 2.5 --max-conns 8
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "shard 0: http listening" 30 "$SPID"
it_wait_ping "$NS_P" "$MLW_ADDR" 15

cat >"$IT_TMP/strict.py" <<'PYEOF'
import socket, sys, time

addr = sys.argv[1]
bad = 0
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

def conn():
    return socket.create_connection((addr, 8080), timeout=10)

def check(name, ok, detail=""):
    global bad
    print("%-58s %s %s" % (name, "ok" if ok else "FAIL", detail), flush=True)
    bad += not ok

def status_of(req):
    """Send req on a new connection; the status of the answer and whether
    the connection then ended."""
    s = conn()
    s.sendall(req)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                break
            buf += b
    except ConnectionResetError:
        pass
    st = int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.1 ") else None
    s.close()
    return st

def ended_after(s, limit):
    """Seconds until s ends (EOF or reset), None if not within limit."""
    t0 = time.time()
    s.settimeout(limit)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return time.time() - t0
    except ConnectionResetError:
        return time.time() - t0
    except socket.timeout:
        return None

# Normal requests still work.
s = conn()
s.sendall(GET + b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.2)
r = s.recv(65536)
check("keep-alive GET + HEAD pipelined -> 200, 200", r.count(b"HTTP/1.1 200 OK") == 2, repr(r[:40]))
s.close()
check("HTTP/1.0 without Host -> 200", status_of(b"GET / HTTP/1.0\r\n\r\n") == 200)
check("Host with a port, other headers -> 200",
      status_of(b"GET /a?b=c HTTP/1.1\r\nHost: x:8080\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n") == 200)

# Strict parsing.
for name, req, want in (
        ("NUL byte in the target", b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("0xff byte in the target", b"GET /a\xffb HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("NUL byte in a header value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
        ("0xff byte in a header value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\xffb\r\n\r\n", 400),
        ("control byte in a header name", b"GET / HTTP/1.1\r\nHost: x\r\nX\x01A: b\r\n\r\n", 400),
        ("space before the colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("bare LF inside a header value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n", 400),
        ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400),
        ("HTTP/1.1 with two Host headers", b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
        ("request line over 8 KiB", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("header over 8 KiB", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        ("many headers, head over 8 KiB", b"GET / HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-%d: %s\r\n" % (i, b"v" * 90) for i in range(100)) + b"\r\n", 431)):
    st = status_of(req)
    check("%s -> %d" % (name, want), st == want, "got %r" % (st,))

# Timeouts: keep-alive 2.5 s after an answer, header 1 s from the first
# byte (from the accept for the first request); looked at every 0.25 s.
s = conn()
s.sendall(GET)
s.recv(65536)
t = ended_after(s, 6)
check("idle keep-alive connection closed after 2.5 s", t is not None and 2.3 <= t <= 4.5, "%r s" % (t,))
s.close()
s = conn()
t = ended_after(s, 6)
check("connection that sends nothing closed after 1 s", t is not None and 0.8 <= t <= 2.2, "%r s" % (t,))
s.close()
s = conn()
t0 = time.time()
sent = 0
ended = None
try:
    for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 200:
        s.sendall(bytes([b]))
        sent += 1
        time.sleep(0.2)
        if time.time() - t0 > 8:
            break
except (BrokenPipeError, ConnectionResetError):
    ended = time.time() - t0
if ended is None:
    t = ended_after(s, 1)
    ended = None if t is None else time.time() - t0
check("slowloris (a byte each 0.2 s) closed after the header timeout",
      ended is not None and ended <= 2.4, "%d bytes sent, ended after %r s" % (sent, ended))
s.close()

# At most 8 connections: the 9th is closed without an answer.
held = []
for i in range(8):
    c = conn()
    c.sendall(GET)
    c.recv(65536)
    held.append(c)
x = conn()
try:
    x.sendall(GET)
    x.settimeout(3)
    r = x.recv(65536)
except (ConnectionResetError, BrokenPipeError):
    r = b""
check("9th connection with 8 open -> closed unanswered", r == b"", repr(r[:30]))
x.close()
for c in held:
    c.close()
time.sleep(0.3)
check("after they close, a new connection is served", status_of(GET) == 200)
print("PASS" if bad == 0 else "FAIL (%d)" % bad)
sys.exit(1 if bad else 0)
PYEOF

ip netns exec "$NS_P" timeout -k 5 60 python3 "$IT_TMP/strict.py" "$MLW_ADDR" >"$IT_TMP/client.log" 2>&1
crc=$?
cat "$IT_TMP/client.log"
it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $crc -eq 0 ] || it_fail "strict HTTP checks failed"
[ $rc -eq 0 ] || it_fail "mlw_http_server exited $rc"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
line=$(grep ": http accepted" "$IT_TMP/server.log")
tmo=$(echo "$line" | awk '{ print $17 }')
ref=$(echo "$line" | awk '{ print $19 }')
badr=$(echo "$line" | awk '{ print $11 }')
[ "${tmo:-0}" -ge 3 ] || it_fail "server counted ${tmo:-0} timeouts, expected at least 3"
[ "${ref:-0}" -ge 1 ] || it_fail "server counted ${ref:-0} refused connections, expected at least 1"
[ "${badr:-0}" -ge 12 ] || it_fail "server counted ${badr:-0} bad requests, expected 12"
it_log "PASS: strict parsing (400/414/431), header/keep-alive timeouts, --max-conns; timeouts $tmo, refused $ref, bad $badr"
