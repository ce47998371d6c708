#!/bin/bash
# op_stat.sh ECHO_BIN MLWIP_STAT - live statistics and the connection listing
# of a running 2-shard stack (mlw_epoll_echo over net_af_packet, qpairs=2)
# through DPDK's telemetry socket, against Linux clients in a peer namespace:
#   - `mlwip-stat --json` before and after a bounded load: accepted
#     connections rise by at least the connections the client completed,
#     rx_pkts and tx_pkts rise, the loop counts passes;
#   - `mlwip-stat conns --json` while the client holds HOLD connections
#     open: every held connection is listed once, ESTAB, with the right
#     local and remote address and port, as a socket of the socket layer;
#     each shard has a listener on the echo port in LISTEN;
#   - `mlwip-stat -i 0.3 -n 2` prints its table with a row per shard;
#   - the stop table's accepts column agrees with the telemetry's counters;
#   - Debian's dpdk-telemetry.py reads /mlwip/stats and /mlwip/conns (counts
#     by state: the held connections ESTABLISHED, a listener per shard)
#     from the same socket;
#   - an unknown file prefix: a clear error naming the socket path tried,
#     exit status 2.
IT_NAME=op_stat
. "$(dirname "$0")/../integration/lib.sh"

ECHO=${1:?usage: op_stat.sh MLW_EPOLL_ECHO MLWIP_STAT}
STAT=${2:?usage: op_stat.sh MLW_EPOLL_ECHO MLWIP_STAT}
it_require_no_tsan
it_require_root_netns
it_require_cmd python3 ping ethtool timeout

SHORT=40	# connections opened, echoed and closed
HOLD=6		# connections held open during the listing
MLW_ADDR=10.97.0.2
PEER_ADDR=10.97.0.1
PREFIX="mlwit_op_$$"
it_netns_pair op "$PEER_ADDR/24"
it_start_epoll_echo "$ECHO" "$PREFIX" "$MLW_ADDR" "$PEER_ADDR" 90

stat() { timeout 30 python3 "$STAT" -p "$PREFIX" "$@"; }

stat --json >"$IT_TMP/before.json" || it_fail "mlwip-stat --json failed (exit $?)"

cat >"$IT_TMP/client.py" <<'EOF'
import json, os, socket, sys, time
from it_echo import echo_small
addr, short, hold, ready, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
done = 0
for i in range(short):
    s = socket.create_connection((addr, 7007), timeout=10)
    ok = echo_small(s, 1000)
    s.close()
    done += ok
held = []
for i in range(hold):
    s = socket.create_connection((addr, 7007), timeout=10)
    s.sendall(b"hello")
    assert s.recv(16) == b"hello"
    held.append(s)
ports = [s.getsockname()[1] for s in held]
with open(ready + ".tmp", "w") as f:
    json.dump({"completed": done, "held_ports": ports}, f)
os.rename(ready + ".tmp", ready)
t0 = time.time()
while not os.path.exists(release) and time.time() - t0 < 40:
    time.sleep(0.1)
for s in held:
    s.close()
EOF
it_start client "$IT_TMP/client.log" ip netns exec "$NS_P" timeout 60 python3 "$IT_TMP/client.py" \
	"$MLW_ADDR" "$SHORT" "$HOLD" "$IT_TMP/ready.json" "$IT_TMP/release"
CPID=$IT_LAST_PID
for ((i = 0; i < 300; i++)); do
	[ -f "$IT_TMP/ready.json" ] && break
	kill -0 "$CPID" 2>/dev/null || { cat "$IT_TMP/client.log"; it_fail "client exited early"; }
	sleep 0.1
done
[ -f "$IT_TMP/ready.json" ] || it_fail "client not ready after 30 s"
it_log "client: $(cat "$IT_TMP/ready.json")"
# Counters are published every 100 ms.
sleep 0.5
stat conns --json >"$IT_TMP/conns.json" || it_fail "mlwip-stat conns --json failed (exit $?)"
stat conns >"$IT_TMP/conns.txt" || it_fail "mlwip-stat conns failed (exit $?)"
cat "$IT_TMP/conns.txt"
stat --json >"$IT_TMP/after.json" || it_fail "mlwip-stat --json failed (exit $?)"
# Read after the counters: the rings are published with them, so they
# carried at least the frames after.json counts as forwarded and copied.
stat rings --json >"$IT_TMP/rings.json" || it_fail "mlwip-stat rings --json failed (exit $?)"
stat rings || it_fail "mlwip-stat rings failed (exit $?)"
# Debian's client (dpdk-dev) against the same socket.
if command -v dpdk-telemetry.py >/dev/null; then
	printf '/mlwip/stats\n/mlwip/conns\n' | timeout 20 dpdk-telemetry.py -f "$PREFIX" >"$IT_TMP/dpdk_tel.out" 2>&1 ||
		{ cat "$IT_TMP/dpdk_tel.out"; it_fail "dpdk-telemetry.py failed"; }
	DPDK_TEL=1
else
	DPDK_TEL=0
	it_log "dpdk-telemetry.py not installed (Debian package dpdk-dev): its check is not run"
fi
touch "$IT_TMP/release"
wait "$CPID" || it_fail "client failed"

python3 - "$IT_TMP" "$MLW_ADDR" "$PEER_ADDR" "$SHORT" "$HOLD" "$DPDK_TEL" <<'EOF' || it_fail "checks failed"
import json, sys
tmp, mlw, peer, short, hold, dpdk_tel = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
bad = []
before, after = json.load(open(tmp + "/before.json")), json.load(open(tmp + "/after.json"))
client = json.load(open(tmp + "/ready.json"))
conns = json.load(open(tmp + "/conns.json"))
def total(doc, k):
    return sum(s[k] for s in doc["shards"])
assert len(after["shards"]) == 2, "2 shards"
acc = total(after, "tcp_accepts") - total(before, "tcp_accepts")
half = total(after, "tcp_half_open") - total(before, "tcp_half_open")
want = client["completed"] + hold
print(f"accepted {acc} (client completed {client['completed']} + held {hold}), half-open {half}")
if client["completed"] != short:
    bad.append(f"client completed {client['completed']} of {short}")
if acc < want:
    bad.append(f"accepts rose by {acc}, client made {want} connections")
if half < acc:
    bad.append(f"half-open connections ({half}) fewer than accepted ({acc}) without SYN cookies")
for k in ("rx_pkts", "tx_pkts", "loops"):
    d = total(after, k) - total(before, k)
    print(f"{k} +{d}")
    if d <= 0:
        bad.append(f"{k} did not rise")
if total(after, "rx_pkts") - total(before, "rx_pkts") < 3 * want:
    bad.append("fewer frames received than 3 per connection")
if after["timestamp"] <= before["timestamp"]:
    bad.append("timestamps do not advance")
if after["info"]["nshards"] != 2 or not after["info"]["lwip_version"]:
    bad.append(f"info: {after['info']}")
# Held connections: each listed once, ESTAB, the right endpoints.
listed = {}
for s in conns["shards"]:
    if s.get("error"):
        bad.append(f"shard {s['shard']}: {s['error']}")
    if not any(c["state"] == "LISTEN" and c["local"].endswith(":7007") for c in s["conns"]):
        bad.append(f"shard {s['shard']}: no listener on 7007 in LISTEN")
    for c in s["conns"]:
        if c["proto"] == "tcp" and c["remote"].startswith(peer + ":"):
            listed.setdefault(int(c["remote"].rsplit(":", 1)[1]), []).append((s["shard"], c))
for p in client["held_ports"]:
    got = listed.get(p, [])
    if len(got) != 1:
        bad.append(f"client port {p} listed {len(got)} times")
        continue
    shard, c = got[0]
    if c["state"] != "ESTAB" or c["local"] != f"{mlw}:7007" or c["remote"] != f"{peer}:{p}":
        bad.append(f"client port {p}: {c}")
    if not c["socket"]:
        bad.append(f"client port {p}: not the socket layer's")
print(f"held connections listed: {sum(len(listed.get(p, [])) for p in client['held_ports'])} of {hold}")
# Inter-shard rings: the peer's ARP requests reach both shards, so at least
# one ring carried frames; per sending shard, what its rings carried and
# dropped covers its fwd_out + fanout and equals its fwd_drops.
rings = json.load(open(tmp + "/rings.json"))["rings"]
print(f"rings: {rings}")
if not rings:
    bad.append("mlwip-stat rings: no ring carried a frame")
for s in range(2):
    mine = [r for r in rings if r["from"] == s]
    sent = sum(r["sent"] for r in mine)
    want = after["shards"][s]["fwd_out"] + after["shards"][s]["fanout"]
    if sent < want:
        bad.append(f"shard {s}: rings carried {sent}, fwd_out + fanout is {want}")
    if sum(r["dropped"] for r in mine) < after["shards"][s]["fwd_drops"]:
        bad.append(f"shard {s}: rings dropped fewer than fwd_drops")
    for r in mine:
        if r["to"] == s or not 0 < r["size"] or r["peak"] > r["size"]:
            bad.append(f"ring {r}")
if dpdk_tel:
    out = open(tmp + "/dpdk_tel.out").read()
    i = out.find('{"/mlwip/stats"')
    if i < 0:
        bad.append("dpdk-telemetry.py printed no /mlwip/stats reply")
    else:
        doc, _ = json.JSONDecoder().raw_decode(out[i:])
        st = doc["/mlwip/stats"]
        if st.get("nshards") != 2 or len(st.get("rx_pkts", [])) != 2 or sum(st["rx_pkts"]) <= 0:
            bad.append(f"dpdk-telemetry.py: unexpected /mlwip/stats {str(st)[:200]}")
        else:
            print(f"dpdk-telemetry.py: /mlwip/stats rx_pkts {st['rx_pkts']}")
    # The per-state counts of a fresh listing: the held connections and a
    # listener per shard.
    i = out.find('{"/mlwip/conns"')
    if i < 0:
        bad.append("dpdk-telemetry.py printed no /mlwip/conns reply")
    else:
        doc, _ = json.JSONDecoder().raw_decode(out[i:])
        c = doc["/mlwip/conns"]
        print(f"dpdk-telemetry.py: /mlwip/conns {c}")
        if c.get("LISTEN") != [1, 1] or sum(c.get("ESTABLISHED", [])) < hold or any(c.get("error", ["?"])):
            bad.append(f"dpdk-telemetry.py: /mlwip/conns {c}")
        for k in ("SYN_RCVD", "TIME_WAIT", "CLOSE_WAIT", "UDP", "truncated"):
            if len(c.get(k, [])) != 2:
                bad.append(f"/mlwip/conns: no per-shard {k}")
for b in bad:
    print("BAD:", b)
sys.exit(1 if bad else 0)
EOF

# Another prefix: nothing runs there.
python3 "$STAT" -p "mlwit_none_$$" --json >"$IT_TMP/none.out" 2>"$IT_TMP/none.err"
rc=$?
cat "$IT_TMP/none.err"
[ $rc -eq 2 ] || it_fail "unknown prefix: exit $rc, expected 2"
grep -q "no mlwip stack with file prefix 'mlwit_none_$$'.*/var/run/dpdk/mlwit_none_$$/dpdk_telemetry.v2" \
	"$IT_TMP/none.err" || it_fail "unknown prefix: the error does not name the socket path tried"
# The top view, twice, on the running stack.
stat -i 0.3 -n 2 >"$IT_TMP/top.txt"
rc=$?
cat "$IT_TMP/top.txt"
[ $rc -eq 0 ] && grep -q "^1 " "$IT_TMP/top.txt" || it_fail "mlwip-stat -i 0.3 -n 2: exit $rc, no row for shard 1"

it_stop "$SPID" "$IT_TMP/server.log"
rc=$?
cat "$IT_TMP/server.log"
[ $rc -eq 0 ] || it_fail "server exited $rc"
it_check_clean "$IT_TMP/server.log"
ACC=$(it_stats_sum "$IT_TMP/server.log" accepts)
[ "$ACC" -ge $((SHORT + HOLD)) ] || it_fail "stop table: $ACC accepts, expected >= $((SHORT + HOLD))"
it_log "PASS: counters, listing, dpdk-telemetry.py and errors as expected; stop table accepts $ACC"
