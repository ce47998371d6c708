#!/bin/bash
# it_stop_idle.sh ECHO_BIN - mlw_epoll_echo (2 shards, net_af_packet
# qpairs=2) stopped by SIGTERM while Linux clients in a peer namespace hold
# idle connections open: an edge-triggered connection that has echoed its
# data and gone quiet is never reported by epoll again, so only the
# server's own list of connections finds it at the stop. The server must
# exit 0 with "mlwip: stopped (clean)", every shard heap empty, and no
# "closed N descriptors the application left open" line (the example
# closes its own); the clients must see their connections end (reset or
# FIN) once it stops.
IT_NAME=it_stop_idle
. "$(dirname "$0")/lib.sh"

ECHO=${1:?usage: it_stop_idle.sh MLW_EPOLL_ECHO}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

CONNS=6
MLW_ADDR=10.97.0.2
PEER_ADDR=10.97.0.1
it_netns_pair si "$PEER_ADDR/24"
it_start_epoll_echo "$ECHO" "mlwit_si_$$" "$MLW_ADDR" "$PEER_ADDR" 60

cat >"$IT_TMP/idle.py" <<'EOF'
import socket, sys, time

addr, conns, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(conns):
    s = socket.create_connection((addr, 7007), timeout=10)
    msg = b"idle %d\n" % i
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(100)
        if not b:
            break
        got += b
    if got != msg:
        print("conn %d: echo %r, expected %r" % (i, got, msg)); sys.exit(1)
    socks.append(s)
print("%d connections echoed once, now idle" % conns, flush=True)
open(ready, "w").close()
# Idle until the server goes away: each connection must end (EOF or reset)
# within 20 s of the ready mark.
ended = 0
deadline = time.time() + 20
for s in socks:
    s.settimeout(max(0.1, deadline - time.time()))
    try:
        b = s.recv(100)
        ended += b == b""
    except ConnectionResetError:
        ended += 1
    except socket.timeout:
        pass
print("%d of %d connections ended after the stop" % (ended, conns))
sys.exit(0 if ended == conns else 1)
EOF

ip netns exec "$NS_P" timeout -k 5 40 python3 "$IT_TMP/idle.py" "$MLW_ADDR" $CONNS "$IT_TMP/ready" \
	>"$IT_TMP/client.log" 2>&1 &
CPID=$!
for _ in $(seq 100); do
	[ -e "$IT_TMP/ready" ] && break
	kill -0 $CPID 2>/dev/null || break
	sleep 0.1
done
[ -e "$IT_TMP/ready" ] || { cat "$IT_TMP/client.log"; it_fail "clients did not connect"; }
sleep 1	# idle: nothing moves on the connections now

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
wait $CPID
crc=$?
cat "$IT_TMP/server.log"
cat "$IT_TMP/client.log"
[ $rc -eq 0 ] || it_fail "mlw_epoll_echo exited $rc after SIGTERM with $CONNS idle connections"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
grep -q "heap not empty" "$IT_TMP/server.log" && it_fail "a shard heap was not empty at the stop"
grep -q "the application left open" "$IT_TMP/server.log" &&
	it_fail "the stack had to close descriptors the example left open"
it_check_clean "$IT_TMP/server.log"
acc=$(awk '/: echo accepted/ { s += $5 } END { print s + 0 }' "$IT_TMP/server.log")
clo=$(awk '/: echo accepted/ { s += $7 } END { print s + 0 }' "$IT_TMP/server.log")
[ "$acc" -eq $CONNS ] || it_fail "server accepted $acc connections, expected $CONNS"
[ "$clo" -eq $CONNS ] || it_fail "server closed $clo connections, expected $CONNS"
[ $crc -eq 0 ] || it_fail "clients: exit $crc (connections not ended by the stop)"
it_log "PASS: SIGTERM with $CONNS idle connections: exit 0, stopped (clean), heaps empty;" \
	"per shard: $(awk '/: echo accepted/ { sub(":", "", $2); printf "%s=%s ", $2, $5 }' "$IT_TMP/server.log")"
