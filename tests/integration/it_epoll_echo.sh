#!/bin/bash
# it_epoll_echo.sh ECHO_BIN - mlw_epoll_echo (mlwip's socket + epoll API, 2 shards,
# net_af_packet qpairs=2) against Linux clients in a peer namespace:
# concurrent connections each echo a few hundred KB of random bytes
# byte-exact; a half-closed connection (SHUT_WR) still gets every byte back
# followed by EOF; a connect to a closed port is refused (RST -> ECONNREFUSED).
IT_NAME=it_epoll_echo
. "$(dirname "$0")/lib.sh"

ECHO=${1:?usage: it_epoll_echo.sh MLW_EPOLL_ECHO}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

CONNS=8
BYTES=$((300 * 1024))
HALF_BYTES=$((200 * 1024))
MLW_ADDR=10.96.0.2
PEER_ADDR=10.96.0.1
it_netns_pair ee "$PEER_ADDR/24"
it_start_epoll_echo "$ECHO" "mlwit_ee_$$" "$MLW_ADDR" "$PEER_ADDR" 140

cat >"$IT_TMP/client.py" <<'EOF'
import os, socket, sys, threading

addr, conns, nbytes, half_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
results = {}

def echo(idx, n, half_close):
    data = os.urandom(n)
    got = bytearray()
    s = socket.create_connection((addr, 7007), timeout=30)
    def sender():
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=sender)
    t.start()
    eof = False
    try:
        while len(got) < n or half_close:
            b = s.recv(65536)
            if not b:
                eof = True
                break
            got += b
    except Exception as e:
        results[idx] = "error after %d bytes: %r" % (len(got), e)
        s.close()
        return
    t.join()
    s.close()
    if bytes(got) != data:
        first = next((i for i in range(min(len(got), n)) if got[i] != data[i]), min(len(got), n))
        results[idx] = "mismatch: got %d of %d bytes, first difference at %d" % (len(got), n, first)
    elif half_close and not eof:
        results[idx] = "no EOF after the echoed data"
    else:
        results[idx] = "ok"

threads = [threading.Thread(target=echo, args=(i, nbytes, False)) for i in range(conns)]
threads.append(threading.Thread(target=echo, args=(conns, half_bytes, True)))
for t in threads:
    t.start()
for t in threads:
    t.join()
bad = 0
for i in sorted(results):
    kind = "half-close" if i == conns else "echo"
    print("conn %d (%s): %s" % (i, kind, results[i]))
    bad += results[i] != "ok"
if len(results) != conns + 1:
    print("missing results"); bad += 1

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect((addr, 7008))
    print("closed port: connected?!"); bad += 1
except ConnectionRefusedError:
    print("closed port 7008: ECONNREFUSED")
except Exception as e:
    print("closed port: unexpected %r" % (e,)); bad += 1
print("PASS" if bad == 0 else "FAIL (%d)" % bad)
sys.exit(1 if bad else 0)
EOF

ip netns exec "$NS_P" timeout -k 5 90 python3 "$IT_TMP/client.py" "$MLW_ADDR" $CONNS $BYTES $HALF_BYTES \
	>"$IT_TMP/client.log" 2>&1
crc=$?
cat "$IT_TMP/client.log"

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $crc -eq 0 ] || it_fail "Linux clients exited $crc"
grep -q "^PASS" "$IT_TMP/client.log" || it_fail "clients did not PASS"
[ $rc -eq 0 ] || it_fail "mlw_epoll_echo exited $rc"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
want_conns=$((CONNS + 1))
want_bytes=$((CONNS * BYTES + HALF_BYTES))
acc=$(awk '/: echo accepted/ { s += $5 } END { print s + 0 }' "$IT_TMP/server.log")
byt=$(awk '/: echo accepted/ { s += $9 } END { print s + 0 }' "$IT_TMP/server.log")
err=$(awk '/: echo accepted/ { s += $11 } END { print s + 0 }' "$IT_TMP/server.log")
[ "$acc" -eq "$want_conns" ] || it_fail "server accepted $acc connections, expected $want_conns"
[ "$byt" -eq "$want_bytes" ] || it_fail "server echoed $byt bytes, expected $want_bytes"
[ "$err" -eq 0 ] || it_fail "server counted $err errors"
it_log "PASS: $CONNS x $BYTES bytes + half-close $HALF_BYTES bytes echoed byte-exact, ECONNREFUSED on :7008;" \
	"accepted per shard: $(awk '/: echo accepted/ { sub(":", "", $2); printf "%s=%s ", $2, $5 }' "$IT_TMP/server.log")"
