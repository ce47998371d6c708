#!/usr/bin/env python3
"""hostile_gen.py - hostile frames for mlwip's input path, written byte by byte (no scapy), sent
on a Linux interface through an AF_PACKET socket; seeded, bounded in count and time.

  hostile_gen.py --iface IF --dst-mac MAC --src4 A --dst4 B --src6 A6 --dst6 B6 --prefix6 P
                 [--kinds k1,k2|all] [--rate PPS] [--duration S] [--count N] [--seed N]
                 [--open-port 7007] [--pool 2048]

Kinds (each frame addressed to the stack's MAC and, where it has one, its address):
  random     random bytes after an Ethernet header with a random EtherType (IPv4/IPv6/ARP too)
  ip4hdr     IPv4 headers with random version/IHL/length/flags/offset/TTL/protocol/options,
             checksum right half of the time
  ip6hdr     IPv6 headers with random payload length, next header, hop limit, flow label
  tcpflags   TCP from the peer's address to the open and to closed ports: random flags,
             options (random kinds and lengths), data offsets, sequence numbers; IPv4 and IPv6
  trunc      well-formed TCP/UDP/ICMP frames cut short at a random byte (headers included)
  badsum     well-formed TCP/UDP/ICMP/ICMPv6 frames with one checksum off by a random amount
  frag4      IPv4 fragments: overlapping, tiny, past 64 KiB, duplicate first fragments, odd
             offsets, random ids (only over a link that does not reassemble: with
             net_af_packet's fanout the kernel reassembles IPv4 before mlwip sees it)
  frag6      IPv6 fragment headers: overlapping, atomic, odd lengths, random ids
  ip6ext     IPv6 extension-header chains (hop-by-hop, routing types 0/2/3/4, fragment,
             destination options, with random and unknown options, padding, chains of up
             to 8) ending in TCP/UDP/ICMPv6/no-next-header/unknown; random sources on-link
  icmperr    ICMP and ICMPv6 errors (unreachable codes, frag-needed with small MTUs, time
             exceeded, parameter problem, packet too big) quoting the live connections to the
             open port (read from /proc/net/tcp) and random ones
  ip6unres   IPv6 from 8 on-link sources nobody answers for (ND never resolves): echo requests,
             UDP to closed ports, TCP SYNs to closed ports, so every answer waits for ND

Prints "sent KIND N" lines and "total N seconds T" at the end; exit 0.
"""
import argparse
import os
import random
import signal
import socket
import struct
import sys
import time

KINDS = ["random", "ip4hdr", "ip6hdr", "tcpflags", "trunc", "badsum", "frag4", "frag6",
         "ip6ext", "icmperr", "ip6unres"]


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


class Gen:
    def __init__(self, a, rng):
        self.a = a
        self.r = rng
        self.dmac = mac(a.dst_mac)
        self.smac = mac(a.src_mac) if a.src_mac else bytes([0x02]) + rng.randbytes(5)
        self.src4 = socket.inet_aton(a.src4)
        self.dst4 = socket.inet_aton(a.dst4)
        self.src6 = socket.inet_pton(socket.AF_INET6, a.src6)
        self.dst6 = socket.inet_pton(socket.AF_INET6, a.dst6)
        self.pfx6 = socket.inet_pton(socket.AF_INET6, a.prefix6)[:8]
        self.live = []
        self.fixed6 = [self.pfx6 + rng.randbytes(8) for _ in range(4)] + \
            [bytes([0xFE, 0x80]) + bytes(6) + rng.randbytes(8) for _ in range(4)]

    # ---- headers -----------------------------------------------------------------------------
    def eth(self, etype, payload, smac=None):
        return self.dmac + (smac or self.smac) + struct.pack("!H", etype) + payload

    def ip4(self, proto, payload, src=None, dst=None, ident=None, frag=0, ttl=64, opts=b"",
            tot=None, good=True):
        ihl = 5 + len(opts) // 4
        h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot if tot is not None else 20 + len(opts) + len(payload),
                        self.r.getrandbits(16) if ident is None else ident, frag, ttl, proto, 0,
                        src or self.src4, dst or self.dst4) + opts
        c = csum(h)
        if not good:
            c ^= self.r.randint(1, 0xFFFF)
        return h[:10] + struct.pack("!H", c) + h[12:] + payload

    def ip6(self, nh, payload, src=None, dst=None, hlim=64, plen=None):
        return struct.pack("!IHBB16s16s", 0x60000000 | self.r.getrandbits(20),
                           len(payload) if plen is None else plen, nh, hlim,
                           src or self.src6, dst or self.dst6) + payload

    def pseudo(self, v6, src, dst, proto, length):
        if v6:
            return src + dst + struct.pack("!IxxxB", length, proto)
        return src + dst + struct.pack("!xBH", proto, length)

    def tcp(self, v6, src, dst, sport, dport, seq, ack, flags, opts=b"", data=b"", win=65535,
            doff=None, good=True):
        if len(opts) % 4:
            opts += b"\0" * (4 - len(opts) % 4)
        d = doff if doff is not None else 5 + len(opts) // 4
        h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (d & 15) << 4, flags, win, 0, 0) + opts
        seg = h + data
        c = csum(self.pseudo(v6, src, dst, 6, len(seg)) + seg)
        if not good:
            c ^= self.r.randint(1, 0xFFFF)
        return seg[:16] + struct.pack("!H", c) + seg[18:]

    def udp(self, v6, src, dst, sport, dport, data, good=True):
        seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
        c = csum(self.pseudo(v6, src, dst, 17, len(seg)) + seg) or 0xFFFF
        if not good:
            c ^= self.r.randint(1, 0xFFFE)
        return seg[:6] + struct.pack("!H", c) + seg[8:]

    def icmp(self, typ, code, rest, body, good=True):
        m = struct.pack("!BBH", typ, code, 0) + rest + body
        c = csum(m)
        if not good:
            c ^= self.r.randint(1, 0xFFFF)
        return m[:2] + struct.pack("!H", c) + m[4:]

    def icmp6(self, src, dst, typ, code, rest, body, good=True):
        m = struct.pack("!BBH", typ, code, 0) + rest + body
        c = csum(self.pseudo(True, src, dst, 58, len(m)) + m)
        if not good:
            c ^= self.r.randint(1, 0xFFFF)
        return m[:2] + struct.pack("!H", c) + m[4:]

    # ---- helpers -----------------------------------------------------------------------------
    def onlink6(self):
        """An on-link source in the stack's prefix or a link-local one: mostly one of a few
        fixed ones (their queues grow while neighbour discovery waits), else a random one."""
        if self.r.random() < 0.75:
            return self.fixed6[self.r.randrange(len(self.fixed6))]
        if self.r.random() < 0.5:
            return self.pfx6 + self.r.randbytes(8)
        return bytes([0xFE, 0x80]) + bytes(6) + self.r.randbytes(8)

    def port(self):
        return self.a.open_port if self.r.random() < 0.5 else self.r.randint(1, 65535)

    def tcp_opts(self):
        r = self.r
        o = b""
        for _ in range(r.randint(0, 6)):
            k = r.choice([0, 1, 2, 3, 4, 5, 8, 30, 34, 253, r.randint(0, 255)])
            if k in (0, 1):
                o += bytes([k])
            else:
                ln = r.choice([0, 1, 2, 3, 4, 10, 18, r.randint(0, 40)])
                o += bytes([k, ln]) + r.randbytes(max(0, min(ln - 2, 36)))
        return o[:40]

    def l4_v6_or_v4(self):
        return self.r.random() < 0.5

    def good_frame(self, v6=None):
        """A well-formed TCP, UDP, ICMP or ICMPv6 frame from the peer, for trunc/badsum."""
        r = self.r
        v6 = self.l4_v6_or_v4() if v6 is None else v6
        src, dst = (self.src6, self.dst6) if v6 else (self.src4, self.dst4)
        k = r.randint(0, 2)
        if k == 0:
            l4 = self.tcp(v6, src, dst, r.randint(1024, 65535), self.port(), r.getrandbits(32),
                          r.getrandbits(32), r.choice([0x02, 0x10, 0x18, 0x11, 0x04]),
                          data=r.randbytes(r.randint(0, 200)))
            proto = 6
        elif k == 1:
            l4 = self.udp(v6, src, dst, r.randint(1024, 65535), self.port(), r.randbytes(r.randint(0, 200)))
            proto = 17
        else:
            if v6:
                l4 = self.icmp6(src, dst, 128, 0, struct.pack("!HH", r.getrandbits(16), 1), r.randbytes(32))
                proto = 58
            else:
                l4 = self.icmp(8, 0, struct.pack("!HH", r.getrandbits(16), 1), r.randbytes(32))
                proto = 1
        if v6:
            return self.eth(0x86DD, self.ip6(proto, l4)), v6, proto
        return self.eth(0x0800, self.ip4(proto, l4)), v6, proto

    # ---- kinds -------------------------------------------------------------------------------
    def k_random(self):
        r = self.r
        et = r.choice([0x0800, 0x86DD, 0x0806, 0x8100, r.getrandbits(16)])
        return self.eth(et, r.randbytes(r.randint(0, 1500)))

    def k_ip4hdr(self):
        r = self.r
        opts = r.randbytes(4 * r.randint(0, 10)) if r.random() < 0.3 else b""
        payload = r.randbytes(r.randint(0, 300))
        ihl = r.choice([5, 5, 5, r.randint(0, 15)])
        h = struct.pack("!BBHHHBBH4s4s", (r.choice([4, 4, 4, r.randint(0, 15)]) << 4) | ihl,
                        r.getrandbits(8), r.choice([20 + len(opts) + len(payload), r.getrandbits(16)]),
                        r.getrandbits(16), r.choice([0, 0x4000, r.getrandbits(16)]),
                        r.getrandbits(8), r.choice([1, 6, 17, r.getrandbits(8)]), 0,
                        r.choice([self.src4, r.randbytes(4)]),
                        r.choice([self.dst4, self.dst4, b"\xff\xff\xff\xff", r.randbytes(4)])) + opts
        if r.random() < 0.5:
            h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return self.eth(0x0800, h + payload)

    def k_ip6hdr(self):
        r = self.r
        payload = r.randbytes(r.randint(0, 300))
        h = struct.pack("!IHBB16s16s", (r.choice([6, 6, 6, r.randint(0, 15)]) << 28) | r.getrandbits(28),
                        r.choice([len(payload), r.getrandbits(16)]),
                        r.choice([6, 17, 58, 0, 43, 44, 59, 60, r.getrandbits(8)]), r.getrandbits(8),
                        r.choice([self.src6, self.onlink6(), r.randbytes(16)]),
                        r.choice([self.dst6, self.dst6, r.randbytes(16)]))
        return self.eth(0x86DD, h + payload)

    def k_tcpflags(self):
        r = self.r
        v6 = self.l4_v6_or_v4()
        src, dst = (self.src6, self.dst6) if v6 else (self.src4, self.dst4)
        seg = self.tcp(v6, src, dst, r.randint(1, 65535), self.port(), r.getrandbits(32),
                       r.getrandbits(32), r.getrandbits(8), self.tcp_opts(),
                       r.randbytes(r.choice([0, 0, 1, r.randint(0, 400)])), r.getrandbits(16),
                       doff=r.choice([None, None, r.randint(0, 15)]))
        if v6:
            return self.eth(0x86DD, self.ip6(6, seg))
        return self.eth(0x0800, self.ip4(6, seg))

    def k_trunc(self):
        f, _, _ = self.good_frame()
        return f[:self.r.randint(14, len(f) - 1)]

    def k_badsum(self):
        r = self.r
        v6 = self.l4_v6_or_v4()
        src, dst = (self.src6, self.dst6) if v6 else (self.src4, self.dst4)
        k = r.randint(0, 3)
        if k == 0:
            l4, proto = self.tcp(v6, src, dst, r.randint(1024, 65535), self.port(), r.getrandbits(32),
                                 r.getrandbits(32), r.choice([0x02, 0x10, 0x18]),
                                 data=r.randbytes(r.randint(0, 100)), good=False), 6
        elif k == 1:
            l4, proto = self.udp(v6, src, dst, r.randint(1024, 65535), self.port(), r.randbytes(50), good=False), 17
        elif v6:
            l4, proto = self.icmp6(src, dst, 128, 0, b"\0\1\0\1", r.randbytes(20), good=False), 58
        else:
            l4, proto = self.icmp(8, 0, b"\0\1\0\1", r.randbytes(20), good=False), 1
        if v6:
            return self.eth(0x86DD, self.ip6(proto, l4))
        if k == 3 and r.random() < 0.5:	# the IPv4 header's checksum instead
            return self.eth(0x0800, self.ip4(proto, self.icmp(8, 0, b"\0\1\0\1", b""), good=False))
        return self.eth(0x0800, self.ip4(proto, l4))

    def k_frag4(self):
        r = self.r
        ident = r.choice([r.getrandbits(16), 0x4242, 0x4243])
        data = r.randbytes(r.choice([8, 16, 24, r.randint(1, 1400)]))
        off = r.choice([0, 0, 1, 8, 185, r.randint(0, 8191)])
        mf = r.choice([0x2000, 0x2000, 0])
        if off == 0 and r.random() < 0.5:
            data = self.udp(False, self.src4, self.dst4, r.randint(1024, 65535), self.port(), data)
        return self.eth(0x0800, self.ip4(r.choice([6, 17, 1]), data, ident=ident, frag=mf | off))

    def k_frag6(self):
        r = self.r
        ident = r.choice([r.getrandbits(32), 0x42424242])
        data = r.randbytes(r.choice([8, 16, 24, r.randint(1, 1200)]))
        off = r.choice([0, 0, 1, 8, r.randint(0, 8191)])
        m = r.choice([1, 1, 0])
        fh = struct.pack("!BBHI", r.choice([6, 17, 58, 44, 60]), 0, (off << 3) | m, ident)
        src = r.choice([self.src6, self.onlink6()])
        return self.eth(0x86DD, self.ip6(44, fh + data, src=src))

    def ext_hdr(self, typ, nh):
        """One extension header of type typ followed by header nh."""
        r = self.r
        if typ == 44:
            return struct.pack("!BBHI", nh, 0, (r.choice([0, 0, r.randint(0, 8191)]) << 3) |
                               r.choice([0, 1]), r.getrandbits(32))
        if typ == 43:
            rtype = r.choice([0, 2, 3, 4, r.getrandbits(8)])
            ln = r.choice([0, 2, 4, r.randint(0, 8)])
            segleft = r.choice([0, 1, r.getrandbits(8)])
            return struct.pack("!BBBB", nh, ln, rtype, segleft) + r.randbytes(4 + 8 * ln)
        # hop-by-hop (0) or destination options (60): TLV options, some unknown with each of
        # the four "action" bit patterns (skip, discard, discard + ICMP, ICMP unless multicast)
        ln = r.choice([0, 0, 1, r.randint(0, 4)])
        body = b""
        room = 6 + 8 * ln
        while len(body) < room:
            left = room - len(body)
            k = r.choice([0, 1, 0x05, 0xC2, 0x1E, 0x3F, 0x7F, 0xBF, 0xFF, r.getrandbits(8)])
            if k == 0:
                body += b"\0"
                continue
            ol = r.randint(0, max(0, left - 2))
            if left < 2:
                body += b"\0" * left
                break
            body += bytes([k, ol]) + r.randbytes(ol)
        return struct.pack("!BB", nh, ln) + body[:room]

    def k_ip6ext(self):
        r = self.r
        chain = [r.choice([0, 43, 44, 60]) for _ in range(r.choice([1, 1, 2, 3, r.randint(1, 8)]))]
        if r.random() < 0.5:
            chain[0] = 0	# hop-by-hop first, where it belongs
        last = r.choice([6, 17, 58, 59, r.getrandbits(8)])
        if last == 6:
            tail = self.tcp(True, self.src6, self.dst6, r.randint(1024, 65535), self.port(),
                            r.getrandbits(32), 0, 0x02)
        elif last == 17:
            tail = self.udp(True, self.src6, self.dst6, r.randint(1024, 65535), self.port(), r.randbytes(20))
        elif last == 58:
            tail = self.icmp6(self.src6, self.dst6, 128, 0, b"\0\1\0\1", r.randbytes(16))
        else:
            tail = r.randbytes(r.randint(0, 64))
        body = tail
        nh = last
        for t in reversed(chain):
            body = self.ext_hdr(t, nh) + body
            nh = t
        src = r.choice([self.src6, self.onlink6(), self.onlink6()])
        dst = r.choice([self.dst6, self.dst6, self.dst6, bytes([0xFF, 0x02]) + bytes(13) + b"\1"])
        return self.eth(0x86DD, self.ip6(nh, body, src=src, dst=dst), smac=bytes([2]) + r.randbytes(5))

    def refresh_live(self):
        """The peer's connections to the open port (this namespace's /proc/net/tcp[6])."""
        live = []
        try:
            with open("/proc/net/tcp") as f:
                next(f)
                for line in f:
                    p = line.split()
                    lip, lport = p[1].split(":")
                    rip, rport = p[2].split(":")
                    if int(rport, 16) == self.a.open_port and p[3] == "01":
                        live.append(int(lport, 16))
        except OSError:
            pass
        self.live = live

    def k_icmperr(self):
        r = self.r
        if r.random() < 0.7:
            v6 = False
            sport = r.choice(self.live) if self.live and r.random() < 0.7 else r.randint(1024, 65535)
        else:
            v6 = True
            sport = r.randint(1024, 65535)
        # The quoted datagram went from the stack (its address, the open port) to the peer.
        if v6:
            q = self.ip6(6, self.tcp(True, self.dst6, self.src6, self.a.open_port, sport,
                                     r.getrandbits(32), r.getrandbits(32), 0x18)[:r.choice([8, 20])],
                         src=self.dst6, dst=self.src6)
            typ = r.choice([1, 2, 3, 4])
            code = r.randint(0, 7)
            rest = struct.pack("!I", r.choice([0, 68, 576, 1280, r.getrandbits(32)]))
            m = self.icmp6(self.src6, self.dst6, typ, code, rest, q)
            return self.eth(0x86DD, self.ip6(58, m))
        q = self.ip4(6, self.tcp(False, self.dst4, self.src4, self.a.open_port, sport,
                                 r.getrandbits(32), r.getrandbits(32), 0x18)[:r.choice([8, 20])],
                     src=self.dst4, dst=self.src4)
        typ = r.choice([3, 3, 3, 11, 12, 4])
        code = r.randint(0, 15) if typ == 3 else r.randint(0, 1)
        rest = struct.pack("!HH", 0, r.choice([68, 296, 576, 1000, r.getrandbits(16)])) if typ == 3 and code == 4 \
            else r.randbytes(4)
        return self.eth(0x0800, self.ip4(1, self.icmp(typ, code, rest, q)))

    def k_ip6unres(self):
        r = self.r
        # A few sources, each sending on: what waits for their resolution piles up.
        src = self.fixed6[r.randrange(len(self.fixed6))]
        k = r.randint(0, 2)
        if k == 0:
            l4, proto = self.icmp6(src, self.dst6, 128, 0, struct.pack("!HH", r.getrandbits(16), 1), r.randbytes(56)), 58
        elif k == 1:
            l4, proto = self.udp(True, src, self.dst6, r.randint(1024, 65535), r.randint(1, 6999), r.randbytes(32)), 17
        else:
            l4, proto = self.tcp(True, src, self.dst6, r.randint(1024, 65535), r.randint(1, 6999),
                                 r.getrandbits(32), 0, 0x02), 6
        return self.eth(0x86DD, self.ip6(proto, l4, src=src), smac=bytes([2]) + r.randbytes(5))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src-mac", default="")
    ap.add_argument("--src4", required=True)
    ap.add_argument("--dst4", required=True)
    ap.add_argument("--src6", required=True)
    ap.add_argument("--dst6", required=True)
    ap.add_argument("--prefix6", required=True)
    ap.add_argument("--open-port", type=int, default=7007)
    ap.add_argument("--kinds", default="all")
    ap.add_argument("--rate", type=float, default=10000.0)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--count", type=int, default=10 ** 9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pool", type=int, default=2048, help="frames pre-built per kind")
    a = ap.parse_args()
    kinds = KINDS if a.kinds == "all" else a.kinds.split(",")
    for k in kinds:
        if k not in KINDS:
            print("hostile_gen: unknown kind %r (known: %s)" % (k, ", ".join(KINDS)), file=sys.stderr)
            return 2
    if a.duration > 600 or a.rate <= 0:
        print("hostile_gen: --duration at most 600 s, --rate > 0", file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    g = Gen(a, rng)
    if not a.src_mac:
        try:
            with open("/sys/class/net/%s/address" % a.iface) as f:
                g.smac = mac(f.read().strip())
        except OSError:
            pass
    g.refresh_live()
    # Pre-built pools so that sending costs one sendto() per frame; icmperr is rebuilt as
    # connections come and go.
    pools = {k: [getattr(g, "k_" + k)() for _ in range(a.pool)] for k in kinds}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    sent = {k: 0 for k in kinds}
    total = 0
    t0 = time.monotonic()
    end = t0 + a.duration
    next_live = t0 + 1.0
    interval = 1.0 / a.rate
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    nk = len(kinds)
    i = 0
    while total < a.count:
        now = time.monotonic()
        if now >= end or stop:
            break
        # Send what is due (bursts of at most 64), then sleep until the next frame is due.
        due = min(int((now - t0) * a.rate) - total, 64, a.count - total)
        if due <= 0:
            time.sleep(min(interval, end - now))
            continue
        for _ in range(due):
            k = kinds[i % nk]
            pool = pools[k]
            f = pool[(i // nk) % len(pool)]
            if len(f) < 14:
                f = f + bytes(14 - len(f))
            try:
                s.send(f)
                sent[k] += 1
            except OSError:
                pass	# e.g. ENOBUFS: the generator is bounded by rate, not by success
            total += 1
            i += 1
        if now >= next_live and "icmperr" in pools:
            g.refresh_live()
            pools["icmperr"] = [g.k_icmperr() for _ in range(256)]
            next_live = now + 1.0
    secs = time.monotonic() - t0
    for k in kinds:
        print("sent %s %d" % (k, sent[k]))
    print("total %d seconds %.2f rate %.0f" % (total, secs, total / secs if secs > 0 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
