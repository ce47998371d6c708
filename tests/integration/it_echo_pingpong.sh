#!/bin/bash
# it_echo_pingpong.sh ECHO_BIN - ping-pong against mlw_epoll_echo (mlwip's
# socket + epoll API, 2 shards, net_af_packet qpairs=2) from a Linux peer
# namespace, in Python: 1000 random messages (1..4096 bytes) on each of 4
# concurrent connections, every reply byte-exact and EOF after SHUT_WR; then
# 3 s of 64-byte ping-pong on one connection, whose round-trip times (p50,
# p99, mean) are printed. Clean stop.
#
# Not sockperf: its ping-pong client counts only replies whose message header
# was rewritten by a sockperf server (it flags each message as the client's),
# so against a byte-exact echo it reports "No messages were received".
IT_NAME=it_echo_pingpong
. "$(dirname "$0")/lib.sh"

ECHO=${1:?usage: it_echo_pingpong.sh MLW_EPOLL_ECHO}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

MLW_ADDR=10.90.0.2
PEER_ADDR=10.90.0.1
it_netns_pair pp "$PEER_ADDR/24"
it_start_epoll_echo "$ECHO" "mlwit_pp_$$" "$MLW_ADDR" "$PEER_ADDR" 90

cat >"$IT_TMP/pingpong.py" <<'PYEOF'
import os, random, socket, sys, threading, time

addr, conns, msgs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
results, rtts = {}, []

def run(idx):
    rnd = random.Random(idx)
    s = socket.create_connection((addr, 7007), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(msgs):
        data = os.urandom(rnd.randint(1, 4096))
        t0 = time.perf_counter()
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            b = s.recv(len(data) - len(got))
            if not b:
                results[idx] = "EOF after %d messages" % i
                return
            got += b
        rtts.append(time.perf_counter() - t0)
        if got != data:
            results[idx] = "message %d (%d bytes) differs" % (i, len(data))
            return
    s.shutdown(socket.SHUT_WR)
    results[idx] = "ok" if s.recv(1) == b"" else "no EOF after SHUT_WR"
    s.close()

threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
bad = sum(results.get(i) != "ok" for i in range(conns))
for i in range(conns):
    print("conn %d: %s" % (i, results.get(i, "no result")))
# Latency: 64-byte messages, one at a time, for 3 s.
s = socket.create_connection((addr, 7007), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
lat, msg, end = [], os.urandom(64), time.perf_counter() + 3
while time.perf_counter() < end:
    t0 = time.perf_counter()
    s.sendall(msg)
    got = b""
    while len(got) < 64:
        b = s.recv(64 - len(got))
        if not b:
            break
        got += b
    lat.append(time.perf_counter() - t0)
    if got != msg:
        print("64-byte ping-pong: reply differs"); bad += 1; break
s.close()
lat.sort()
print("64-byte ping-pong: %d round trips, rtt p50 %.1f us p99 %.1f us mean %.1f us" %
      (len(lat), lat[len(lat) // 2] * 1e6, lat[len(lat) * 99 // 100] * 1e6, sum(lat) / len(lat) * 1e6))
print("PASS" if bad == 0 else "FAIL (%d)" % bad)
sys.exit(1 if bad else 0)
PYEOF
ip netns exec "$NS_P" timeout -k 5 60 python3 "$IT_TMP/pingpong.py" "$MLW_ADDR" 4 1000 >"$IT_TMP/py.log" 2>&1
crc=$?
cat "$IT_TMP/py.log"
[ $crc -eq 0 ] || it_fail "python ping-pong failed"

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $rc -eq 0 ] || it_fail "mlw_epoll_echo exited $rc"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
err=$(awk '/: echo accepted/ { s += $11 } END { print s + 0 }' "$IT_TMP/server.log")
[ "$err" -eq 0 ] || it_fail "server counted $err errors"
it_log "PASS: 4 x 1000 random messages echoed byte-exact;" \
	"$(grep -o '64-byte ping-pong: .*' "$IT_TMP/py.log")"
