#!/usr/bin/env python3
"""soak_streamscan.py CAPTURE SERVER_ADDR [SERVER_PORT] - how each bulk stream to the server recovered.

For every TCP connection to SERVER_ADDR:SERVER_PORT (default 5001, lwiperf)
in a capture taken on the client's side: the client's data segments and
retransmissions, the longest time the server's cumulative ACK stood still
while the client had unacknowledged data (a stall: a hole the sender fills
one segment per round trip, a delayed ACK per retransmission), whether the
server acknowledged the client's FIN, and the time from the stream's first
retransmission to the ACK that covered everything sent up to then
(recovery). Prints one line per stream and a summary line
"streams N finished F max_stall_ms S max_recovery_ms R".
"""
import subprocess
import sys

cap, srv = sys.argv[1], sys.argv[2]
sport = sys.argv[3] if len(sys.argv) > 3 else "5001"
out = subprocess.run(
    ["tshark", "-r", cap, "-o", "tcp.relative_sequence_numbers:TRUE", "-Y", "tcp.port==%s" % sport,
     "-T", "fields", "-E", "separator=,", "-e", "frame.time_relative", "-e", "ip.src", "-e", "tcp.stream",
     "-e", "tcp.flags", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.analysis.retransmission"],
    capture_output=True, text=True, check=False).stdout

st = {}
for line in out.splitlines():
    f = line.split(",")
    if len(f) < 8 or not f[3]:
        continue
    t, src, sid, flags = float(f[0]), f[1], f[2], int(f[3], 16)
    seq, ack, ln, retr = int(f[4] or 0), int(f[5] or 0), int(f[6] or 0), f[7] != ""
    s = st.setdefault(sid, {"snd_max": 0, "acked": 0, "ack_t": None, "stall": 0.0, "segs": 0, "retr": 0,
                            "fin_seq": None, "fin_acked": False, "rec_start": None, "rec_target": 0,
                            "recovery": 0.0, "first": t, "last": t})
    s["last"] = t
    if src != srv:
        end = seq + ln + (1 if flags & 1 else 0)
        if ln:
            s["segs"] += 1
        if retr:
            s["retr"] += 1
            if s["rec_start"] is None:
                s["rec_start"], s["rec_target"] = t, s["snd_max"]
        if flags & 1:
            s["fin_seq"] = end
        if end > s["snd_max"]:
            if s["snd_max"] <= s["acked"]:
                s["ack_t"] = t          # data outstanding from now
            s["snd_max"] = end
    elif flags & 16:
        if ack > s["acked"]:
            if s["ack_t"] is not None and s["snd_max"] > s["acked"]:
                s["stall"] = max(s["stall"], t - s["ack_t"])
            s["acked"] = ack
            s["ack_t"] = t
            if s["rec_start"] is not None and ack >= s["rec_target"]:
                s["recovery"] = max(s["recovery"], t - s["rec_start"])
                s["rec_start"] = None
        if s["fin_seq"] is not None and ack >= s["fin_seq"]:
            s["fin_acked"] = True
streams = [s for s in st.values() if s["segs"] > 0]
for sid, s in sorted(st.items(), key=lambda kv: int(kv[0])):
    if s["segs"] == 0:
        continue
    unrec = s["rec_start"] is not None
    print("  stream %s: %d data segments, %d retransmissions, longest stall %.0f ms, recovery %s, FIN %s"
          % (sid, s["segs"], s["retr"], s["stall"] * 1000,
             "unfinished at the capture's end" if unrec else "%.0f ms max" % (s["recovery"] * 1000),
             "acknowledged" if s["fin_acked"] else "not acknowledged"))
print("streams %d finished %d max_stall_ms %.0f max_recovery_ms %.0f"
      % (len(streams), sum(1 for s in streams if s["fin_acked"]),
         max((s["stall"] for s in streams), default=0) * 1000,
         max((s["recovery"] for s in streams), default=0) * 1000))
