#!/bin/bash
# it_multiport.sh ECHO_BIN NPORTS [af_packet|tap] - one mlw_epoll_echo
# process (2 shards) on NPORTS DPDK ports at once, each port in its own
# subnet 10.97.<i>.0/24 with a Linux peer at .1:
#   af_packet (default): NPORTS veth pairs, each mlwip end a net_af_packet
#     port (2 queue pairs) in one mlwip namespace, each Linux end in a peer
#     namespace of its own;
#   tap: NPORTS net_tap ports (2 queues; DPDK creates the tap interfaces in
#     the mlwip namespace, whose kernel is the peer of every port). Unlike
#     af_packet, a tap queue takes its 1024 RX descriptors from the shard's
#     mbuf pool, as a NIC does, and counts rx_nombuf.
# Linux clients on every port at the same time: CONNS connections per port
# each send BYTES random bytes and must get exactly them back (length and
# SHA-256 of what came back = of what was sent). From the stats printout
# after the stop: the server echoed every byte and counted no error, both
# shards accepted connections, the port table has a row per port, every
# port carried at least its payload both ways, no port counted a loss
# (rx_missed, rx_nombuf, rx/tx errors); and from the kernel's counters of
# each port's interface: the port received every frame Linux handed it and
# sent what it counted, and Linux dropped none on the way.
DRIVER=${3:-af_packet}
IT_NAME=it_multiport${2:-}
[ "$DRIVER" = af_packet ] || IT_NAME=${IT_NAME}_$DRIVER
export IT_NAME
. "$(dirname "$0")/lib.sh"

ECHO=${1:?usage: it_multiport.sh MLW_EPOLL_ECHO NPORTS}
NPORTS=${2:?usage: it_multiport.sh MLW_EPOLL_ECHO NPORTS}
[ "$NPORTS" -ge 1 ] && [ "$NPORTS" -le 8 ] || it_fail "NPORTS must be 1..8"
case $DRIVER in af_packet | tap) ;; *) it_fail "driver must be af_packet or tap" ;; esac
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout
[ "$DRIVER" != tap ] || [ -c /dev/net/tun ] || it_skip "no /dev/net/tun (net_tap needs it)"

CONNS=${MLW_IT_CONNS:-8}
BYTES=${MLW_IT_BYTES:-$((1024 * 1024))}
DURATION=55
# Frames each af_packet queue's kernel ring holds (DPDK's default: 512; a
# tap queue holds 1000, its txqueuelen). The clients keep at most SOCKBUF
# bytes per connection in flight each way (SO_SNDBUF/SO_RCVBUF, which Linux
# doubles: about 45 data frames and 23 ACKs), so even all CONNS connections
# of a port on one queue fit into its ring while a shard is not scheduled:
# a frame lost at a port is then the stack's fault, not the machine's load.
# (With 512 frames and Linux's default buffers against lwIP's 2 MiB window,
# a busy machine loses a few dozen frames per port per run; TCP recovers,
# the loss check below fails.)
FRAMES=1024
SOCKBUF=32768
PREFIX="mlwit_mp${NPORTS}_$$"

# Port i: mlwip 10.97.i.2/24 on IF_MS[i], its peer 10.97.i.1 in NS_PS[i].
NS_PS=() IF_MS=()
if [ "$DRIVER" = tap ]; then
	it_netns_mlwip mt
	for ((i = 0; i < NPORTS; i++)); do
		NS_PS+=("$NS_M")
		IF_MS+=("mtp$i$$")
	done
else
	for ((i = 0; i < NPORTS; i++)); do
		if [ "$i" -eq 0 ]; then
			it_netns_pair "mp$i" "10.97.$i.1/24"
		else
			it_netns_port "mp$i" "10.97.$i.1/24"
		fi
		NS_PS+=("$NS_P")
		IF_MS+=("$IF_M")
	done
fi

# Port order is vdev order on the command line: the i-th vdev is DPDK port
# i, configured by [port<i>]. One vdev per continuation line (an INI
# line holds at most 198 characters).
IT_PREFIXES="$IT_PREFIXES $PREFIX"
{
	echo "[eal]"
	echo "args = --no-huge --no-pci -m 512 --file-prefix=$PREFIX"
	for ((i = 0; i < NPORTS; i++)); do
		if [ "$DRIVER" = tap ]; then
			echo "       --vdev=net_tap$i,iface=${IF_MS[$i]}"
		else
			echo "       --vdev=net_af_packet$i,iface=${IF_MS[$i]},qpairs=2,framecnt=$FRAMES"
		fi
	done
	echo "[stack]"
	echo "shards = 2"
	for ((i = 0; i < NPORTS; i++)); do
		echo "[port$i]"
		echo "ipv4 = 10.97.$i.2/24"
	done
} >"$IT_TMP/echo.ini"

it_start mlw_epoll_echo "$IT_TMP/server.log" \
	ip netns exec "$NS_M" timeout -k 10 $((DURATION + 10)) "$ECHO" "$IT_TMP/echo.ini" --duration $DURATION
SPID=$IT_LAST_PID
it_wait_log "$IT_TMP/server.log" "shard 1: echo listening" 30 "$SPID"
it_wait_log "$IT_TMP/server.log" "shard 0: echo listening" 5 "$SPID"
if [ "$DRIVER" = tap ]; then
	# The taps exist now: give the kernel's ends their addresses.
	for ((i = 0; i < NPORTS; i++)); do
		ip netns exec "$NS_M" sysctl -qw "net.ipv6.conf.${IF_MS[$i]}.disable_ipv6=1"
		ip netns exec "$NS_M" ip addr add "10.97.$i.1/24" dev "${IF_MS[$i]}" ||
			it_fail "cannot configure ${IF_MS[$i]}"
		ip netns exec "$NS_M" ip link set "${IF_MS[$i]}" up
		ip netns exec "$NS_M" ethtool -K "${IF_MS[$i]}" tx off rx off tso off gso off gro off \
			>/dev/null 2>&1
	done
fi
# A port that does not answer: stop the server and show its stats (the
# port table says whether it received anything, and what it lost).
for ((i = 0; i < NPORTS; i++)); do
	for ((t = 0; t < 10; t++)); do
		ip netns exec "${NS_PS[$i]}" ping -c 1 -W 1 "10.97.$i.2" >/dev/null 2>&1 && break
	done
	if [ $t -eq 10 ]; then
		it_stop "$SPID" "$IT_TMP/server.log"
		cat "$IT_TMP/server.log"
		it_fail "port$i: 10.97.$i.2 does not answer pings from ${NS_PS[$i]} within 10 s"
	fi
done

cat >"$IT_TMP/client.py" <<'EOF'
import hashlib, random, socket, sys, threading

addr, conns, nbytes, seed, sockbuf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
results = {}

def echo(idx):
    data = random.Random(seed * 1000 + idx).randbytes(nbytes)
    want = hashlib.sha256(data).hexdigest()
    got, n, lport = hashlib.sha256(), 0, 0
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sockbuf)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sockbuf)
        s.settimeout(30)
        s.connect((addr, 7007))
        lport = s.getsockname()[1]
        def sender():
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=sender)
        t.start()
        while True:
            b = s.recv(65536)
            if not b:
                break
            got.update(b)
            n += len(b)
        t.join()
        s.close()
    except Exception as e:
        results[idx] = "local port %d: error after %d bytes: %r" % (lport, n, e)
        return
    if n != nbytes or got.hexdigest() != want:
        results[idx] = "local port %d: got %d of %d bytes, sha256 %s, sent %s" % (
            lport, n, nbytes, got.hexdigest()[:16], want[:16])
    else:
        results[idx] = "local port %d: ok %d bytes sha256 %s" % (lport, n, want[:16])

threads = [threading.Thread(target=echo, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
bad = 0
for i in range(conns):
    r = results.get(i, "no result")
    print("%s conn %d %s" % (addr, i, r))
    bad += " ok " not in r
print("%s: %s" % (addr, "PASS" if bad == 0 else "FAIL (%d)" % bad))
sys.exit(1 if bad else 0)
EOF

# Every port's clients at once.
t0=$SECONDS
CPIDS=()
for ((i = 0; i < NPORTS; i++)); do
	ip netns exec "${NS_PS[$i]}" timeout -k 5 40 python3 "$IT_TMP/client.py" "10.97.$i.2" \
		"$CONNS" "$BYTES" "$i" "$SOCKBUF" >"$IT_TMP/client$i.log" 2>&1 &
	CPIDS+=($!)
done
cfail=0
for ((i = 0; i < NPORTS; i++)); do
	wait "${CPIDS[$i]}" || cfail=$((cfail + 1))
	cat "$IT_TMP/client$i.log"
done
secs=$((SECONDS - t0))

# The kernel's own counters of each port's interface, read before the stop
# (a tap goes with its port): what Linux handed to the port, what the port
# sent, and what Linux dropped on the way (dropped counts both directions,
# e.g. a full tap queue or a peer's full backlog).
for ((i = 0; i < NPORTS; i++)); do
	d="/sys/class/net/${IF_MS[$i]}/statistics"
	if [ "$DRIVER" = tap ]; then	# the kernel transmits what the port receives
		ip netns exec "$NS_M" cat "$d/tx_packets" "$d/rx_packets" "$d/tx_dropped" "$d/rx_dropped"
	else
		ip netns exec "$NS_M" cat "$d/rx_packets" "$d/tx_packets" "$d/rx_dropped" "$d/tx_dropped"
	fi | tr '\n' ' ' >"$IT_TMP/kernel$i"
done
it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $cfail -eq 0 ] || it_fail "clients failed on $cfail of $NPORTS ports"
[ $rc -eq 0 ] || it_fail "mlw_epoll_echo exited $rc"
grep -q "mlwip: stopped (clean)" "$IT_TMP/server.log" || it_fail "server did not stop clean"
it_check_clean "$IT_TMP/server.log"

want_conns=$((NPORTS * CONNS))
want_bytes=$((NPORTS * CONNS * BYTES))
acc=$(awk '/: echo accepted/ { s += $5 } END { print s + 0 }' "$IT_TMP/server.log")
byt=$(awk '/: echo accepted/ { s += $9 } END { print s + 0 }' "$IT_TMP/server.log")
err=$(awk '/: echo accepted/ { s += $11 } END { print s + 0 }' "$IT_TMP/server.log")
[ "$acc" -eq "$want_conns" ] || it_fail "server accepted $acc connections, expected $want_conns"
[ "$byt" -eq "$want_bytes" ] || it_fail "server echoed $byt bytes, expected $want_bytes"
[ "$err" -eq 0 ] || it_fail "server counted $err errors"
# Each connection's owner is its hash; with NPORTS * CONNS connections the
# chance that one shard got none is 2^(1 - NPORTS * CONNS).
awk '/: echo accepted/ && $5 == 0 { bad = 1 } END { exit bad }' "$IT_TMP/server.log" ||
	it_fail "a shard accepted no connection"

# The port table: one row per port, each carried the payload both ways
# (frame headers come on top, so at least CONNS * BYTES) and lost nothing.
nrows=$(it_port_stats "$IT_TMP/server.log" rx_bytes | wc -l)
[ "$nrows" -eq "$NPORTS" ] || it_fail "port table has $nrows rows, expected $NPORTS"
for col in rx_bytes tx_bytes; do
	it_port_stats "$IT_TMP/server.log" $col |
		awk -v min=$((CONNS * BYTES)) '$2 == "-" || $2 < min { print; bad = 1 } END { exit bad }' ||
		it_fail "a port carried less than $((CONNS * BYTES)) bytes ($col)"
done
for col in rx_missed rx_nombuf rx_errors tx_errors; do
	it_port_stats "$IT_TMP/server.log" $col | awk '$2 != 0 { print; bad = 1 } END { exit bad }' ||
		it_fail "a port lost frames ($col)"
done
# net_af_packet in DPDK 22.11 counts neither rx_missed nor rx_nombuf (it
# never reads the socket's PACKET_STATISTICS; without an mbuf it leaves the
# frame in the kernel's ring, which drops what no longer fits): so compare
# with the kernel's counters. Only the test's peers send, and only while
# the server runs, so every frame Linux handed to a port must have been
# received, and every frame the port sent must have left.
for ((i = 0; i < NPORTS; i++)); do
	read -r krx ktx kdrop1 kdrop2 <"$IT_TMP/kernel$i"
	drx=$(it_port_stats "$IT_TMP/server.log" rx_pkts | awk -v p="port$i" '$1 == p { print $2 }')
	dtx=$(it_port_stats "$IT_TMP/server.log" tx_pkts | awk -v p="port$i" '$1 == p { print $2 }')
	it_log "port$i: kernel ${IF_MS[$i]} to port $krx, from port $ktx, dropped $kdrop1/$kdrop2 frames;" \
		"DPDK port rx $drx tx $dtx"
	[ "$krx" = "$drx" ] || it_fail "port$i received $drx frames of the $krx Linux handed to ${IF_MS[$i]}"
	[ "$ktx" = "$dtx" ] || it_fail "port$i counted $dtx frames sent, ${IF_MS[$i]} got $ktx"
	[ "$kdrop1" = 0 ] && [ "$kdrop2" = 0 ] || it_fail "Linux dropped frames at ${IF_MS[$i]}"
done
it_log "PASS: $NPORTS $DRIVER ports x $CONNS connections x $BYTES bytes echoed byte-exact (sha256) in ${secs}s;" \
	"accepted per shard: $(awk '/: echo accepted/ { sub(":", "", $2); printf "%s=%s ", $2, $5 }' "$IT_TMP/server.log")"
awk '/^port +driver +rx_pkts/ { t = 1 } t && /^port/ { print "[" ENVIRON["IT_NAME"] "] " $0; next } { t = 0 }' \
	"$IT_TMP/server.log"
