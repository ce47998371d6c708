#!/bin/bash
# it_idle.sh ECHO_BIN - [stack] idle = interrupt on a 2-shard mlw_epoll_echo
# over net_tap (2 queues) in a namespace this test creates:
#  1. idle CPU: with no traffic, every thread of the process uses < 5% of a
#     core over 5 s (CPU time from /proc/PID/task/TID/schedstat), with no
#     connection open, then with one idle connection open (lwIP's TCP timer
#     then runs every 2 ms);
#  2. that connection, idle for 7 s, still echoes byte-exact;
#  3. forwarding wakes the owner: 24 new connections, each after 300 ms of
#     silence (no connection open). The kernel puts each flow on a tap queue
#     by its own hash, so about half of them arrive at the shard that does
#     not own them and are forwarded to a sleeping owner. idle_wait_ms =
#     5000, so a lost wake-up would leave the frame until lwIP's next 1 s
#     timer: each connection must connect and echo within 500 ms (on this
#     loaded 2-core machine they take 0.4-250 ms; 2 s under TSan), and the
#     shards' "woken by another shard" must count wake-ups;
#  4. TCP timers fire while the shards sleep: the tap goes down for 1.5 s in
#     the middle of a 16 MiB echo, the server's segments are lost, its
#     retransmission timer resends them (retrans > 0), the echo completes
#     byte-exact;
#  5. the stack stops clean (stop wakes the sleeping shards), heaps empty.
IT_NAME=it_idle
. "$(dirname "$0")/../integration/lib.sh"

ECHO=${1:?usage: it_idle.sh MLW_EPOLL_ECHO}
# Unlike the integration tests this one runs under ThreadSanitizer too (with
# tests/tsan.supp's rte_ring suppressions, as scripts/test.sh sets them): the
# sleeping flag and the eventfd are what it exercises across threads. TSan
# slows every frame, so the wake-up bound is looser there; the wake-up
# counters still check the forward path.
WAKE_MAX_MS=500
[ "${MLW_SANITIZE:-}" = thread ] && WAKE_MAX_MS=2000
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 suppressions=$(cd "$(dirname "$0")/.." && pwd)/tsan.supp}"
it_require_root_netns
it_require_cmd timeout python3
[ -c /dev/net/tun ] || it_skip "no /dev/net/tun (net_tap needs it)"

PREFIX="mlwit_idle$$"
TAP="mid$$"
CPU_MAX_PCT=${MLW_IDLE_CPU_MAX_PCT:-5}
it_netns_mlwip idle
IT_PREFIXES="$IT_PREFIXES $PREFIX"
cat >"$IT_TMP/echo.ini" <<INI
[eal]
args = --no-huge --no-pci -m 512 --file-prefix=$PREFIX --vdev=net_tap0,iface=$TAP
[stack]
shards = 2
idle = interrupt
idle_wait_ms = 5000
[port0]
ipv4 = 10.96.0.2/24
INI
it_start mlw_epoll_echo "$IT_TMP/server.log" \
	ip netns exec "$NS_M" timeout -k 10 100 "$ECHO" "$IT_TMP/echo.ini" --duration 90
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "shard 1: echo listening" 30 "$SPID"
it_wait_log "$IT_TMP/server.log" "shard 0: echo listening" 5 "$SPID"
ip netns exec "$NS_M" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1"
ip netns exec "$NS_M" ip addr add 10.96.0.1/24 dev "$TAP" || it_fail "cannot configure $TAP"
ip netns exec "$NS_M" ip link set "$TAP" up
ip netns exec "$NS_M" ethtool -K "$TAP" tx off rx off tso off gso off gro off >/dev/null 2>&1
it_wait_ping "$NS_M" 10.96.0.2 10
if grep -q "no RX queue interrupts" "$IT_TMP/server.log"; then
	cat "$IT_TMP/server.log"
	it_fail "net_tap reported no RX queue interrupts: the shards would not sleep"
fi
EPID=$(pgrep -P "$(pgrep -P "$SPID" timeout || echo "$SPID")" -x mlw_epoll_echo || true)
[ -n "$EPID" ] || EPID=$(pgrep -f "$IT_TMP/echo.ini" | while read -r p; do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = mlw_epoll_echo ] && echo "$p"; done | head -1)
[ -n "$EPID" ] || it_fail "cannot find the mlw_epoll_echo process"

# idle_cpu WHAT: every thread of the server below CPU_MAX_PCT of a core over 5 s.
idle_cpu() { it_idle_cpu "$EPID" "$CPU_MAX_PCT" "$1"; }

# 1. Idle CPU: nothing has been sent since the pings; let them settle.
sleep 1
idle_cpu "no connection"
# 1b, 2: one connection held open, idle, across the measurement.
cat >"$IT_TMP/hold.py" <<'PY'
import os, socket, sys, time
from it_echo import echo
s = socket.create_connection((sys.argv[1], 7007), timeout=30)
data = os.urandom(1 << 20)
print("held: first echo %s" % echo(s, data), flush=True)
time.sleep(7)
ok = echo(s, data[::-1])
print("after 7 s idle: echo %s" % ok, flush=True)
s.close()
sys.exit(0 if ok else 1)
PY
ip netns exec "$NS_M" timeout -k 5 60 python3 "$IT_TMP/hold.py" 10.96.0.2 >"$IT_TMP/hold.log" 2>&1 &
HPID=$!
for ((i = 0; i < 100; i++)); do
	grep -q "^held: first echo True" "$IT_TMP/hold.log" && break
	sleep 0.1
done
grep -q "^held: first echo True" "$IT_TMP/hold.log" || { cat "$IT_TMP/hold.log"; it_fail "no echo on the held connection"; }
sleep 0.5
idle_cpu "one idle connection open"
wait $HPID
hrc=$?
cat "$IT_TMP/hold.log"
[ $hrc -eq 0 ] || it_fail "the connection held open across 7 s of idling did not echo byte-exact"

# 2-4: a Linux client in the namespace.
cat >"$IT_TMP/client.py" <<'PY'
import os, socket, subprocess, sys, threading, time
from it_echo import echo, echo_small
addr, tap, wake_max = sys.argv[1], sys.argv[2], float(sys.argv[3])
PORT = 7007


fails = 0
# New connections, each after 300 ms without any.
worst = 0.0
times = []
for i in range(24):
    time.sleep(0.3)
    t0 = time.monotonic()
    s = socket.create_connection((addr, PORT), timeout=5)
    whole = echo_small(s, 1000)
    dt = (time.monotonic() - t0) * 1000
    worst = max(worst, dt)
    times.append(dt)
    print("wake %2d: local port %d connect+echo %.2f ms" % (i, s.getsockname()[1], dt), flush=True)
    s.close()
    if not whole:
        print("FAIL: connection %d did not echo 1000 bytes" % i)
        fails += 1
times.sort()
print("wake connect+echo: median %.2f ms, worst %.2f ms" % (times[len(times) // 2], worst))
if worst >= wake_max:
    print("FAIL: a connection after idling took %.2f ms (>= %.0f)" % (worst, wake_max))
    fails += 1
s = socket.create_connection((addr, PORT), timeout=30)
# 4. The link goes down for 1.5 s in the middle of a 16 MiB echo.
big = os.urandom(16 << 20)
def flap():
    time.sleep(0.05)
    subprocess.run(["ip", "link", "set", tap, "down"], check=True)
    time.sleep(1.5)
    subprocess.run(["ip", "link", "set", tap, "up"], check=True)
f = threading.Thread(target=flap)
f.start()
t0 = time.monotonic()
ok3 = echo(s, big, 60)
f.join()
print("link flap: 16 MiB echo %s in %.2f s" % (ok3, time.monotonic() - t0))
if not ok3:
    print("FAIL: echo across the link flap")
    fails += 1
s.close()
print("client: %s" % ("PASS" if fails == 0 else "FAIL"))
sys.exit(1 if fails else 0)
PY
ip netns exec "$NS_M" timeout -k 5 120 python3 "$IT_TMP/client.py" 10.96.0.2 "$TAP" "$WAKE_MAX_MS" \
	>"$IT_TMP/client.log" 2>&1
crc=$?
cat "$IT_TMP/client.log"
sleep 0.5
it_stop "$SPID" "$IT_TMP/server.log"
src=$?
cat "$IT_TMP/server.log"
[ $crc -eq 0 ] || it_fail "client failed (exit $crc)"
[ $src -eq 0 ] || it_fail "mlw_epoll_echo exited $src"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"
[ "$(grep -c "^shard [01]: idle: interrupt" "$IT_TMP/server.log")" -eq 2 ] ||
	it_fail "both shards should have slept on interrupts (idle lines above)"
fwd=$(it_stats_sum "$IT_TMP/server.log" fwd_in)
woken=$(sed -n 's/^shard [01]: idle: .* by another shard \([0-9]*\),.*/\1/p' "$IT_TMP/server.log" |
	awk '{ s += $1 } END { print s + 0 }')
[ "$fwd" -gt 0 ] || it_fail "no frame was forwarded between shards (the kernel put every flow on its owner's queue?)"
[ "$woken" -gt 0 ] || it_fail "$fwd frames forwarded, but no shard was woken by another"
retrans=$(it_stats_sum "$IT_TMP/server.log" retrans)
[ "$retrans" -gt 0 ] || it_fail "no retransmission by the server while the link was down"
it_log "PASS: idle threads < $CPU_MAX_PCT% of a core; $fwd frames forwarded, $woken wake-ups by another shard; " \
	"$(grep "wake connect+echo" "$IT_TMP/client.log"); echo across 7 s idle byte-exact; $retrans retransmissions" \
	"across a 1.5 s link loss, 16 MiB byte-exact"
