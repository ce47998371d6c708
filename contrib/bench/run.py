#!/usr/bin/env python3
"""run.py - mlwip's benchmark suite: mlwip against Linux's own TCP.

Runs mlw_bench (contrib/bench/app) in several configurations side by side,
mlw_rawio for the raw packet I/O limit of net_memif, and optionally the mlwip
server under callgrind for instructions per transaction; writes results.json,
report.md and gnuplot PNGs into --out DIR. See contrib/bench/README.md.

Needs root (network namespaces, DPDK's /var/run/dpdk). Python standard
library only. Every process it starts is bounded in time; every namespace,
DPDK runtime directory and temporary file it creates is removed at the end,
also on Ctrl-C, SIGTERM or an exception.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BUILD = os.path.join(REPO, "build", "bench-release")

# The configurations. Cores: the machine this was written for has 2.
CONFIGS = {
    "mlwip-1": {
        "stack": "mlwip", "shards": 1, "server_cores": "0", "client_cores": "1", "idle": "poll",
        "checksum": "verify",
        "describe": "mlwip client <-> mlwip server over net_memif, 1 shard each: "
                    "server shard on core 0, client shard on core 1 (idle = poll; checksum = verify: "
                    "every checksum computed and verified in software, memif offloads none)",
    },
    "mlwip-1-trust": {
        "stack": "mlwip", "shards": 1, "server_cores": "0", "client_cores": "1", "idle": "poll",
        "checksum": "trust",
        "describe": "mlwip-1 with checksum = trust on both ends: no checksum computed or verified, "
                    "as Linux does on veth",
    },
    "mlwip-2": {
        "stack": "mlwip", "shards": 2, "server_cores": "0,1", "client_cores": "0,1", "idle": "backoff",
        "checksum": "verify",
        "describe": "mlwip client <-> mlwip server over net_memif, 2 shards each: server shards "
                    "on cores 0,1 and client shards on cores 0,1, i.e. four polling shard threads "
                    "share 2 cores, two per core (idle = backoff; checksum = verify)",
    },
    "linux-veth-1": {
        "stack": "linux", "net": "veth", "threads": 1, "server_cpus": "0", "client_cpus": "1",
        "describe": "Linux client <-> Linux server over a veth pair between two namespaces, "
                    "1 thread each: server pinned to core 0, client to core 1",
    },
    "linux-veth": {
        "stack": "linux", "net": "veth", "threads": 2, "server_cpus": "0,1", "client_cpus": "0,1",
        "describe": "Linux client <-> Linux server over a veth pair between two namespaces, "
                    "2 threads each, both processes allowed on cores 0,1 (like mlwip-2)",
    },
    "linux-lo": {
        "stack": "linux", "net": "lo", "threads": 2, "server_cpus": "0,1", "client_cpus": "0,1",
        "describe": "Linux client <-> Linux server over loopback (127.0.0.1) in a namespace of "
                    "its own, 2 threads each, both on cores 0,1",
    },
    "mlwip-afp-1": {
        "stack": "mlwip-afp", "shards": 1, "server_cores": "0", "threads": 1, "client_cpus": "1",
        "idle": "poll",
        "describe": "Linux client -> mlwip server over the kernel engine ([port0] engine = afpacket: "
                    "AF_PACKET TPACKET_V3 rings) on a veth pair between two namespaces, 1 shard on "
                    "core 0, Linux client 1 thread on core 1 (idle = poll; veth offloads off on both "
                    "ends: the engine takes no GSO frames)",
    },
    "mlwip-afp-2": {
        "stack": "mlwip-afp", "shards": 2, "server_cores": "0,1", "threads": 2, "client_cpus": "0,1",
        "idle": "backoff",
        "describe": "mlwip-afp-1 with 2 shards on cores 0,1 (steer = ports) and a 2-thread Linux "
                    "client on cores 0,1 (idle = backoff)",
    },
    "rawio": {
        "stack": "rawio",
        "describe": "mlw_rawio tx <-> rx over net_memif, no stack: 64-byte frames in bursts of 32 "
                    "(one direction: tx on core 1, rx on core 0; both directions: one process per core)",
    },
}
CONFIG_ORDER = ["mlwip-1", "mlwip-1-trust", "mlwip-2", "mlwip-afp-1", "mlwip-afp-2", "linux-veth-1",
                "linux-veth", "linux-lo", "rawio"]
# Run unless --configs names them: the kernel engine's (scripts/bench.sh --engine afpacket).
OPTIONAL_CONFIGS = ["mlwip-afp-1", "mlwip-afp-2"]
AFP_CONFIGS = ["mlwip-afp-1", "mlwip-afp-2", "linux-veth-1", "linux-veth"]
# The ratio columns: (mlwip configuration, Linux configuration with the same thread count).
RATIO_PAIRS = [("mlwip-1", "linux-veth-1"), ("mlwip-1-trust", "linux-veth-1"), ("mlwip-2", "linux-veth"),
               ("mlwip-afp-1", "linux-veth-1"), ("mlwip-afp-2", "linux-veth")]

WORKLOADS = ["rr", "crr", "stream", "conns", "tw"]
# tw (the TIME-WAIT run) is long and only runs when asked for.
DEFAULT_WORKLOADS = ["rr", "crr", "stream", "conns"]
DEFAULT_SIZES = {"rr": [1, 64, 1024, 16384], "crr": [16], "stream": [1, 8],
                 "conns": [1000, 10000, 100000, 1000000], "tw": [16]}
QUICK_SIZES = {"rr": [1], "crr": [1], "stream": [1], "conns": [100], "tw": [16]}
# The TIME-WAIT run (--workloads tw): crr, exactly --tw-conns connections
# per client shard (or thread), with [stack] max_time_wait raised on both
# mlwip ends so that no TIME-WAIT connection is dropped early, over
# TW_NPORTS server ports so that the client's 4-tuples (local ports x
# server ports: 888k for one shard, ~444k per shard of two) outnumber the
# connections it leaves in TIME-WAIT within 2 MSL (60 s) and none is
# reused.
TW_MAX_TIME_WAIT = 262144
TW_CONNS = 250000
TW_NPORTS = 16
QUICK_CONFIGS = ["linux-lo", "mlwip-1", "rawio"]

# Addresses: private subnets, only ever inside the namespaces this script
# makes (Linux) or on the memif link between two DPDK processes (mlwip).
MLWIP_SERVER_IP, MLWIP_CLIENT_IP = "10.77.0.1", "10.77.0.2"
VETH_SERVER_IP, VETH_CLIENT_IP = "10.78.0.1", "10.78.0.2"
BASE_PORT = 9000

# What mlw_bench prints: a server, once every worker (thread or shard)
# listens, "mlw_bench: server listening on ADDR ports P-Q (...)".
SERVER_READY = re.compile(r"mlw_bench: server listening")
# An mlwip client's local ports ([stack] local_ports of its INI): a port is
# taken by 4-tuple, so a client shard holds up to |range| / shards
# connections per server port; nports_for() spreads bigger runs over more
# server ports. Kept clear of the server ports (BASE_PORT ...).
MLWIP_LOCAL_PORTS = (10000, 65535)
# A shard's descriptor table ([stack] max_sockets, its largest and default
# value): one descriptor is the worker's epoll instance.
MLWIP_MAX_SOCKETS = 1048576
# Connections per server port a run asks for at most: below both mlwip's
# local ports per shard (55536 / 1 shard, ~27768 each of 2) with room for the
# hash's unevenness, and Linux's ip_local_port_range (1024-65535).
CONNS_PER_SERVER_PORT = 20000
RESULT_RE = re.compile(r"^RESULT (\{.*\})\s*$")
SERVERJ_RE = re.compile(r"^SERVER (\{.*\})\s*$")
RAWIO_RE = re.compile(r"^RAWIO (\{.*\})\s*$")
# callgrind: measure only inside the shard thread's main function; one call of
# CALLGRIND_PASS_FN is one pass of the shard loop.
CALLGRIND_TOGGLE = "mlw__shard_main"
CALLGRIND_PASS_FN = "mlw_shard_poll"

CLK_TCK = os.sysconf("SC_CLK_TCK")


class RunError(Exception):
    """A run failed; the message is the reason shown in the report."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived."""


# --------------------------------------------------------------------------
# processes


def group_cpu_seconds(pgid):
    """User+system CPU seconds of every live process in process group pgid."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


class Proc:
    """A child process in a session of its own. Its stdout and stderr lines
    are read by two threads, time-stamped, kept in memory and written to
    LOGDIR/NAME.out and NAME.err."""

    def __init__(self, suite, name, argv, logdir, timeout):
        self.suite = suite
        self.name = name
        self.argv = argv
        self.lines = []             # (monotonic time, "out"|"err", text)
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.cpu_samples = []       # (monotonic time, cpu seconds of the group), by Sampler
        os.makedirs(logdir, exist_ok=True)
        with open(os.path.join(logdir, name + ".cmd"), "w") as f:
            f.write(" ".join(argv) + "\n")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        suite.procs.append(self)
        self.readers = [
            threading.Thread(target=self._read, args=(self.p.stdout, "out",
                             os.path.join(logdir, name + ".out")), daemon=True),
            threading.Thread(target=self._read, args=(self.p.stderr, "err",
                             os.path.join(logdir, name + ".err")), daemon=True),
        ]
        for t in self.readers:
            t.start()

    def _read(self, pipe, stream, path):
        """Reader thread: time-stamp every line and log it."""
        with open(path, "w", errors="replace") as log:
            for raw in iter(pipe.readline, b""):
                text = raw.decode(errors="replace").rstrip("\n")
                with self.lock:
                    self.lines.append((time.monotonic(), stream, text))
                log.write(text + "\n")
                log.flush()

    def alive(self):
        """True while the process runs."""
        return self.p.poll() is None

    def find(self, regex, stream=None):
        """All (time, match) pairs of lines matching regex."""
        with self.lock:
            lines = list(self.lines)
        out = []
        for t, s, text in lines:
            if stream and s != stream:
                continue
            m = regex.search(text)
            if m:
                out.append((t, m))
        return out

    def tail(self, n=6):
        """The last n lines of output, for error messages."""
        with self.lock:
            return " | ".join(text for _, _, text in self.lines[-n:])

    def wait_lines(self, regex, count, timeout):
        """Wait until count lines match regex; raise RunError otherwise."""
        end = min(time.monotonic() + timeout, self.deadline)
        while time.monotonic() < end:
            if len(self.find(regex)) >= count:
                return
            if not self.alive():
                time.sleep(0.1)     # let the readers catch up
                if len(self.find(regex)) >= count:
                    return
                raise RunError(f"{self.name} exited ({self.p.returncode}) before "
                               f"'{regex.pattern}' x{count}: {self.tail()}")
            time.sleep(0.05)
        raise RunError(f"{self.name}: no '{regex.pattern}' x{count} within {timeout:.0f}s: {self.tail()}")

    def wait(self, timeout=None):
        """Wait for the exit (at most until timeout or the deadline); kill
        the whole group if it does not end. Returns the exit status."""
        end = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout)
        while self.alive() and time.monotonic() < end:
            time.sleep(0.05)
        if self.alive():
            self.kill()
            raise RunError(f"{self.name} did not finish in time (killed): {self.tail()}")
        for t in self.readers:
            t.join(timeout=5)
        return self.p.returncode

    def stop(self, grace):
        """SIGTERM, wait up to grace seconds, then SIGKILL the group.
        Returns the exit status (negative: killed by a signal)."""
        if self.alive():
            try:
                os.kill(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        end = time.monotonic() + grace
        while self.alive() and time.monotonic() < end:
            time.sleep(0.05)
        if self.alive():
            self.kill()
        self.p.wait()
        for t in self.readers:
            t.join(timeout=5)
        return self.p.returncode

    def kill(self):
        """SIGKILL the process group (the child and anything it started)."""
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def sample_cpu(self):
        """Record one CPU sample of the group now."""
        self.cpu_samples.append((time.monotonic(), group_cpu_seconds(self.p.pid)))

    def cpu_between(self, t0, t1):
        """CPU seconds the group used between monotonic times t0 and t1,
        interpolated from the samples; None without samples around them."""
        s = self.cpu_samples
        if len(s) < 2 or t0 < s[0][0] - 0.2 or t1 > s[-1][0] + 0.2:
            return None

        def at(t):
            if t <= s[0][0]:
                return s[0][1]
            for (ta, ca), (tb, cb) in zip(s, s[1:]):
                if ta <= t <= tb:
                    return ca + (cb - ca) * (t - ta) / (tb - ta) if tb > ta else cb
            return s[-1][1]
        return max(0.0, at(t1) - at(t0))


class Sampler(threading.Thread):
    """Samples a process group's CPU every 50 ms until stopped."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc = proc
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set() and self.proc.alive():
            self.proc.sample_cpu()
            self.halt.wait(0.05)
        self.proc.sample_cpu()


def last_json(proc, regex):
    """The JSON object of the last line matching regex, or None."""
    hits = proc.find(regex, "out") or proc.find(regex)
    if not hits:
        return None
    t, m = hits[-1]
    try:
        obj = json.loads(m.group(1))
    except json.JSONDecodeError:
        return None
    obj["_t"] = t
    return obj


# --------------------------------------------------------------------------
# the suite: namespaces, DPDK prefixes, clean-up


class Suite:
    """Everything one invocation created, so that clean-up finds it."""

    def __init__(self, args):
        self.args = args
        self.pid = os.getpid()
        self.procs = []
        self.netns = []
        self.prefixes = []
        self.tmp = tempfile.mkdtemp(prefix=f"mlwb{self.pid}.")
        self.seq = 0

    def next_id(self):
        """A number unique within this invocation (names, prefixes)."""
        self.seq += 1
        return self.seq

    def sh(self, argv, check=True):
        """Run a short administrative command (ip, sysctl); bounded to 20 s."""
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise RunError(f"'{' '.join(argv)}' failed: {e}")
        if check and r.returncode != 0:
            raise RunError(f"'{' '.join(argv)}' failed: {r.stderr.decode(errors='replace').strip()}")
        return r

    def add_netns(self, name):
        """Create a network namespace with lo up and benchmark sysctls."""
        self.sh(["ip", "netns", "add", name])
        self.netns.append(name)
        self.sh(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
        # Per-namespace settings, so many connections and fast reconnects
        # work; the host's own settings are not touched.
        for key, val in (("net.ipv4.ip_local_port_range", "1024 65535"),
                         ("net.core.somaxconn", "65535"),
                         ("net.ipv4.tcp_max_syn_backlog", "65535"),
                         ("net.ipv4.tcp_tw_reuse", "1")):
            self.sh(["ip", "netns", "exec", name, "sysctl", "-qw", f"{key}={val}"], check=False)

    def del_netns(self, name):
        """Delete a namespace this suite created (its veth end goes with it)."""
        if name in self.netns:
            try:
                subprocess.run(["ip", "netns", "del", name], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=20)
            except subprocess.TimeoutExpired:
                print(f"run.py: 'ip netns del {name}' hung; remove it by hand", file=sys.stderr)
            self.netns.remove(name)

    def veth_pair(self, idx):
        """Two namespaces joined by a veth pair; returns (server ns, client ns)."""
        ns_s, ns_c = f"mlwb{self.pid}s", f"mlwb{self.pid}c"
        if_s, if_c = f"vb{self.pid}s{idx}", f"vb{self.pid}c{idx}"
        for ns in (ns_s, ns_c):
            self.del_netns(ns)
            self.add_netns(ns)
        self.sh(["ip", "link", "add", if_s, "type", "veth", "peer", "name", if_c])
        for ifn, ns, ip in ((if_s, ns_s, VETH_SERVER_IP), (if_c, ns_c, VETH_CLIENT_IP)):
            r = self.sh(["ip", "link", "set", ifn, "netns", ns], check=False)
            if r.returncode != 0:
                self.sh(["ip", "link", "del", ifn], check=False)
                raise RunError(f"cannot move {ifn} into {ns}")
            self.sh(["ip", "netns", "exec", ns, "ip", "addr", "add", ip + "/24", "dev", ifn])
            self.sh(["ip", "netns", "exec", ns, "ip", "link", "set", ifn, "up"])
        return ns_s, ns_c

    def afp_veth(self, idx, ns_s, ns_c):
        """Make veth_pair(idx)'s server end mlwip's (kernel engine): no
        Linux address or IPv6 there (Linux would answer mlwip's SYNs with
        resets), and no offloads on either end (AF_PACKET would hand the
        engine GSO frames longer than an mbuf). Returns its name."""
        if_s, if_c = f"vb{self.pid}s{idx}", f"vb{self.pid}c{idx}"
        self.sh(["ip", "netns", "exec", ns_s, "ip", "addr", "flush", "dev", if_s])
        self.sh(["ip", "netns", "exec", ns_s, "sysctl", "-qw", f"net.ipv6.conf.{if_s}.disable_ipv6=1"])
        for ns, ifn in ((ns_s, if_s), (ns_c, if_c)):
            self.sh(["ip", "netns", "exec", ns, "ethtool", "-K", ifn, "tx", "off", "rx", "off", "tso", "off",
                     "gso", "off", "gro", "off"], check=False)
        return if_s

    def lo_ns(self):
        """A fresh namespace with only loopback."""
        ns = f"mlwb{self.pid}l"
        self.del_netns(ns)
        self.add_netns(ns)
        return ns

    def dpdk_prefix(self, tag):
        """A DPDK --file-prefix unique to this invocation and run."""
        p = f"mlwb{self.pid}_{self.next_id()}{tag}"
        self.prefixes.append(p)
        return p

    def drop_prefix(self, prefix):
        """Remove /var/run/dpdk/PREFIX after its process ended."""
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)

    def stop_all(self):
        """Stop every process still running (SIGTERM, then SIGKILL)."""
        for p in self.procs:
            if p.alive():
                try:
                    os.kill(p.p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 5
        for p in self.procs:
            while p.alive() and time.monotonic() < end:
                time.sleep(0.05)
            if p.alive():
                p.kill()
        self.procs = [p for p in self.procs if p.alive()]

    def cleanup(self):
        """Remove everything this invocation created."""
        self.stop_all()
        for ns in list(self.netns):
            self.del_netns(ns)
        for p in self.prefixes:
            self.drop_prefix(p)
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# one benchmark run


def mlwip_ini(path, prefix, role, sock, shards, cores, idle, ip, mac, checksum="verify", extra=None):
    """Write an mlwip stack configuration for one end of the memif link;
    extra: more [stack] keys."""
    with open(path, "w") as f:
        f.write("[eal]\n")
        f.write(f"args = --no-huge --no-pci -m 512 --file-prefix={prefix}\n")
        f.write(f"       --vdev=net_memif0,role={role},socket={sock},socket-abstract=no,id=0\n")
        f.write("[stack]\n")
        f.write(f"shards = {shards}\ncores = {cores}\nidle = {idle}\n")
        for k, v in (extra or {}).items():
            f.write(f"{k} = {v}\n")
        f.write("[port0]\n")
        f.write(f"ipv4 = {ip}/24\nmac = {mac}\nchecksum = {checksum}\n")


def nports_for(workload, size):
    """How many server ports a run listens on. The client spreads its
    connections over them: many connections from one client address need
    more 4-tuples than one server port gives (an mlwip client shard has
    about |local_ports| / shards local ports per server port, Linux's client
    the namespace's 64512)."""
    if workload in ("conns", "rr"):
        return max(1, math.ceil(size / CONNS_PER_SERVER_PORT))
    if workload == "crr":
        return 4
    if workload == "tw":
        return TW_NPORTS
    return 1


def client_args(args, workload, size, latency_out, workers=1):
    """mlw_bench client options for one workload and size (tw is crr);
    workers: the client's shards or threads."""
    a = ["--workload", "crr" if workload == "tw" else workload, "--conns", str(size)]
    if workload in ("rr", "crr", "tw"):
        a += ["--msg", str(args.msg)]
    if workload in ("rr", "crr", "stream"):
        a += ["--duration", str(args.duration), "--warmup", str(args.warmup)]
    if workload == "tw":
        a += ["--transactions", str(args.tw_conns * workers)]
    if workload == "rr" and latency_out:
        a += ["--latency-out", latency_out]
    if workload == "conns":
        a += ["--hold", str(args.hold)]
    return a


def client_timeout(args, workload, size):
    """Upper bound for a client's run time (it normally ends much sooner):
    conns allows 1 ms per connection (mlwip-1 establishes 1M in well under
    half of that) plus the hold."""
    if workload == "conns":
        return 60 + size / 1000 + args.hold
    if workload == "tw":
        return 40 + args.tw_conns * 4 / 1000
    return 40 + args.duration + args.warmup


def mlwip_stats_rows(proc):
    """The per-shard stats table an mlwip process prints at the end
    ("shard rx_pkts tx_pkts ..."): one {column: value} per shard, or []."""
    with proc.lock:
        lines = [text for _, _, text in proc.lines]
    cols, rows = None, []
    for text in lines:
        f = text.split()
        if len(f) > 2 and f[0] == "shard" and "rx_pkts" in f:
            cols, rows = f[1:], []
            continue
        if cols and f and f[0].isdigit() and len(f) == len(cols) + 1:
            row = {"shard": int(f[0])}
            for k, v in zip(cols, f[1:]):
                try:
                    row[k] = float(v)
                except ValueError:
                    pass
            rows.append(row)
        else:
            cols = None
    return rows


def mlwip_stats(proc):
    """Sum of every column of the per-shard stats table, or None."""
    rows = mlwip_stats_rows(proc)
    if not rows:
        return None
    total = {}
    for row in rows:
        for k, v in row.items():
            if k != "shard":
                total[k] = total.get(k, 0) + v
    return total


def tw_figures(rec, cres, cstats):
    """The TIME-WAIT run: connections/s in the first and the last tenth of
    the run (the client times each tenth of every worker's share), and how
    many connections each mlwip client shard left in TIME-WAIT. The stats
    table's time_wait gauge is printed after the stop has emptied the
    table, so it is computed: every connection the
    crr client closes (it closes first) enters TIME-WAIT and stays there 2
    MSL (60 s), longer than the run, so at the end a shard holds its active
    opens minus those dropped early (tw_drop) or reused (tw_reuse), minus
    at most C still open or closing: that lower bound is tw_held."""
    rec["tw_rate_first_tenth"] = cres.get("tps_first_tenth")
    rec["tw_rate_last_tenth"] = cres.get("tps_last_tenth")
    if cstats:
        rec["tw_held_per_shard"] = [max(0, row.get("opens", 0) - row.get("tw_drop", 0) -
                                        row.get("tw_reuse", 0) - rec["size"]) for row in cstats]
        rec["tw_drop"] = sum(r.get("tw_drop", 0) for r in cstats)
        rec["tw_reuse"] = sum(r.get("tw_reuse", 0) for r in cstats)
        if (cres.get("seconds") or 0) > 55:
            rec["tw_note"] = ("the run outlasted 2 MSL (60 s): early TIME-WAIT connections may "
                              "have ended, tw_held overstates what was held")


def cpu_figures(rec, client, server_proc, result_t):
    """Client+server CPU per transaction over the client's measuring window.

    The client reports its own CPU (cpu_user_s + cpu_sys_s). The server's is
    taken from /proc samples of its process group over the same seconds: the
    window the client reports as CLOCK_MONOTONIC seconds (measure_start_mono_s,
    measure_end_mono_s: Python's time.monotonic() is the same clock) if it
    does, else its length ("seconds") ending at result_t. The SERVER line's
    totals cover the whole run, start-up and idle time included."""
    n = client.get("transactions") or 0
    secs = client.get("seconds") or 0
    if not n or not secs:
        return
    if client.get("measure_start_mono_s") and client.get("measure_end_mono_s"):
        result_t = client["measure_end_mono_s"]
        secs = result_t - client["measure_start_mono_s"]
        rec["cpu_window"] = "client's CLOCK_MONOTONIC window"
    else:
        rec["cpu_window"] = "ending at the client's RESULT line"
    ccpu = None
    if client.get("cpu_user_s") is not None and client.get("cpu_sys_s") is not None:
        ccpu = client["cpu_user_s"] + client["cpu_sys_s"]
    scpu = server_proc.cpu_between(result_t - secs, result_t)
    rec["client_cpu_s"] = ccpu
    rec["server_cpu_window_s"] = scpu
    if ccpu is not None:
        rec["client_cpu_us_per_txn"] = ccpu / n * 1e6
    if scpu is not None:
        rec["server_cpu_us_per_txn"] = scpu / n * 1e6
    if ccpu is not None and scpu is not None:
        rec["cpu_us_per_txn"] = (ccpu + scpu) / n * 1e6


def run_bench(suite, cfg_name, workload, size, logdir):
    """One mlw_bench client/server run. Returns its record (status ok or failed)."""
    args = suite.args
    cfg = CONFIGS[cfg_name]
    rec = {"config": cfg_name, "workload": workload, "size": size, "status": "ok"}
    nports = nports_for(workload, size)
    ctimeout = client_timeout(args, workload, size)
    sduration = int(ctimeout + 40)
    latency = os.path.join(logdir, "latency.txt") if workload == "rr" else None
    common = ["--port", str(BASE_PORT), "--nports", str(nports)]
    server = client = None
    prefixes = []
    namespaces = []
    if cfg["stack"] in ("mlwip", "mlwip-afp") and workload == "conns" and \
            math.ceil(size / cfg["shards"]) >= MLWIP_MAX_SOCKETS:
        rec["status"] = "skipped"
        rec["reason"] = (f"{size} connections on {cfg['shards']} shard(s) need more descriptors per "
                         f"shard than [stack] max_sockets allows ({MLWIP_MAX_SOCKETS}, one of them "
                         "the epoll instance)")
        return rec
    if cfg["stack"] == "linux" and workload == "conns" and size + 200 > args.fd_limit:
        rec["status"] = "skipped"
        rec["reason"] = (f"{size} connections need {size} descriptors in each Linux process (one "
                         f"per socket), but RLIMIT_NOFILE is {args.fd_limit} here and cannot be "
                         "raised (its hard limit; raising it needs CAP_SYS_RESOURCE, which this "
                         "container lacks)")
        return rec
    try:
        if cfg["stack"] == "mlwip":
            sock = os.path.join(suite.tmp, f"memif{suite.next_id()}.sock")
            sp, cp = suite.dpdk_prefix("s"), suite.dpdk_prefix("c")
            prefixes = [sp, cp]
            sini, cini = os.path.join(logdir, "server.ini"), os.path.join(logdir, "client.ini")
            os.makedirs(logdir, exist_ok=True)
            extra = {"max_time_wait": TW_MAX_TIME_WAIT} if workload == "tw" else {}
            mlwip_ini(sini, sp, "server", sock, cfg["shards"], cfg["server_cores"], cfg["idle"],
                      MLWIP_SERVER_IP, "02:00:00:4d:00:01", cfg["checksum"], extra)
            mlwip_ini(cini, cp, "client", sock, cfg["shards"], cfg["client_cores"], cfg["idle"],
                      MLWIP_CLIENT_IP, "02:00:00:4d:00:02", cfg["checksum"],
                      dict(extra, local_ports="%d-%d" % MLWIP_LOCAL_PORTS))
            rec["checksum"] = cfg["checksum"]
            sargv = ["timeout", "-k", "5", str(sduration + 10), args.bench, "--stack", "mlwip",
                     "--role", "server", "--config", sini, "--duration", str(sduration)] + common
            cargv = ["timeout", "-k", "5", str(int(ctimeout) + 5), args.bench, "--stack", "mlwip",
                     "--role", "client", "--config", cini, "--server", MLWIP_SERVER_IP]
            rtimeout = 60
        elif cfg["stack"] == "mlwip-afp":
            # mlwip on the server's veth end through AF_PACKET (no Linux
            # address there), a Linux client in the other namespace.
            idx = suite.next_id()
            ns_s, ns_c = suite.veth_pair(idx)
            namespaces = [ns_s, ns_c]
            if_s = suite.afp_veth(idx, ns_s, ns_c)
            sp = suite.dpdk_prefix("s")
            prefixes = [sp]
            os.makedirs(logdir, exist_ok=True)
            sini = os.path.join(logdir, "server.ini")
            with open(sini, "w") as f:
                f.write(f"[eal]\nargs = --no-huge --no-pci -m 512 --file-prefix={sp}\n")
                f.write(f"[stack]\nshards = {cfg['shards']}\ncores = {cfg['server_cores']}\n"
                        f"idle = {cfg['idle']}\n")
                if workload == "tw":
                    f.write(f"max_time_wait = {TW_MAX_TIME_WAIT}\n")
                f.write(f"[port0]\nipv4 = {VETH_SERVER_IP}/24\nengine = afpacket\niface = {if_s}\n")
            sargv = ["ip", "netns", "exec", ns_s, "timeout", "-k", "5", str(sduration + 10), args.bench,
                     "--stack", "mlwip", "--role", "server", "--config", sini,
                     "--duration", str(sduration)] + common
            cargv = ["ip", "netns", "exec", ns_c, "taskset", "-c", cfg["client_cpus"],
                     "timeout", "-k", "5", str(int(ctimeout) + 5), args.bench, "--stack", "linux",
                     "--role", "client", "--threads", str(cfg["threads"]), "--server", VETH_SERVER_IP]
            rtimeout = 60
        else:
            if cfg["net"] == "veth":
                ns_s, ns_c = suite.veth_pair(suite.next_id())
                namespaces = [ns_s, ns_c]
                bind, target = VETH_SERVER_IP, VETH_SERVER_IP
            else:
                ns_s = ns_c = suite.lo_ns()
                namespaces = [ns_s]
                bind, target = "127.0.0.1", "127.0.0.1"
            t = str(cfg["threads"])
            sargv = ["ip", "netns", "exec", ns_s, "taskset", "-c", cfg["server_cpus"],
                     "timeout", "-k", "5", str(sduration + 10), args.bench, "--stack", "linux",
                     "--role", "server", "--threads", t, "--bind", bind,
                     "--duration", str(sduration)] + common
            cargv = ["ip", "netns", "exec", ns_c, "taskset", "-c", cfg["client_cpus"],
                     "timeout", "-k", "5", str(int(ctimeout) + 5), args.bench, "--stack", "linux",
                     "--role", "client", "--threads", t, "--server", target]
            rtimeout = 20
        cargv += common + client_args(args, workload, size, latency,
                                      cfg.get("shards") or cfg.get("threads") or 1)
        rec["server_cmd"], rec["client_cmd"] = " ".join(sargv), " ".join(cargv)

        t0 = time.monotonic()
        server = Proc(suite, "server", sargv, logdir, sduration + 20)
        server.wait_lines(SERVER_READY, 1, rtimeout)
        rec["wall_server_start_s"] = round(time.monotonic() - t0, 2)
        sampler = Sampler(server)
        sampler.start()
        t1 = time.monotonic()
        client = Proc(suite, "client", cargv, logdir, ctimeout + 10)
        crc = client.wait()
        rec["wall_client_s"] = round(time.monotonic() - t1, 2)
        sampler.halt.set()
        sampler.join(timeout=2)
        cres = last_json(client, RESULT_RE)
        t2 = time.monotonic()
        src = server.stop(30)
        rec["wall_server_stop_s"] = round(time.monotonic() - t2, 2)
        sres = last_json(server, SERVERJ_RE)
        rec["client_rc"], rec["server_rc"] = crc, src
        if cres is not None:
            result_t = cres.pop("_t")
            rec["client"] = cres
            cpu_figures(rec, cres, server, result_t)
        if sres is not None:
            sres.pop("_t", None)
            rec["server"] = sres
        stats = mlwip_stats(server)
        if stats:
            rec["server_stack_stats"] = stats
        crows = mlwip_stats_rows(client)
        if crows:
            rec["client_stack_stats"] = crows
        if workload == "tw" and cres is not None:
            tw_figures(rec, cres, crows)
        if crc != 0:
            raise RunError(f"client exited {crc}: {client.tail()}")
        if cres is None:
            raise RunError(f"client printed no RESULT line: {client.tail()}")
        if cres.get("errors"):
            raise RunError(f"client counted {cres['errors']} errors")
        if sres is None:
            raise RunError(f"server printed no SERVER line (exit {src}): {server.tail()}")
        if latency and os.path.exists(latency):
            rec["latency_file"] = os.path.relpath(latency, args.out)
    except RunError as e:
        rec["status"] = "failed"
        rec["reason"] = str(e)[:400]
    finally:
        for p in (client, server):
            if p is not None and p.alive():
                p.stop(5)
        for p in prefixes:
            suite.drop_prefix(p)
        for ns in namespaces:
            suite.del_netns(ns)
    return rec


# --------------------------------------------------------------------------
# rawio


def run_rawio(suite, direction, logdir):
    """mlw_rawio over net_memif: 'uni' (tx on core 1 -> rx on core 0) or
    'bidi' (each process sends and receives, one per core)."""
    args = suite.args
    rec = {"config": "rawio", "workload": "rawio", "size": direction, "status": "ok"}
    sock = os.path.join(suite.tmp, f"memif{suite.next_id()}.sock")
    pa, pb = suite.dpdk_prefix("a"), suite.dpdk_prefix("b")
    d = str(args.rawio_duration)
    roles = ("rx", "tx") if direction == "uni" else ("both", "both")
    a = b = None
    try:
        a = Proc(suite, "rawio-a", ["timeout", "-k", "5", str(int(args.rawio_duration) + 40),
                                    args.rawio, "--role", roles[0], "--memif-role", "server",
                                    "--socket", sock, "--file-prefix", pa, "--core", "0",
                                    "--duration", d], logdir, args.rawio_duration + 45)
        a.wait_lines(re.compile(r"rawio: ready"), 1, 30)
        b = Proc(suite, "rawio-b", ["timeout", "-k", "5", str(int(args.rawio_duration) + 40),
                                    args.rawio, "--role", roles[1], "--memif-role", "client",
                                    "--socket", sock, "--file-prefix", pb, "--core", "1",
                                    "--duration", d], logdir, args.rawio_duration + 45)
        rb = b.wait()
        ra = a.wait(15)
        ja, jb = last_json(a, RAWIO_RE), last_json(b, RAWIO_RE)
        for j in (ja, jb):
            if j:
                j.pop("_t", None)
        rec["a"], rec["b"] = ja, jb
        if ra != 0 or rb != 0 or not ja or not jb:
            raise RunError(f"mlw_rawio exited {ra}/{rb}: {a.tail(3)} || {b.tail(3)}")
        if direction == "uni":
            rec["pps"] = ja["rx_pps"]
            rec["pps_per_direction"] = ja["rx_pps"]
            rec["lost"] = ja["lost"] + (jb["tx_frames"] - ja["rx_frames"])
        else:
            rec["pps"] = ja["rx_pps"] + jb["rx_pps"]
            rec["pps_per_direction"] = min(ja["rx_pps"], jb["rx_pps"])
            rec["lost"] = (ja["lost"] + jb["lost"] + (jb["tx_frames"] - ja["rx_frames"]) +
                           (ja["tx_frames"] - jb["rx_frames"]))
        if rec["lost"]:
            raise RunError(f"{rec['lost']} frames lost")
    except RunError as e:
        rec["status"] = "failed"
        rec["reason"] = str(e)[:400]
    finally:
        for p in (b, a):
            if p is not None and p.alive():
                p.stop(5)
        suite.drop_prefix(pa)
        suite.drop_prefix(pb)
    return rec


# --------------------------------------------------------------------------
# callgrind


def callgrind_total(path):
    """Total Ir of a callgrind output file."""
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RunError(f"no totals in {path}")


def callgrind_calls(path, fn_name):
    """How often fn_name was called, from the raw callgrind file."""
    names = {}
    count = 0
    pending = None
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^c?fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if m:
                if m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    pending = names.get(m.group(1))
                continue
            if line.startswith("calls=") and pending is not None:
                if pending == fn_name:
                    count += int(line.split("=")[1].split()[0])
                pending = None
    return count


def callgrind_functions(path, inclusive):
    """{(function, object file name): Ir} from callgrind_annotate, self or
    inclusive cost. Functions without a symbol keep their address."""
    argv = ["callgrind_annotate", "--threshold=100", f"--inclusive={'yes' if inclusive else 'no'}", path]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    out = {}
    for line in r.stdout.decode(errors="replace").splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*?)(?:\s+\[([^\]]*)\])?\s*$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(2)
        name = name.split(":", 1)[1] if ":" in name else name
        key = (name, os.path.basename(m.group(3) or ""))
        out[key] = out.get(key, 0) + int(m.group(1).replace(",", ""))
    return out


# Self cost of these functions is the polling machinery: the shard loop, the
# epoll wait around it, the clock and sleeps of the back-off. Functions in
# DPDK's libraries (librte_*: memif rx/tx, mbufs) are the driver. The rest
# (lwIP, the socket layer, the benchmark's own code, libc's memcpy ...) is
# the work of the transaction.
LOOP_FUNCS = ("mlw_epoll_wait", "collect", "mlw__loop_once", "mlw_shard_poll", "shard_pass",
              "poll_rx", "mlw__rx_burst", "mlw__txq_flush", "netif_poll_all", "netif_poll",
              "mlw_shard_stopping", "mlw__flush", "sys_check_timeouts", "sys_now",
              "clock_gettime", "usleep", "nanosleep", "clock_nanosleep", "__nanosleep",
              "__clock_gettime", "mlw__shard_publish", "collect_stats")


def callgrind_bucket(name, obj):
    """'driver', 'loop' or 'work' for a function (see LOOP_FUNCS)."""
    if obj.startswith("librte_"):
        return "driver"
    base = name.split("@")[0].split(".")[0]
    return "loop" if base in LOOP_FUNCS else "work"


def fn_label(key):
    """A function for the report: its name, or address and library."""
    name, obj = key
    if name.startswith("0x"):
        return f"{hex(int(name, 16))} ({obj})"
    return name


def callgrind_server_run(suite, logdir, workload, n, idle_s=2.0):
    """One run of the mlwip server (1 shard, core 0) under callgrind, with a
    native mlwip client (1 shard, core 1) doing exactly n transactions of
    workload at C=1; n = 0: no client, the server idles idle_s seconds.
    Only the shard thread is measured (--toggle-collect on the shard's main
    function), so EAL start-up, dlopen and teardown stay out. Returns
    {n, ir, loop_passes, seconds, file}."""
    args = suite.args
    os.makedirs(logdir, exist_ok=True)
    out = os.path.join(logdir, "callgrind.out")
    sock = os.path.join(suite.tmp, f"memif{suite.next_id()}.sock")
    sp, cp = suite.dpdk_prefix("s"), suite.dpdk_prefix("c")
    sini, cini = os.path.join(logdir, "server.ini"), os.path.join(logdir, "client.ini")
    mlwip_ini(sini, sp, "server", sock, 1, "0", "poll", MLWIP_SERVER_IP, "02:00:00:4d:00:01")
    mlwip_ini(cini, cp, "client", sock, 1, "1", "poll", MLWIP_CLIENT_IP, "02:00:00:4d:00:02")
    sargv = ["timeout", "-k", "5", "400", "valgrind", "--tool=callgrind",
             f"--toggle-collect={CALLGRIND_TOGGLE}", f"--callgrind-out-file={out}",
             args.bench, "--stack", "mlwip", "--role", "server", "--config", sini,
             "--duration", "380", "--port", str(BASE_PORT), "--nports", "1"]
    cargv = ["timeout", "-k", "5", "300", args.bench, "--stack", "mlwip", "--role", "client",
             "--config", cini, "--server", MLWIP_SERVER_IP, "--port", str(BASE_PORT),
             "--nports", "1", "--workload", workload, "--conns", "1", "--msg", str(args.msg),
             "--transactions", str(n), "--duration", "280", "--warmup", "0"]
    server = client = None
    t0 = time.monotonic()
    crc, cres = 0, None
    try:
        server = Proc(suite, "server", sargv, logdir, 420)
        server.wait_lines(SERVER_READY, 1, 180)
        if n:
            client = Proc(suite, "client", cargv, logdir, 310)
            crc = client.wait()
            cres = last_json(client, RESULT_RE)
        else:
            time.sleep(idle_s)
        src = server.stop(120)
    finally:
        for p in (client, server):
            if p is not None and p.alive():
                p.stop(5)
        suite.drop_prefix(sp)
        suite.drop_prefix(cp)
    if n and (crc != 0 or not cres):
        raise RunError(f"client (N={n}) exited {crc}: {client.tail()}")
    if src != 0:
        raise RunError(f"server under callgrind (N={n}) exited {src}: {server.tail()}")
    if n and cres.get("transactions_all", cres.get("transactions")) != n:
        raise RunError(f"client did {cres.get('transactions')} transactions, not {n}")
    if not os.path.exists(out):
        raise RunError(f"callgrind wrote no {out}: {server.tail()}")
    ir = callgrind_total(out)
    if ir == 0:
        raise RunError(f"callgrind counted nothing inside {CALLGRIND_TOGGLE} (renamed?)")
    return {"n": n, "ir": ir, "loop_passes": callgrind_calls(out, CALLGRIND_PASS_FN),
            "seconds": round(time.monotonic() - t0, 1), "file": os.path.relpath(out, args.out)}


# The TIME-WAIT run under callgrind: which functions a connection costs more
# as TIME-WAIT connections pile up. Lookups: the connection table's hash and
# lwIP's input; timer wheel: mlwip's TCP timers (lwip-port/tcp_timer.c).
TW_CG_GROUPS = {"lookup": ("tcp_input", "mlw__siphash13_words", "__wrap_tcp_input"),
                "timer wheel": ("mlw__tcp_timer_tick", "arm", "expire")}


def run_tw_callgrind(suite, logroot, n, every=8.0):
    """crr with the mlwip client (1 shard, core 1) under callgrind and a
    native mlwip server (core 0): n connections, max_time_wait raised, the
    client's profile dumped (and zeroed) every `every` seconds with
    callgrind_control. Per dump: connections (calls of mlw_connect), Ir per
    connection by kind, and the lookup and timer-wheel shares. The client
    is the side that holds TIME-WAIT (it closes first)."""
    args = suite.args
    logdir = os.path.join(logroot, "callgrind-tw-client")
    os.makedirs(logdir, exist_ok=True)
    out = os.path.join(logdir, "callgrind.out")
    sock = os.path.join(suite.tmp, f"memif{suite.next_id()}.sock")
    sp, cp = suite.dpdk_prefix("s"), suite.dpdk_prefix("c")
    sini, cini = os.path.join(logdir, "server.ini"), os.path.join(logdir, "client.ini")
    tw = {"max_time_wait": TW_MAX_TIME_WAIT}
    mlwip_ini(sini, sp, "server", sock, 1, "0", "poll", MLWIP_SERVER_IP, "02:00:00:4d:00:01", extra=tw)
    mlwip_ini(cini, cp, "client", sock, 1, "1", "poll", MLWIP_CLIENT_IP, "02:00:00:4d:00:02",
              extra=dict(tw, local_ports="%d-%d" % MLWIP_LOCAL_PORTS))
    common = ["--port", str(BASE_PORT), "--nports", str(TW_NPORTS)]
    sargv = ["timeout", "-k", "5", "600", args.bench, "--stack", "mlwip", "--role", "server",
             "--config", sini, "--duration", "580"] + common
    # No timeout wrapper: callgrind_control needs valgrind's own pid (the
    # Proc's deadline still bounds it).
    cargv = ["valgrind", "--tool=callgrind", f"--toggle-collect={CALLGRIND_TOGGLE}",
             f"--callgrind-out-file={out}", args.bench, "--stack", "mlwip", "--role", "client",
             "--config", cini, "--server", MLWIP_SERVER_IP] + common + [
             "--workload", "crr", "--conns", "16", "--msg", str(args.msg), "--transactions", str(n)]
    rec = {"n": n, "every_s": every, "status": "ok", "dumps": []}
    server = client = None
    try:
        server = Proc(suite, "server", sargv, logdir, 620)
        server.wait_lines(SERVER_READY, 1, 60)
        client = Proc(suite, "client", cargv, logdir, 500)
        while client.alive():
            end = time.monotonic() + every
            while client.alive() and time.monotonic() < end:
                time.sleep(0.1)
            if client.alive():
                subprocess.run(["callgrind_control", "-d", str(client.p.pid)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60)
        crc = client.wait(30)
        if crc != 0:
            raise RunError(f"client under callgrind exited {crc}: {client.tail()}")
        k = 1
        while os.path.exists(f"{out}.{k}"):
            f = f"{out}.{k}"
            ir = callgrind_total(f)
            conns = callgrind_calls(f, "mlw_connect")
            if conns:
                fs = {key: v for key, v in callgrind_functions(f, False).items() if v < 0.5 * ir}
                d = {"file": os.path.relpath(f, args.out), "conns": conns, "ir_per_conn": ir / conns}
                for kind in ("loop", "driver", "work"):
                    d[kind] = sum(v for key, v in fs.items() if callgrind_bucket(*key) == kind) / conns
                for g, names in TW_CG_GROUPS.items():
                    d[g] = sum(v for key, v in fs.items()
                               if key[0].split(".")[0] in names) / conns
                d["loop_passes_per_conn"] = callgrind_calls(f, CALLGRIND_PASS_FN) / conns
                rec["dumps"].append(d)
            k += 1
        done = 0
        for d in rec["dumps"]:
            done += d["conns"]
            d["conns_before_end"] = done
        if len(rec["dumps"]) < 2:
            raise RunError("fewer than two callgrind dumps with connections")
    except RunError as e:
        rec["status"] = "failed"
        rec["reason"] = str(e)[:400]
    finally:
        for p in (client, server):
            if p is not None and p.alive():
                p.stop(10)
        suite.drop_prefix(sp)
        suite.drop_prefix(cp)
    return rec


def run_callgrind(suite, workload, counts, logroot):
    """Instructions per transaction of the mlwip server (1 shard) for rr or
    crr at C=1: (Ir(N2) - Ir(N1)) / (N2 - N1); the same difference per
    function (top lists) and per bucket (loop, driver, work)."""
    args = suite.args
    n1, n2 = counts
    rec = {"workload": workload, "n1": n1, "n2": n2, "status": "ok", "runs": []}
    files = {}
    try:
        for n in (n1, n2):
            r = callgrind_server_run(suite, os.path.join(logroot, f"callgrind-{workload}-{n}"),
                                     workload, n)
            rec["runs"].append(r)
            files[n] = os.path.join(args.out, r["file"])
        a, b = rec["runs"]
        per = rec["ir_per_txn"] = (b["ir"] - a["ir"]) / (n2 - n1)
        rec["loop_passes_per_txn"] = (b["loop_passes"] - a["loop_passes"]) / (n2 - n1)
        for kind, incl in (("self", False), ("inclusive", True)):
            f1, f2 = callgrind_functions(files[n1], incl), callgrind_functions(files[n2], incl)
            diff = {k: (f2.get(k, 0) - f1.get(k, 0)) / (n2 - n1) for k in set(f1) | set(f2)}
            if not incl:
                buckets = {"loop": 0.0, "driver": 0.0, "work": 0.0}
                for k, v in diff.items():
                    buckets[callgrind_bucket(*k)] += v
                rec["buckets"] = {k: round(v, 1) for k, v in buckets.items()}
            else:
                # Everything above the shard's loop costs the whole figure:
                # main, the benchmark's worker, the stack's shard start.
                diff = {k: v for k, v in diff.items() if v < 0.97 * per}
            top = sorted(diff.items(), key=lambda kv: -kv[1])[:args.callgrind_top]
            rec[f"top_{kind}"] = [[fn_label(k), round(v, 1)] for k, v in top]
            rec[f"top_{kind}_run_n2"] = [[fn_label(k), v] for k, v in
                                          sorted(f2.items(), key=lambda kv: -kv[1])[:args.callgrind_top]]
    except RunError as e:
        rec["status"] = "failed"
        rec["reason"] = str(e)[:400]
    return rec


# --------------------------------------------------------------------------
# report


def machine():
    """nproc, CPU model, kernel, date."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": platform.node()}


def fmt(v, unit=""):
    """A figure for the table: 3 significant digits, k/M suffixes."""
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    a = abs(v)
    if a >= 1e6:
        s = f"{v / 1e6:.3g}M"
    elif a >= 1e4:
        s = f"{v / 1e3:.3g}k"
    elif a >= 100:
        s = f"{v:.0f}"
    else:
        s = f"{v:.3g}"
    return s + unit


def main_figure(rec):
    """The headline figure of a run: tps (rr, crr), Gbit/s (stream),
    connections established per second (conns)."""
    if rec.get("status") != "ok":
        return None
    c = rec.get("client", {})
    w = rec["workload"]
    if w in ("rr", "crr", "tw"):
        return c.get("tps")
    if w == "stream":
        return c.get("gbps")
    if w == "conns":
        n, s = c.get("conns_established"), c.get("establish_s")
        return n / s if n and s else None
    return None


def row_label(workload, size):
    """Row name of the main table."""
    unit = {"rr": "transactions/s", "crr": "connections/s", "stream": "Gbit/s",
            "conns": "established/s", "tw": "connections/s"}[workload]
    if workload == "conns":
        return f"conns N={size} ({unit})"
    if workload == "tw":
        return f"tw: crr C={size}, long ({unit})"
    return f"{workload} C={size} ({unit})"


# Footnote numbers of failed and skipped runs, by id() of their record;
# filled by write_report() before the tables are made.
NOTES = {}


def cell(rec, value_fn, unit=""):
    """A table cell: the value, or FAILED/skipped with its footnote number."""
    if rec is None:
        return "–"
    if rec.get("status") != "ok":
        word = "skipped" if rec.get("status") == "skipped" else "FAILED"
        return f"{word} [{NOTES.get(id(rec), '?')}]"
    return fmt(value_fn(rec), unit)


def ratio(a, b):
    """a / b as text."""
    if a is None or b is None or not b:
        return "–"
    return f"{a / b:.2f}"


def write_report(suite, data):
    """report.md plus the table on stdout."""
    args = suite.args
    runs = data["runs"]
    by = {(r["workload"], r["size"], r["config"]): r for r in runs}
    configs = [c for c in args.configs if c != "rawio"]
    cases = []
    for w in args.workloads:
        for s in args.sizes[w]:
            cases.append((w, s))
    pairs = [p for p in RATIO_PAIRS if p[0] in configs and p[1] in configs]
    cg = data.get("callgrind")
    failed = [r for r in runs + data.get("rawio", []) if r.get("status") != "ok"]
    failed += [r for r in (cg or {}).get("results", []) if r.get("status") != "ok"]
    NOTES.clear()
    for n, r in enumerate(failed, 1):
        NOTES[id(r)] = n
    warned = [r for r in runs if r.get("status") == "ok" and (r.get("client") or {}).get("warnings")]
    m = data["machine"]
    L = []
    L.append("# mlwip benchmark: mlwip against Linux TCP\n")
    L.append(f"Machine: {m['nproc']} cores, {m['cpu']}, kernel {m['kernel']}, {m['date']}. "
             f"Suite took {data['duration_s']:.0f} s. Measured {args.duration} s per run after "
             f"{args.warmup} s warm-up; message size {args.msg} bytes (rr, crr).\n")
    L.append("## Configurations\n")
    for c in args.configs:
        L.append(f"- **{c}**: {CONFIGS[c]['describe']}")
    L.append("")
    L.append("Ratios compare configurations with the same number of threads per process: "
             + ", ".join(f"**{a} / {b}**" for a, b in pairs)
             + ". Above 1 means mlwip does more per second. Both processes of every configuration "
               "share the same 2 cores, so these are whole-machine figures, not per-core ones.\n")
    if not pairs:
        L[-1] = "No ratio columns: the mlwip/Linux pairs were not both run.\n"

    # main table
    L.append("## Throughput\n")
    head = ["workload"] + configs + [f"{a}/{b}" for a, b in pairs]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for w, s in cases:
        row = [row_label(w, s)]
        for c in configs:
            r = by.get((w, s, c))
            row.append(cell(r, main_figure) + (" ⚠" if r and (r.get("client") or {}).get("warnings") else ""))
        for a, b in pairs:
            ra, rb = by.get((w, s, a)), by.get((w, s, b))
            row.append(ratio(main_figure(ra) if ra else None, main_figure(rb) if rb else None))
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    if warned:
        L.append("⚠: see the client's warnings below the tables.\n")

    def grid(title, intro, head, rows, show):
        """A section with one row per (label, (workload, size)) and one
        column per configuration; show(result) gives a cell's text."""
        L.append(title)
        if intro:
            L.append(intro)
        L.append(f"| {head} | " + " | ".join(configs) + " |")
        L.append("|" + "---|" * (len(configs) + 1))
        for label, key in rows:
            L.append("| " + " | ".join([label] + [cell(by.get(key + (c,)), show)
                                                   for c in configs]) + " |")
        L.append("")

    # latency
    if "rr" in args.workloads:
        grid("## rr latency (client side, µs: p50 / p99 / p99.9)\n", None, "rr",
             [(f"C={s}", ("rr", s)) for s in args.sizes["rr"]],
             lambda r: "{} / {} / {}".format(
                 fmt(r["client"].get("p50_us")), fmt(r["client"].get("p99_us")),
                 fmt(r["client"].get("p999_us"))))

    # cpu
    cpu_cases = [(w, s) for w, s in cases if w in ("rr", "crr", "tw")]
    if cpu_cases:
        grid("## CPU per transaction (µs, client + server = total)\n",
             "Client CPU from its RESULT line (cpu_user_s + cpu_sys_s over the measured "
             "seconds); server CPU from /proc samples of the server process over the same "
             "seconds. mlwip polls while it waits (mlw_epoll_wait spins ~1000 empty passes "
             "before it sleeps 20 µs at a time), so at low load much of its CPU is waiting, "
             "not work; Linux sleeps in epoll_wait, and its softirq work is charged to "
             "whichever process was running.\n", "workload",
             [(f"{w} C={s}", (w, s)) for w, s in cpu_cases],
             lambda r: "{} + {} = **{}**".format(
                 fmt(r.get("client_cpu_us_per_txn")), fmt(r.get("server_cpu_us_per_txn")),
                 fmt(r.get("cpu_us_per_txn"))))

    # memory
    if "conns" in args.workloads:
        grid("## Connections: establish time and memory\n",
             "Per cell: seconds to establish all (connections/s) / client bytes per connection / "
             "server bytes per connection. Bytes per connection, each side: **mem** (mlwip: the "
             "shard heaps in use at the most connections open minus before any, the bench's own "
             "state left out; Linux: kernel Slab growth, system-wide, so both ends) and **RSS** "
             "(the process's resident memory at the most connections open minus before any, "
             "the bench's own state left out; on Linux the kernel's memory is not in it). The "
             "client's connections go to " + str(CONNS_PER_SERVER_PORT) + " per server port "
             "(`--nports` = N / " + str(CONNS_PER_SERVER_PORT) + ", rounded up) from one address; "
             "an mlwip client takes its local ports from " + "%d-%d" % MLWIP_LOCAL_PORTS +
             " (`[stack] local_ports`, by 4-tuple).\n", "conns",
             [(f"N={s}", ("conns", s)) for s in args.sizes["conns"]],
             lambda r: "{} s ({}/s) / mem {}, RSS {} / mem {}, RSS {}".format(
                 fmt(r["client"].get("establish_s")), fmt(main_figure(r)),
                 fmt(r["client"].get("mem_per_conn_bytes")), fmt(r["client"].get("rss_per_conn_bytes")),
                 fmt(server_mem_per_conn(r)), fmt((r.get("server") or {}).get("rss_per_conn_bytes"))))

    # the TIME-WAIT run
    if "tw" in args.workloads:
        L.append("## TIME-WAIT run (crr, client closes first)\n")
        L.append(f"crr, C connections in flight, exactly {args.tw_conns} connections per client "
                 f"shard (Linux: per thread), over {TW_NPORTS} server ports, `[stack] max_time_wait "
                 f"= {TW_MAX_TIME_WAIT}` on both mlwip ends (nothing should be dropped early). "
                 "Connections/s in the first and the last tenth of each client worker's share "
                 "(timed by the worker itself, summed over workers); an unchanged rate while "
                 "TIME-WAIT connections pile up says their cost (lookups, port choice) did not "
                 "grow. TIME-WAIT held per client shard at the end: the shard's active opens minus "
                 "tw_drop minus tw_reuse minus C (at most C were still open or closing; the stats "
                 "table's time_wait gauge is printed after the stop emptied the table), and none "
                 "expires within 2 MSL "
                 "(60 s) of its close.\n")
        L.append("| config | conn/s (whole) | first tenth | last tenth | last/first | TIME-WAIT held "
                 "per client shard (at least) | tw_drop | tw_reuse | port_exhausted |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for s in args.sizes["tw"]:
            for c in configs:
                r = by.get(("tw", s, c))
                if r is None:
                    continue
                if r["status"] != "ok":
                    L.append(f"| {c} C={s} | {cell(r, main_figure)} |" + " |" * 7)
                    continue
                a, b = r.get("tw_rate_first_tenth"), r.get("tw_rate_last_tenth")
                held = r.get("tw_held_per_shard")
                L.append(f"| {c} C={s} | {fmt(main_figure(r))} | {fmt(a)} | {fmt(b)} | {ratio(b, a)} | "
                         f"{', '.join(fmt(h) for h in held) if held else '–'} | "
                         f"{fmt(r.get('tw_drop'))} | {fmt(r.get('tw_reuse'))} | "
                         f"{fmt(r['client'].get('port_exhausted'))} |")
                if r.get("tw_note"):
                    L.append(f"| ⚠ {c}: {r['tw_note']} |" + " |" * 8)
        L.append("")

    twcg = data.get("tw_callgrind")
    if twcg:
        L.append("### TIME-WAIT run under callgrind (mlwip client, 1 shard)\n")
        L.append(f"The mlwip client (core 1) runs crr under callgrind, {twcg['n']} connections, C=16, "
                 f"`max_time_wait = {TW_MAX_TIME_WAIT}`, against a native mlwip server (core 0); its "
                 f"profile (shard thread only) is dumped and zeroed every {twcg['every_s']:g} s. "
                 "Per dump: instructions per connection (connections = calls of mlw_connect in that "
                 "dump), split as in the callgrind section below, and two groups of functions: "
                 "lookup (" + ", ".join(TW_CG_GROUPS["lookup"]) + ") and timer wheel (" +
                 ", ".join(TW_CG_GROUPS["timer wheel"]) + "). The connections in TIME-WAIT grow "
                 "with the connections made (none expires before 60 s). Loop and driver vary with "
                 "how long the client waited (polling). The last dump also holds the end of the "
                 "run (the last closes and the shard's teardown).\n")
        if twcg["status"] != "ok":
            L.append(f"FAILED: {twcg['reason']}\n")
        else:
            L.append("| connections made by the dump's end | in this dump | Ir/conn | work | lookup | "
                     "timer wheel | driver | loop | loop passes/conn |")
            L.append("|---|---|---|---|---|---|---|---|---|")
            for d in twcg["dumps"]:
                L.append(f"| {d['conns_before_end']} | {d['conns']} | {d['ir_per_conn']:.0f} | "
                         f"{d['work']:.0f} | {d['lookup']:.0f} | {d['timer wheel']:.0f} | "
                         f"{d['driver']:.0f} | {d['loop']:.0f} | {d['loop_passes_per_conn']:.1f} |")
            L.append("")

    # rawio
    raw = {}
    for r in data.get("rawio", []):
        raw.setdefault(r["size"], []).append(r)
    if raw:
        L.append("## Raw I/O limit (mlw_rawio over net_memif, no stack)\n")
        if any(len(v) > 1 for v in raw.values()):
            L.append("Measured before and after the benchmarks; the higher figure is the limit "
                     "(other load on the machine only ever lowers it).\n")
        for d, label in (("uni", "one direction (tx core 1 -> rx core 0)"),
                         ("bidi", "both directions (each process sends and receives)")):
            for r in raw.get(d, []):
                tag = f" (pass {r['pass']})" if len(raw[d]) > 1 else ""
                if r["status"] == "ok":
                    L.append(f"- {label}{tag}: **{fmt(r['pps'])} frames/s** in total, "
                             f"{fmt(r['pps_per_direction'])} per direction, {r['lost']} lost")
                else:
                    L.append(f"- {label}{tag}: FAILED [{NOTES.get(id(r), '?')}]")
        L.append("")
        ok_bidi = [r for r in raw.get("bidi", []) if r["status"] == "ok"]
        bidi = max(ok_bidi, key=lambda r: r["pps_per_direction"]) if ok_bidi else None
        if bidi and "rr" in args.workloads:
            limit = bidi["pps_per_direction"]
            L.append("Stack cost as a fraction of the I/O limit: in rr every transaction is one "
                     "request segment client->server and one response segment server->client "
                     "(the ACKs ride on them), so an rr run moves about tps frames per second per "
                     "direction; the frames per transaction below are measured (the mlwip "
                     "server's rx_pkts + tx_pkts, halved, over the client's transactions). "
                     "The limit is the per-direction rate of the bidirectional rawio run (each "
                     "process sends and receives on its own core, like mlwip-1). Fraction = "
                     "rr frames/s per direction / rawio frames/s per direction.\n")
            L.append("| rr | " + " | ".join(c for c in configs if c.startswith("mlwip")) + " |")
            L.append("|" + "---|" * (1 + len([c for c in configs if c.startswith("mlwip")])))
            for s in args.sizes["rr"]:
                row = [f"C={s}"]
                for c in configs:
                    if not c.startswith("mlwip"):
                        continue
                    r = by.get(("rr", s, c))
                    if r is None or r["status"] != "ok":
                        row.append(cell(r, lambda r: None))
                        continue
                    fpt = frames_per_txn(r)
                    fps = r["client"]["tps"] * (fpt or 1.0)
                    row.append(f"{fmt(fps)} frames/s ({f'{fpt:.2f}' if fpt else 'assumed 1'} per "
                               f"txn) = {fps / limit * 100:.2g}%")
                L.append("| " + " | ".join(row) + " |")
            L.append("")

    # callgrind
    if cg is not None:
        L.append("## Instructions per transaction (callgrind, mlwip server, 1 shard)\n")
        L.append(cg.get("note", ""))
        L.append("")
        for r in cg.get("results", []):
            if r["status"] != "ok":
                L.append(f"- {r['workload']} C=1: FAILED [{NOTES.get(id(r), '?')}]")
                continue
            bk = r["buckets"]
            L.append(f"- **{r['workload']} C=1: {r['ir_per_txn']:.0f} instructions per transaction** "
                     f"(N1={r['n1']}, N2={r['n2']}: Ir {r['runs'][0]['ir']:,} and "
                     f"{r['runs'][1]['ir']:,}); {r['loop_passes_per_txn']:.1f} shard loop passes "
                     f"per transaction. Self cost by kind: **work {bk['work']:.0f}** (lwIP, "
                     f"sockets, the benchmark), driver {bk['driver']:.0f} (DPDK: memif "
                     f"rx/tx, mbufs), loop {bk['loop']:.0f} (polling: shard loop, epoll wait, "
                     f"clock; {bk['loop'] / max(r['loop_passes_per_txn'], 1e-9):.0f} per pass)")
        for r in cg.get("results", []):
            if r["status"] != "ok":
                continue
            L.append(f"\n### {r['workload']}: top functions, instructions per transaction\n")
            L.append("Per-function difference between the N2 and the N1 profile divided by "
                     "N2-N1 (start-up and shut-down cancel); the inclusive list leaves out the "
                     "callers of the whole loop (main, the worker, the shard start). Raw profile "
                     f"of the N2 run: `{r['runs'][1]['file']}` (`callgrind_annotate` it).\n")
            L.append("| self Ir/txn | function | inclusive Ir/txn | function |")
            L.append("|---|---|---|---|")
            for (fs, vs), (fi, vi) in zip(r["top_self"], r["top_inclusive"]):
                L.append(f"| {vs:.0f} | `{fs}` | {vi:.0f} | `{fi}` |")
        L.append("")

    if warned:
        L.append("⚠ The client warned (the figure holds, but read it with this in mind):\n")
        for r in warned:
            L.append(f"- {r['config']} {r['workload']} {r['size']}: " + "; ".join(r["client"]["warnings"]))
        L.append("")

    # plots and failures
    if data.get("plots"):
        L.append("## Plots\n")
        for p in data["plots"]:
            L.append(f"![{p}]({p})")
        L.append("")
    if data.get("plot_note"):
        L.append(data["plot_note"] + "\n")
    if failed:
        L.append("## Failed and skipped runs\n")
        for r in failed:
            L.append(f"{NOTES[id(r)]}. {r['status']}: {r.get('config', 'callgrind')} {r['workload']} "
                     f"{r.get('size', '')}: {r['reason']}")
        L.append("")
    if data.get("interrupted"):
        L.append("**The suite was interrupted; the tables hold what ran before.**\n")
    text = "\n".join(L)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text)
    return text


def server_mem_per_conn(rec):
    """Server memory per connection from the SERVER line, if it says."""
    s = rec.get("server") or {}
    for k in ("mem_per_conn_bytes", "mem_per_conn"):
        if s.get(k) is not None:
            return s[k]
    return None


def frames_per_txn(rec):
    """Frames per rr transaction and direction: the mlwip server's packet
    counters (rx_pkts + tx_pkts over the whole run, halved) divided by every
    transaction the client made (warm-up included); None without them."""
    st = rec.get("server_stack_stats") or {}
    n = (rec.get("client") or {}).get("transactions_all")
    if st.get("rx_pkts") and st.get("tx_pkts") and n:
        return (st["rx_pkts"] + st["tx_pkts"]) / 2 / n
    return None


def make_plots(suite, data):
    """rr_throughput_vs_conns.png and rr_latency_cdf.png with gnuplot."""
    args = suite.args
    out = args.out
    if not shutil.which("gnuplot"):
        data["plot_note"] = "No plots: gnuplot is not installed (apt-get install gnuplot-nox)."
        return
    runs = [r for r in data["runs"] if r["workload"] == "rr" and r["status"] == "ok"]
    configs = [c for c in args.configs if c != "rawio" and any(r["config"] == c for r in runs)]
    if not configs:
        return
    plots = []
    dat = os.path.join(out, "plotdata")
    os.makedirs(dat, exist_ok=True)
    series = []
    for c in configs:
        path = os.path.join(dat, f"rr_tps_{c}.dat")
        pts = sorted((r["size"], r["client"]["tps"]) for r in runs if r["config"] == c)
        with open(path, "w") as f:
            for x, y in pts:
                f.write(f"{x} {y}\n")
        series.append(f"'{path}' using 1:2 with linespoints lw 2 title '{c}'")
    gp = ["set terminal pngcairo size 900,560 font ',10'" if gnuplot_has("pngcairo") else
          "set terminal png size 900,560",
          f"set output '{os.path.join(out, 'rr_throughput_vs_conns.png')}'",
          "set title 'rr: transactions/s vs connections'", "set logscale x",
          "set xlabel 'connections'", "set ylabel 'transactions/s'", "set grid",
          f"set xrange [0.8:{max(r['size'] for r in runs) * 1.25}]",
          "set xtics (" + ", ".join(f"'{x}' {x}" for x in sorted({r["size"] for r in runs})) + ")",
          "set key left top", "set yrange [0:*]",
          "plot " + ", ".join(series)]
    if run_gnuplot(gp, os.path.join(dat, "tps.gp")):
        plots.append("rr_throughput_vs_conns.png")
    series = []
    for c in configs:
        cand = sorted((r for r in runs if r["config"] == c and r.get("latency_file")),
                      key=lambda r: r["size"])
        if not cand:
            continue
        r = cand[0]
        path = os.path.join(out, r["latency_file"])
        if os.path.getsize(path) == 0:
            continue
        series.append(f"'{path}' using 1:2 with lines lw 2 title '{c} (C={r['size']})'")
    if series:
        gp = [gp[0], f"set output '{os.path.join(out, 'rr_latency_cdf.png')}'",
              "set title 'rr latency CDF (client side)'", "set logscale x",
              "set xlabel 'latency (µs)'", "set ylabel 'fraction of transactions ≤ x'",
              "set grid", "set key right bottom", "set yrange [0:1]",
              "plot " + ", ".join(series)]
        if run_gnuplot(gp, os.path.join(dat, "cdf.gp")):
            plots.append("rr_latency_cdf.png")
    data["plots"] = plots


def gnuplot_has(term):
    """True when gnuplot knows the terminal."""
    r = subprocess.run(["gnuplot", "-e", "set terminal"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    return term in r.stdout.decode(errors="replace")


def run_gnuplot(lines, script):
    """Write and run a gnuplot script; True on success."""
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run(["gnuplot", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    if r.returncode != 0:
        print(f"gnuplot failed: {r.stdout.decode(errors='replace')}", file=sys.stderr)
    return r.returncode == 0


# --------------------------------------------------------------------------
# checks (for --check, the smoke test)


def check_figures(data):
    """Reasons why the runs are not all complete (empty list: all fine)."""
    bad = []
    need = {"rr": ["tps", "transactions", "p50_us", "p99_us"], "crr": ["tps", "transactions"],
            "tw": ["tps", "transactions"],
            "stream": ["gbps", "bytes"], "conns": ["conns_established", "establish_s"]}
    for r in data["runs"]:
        tag = f"{r['config']} {r['workload']} {r['size']}"
        if r["status"] == "skipped":
            continue
        if r["status"] != "ok":
            bad.append(f"{tag}: {r['reason']}")
            continue
        for k in need[r["workload"]]:
            if not r["client"].get(k):
                bad.append(f"{tag}: client figure {k} missing or zero")
        if r["workload"] in ("rr", "crr", "tw") and not r.get("cpu_us_per_txn"):
            bad.append(f"{tag}: no CPU per transaction")
        if r["workload"] == "rr" and not r.get("latency_file"):
            bad.append(f"{tag}: no latency distribution")
        if not r.get("server", {}).get("accepted"):
            bad.append(f"{tag}: server accepted nothing")
    for r in data.get("rawio", []):
        if r["status"] != "ok" or not r.get("pps"):
            bad.append(f"rawio {r['size']} (pass {r.get('pass')}): {r.get('reason', 'no pps')}")
    for r in (data.get("callgrind") or {}).get("results", []):
        if r["status"] != "ok" or not r.get("ir_per_txn") or r["ir_per_txn"] <= 0:
            bad.append(f"callgrind {r['workload']}: {r.get('reason', 'no Ir per transaction')}")
    return bad


# --------------------------------------------------------------------------
# main


def parse_list(text, conv=str):
    """'a,b,c' -> [a, b, c]."""
    return [conv(x) for x in text.split(",") if x.strip()]


def parse_args(argv):
    """Command line."""
    p = argparse.ArgumentParser(
        description="mlwip benchmark suite: mlwip vs Linux TCP (rr, crr, stream, conns), "
                    "raw memif I/O limit, callgrind instructions per transaction.")
    p.add_argument("--build", default=DEFAULT_BUILD,
                   help="build directory with mlw_bench and mlw_rawio (default: build/bench-release)")
    p.add_argument("--bench", help="mlw_bench binary (default: BUILD/contrib/bench/app/mlw_bench)")
    p.add_argument("--rawio", help="mlw_rawio binary (default: BUILD/contrib/bench/rawio/mlw_rawio)")
    p.add_argument("--out", help="output directory (default: build/bench/<timestamp>)")
    p.add_argument("--configs", help="comma list of " + ",".join(CONFIG_ORDER) +
                   " (default: all but " + ",".join(OPTIONAL_CONFIGS) + ")")
    p.add_argument("--workloads", help="comma list of rr,crr,stream,conns,tw (default: rr,crr,stream,conns; "
                                      "tw is the long TIME-WAIT run)")
    p.add_argument("--sizes", action="append", default=[], metavar="W=LIST",
                   help="sizes of workload W, e.g. rr=1,64,1024 (connections; for crr: in flight; "
                        "for conns: connections to open); repeatable")
    p.add_argument("--conns", help="shorthand for --sizes conns=LIST")
    p.add_argument("--duration", type=float, help="measured seconds per run (default 3; quick 1)")
    p.add_argument("--warmup", type=float, help="warm-up seconds (default 0.5; quick 0.2)")
    p.add_argument("--hold", type=float, help="conns: seconds to hold (default 1; quick 0.3)")
    p.add_argument("--tw-conns", type=int, default=TW_CONNS,
                   help=f"tw: connections per client shard (or thread) of the TIME-WAIT run "
                        f"(default {TW_CONNS}; at most {TW_MAX_TIME_WAIT}, the max_time_wait it sets)")
    p.add_argument("--msg", type=int, default=64, help="rr/crr message bytes (default 64)")
    p.add_argument("--rawio-duration", type=float, help="seconds per rawio run (default 3; quick 1)")
    p.add_argument("--quick", action="store_true",
                   help="smoke sizes: linux-lo, mlwip-1, rawio; every workload once, 1 s")
    cg = p.add_mutually_exclusive_group()
    cg.add_argument("--callgrind", dest="callgrind", action="store_true", default=None,
                    help="run the callgrind measurement (default: on, off with --quick)")
    cg.add_argument("--no-callgrind", dest="callgrind", action="store_false")
    p.add_argument("--callgrind-rr", default=None, metavar="N1,N2",
                   help="callgrind: rr transaction counts (default 2000,10000; quick 200,1000)")
    p.add_argument("--callgrind-crr", default=None, metavar="N1,N2",
                   help="callgrind: crr transaction counts (default 500,2500; quick 100,500)")
    p.add_argument("--callgrind-top", type=int, default=15, help="functions listed (default 15)")
    p.add_argument("--tw-callgrind-n", type=int, default=150000,
                   help="tw with callgrind: connections of the client under callgrind (default "
                        "150000, about 70 s; its profile is dumped every 8 s)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless every run succeeded with non-zero figures (smoke test)")
    a = p.parse_args(argv)

    a.bench = a.bench or os.path.join(a.build, "contrib", "bench", "app", "mlw_bench")
    a.rawio = a.rawio or os.path.join(a.build, "contrib", "bench", "rawio", "mlw_rawio")
    if a.out is None:
        a.out = os.path.join(REPO, "build", "bench", datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    a.out = os.path.abspath(a.out)
    a.configs = parse_list(a.configs) if a.configs else (
        QUICK_CONFIGS if a.quick else [c for c in CONFIG_ORDER if c not in OPTIONAL_CONFIGS])
    for c in a.configs:
        if c not in CONFIGS:
            p.error(f"unknown configuration {c} (known: {', '.join(CONFIG_ORDER)})")
    a.configs = [c for c in CONFIG_ORDER if c in a.configs]
    a.workloads = parse_list(a.workloads) if a.workloads else list(DEFAULT_WORKLOADS)
    for w in a.workloads:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w} (known: {', '.join(WORKLOADS)})")
    a.workloads = [w for w in WORKLOADS if w in a.workloads]
    sizes = dict(QUICK_SIZES if a.quick else DEFAULT_SIZES)
    for spec in a.sizes + ([f"conns={a.conns}"] if a.conns else []):
        if "=" not in spec:
            p.error(f"--sizes wants W=LIST, got {spec}")
        w, lst = spec.split("=", 1)
        if w not in WORKLOADS:
            p.error(f"--sizes: unknown workload {w}")
        try:
            sizes[w] = parse_list(lst, int)
        except ValueError:
            p.error(f"--sizes: {lst} is not a list of integers")
    a.sizes = sizes
    a.duration = a.duration if a.duration is not None else (1 if a.quick else 3)
    a.warmup = a.warmup if a.warmup is not None else (0.2 if a.quick else 0.5)
    a.hold = a.hold if a.hold is not None else (0.3 if a.quick else 1)
    a.rawio_duration = a.rawio_duration if a.rawio_duration is not None else (1 if a.quick else 3)
    if a.callgrind is None:
        a.callgrind = not a.quick
    a.callgrind_n = {}
    for w, given, default, quick in (("rr", a.callgrind_rr, "2000,10000", "200,1000"),
                                     ("crr", a.callgrind_crr, "500,2500", "100,500")):
        try:
            n = parse_list(given or (quick if a.quick else default), int)
        except ValueError:
            n = []
        if len(n) != 2 or not 0 < n[0] < n[1]:
            p.error(f"--callgrind-{w} wants N1,N2 with 0 < N1 < N2")
        a.callgrind_n[w] = n
    if not 0 < a.tw_conns <= TW_MAX_TIME_WAIT:
        p.error(f"--tw-conns wants 1..{TW_MAX_TIME_WAIT}")
    if a.duration <= 0 or a.warmup < 0 or a.hold < 0 or a.rawio_duration <= 0:
        p.error("durations must be positive")
    return a


def plan(args):
    """Every benchmark run in order: (config, workload, size). Configurations
    alternate within a case so that they see the same machine state."""
    out = []
    for w in args.workloads:
        for s in args.sizes[w]:
            for c in args.configs:
                if c != "rawio":
                    out.append((c, w, s))
    return out


def estimate(args, steps):
    """Rough seconds the plan takes (for the progress line)."""
    t = 0.0
    for c, w, s in steps:
        start = 3.0 if c.startswith("mlwip") else 1.0
        if w == "conns":
            t += start + args.hold + s / 5000
        else:
            t += start + (args.tw_conns / 20000 if w == "tw" else args.warmup + args.duration)
    if "rawio" in args.configs:
        t += (2 if args.quick else 4) * (args.rawio_duration + 3)
    if args.callgrind:
        # valgrind start-up ~6 s per run; ~2500 rr and ~600 crr transactions/s.
        t += 4 * 8 + sum(args.callgrind_n["rr"]) / 2500 + sum(args.callgrind_n["crr"]) / 600
    return t


def short(rec):
    """One-line summary of a run for the progress output."""
    if rec["status"] != "ok":
        return rec["status"].upper() + ": " + rec["reason"][:160]
    v = main_figure(rec)
    unit = {"rr": " tps", "crr": " conn/s", "stream": " Gbit/s", "conns": " conn/s",
            "tw": " conn/s"}[rec["workload"]]
    extra = ""
    if rec.get("cpu_us_per_txn"):
        extra = f", {rec['cpu_us_per_txn']:.1f} µs CPU/txn"
    if rec["workload"] == "rr":
        extra += f", p99 {fmt(rec['client'].get('p99_us'))} µs"
    return fmt(v, unit) + extra


def progress(t0, i, n, est_left, text):
    """Print a progress line on stderr."""
    el = time.monotonic() - t0
    print(f"[{i}/{n} {int(el) // 60}:{int(el) % 60:02d} elapsed, ~{int(est_left) // 60}:"
          f"{int(est_left) % 60:02d} left] {text}", file=sys.stderr, flush=True)


def raise_fd_limit():
    """Raise RLIMIT_NOFILE as far as allowed (children inherit it): to
    fs.nr_open, or, without CAP_SYS_RESOURCE, to the hard limit. Returns
    the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        with open("/proc/sys/fs/nr_open") as f:
            want = min(int(f.read()), 1 << 20)
    except (OSError, ValueError):
        want = 1 << 20
    for lim in ((want, want), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, lim)
            break
        except (OSError, ValueError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def on_signal(signum, frame):
    """SIGINT/SIGTERM/SIGHUP: unwind through the finally blocks."""
    raise Interrupted(f"signal {signum}")


def main(argv):
    """Run the suite; exit 0 when every run succeeded."""
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("run.py: needs root (network namespaces, /var/run/dpdk); use scripts/bench.sh",
              file=sys.stderr)
        return 77
    need = []
    if any(c != "rawio" for c in args.configs):
        need.append(args.bench)
    if "rawio" in args.configs:
        need.append(args.rawio)
    for b in need:
        if not os.access(b, os.X_OK):
            print(f"run.py: {b} not found (build it, or give --build/--bench/--rawio)", file=sys.stderr)
            return 2
    if args.callgrind and not shutil.which("valgrind"):
        print("run.py: valgrind not installed: callgrind measurement skipped", file=sys.stderr)
        args.callgrind = False
    args.fd_limit = raise_fd_limit()
    os.makedirs(args.out, exist_ok=True)
    # Ctrl-C, SIGTERM and SIGHUP all unwind through the clean-up (SIGINT is
    # set explicitly: a shell starts background jobs with it ignored).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    suite = Suite(args)
    t0 = time.monotonic()
    data = {"machine": machine(), "args": {k: v for k, v in vars(args).items()},
            "configs": {c: CONFIGS[c]["describe"] for c in args.configs},
            "runs": [], "rawio": [], "callgrind": None}
    steps = plan(args)
    # The raw I/O limit is measured before and after the benchmarks (the
    # higher counts: a busy machine only ever lowers it), once with --quick.
    rawio_twice = "rawio" in args.configs and bool(steps) and not args.quick
    nsteps = (len(steps) + (2 if "rawio" in args.configs else 0) + (2 if rawio_twice else 0) +
              (2 if args.callgrind else 0) + (1 if args.callgrind and "tw" in args.workloads else 0))
    total_est = estimate(args, steps)
    logs = os.path.join(args.out, "logs")
    i = 0
    status = 0
    print(f"run.py: {nsteps} steps, about {total_est / 60:.1f} min; output in {args.out}",
          file=sys.stderr, flush=True)
    try:
        try:
            def rawio_pass(n):
                """Both rawio runs (pass n: 1 before the benchmarks, 2 after)."""
                nonlocal i
                for d in ("uni", "bidi"):
                    i += 1
                    progress(t0, i, nsteps, max(0, total_est - (time.monotonic() - t0)),
                             f"rawio {d} (pass {n}) ...")
                    r = run_rawio(suite, d, os.path.join(logs, f"rawio-{d}-{n}"))
                    r["pass"] = n
                    data["rawio"].append(r)
                    print("    -> " + (f"{fmt(r['pps'])} frames/s" if r["status"] == "ok"
                                       else "FAILED: " + r["reason"]), file=sys.stderr, flush=True)

            if "rawio" in args.configs:
                rawio_pass(1)
            for c, w, s in steps:
                i += 1
                progress(t0, i, nsteps, max(0, total_est - (time.monotonic() - t0)),
                         f"{w} {'N' if w == 'conns' else 'C'}={s} on {c} ...")
                r = run_bench(suite, c, w, s, os.path.join(logs, f"{w}-{s}-{c}"))
                data["runs"].append(r)
                print("    -> " + short(r), file=sys.stderr, flush=True)
            if rawio_twice:
                rawio_pass(2)
            if "tw" in args.workloads and args.callgrind:
                i += 1
                progress(t0, i, nsteps, max(0, total_est - (time.monotonic() - t0)),
                         f"callgrind tw: mlwip client under callgrind, {args.tw_callgrind_n} connections ...")
                r = run_tw_callgrind(suite, logs, args.tw_callgrind_n)
                data["tw_callgrind"] = r
                print("    -> " + (f"{len(r['dumps'])} dumps, work {r['dumps'][0]['work']:.0f} -> "
                                   f"{r['dumps'][-1]['work']:.0f} Ir/conn" if r["status"] == "ok"
                                   else "FAILED: " + r["reason"]), file=sys.stderr, flush=True)
            if args.callgrind:
                cg = {"results": [], "note": callgrind_note(args)}
                data["callgrind"] = cg
                for w in ("rr", "crr"):
                    i += 1
                    n1, n2 = args.callgrind_n[w]
                    progress(t0, i, nsteps, max(0, total_est - (time.monotonic() - t0)),
                             f"callgrind {w} C=1, N={n1} and {n2} ...")
                    r = run_callgrind(suite, w, (n1, n2), logs)
                    cg["results"].append(r)
                    print("    -> " + (f"{r['ir_per_txn']:.0f} Ir/txn, "
                                       f"{r['loop_passes_per_txn']:.1f} passes/txn"
                                       if r["status"] == "ok"
                                       else "FAILED: " + r["reason"]), file=sys.stderr, flush=True)
        except (KeyboardInterrupt, Interrupted) as e:
            data["interrupted"] = True
            status = 130
            print(f"run.py: interrupted ({e or 'Ctrl-C'}); cleaning up, writing what ran",
                  file=sys.stderr, flush=True)
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        suite.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
    data["duration_s"] = time.monotonic() - t0
    make_plots(suite, data)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(data, f, indent=1, default=str)
    text = write_report(suite, data)
    print(text)
    print(f"run.py: {data['duration_s']:.0f} s; report: {os.path.join(args.out, 'report.md')}",
          file=sys.stderr)
    if status:
        return status
    bad = check_figures(data) if args.check else [
        f"{r['config']} {r['workload']} {r['size']}: {r['reason']}"
        for r in data["runs"] + data["rawio"] if r["status"] == "failed"]
    if bad:
        print("run.py: problems:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    return 0


def callgrind_note(args):
    """How the callgrind figures were made (for the report)."""
    return (
        "The mlwip server (1 shard, core 0, net_memif, `--no-huge`) runs under "
        "`valgrind --tool=callgrind`; the mlwip client (1 shard, core 1) runs natively and stops "
        f"after exactly N transactions (`--transactions`), C=1, {args.msg}-byte messages. DPDK "
        "with net_memif and `--no-huge` runs under valgrind unmodified (start-up takes ~5 s instead "
        "of ~0.5 s). Only the shard thread is counted (`--toggle-collect=" + CALLGRIND_TOGGLE + "`): "
        "EAL start-up, dlopen of the drivers and teardown stay out, as do EAL's interrupt thread "
        "(memif's control channel). Two runs with N1 and N2 transactions; "
        "(Ir(N2) - Ir(N1)) / (N2 - N1) is the server's instructions per transaction, whatever "
        "is constant cancels.\n\n"
        "That figure includes the shard loop's polling: at C=1 the server spends most passes "
        "of its loop waiting for the client's next request (calls of `" + CALLGRIND_PASS_FN + "` "
        "count the passes), as a native polling server does too, but under callgrind the "
        "server runs ~50x slower than its native client, so the share is not the native one. "
        "The self cost per transaction is therefore split by kind: **work** (lwIP, the socket "
        "layer, the benchmark's own code, libc's memcpy: what the "
        "transaction needs), **driver** (DPDK's libraries: memif rx/tx, mbufs, polled or not) "
        "and **loop** (the shard loop, mlw_epoll_wait's waiting, clock reads and back-off "
        "sleeps). The work figure does not depend on how long the server waited.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
