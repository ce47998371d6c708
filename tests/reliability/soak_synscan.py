#!/usr/bin/env python3
"""soak_synscan.py CAPTURE SERVER_ADDR [SERVER_PORT [WINDOW]] - what became of SYNs that reused a 4-tuple.

Reads a capture (tshark) of a Linux client against a server that closes
first (so it holds TIME-WAIT), and for every new connection attempt on a
4-tuple that an earlier connection used (a SYN with another sequence number
than that connection's) reports how the server answered the first SYN:

  synack  a SYN-ACK (TIME-WAIT reopened, or no TIME-WAIT left)
  ack     a bare ACK (TIME-WAIT kept: the client resets and retries 1 s later)
  rst     a reset (the client's connect fails: "Connection refused")
  none    nothing in the capture

and how long the attempt took to its SYN-ACK (first SYN to SYN-ACK: ~0 when
answered at once, >= 1 s when the client had to retry). The sequence
distance from the old connection's last client sequence number tells
whether the SYN lay inside the old receive window (WINDOW, default
2097152: lwIP's TCP_WND here), where lwIP's own TIME-WAIT answers with a
reset. Exits 0; prints a summary line "reuses N synack A ack B rst R none X
slow(>=0.5s) S in_window W (nearest D)" and the first slow or refused cases.
"""
import subprocess
import sys

cap, srv = sys.argv[1], sys.argv[2]
sport = sys.argv[3] if len(sys.argv) > 3 else "80"
window = int(sys.argv[4]) if len(sys.argv) > 4 else 2097152
out = subprocess.run(
    ["tshark", "-r", cap, "-o", "tcp.relative_sequence_numbers:FALSE", "-Y", "tcp.port==%s" % sport,
     "-T", "fields", "-E", "separator=,", "-e", "frame.time_relative", "-e", "ip.src", "-e", "tcp.srcport",
     "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "tcp.seq", "-e", "tcp.len"],
    capture_output=True, text=True, check=False).stdout

conn = {}      # client port -> dict(last_seq=..., isn=...) of the newest attempt
events = []    # reuse attempts
pending = {}   # client port -> event waiting for the server's answer / SYN-ACK
for line in out.splitlines():
    f = line.split(",")
    if len(f) < 7 or not f[4]:
        continue
    t, src, sp, dp, flags, seq, ln = float(f[0]), f[1], f[2], f[3], int(f[4], 16), int(f[5]), int(f[6] or 0)
    syn, ack, rst, fin = flags & 2, flags & 16, flags & 4, flags & 1
    if src != srv:
        port = sp
        c = conn.get(port)
        if syn and not ack:
            if c is None or c["isn"] != seq:
                if c is not None and c.get("established"):
                    ev = {"port": port, "t": t, "dist": (seq - c["last_seq"]) % (1 << 32), "answer": None,
                          "synack_t": None}
                    events.append(ev)
                    pending[port] = ev
                conn[port] = {"isn": seq, "last_seq": seq + 1, "established": False}
        elif c is not None:
            end = seq + ln + (1 if fin else 0)
            if ((end - c["last_seq"]) % (1 << 32)) < (1 << 31):
                c["last_seq"] = end
    else:
        port = dp
        c = conn.get(port)
        ev = pending.get(port)
        if syn and ack:
            if c is not None:
                c["established"] = True
            if ev is not None:
                if ev["answer"] is None:
                    ev["answer"] = "synack"
                ev["synack_t"] = t
                del pending[port]
        elif ev is not None and ev["answer"] is None:
            ev["answer"] = "rst" if rst else "ack"

counts = {"synack": 0, "ack": 0, "rst": 0, None: 0}
slow = []
for ev in events:
    counts[ev["answer"]] += 1
    d = (ev["synack_t"] - ev["t"]) if ev["synack_t"] is not None else None
    if ev["answer"] != "synack" or d is None or d >= 0.5:
        slow.append((ev, d))
print("reuses %d synack %d ack %d rst %d none %d slow(>=0.5s) %d in_window %d (nearest %s)"
      % (len(events), counts["synack"], counts["ack"], counts["rst"], counts[None],
         sum(1 for _, d in slow if d is None or d >= 0.5), sum(1 for ev in events if 0 < ev["dist"] <= window),
         min((ev["dist"] for ev in events), default="-")))
for ev, d in slow[:8]:
    print("  port %s at %.3f s: first answer %s, SYN %d past the old connection's last sequence number, "
          "%s" % (ev["port"], ev["t"], ev["answer"], ev["dist"],
                  "SYN-ACK after %.3f s" % d if d is not None else "no SYN-ACK"))
