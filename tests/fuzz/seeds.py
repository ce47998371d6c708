#!/usr/bin/env python3
"""seeds.py OUTDIR [PCAP ...] - seed corpora for the libFuzzer harnesses in
tests/fuzz, written at test time (nothing binary is committed).

OUTDIR/input, OUTDIR/icmp, OUTDIR/steer, OUTDIR/ini get:
  - crafted seeds: for fuzz_input a few segments per connection state
    (in-window data, FIN, RST, SYN, duplicate ACK, SACK and timestamp
    options, out-of-window), application calls, and raw frames (ARP,
    IPv4 fragments and options, IPv6 extension headers and fragments,
    ND, ICMP echo, UDP to the bound and connected sockets); for fuzz_icmp
    the errors Linux acts on for each quoted datagram; for fuzz_steer
    TCP/UDP/ICMP-error/ARP/ND/fragment frames under each setup; for
    fuzz_ini contrib/config/example.ini and small configurations;
  - frames from the captures given (pcap, Ethernet; e.g. the ones
    tests/reliability/fault_matrix.sh and tests/integration/it_capture.sh
    write): up to 300 distinct frames per capture (by protocol, TCP flags
    and header length, ICMP type, length in 64-byte steps), as raw records for fuzz_input (addresses rewritten to the
    harness's peer -> shard, lengths cut to what was captured, checksums
    corrected by the harness) and as frames for fuzz_steer.
Also OUTDIR/ini.dict, a libFuzzer dictionary of the INI sections and keys
read from example.ini.
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE_INI = os.path.join(HERE, "..", "..", "contrib", "config", "example.ini")

# fuzz_shard.h's connection indices.
LISTEN, ESTAB, CLOSE_WAIT, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, SYN_SENT, SYN_RCVD, CLOSED, SYN_SENT6 = range(10)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

OUR_MAC = bytes([0x02, 0, 0, 0, 0, 0])       # the harness rewrites nothing: any MAC in IP records
PEER_MAC = bytes([0x02, 0, 0, 0, 0, 0x63])
OUR4, PEER4 = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
OUR6 = bytes([0xfd] + [0] * 14 + [2])
PEER6 = bytes([0xfd] + [0] * 14 + [1])


def tcp_rec(conn, flags, seq_off=0, ack_off=0, wnd=0xffff, opts=b"", payload=0, data=None):
    """fuzz_input's TCP record (op & 3 == 0; op & 4: payload bytes follow)."""
    op = 0x04 if data is not None else 0x00
    rec = bytes([op, conn, flags]) + struct.pack(">hhH", seq_off, ack_off, wnd)
    rec += bytes([len(opts)]) + opts + bytes([payload if data is None else len(data)])
    return rec + (data or b"")


def raw_rec(pkt, ip_only=True, fix=True):
    """fuzz_input's raw record (op & 3 == 2): an IP packet (op & 8) or a
    whole frame, checksums corrected (op & 4)."""
    op = 0x02 | (0x04 if fix else 0) | (0x08 if ip_only else 0)
    return bytes([op]) + struct.pack(">H", len(pkt)) + pkt


def app_rec(call, conn=0, arg=0):
    return bytes([0x03, (conn << 3) | call, arg])


def ip4(proto, payload, src=PEER4, dst=OUR4, frag=0, opts=b"", ttl=64, ident=1):
    hl = 20 + len(opts)
    h = struct.pack(">BBHHHBBH4s4s", 0x40 | (hl // 4), 0, hl + len(payload), ident, frag, ttl, proto, 0,
                    src, dst)
    return h + opts + payload


def ip6(nh, payload, src=PEER6, dst=OUR6, hop=64):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, hop, src, dst) + payload


def tcp(sport, dport, flags, seq=1, ack=0, wnd=0xffff, opts=b"", data=b""):
    off = (20 + len(opts)) // 4
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, wnd, 0, 0) + opts + data


def udp(sport, dport, data=b""):
    return struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data


def eth(pkt, etype, dst=OUR_MAC, src=PEER_MAC):
    return dst + src + struct.pack(">H", etype) + pkt


def arp_request(sha=PEER_MAC, spa=PEER4, tpa=OUR4):
    return eth(struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, sha, spa, b"\0" * 6, tpa), 0x0806,
               dst=b"\xff" * 6)


MSS = bytes([2, 4, 5, 0xb4])
WS = bytes([1, 3, 3, 7])
SACKP = bytes([4, 2])
TS = bytes([1, 1, 8, 10]) + struct.pack(">II", 12345, 0)


def sack(blocks):
    return bytes([1, 1, 5, 2 + 8 * len(blocks)]) + b"".join(struct.pack(">II", l, r) for l, r in blocks)


def input_seeds():
    s = {}
    for c, name in ((ESTAB, "estab"), (CLOSE_WAIT, "close_wait"), (FIN_WAIT_1, "fin_wait_1"),
                    (FIN_WAIT_2, "fin_wait_2"), (TIME_WAIT, "time_wait"), (SYN_RCVD, "syn_rcvd")):
        s[name + "_data"] = tcp_rec(c, ACK | PSH, payload=100) + tcp_rec(c, ACK | PSH, payload=50)
        s[name + "_fin"] = tcp_rec(c, ACK | FIN)
        s[name + "_rst"] = tcp_rec(c, RST)
        s[name + "_rst_ack"] = tcp_rec(c, RST | ACK)
        s[name + "_syn"] = tcp_rec(c, SYN, seq_off=1000, opts=MSS + SACKP + bytes([1]) + WS)
        s[name + "_dupack"] = tcp_rec(c, ACK) * 4
        s[name + "_old"] = tcp_rec(c, ACK | PSH, seq_off=-2000, payload=20)
        s[name + "_future"] = tcp_rec(c, ACK | PSH, seq_off=3000, payload=200) + tcp_rec(c, ACK | PSH, payload=10)
        s[name + "_ts"] = tcp_rec(c, ACK, opts=bytes([1, 1]) + TS[2:] + b"", payload=10)
    s["estab_sack"] = tcp_rec(ESTAB, ACK, ack_off=-100, opts=bytes([1, 1]) + sack([(1, 50)])[2:])
    s["estab_zero_window"] = tcp_rec(ESTAB, ACK, wnd=0) + app_rec(1, ESTAB, 200) + tcp_rec(ESTAB, ACK, wnd=1000)
    s["estab_urg"] = tcp_rec(ESTAB, ACK | 0x20, payload=10)
    s["estab_app"] = app_rec(0, ESTAB) + app_rec(1, ESTAB, 100) + tcp_rec(ESTAB, ACK) + app_rec(2, ESTAB) + \
        tcp_rec(ESTAB, ACK | FIN) + app_rec(3, ESTAB)
    s["listen_syn"] = tcp_rec(LISTEN, SYN, opts=MSS + SACKP + TS + bytes([1]) + WS) + app_rec(4)
    s["listen_handshake"] = tcp_rec(LISTEN, SYN, opts=MSS) + tcp_rec(LISTEN, ACK, seq_off=1) + app_rec(4)
    s["listen_ack"] = tcp_rec(LISTEN, ACK)
    s["listen_rst"] = tcp_rec(LISTEN, RST)
    s["syn_sent_synack"] = tcp_rec(SYN_SENT, SYN | ACK, opts=MSS + SACKP + TS + bytes([1]) + WS) + \
        tcp_rec(SYN_SENT, ACK | PSH, payload=100)
    s["syn_sent_rst"] = tcp_rec(SYN_SENT, RST | ACK)
    s["syn_sent_syn"] = tcp_rec(SYN_SENT, SYN, opts=MSS)
    s["syn_sent6_synack"] = tcp_rec(SYN_SENT6, SYN | ACK, opts=MSS) + tcp_rec(SYN_SENT6, ACK, payload=30)
    s["closed_syn"] = tcp_rec(CLOSED, SYN)
    s["closed_ack"] = tcp_rec(CLOSED, ACK, payload=10)
    s["udp"] = raw_rec(ip4(17, udp(6000, 5353, b"hello"))) + raw_rec(ip4(17, udp(4000, 53, b"q" * 40))) + \
        raw_rec(ip6(17, udp(6000, 5354, b"hello6"))) + app_rec(5) + app_rec(6, 0, 10)
    s["arp"] = raw_rec(arp_request(), ip_only=False, fix=False)
    s["arp_reply_other"] = raw_rec(arp_request(spa=bytes([10, 0, 0, 7]), tpa=bytes([10, 0, 0, 9])),
                                   ip_only=False, fix=False)
    payload = tcp(40001, 80, ACK | PSH, data=bytes(range(64)))
    s["ip4_frag"] = raw_rec(ip4(6, payload[:32], frag=0x2000, ident=7)) + raw_rec(ip4(6, payload[32:], frag=4, ident=7))
    s["ip4_frag_overlap"] = raw_rec(ip4(17, udp(6000, 53, bytes(48))[:24], frag=0x2000, ident=9)) + \
        raw_rec(ip4(17, bytes(40), frag=0x2001, ident=9)) + raw_rec(ip4(17, bytes(16), frag=2, ident=9))
    s["ip4_options"] = raw_rec(ip4(1, bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"ping", opts=bytes([0x94, 4, 0, 0])))
    s["icmp_echo"] = raw_rec(ip4(1, bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"x" * 32))
    s["icmp6_echo"] = raw_rec(ip6(58, bytes([128, 0, 0, 0, 0, 1, 0, 1]) + b"x" * 32))
    hbh = bytes([6, 0, 1, 4, 0, 0, 0, 0])          # hop-by-hop: PadN, then TCP
    s["ip6_hbh"] = raw_rec(ip6(0, hbh + tcp(40001, 80, ACK)))
    dst_opts = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    s["ip6_dstopts"] = raw_rec(ip6(60, dst_opts + udp(6000, 5354, b"x")))
    frag6 = lambda off, m, nh=17: struct.pack(">BBHI", nh, 0, (off << 3) | m, 99)
    s["ip6_frag"] = raw_rec(ip6(44, frag6(0, 1) + udp(6000, 5354, bytes(40))[:24])) + \
        raw_rec(ip6(44, frag6(3, 0) + bytes(24)))
    s["ip6_routing"] = raw_rec(ip6(43, bytes([17, 0, 0, 0, 0, 0, 0, 0]) + udp(6000, 5354)))
    ns = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + OUR6 + bytes([1, 1]) + PEER_MAC
    s["nd_ns"] = raw_rec(ip6(58, ns, hop=255))
    na = bytes([136, 0, 0, 0, 0x60, 0, 0, 0]) + PEER6 + bytes([2, 1]) + PEER_MAC
    s["nd_na"] = raw_rec(ip6(58, na, hop=255))
    ra = bytes([134, 0, 0, 0, 64, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0]) + \
        bytes([3, 4, 64, 0xc0, 0, 0, 1, 0, 0, 0, 0, 100, 0, 0, 0, 0]) + OUR6[:8] + bytes(8) + \
        bytes([5, 1, 0, 0, 0, 0, 5, 0xdc])
    s["nd_ra"] = raw_rec(ip6(58, ra, src=bytes([0xfe, 0x80] + [0] * 13 + [1]), hop=255))
    s["mld_query"] = raw_rec(ip6(0, bytes([58, 0, 5, 2, 0, 0, 1, 0]) +
                                 bytes([130, 0, 0, 0, 0, 10, 0, 0]) + bytes(16),
                                 src=bytes([0xfe, 0x80] + [0] * 13 + [1]), dst=bytes([0xff, 2] + [0] * 13 + [1]),
                                 hop=1))
    s["igmp_query"] = raw_rec(ip4(2, bytes([0x11, 100, 0, 0, 0, 0, 0, 0]), dst=bytes([224, 0, 0, 1]), ttl=1,
                                  opts=bytes([0x94, 4, 0, 0])))
    return s


def icmp_seeds():
    s = {}
    v4 = [(3, 0), (3, 1), (3, 3), (3, 4), (3, 13), (11, 0), (12, 0), (5, 1), (4, 0)]
    v6 = [(1, 0), (1, 1), (1, 4), (2, 0), (3, 0), (4, 0), (4, 1)]
    for which in range(5):
        for t, c in v4:
            s["v4_q%d_t%d_c%d" % (which, t, c)] = bytes([which << 1, t, c, 0, 0, 0x05, 0xdc, 0])
        for t, c in v6:
            s["v6_q%d_t%d_c%d" % (which, t, c)] = bytes([1 | which << 1, t, c, 0, 0, 0x05, 0xdc, 0])
    s["v4_fragment"] = bytes([0x40, 3, 3, 0, 0, 0, 0, 0])
    s["v4_bad_cksum"] = bytes([0x20, 3, 3, 0, 0, 0, 0, 0])
    s["v4_quote_options"] = bytes([0, 3, 3, 0, 0, 0, 0, 1, 0x01])     # header length 24
    s["v4_two"] = bytes([0, 3, 1, 0, 0, 0, 0, 0]) + bytes([2, 3, 3, 0, 0, 0, 0, 0])
    return s


def steer_prefixes():
    # bits 0-2 shards-1, bit 3 hw hash, bits 4-6 RETA size, bit 7 mbuf has a hash
    return [bytes([0x00, 0, 0, 0, 0]), bytes([0x31, 0, 0, 0, 0]), bytes([0x73, 0, 0, 0, 0]),
            bytes([0x7f | 0x80, 0x12, 0x34, 0x56, 0x78])]


def steer_frames():
    f = {}
    f["tcp4"] = eth(ip4(6, tcp(40001, 80, SYN)), 0x0800)
    f["udp4"] = eth(ip4(17, udp(6000, 53, b"x")), 0x0800)
    f["tcp6"] = eth(ip6(6, tcp(40001, 80, SYN)), 0x86dd)
    f["udp6"] = eth(ip6(17, udp(6000, 53)), 0x86dd)
    f["frag4"] = eth(ip4(6, tcp(40001, 80, ACK), frag=0x2000), 0x0800)
    f["opts4"] = eth(ip4(6, tcp(40001, 80, ACK), opts=bytes([1, 1, 1, 0])), 0x0800)
    quoted4 = ip4(6, tcp(80, 40001, SYN)[:8], src=OUR4, dst=PEER4)
    f["icmp4_err"] = eth(ip4(1, bytes([3, 3, 0, 0, 0, 0, 0, 0]) + quoted4), 0x0800)
    f["icmp4_echo"] = eth(ip4(1, bytes([8, 0, 0, 0, 0, 0, 0, 0])), 0x0800)
    quoted6 = ip6(17, udp(53, 6000), src=OUR6, dst=PEER6)
    f["icmp6_err"] = eth(ip6(58, bytes([1, 4, 0, 0, 0, 0, 0, 0]) + quoted6), 0x86dd)
    f["icmp6_ns"] = eth(ip6(58, bytes([135, 0, 0, 0, 0, 0, 0, 0]) + OUR6, hop=255), 0x86dd)
    f["arp"] = arp_request()
    f["vlan"] = eth(b"\x00\x01\x08\x00" + ip4(6, tcp(1, 2, ACK)), 0x8100)
    return f


def read_pcap(path):
    """Frames of a pcap file (Ethernet link type only)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(data)
    else:
        return []        # not a capture
    if struct.unpack(end + "I", data[20:24])[0] != 1:
        return []
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def read_pcapng(data):
    """Frames of a pcapng file (tshark's default) on Ethernet interfaces."""
    frames, links, off, end = [], [], 0, "<"
    while off + 12 <= len(data):
        btype = struct.unpack(end + "I", data[off:off + 4])[0]
        if btype == 0x0a0d0d0a:
            end = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype = 0x0a0d0d0a
            links = []
        blen = struct.unpack(end + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 2:
            links.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            ifid, _, _, caplen, _ = struct.unpack(end + "IIIII", body[:20])
            if ifid < len(links) and links[ifid] == 1:
                frames.append(body[20:20 + caplen])
        off += blen
    return frames


def frame_key(f):
    """Protocol, TCP flags and a length class: what makes frames differ for
    the harnesses."""
    et = f[12:14]
    if et == b"\x08\x00" and len(f) >= 34:
        ihl = (f[14] & 15) * 4
        proto = f[23]
        t = 14 + ihl
        flags = f[t + 13] if proto == 6 and len(f) > t + 13 else 0
        thl = f[t + 12] >> 4 if proto == 6 and len(f) > t + 12 else 0
        icmp = f[t] if proto == 1 and len(f) > t else 0
        return ("4", proto, flags, thl, icmp, min(len(f) // 64, 24), (f[20] & 0x3f) != 0 or f[21] != 0)
    if et == b"\x86\xdd" and len(f) >= 54:
        nh = f[20]
        flags = f[54 + 13] if nh == 6 and len(f) > 54 + 13 else 0
        return ("6", nh, flags, f[54] if nh == 58 and len(f) > 54 else 0, min(len(f) // 64, 24))
    return (et, len(f) // 200)


def retarget(f):
    """The frame as an IP packet from the harness's peer to its shard, cut
    to what was captured; None if it is not IPv4/IPv6."""
    et, p = f[12:14], bytearray(f[14:])
    if et == b"\x08\x00" and len(p) >= 20:
        p[2:4] = struct.pack(">H", len(p))
        p[12:16], p[16:20] = PEER4, OUR4
        return bytes(p)
    if et == b"\x86\xdd" and len(p) >= 40:
        p[4:6] = struct.pack(">H", len(p) - 40)
        p[8:24], p[24:40] = PEER6, OUR6
        return bytes(p)
    return None


def write(d, name, blob):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(blob)


def ini_dict(out):
    words = set()
    with open(EXAMPLE_INI) as fh:
        for line in fh:
            line = line.strip().lstrip(";")
            m = re.match(r"^\[(\w+)\]", line)
            if m:
                words.add("[%s]" % m.group(1))
            m = re.match(r"^(\w+)\s*=", line)
            if m:
                words.add("%s = " % m.group(1))
    for w in ("[port1]", "[port7]", "[port8]", "\n", "=", ";", "#", "/24", "/64", "::", "0x",
              "true", "false", "auto", "verify", "trust", "backoff", "sleep", "poll", "--vdev=", "\""):
        words.add(w)
    with open(out, "w") as fh:
        for w in sorted(words):
            fh.write('"%s"\n' % "".join(c if c.isprintable() and c not in '\\"' else "\\x%02X" % ord(c)
                                         for c in w))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out, pcaps = sys.argv[1], sys.argv[2:]
    for name, blob in input_seeds().items():
        write(os.path.join(out, "input"), name, blob)
    for name, blob in icmp_seeds().items():
        write(os.path.join(out, "icmp"), name, blob)
    for i, pre in enumerate(steer_prefixes()):
        for name, frame in steer_frames().items():
            write(os.path.join(out, "steer"), "%s_%d" % (name, i), pre + frame)
    with open(EXAMPLE_INI, "rb") as fh:
        write(os.path.join(out, "ini"), "example.ini", fh.read())
    write(os.path.join(out, "ini"), "minimal.ini", b"[stack]\nshards = 2\n[port0]\nipv4 = 10.0.0.2/24\n")
    write(os.path.join(out, "ini"), "two_ports.ini",
          b"[eal]\nargs = --no-huge --vdev=net_ring0 \"--vdev=net_null0,a b\"\n[stack]\nshards = 1\ncores = 0\n"
          b"[port0]\nipv6 = fd00::2/64\nmtu = 1280\n[port1]\nipv4 = 192.168.1.2/16\ngateway = 192.168.0.1\n"
          b"mac = 02:00:00:00:00:01\nchecksum = trust\n")
    ini_dict(os.path.join(out, "ini.dict"))
    n = 0
    for path in pcaps:
        seen = {}
        for f in read_pcap(path):
            k = frame_key(f)
            if k in seen or len(seen) >= 300:
                continue
            seen[k] = f
        for i, f in enumerate(seen.values()):
            tag = "%s_%d" % (re.sub(r"\W", "_", os.path.basename(path)), i)
            ip = retarget(f)
            if ip is not None:
                write(os.path.join(out, "input"), "cap_" + tag, raw_rec(ip[:1514]))
            write(os.path.join(out, "steer"), "cap_" + tag, steer_prefixes()[i % 4] + f)
            n += 1
    print("seeds.py: crafted seeds and %d frames from %d captures in %s" % (n, len(pcaps), out))


if __name__ == "__main__":
    main()
