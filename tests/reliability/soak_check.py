#!/usr/bin/env python3
"""soak_check.py SAMPLES.csv ROUNDS.csv WARMUP_S TW_CAP - the soak's verdict.

Rounds: every churn round completed all its connections with no failed
request, no refused connection, no timeout (ab exit 0).

Resources (samples from soak_sampler.c, one row per shard per sample): the
samples from WARMUP_S on (seconds since the stack was created) are split in
thirds by time; the last third's maximum is compared with the first third's:

  rss_kb (process)           last <= first * 1.10
  heap_bytes (each shard)    last <= first * 1.25 + 64 KiB
  heap_objects (sum)         last <= first * 1.25 + 512
  time_wait (sum of shards)  last <= first * 1.10 + 32, and <= TW_CAP * shards
  mbufs_in_use (sum)         last <= first * 1.10 + 256
  conns (sum)                last <= first * 1.50 + 32
  heap_failures              0 in every sample
  at stop                    every shard's heap empty

Why the warm-up: TIME-WAIT grows for 2 MSL (60 s) or until the max_time_wait
cap, and the heap with it (its records live in the shard heap): a heap that
grows with TIME-WAIT during its first minute is no leak, and a 60 s run
cannot tell one from the other. soak.sh therefore runs the 60 s test with a
cap (2048 per shard) that the churn fills within seconds (warm-up 15 s),
and the default cap (131072, never reached) with a 90 s warm-up: the first
60 s of growth are left out, after which TIME-WAIT ends as fast as it is
made. After the warm-up nothing may grow. Sensitivity of the 60 s run
(windows 15-30 s and 45-60 s, 30 s apart, ~30,000 connections between
them): one leaked object per connection adds ~30,000 heap objects against
a slack of ~2,100 (6,200 in use), and a 32-byte block per connection ~480
KiB per shard against ~320 KiB of heap slack (~1 MiB in use). The slack
is for the load's jitter (connections in flight, responses queued).
Checked once with MLW_SOAK_LEAK_BYTES=16 (soak_sampler.c: 16 bytes leaked
per accepted connection; 19 rounds under load): heap_objects 28,264 ->
44,011, over its limit of 35,842 (heap bytes +160 KiB per shard stayed
within theirs), and the stop found 302,768 and 306,480 bytes in use.
Prints a summary (first / last / min / max of every metric, the windows'
maxima, a least-squares slope of each shard's heap) and exits 1 on any
failed check.
"""
import csv
import sys

samples_path, rounds_path = sys.argv[1], sys.argv[2]
warm = float(sys.argv[3]) * 1000
TW_CAP_PER_SHARD = int(sys.argv[4])
fails = []

# Rounds.
rounds = list(csv.DictReader(open(rounds_path)))
bad = [r for r in rounds if r["rc"] != "0" or r["failed"] != "0" or r["refused"] != "0" or
       r["timedout"] != "0" or r["complete"] != r.get("n", rounds[0]["complete"])]
total = sum(int(r["complete"]) for r in rounds)
durs = [float(r["seconds"]) for r in rounds]
print("rounds: %d, %d connections, %d failed rounds (refused %d, timed out %d); round time min %.2f s max %.2f s"
      % (len(rounds), total, len(bad), sum(r["refused"] == "1" for r in rounds),
         sum(r["timedout"] == "1" for r in rounds), min(durs or [0]), max(durs or [0])))
if not rounds:
    fails.append("no churn round ran")
for r in bad[:10]:
    fails.append("round %s: rc %s complete %s failed %s refused %s timedout %s"
                 % (r["round"], r["rc"], r["complete"], r["failed"], r["refused"], r["timedout"]))

# Samples: t -> shard -> row.
rows = list(csv.DictReader(open(samples_path)))
by_t = {}
stop = {}
for r in rows:
    t = int(r["t_ms"])
    (stop if t < 0 else by_t.setdefault(t, {}))[int(r["shard"])] = r
times = sorted(by_t)
nshards = max((len(v) for v in by_t.values()), default=0)
times = [t for t in times if len(by_t[t]) == nshards]
if len(times) < 6:
    print("only %d samples" % len(times))
    sys.exit(1)


def series(key, shard=None):
    if shard is None:
        return [sum(int(by_t[t][s][key]) for s in by_t[t]) for t in times]
    return [int(by_t[t][shard][key]) for t in times]


def rss():
    return [int(by_t[t][0]["rss_kb"]) for t in times]


post = [i for i, t in enumerate(times) if t >= warm]
n3 = len(post) // 3
first_idx, last_idx = post[:n3], post[-n3:]
print("samples: %d over %.0f s (every ~%.1f s), %d shards; warm-up %.0f s; windows: %.0f-%.0f s and %.0f-%.0f s"
      % (len(times), times[-1] / 1000, (times[-1] - times[0]) / 1000 / max(1, len(times) - 1), nshards,
         warm / 1000, times[first_idx[0]] / 1000, times[first_idx[-1]] / 1000,
         times[last_idx[0]] / 1000, times[last_idx[-1]] / 1000))


def check(name, vals, mult, add, cap=None):
    f = max(vals[i] for i in first_idx)
    last = max(vals[i] for i in last_idx)
    limit = f * mult + add
    ok = last <= limit and (cap is None or last <= cap)
    print("%-22s first %10d  last %10d  min %10d  max %10d | max 1st third %10d, last third %10d, limit %10d%s  %s"
          % (name, vals[0], vals[-1], min(vals), max(vals), f, last, limit,
             "" if cap is None else " cap %d" % cap, "ok" if ok else "GREW"))
    if not ok:
        fails.append("%s: last third's max %d > limit %d%s" % (name, last, limit, "" if cap is None else " or cap %d" % cap))


def slope_per_min(vals):
    xs = [times[i] / 60000 for i in post]
    ys = [vals[i] for i in post]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


check("rss_kb", rss(), 1.10, 0)
for s in range(nshards):
    v = series("heap_bytes", s)
    check("heap_bytes shard %d" % s, v, 1.25, 65536)
    print("%-22s slope after warm-up: %+.0f bytes/min" % ("", slope_per_min(v)))
check("time_wait (sum)", series("time_wait"), 1.10, 32, TW_CAP_PER_SHARD * nshards)
check("mbufs_in_use (sum)", series("mbufs_in_use"), 1.10, 256)
check("conns (sum)", series("conns"), 1.50, 32)
check("heap_objects (sum)", series("heap_objects"), 1.25, 512)
hf = series("heap_failures")
if max(hf) != 0:
    fails.append("heap allocation failures: %d" % max(hf))
for key in ("accepts", "resets", "tw_reopens", "tw_rst_kills", "rx_drops", "tx_drops", "fwd_drops"):
    v = series(key)
    print("%-22s %d at the last sample" % (key, v[-1]))
if stop:
    print("at stop: heap_bytes %s, time_wait %s, conns %s"
          % ("/".join(stop[s]["heap_bytes"] for s in sorted(stop)),
             "/".join(stop[s]["time_wait"] for s in sorted(stop)),
             "/".join(stop[s]["conns"] for s in sorted(stop))))
    if any(int(stop[s]["heap_bytes"]) != 0 for s in stop):
        fails.append("a shard's heap was not empty at stop")
else:
    fails.append("no sample at stop (the server did not stop through mlw_stack_destroy)")
for f in fails:
    print("FAIL: " + f)
print("verdict: %s" % ("flat, every round completed" if not fails else "FAILED"))
sys.exit(1 if fails else 0)
