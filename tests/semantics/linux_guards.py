#!/usr/bin/env python3
"""linux_guards.py - the crafted segments of test_input_guards sent to Linux over loopback, with the same expectations: what mlwip's input guards and reset form copy.

Runs itself in a network namespace of its own (unshare -n, needs root;
otherwise exits 77 and says why). Raw IPv4 segments go out on lo through
an IPPROTO_RAW socket, Linux's answers are read with an AF_PACKET socket on
lo; the established connection's sequence numbers come from TCP_REPAIR.
"""
import fcntl
import os
import socket
import struct
import subprocess
import sys
import termios
import time

PORT = 9100


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp4(sport, dport, seq, ack, flags, opts=b'', data=b''):
    h = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, ((20 + len(opts)) // 4) << 4, flags,
                    65535, 0, 0) + opts
    a = socket.inet_aton('127.0.0.1')
    c = csum(a + a + struct.pack('!BBH', 0, 6, len(h) + len(data)) + h + data)
    h = h[:16] + struct.pack('!H', c) + h[18:]
    return struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(h) + len(data), 1, 0, 64, 6, 0, a, a) + h + data


def main():
    if os.environ.get('MLW_IN_NETNS') != '1':
        if os.geteuid() != 0:
            print('SKIP: needs root (raw sockets, unshare -n, TCP_REPAIR)')
            return 77
        env = dict(os.environ, MLW_IN_NETNS='1')
        try:
            return subprocess.call(['unshare', '-n', sys.executable, __file__], env=env)
        except OSError as e:
            print('SKIP: unshare: %s' % e)
            return 77
    subprocess.check_call(['ip', 'link', 'set', 'lo', 'up'])
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    cap.bind(('lo', 0))
    cap.settimeout(0.3)
    bad = 0

    def answer(pkt, sport):
        while True:
            try:
                cap.recv(65535, socket.MSG_DONTWAIT)
            except (BlockingIOError, TimeoutError):
                break
        raw.sendto(pkt, ('127.0.0.1', 0))
        end = time.time() + 1
        while time.time() < end:
            try:
                f = cap.recv(65535)
            except (socket.timeout, TimeoutError):
                break
            ip = f[14:]
            if ip[9] != 6:
                continue
            t = ip[(ip[0] & 15) * 4:]
            sp, dp, seq, ack, off, fl, wnd = struct.unpack('!HHIIBBH', t[:16])
            if dp == sport and sp != sport:
                answer.opts = t[20:(off >> 4) * 4]
                return fl, seq, ack, wnd
        return None

    def check(name, got, want):
        nonlocal bad
        ok = got == want
        bad += not ok
        print('  %-40s %s (want %s)%s' % (name, got, want, '' if ok else '  <-- WRONG'))

    lst = socket.socket()
    lst.bind(('127.0.0.1', PORT))
    lst.listen(8)
    # Malformed options: the SYN is answered (the segment is kept).
    for i, (name, o) in enumerate([('kind in last byte', [2, 4, 2, 0x18, 1, 1, 1, 8]),
                                   ('length 1', [2, 4, 2, 0x18, 0xfe, 1, 0, 0]),
                                   ('length past options', [2, 4, 2, 0x18, 1, 30, 8, 0])]):
        r = answer(tcp4(40000 + i, PORT, 1000, 0, 0x02, bytes(o)), 40000 + i)
        check('SYN, options ' + name, r and r[0], 0x12)
    # An MSS option of length 3 is ignored, the window scale after it taken:
    # the SYN-ACK carries a window scale option (kind 3) only then.
    r = answer(tcp4(40010, PORT, 1000, 0, 0x02, bytes([2, 3, 0, 1, 3, 3, 7, 0])), 40010)

    def kinds(o):
        i, k = 0, []
        while i < len(o) and o[i] != 0:
            k.append(o[i])
            i += 1 if o[i] == 1 else max(o[i + 1], 2)
        return k
    check('SYN, MSS length 3 then WS: WS answered', r is not None and 3 in kinds(answer.opts), True)
    # Resets: (flags, seq, ack, window).
    check('ACK to a closed port', answer(tcp4(51000, PORT + 1, 5000, 7777, 0x10), 51000),
          (0x04, 7777, 0, 0))
    check('SYN to a closed port, ack field 1234', answer(tcp4(51001, PORT + 1, 5000, 1234, 0x02), 51001),
          (0x14, 0, 5001, 0))
    check('ACK to the listener', answer(tcp4(51002, PORT, 5000, 8888, 0x10), 51002), (0x04, 8888, 0, 0))
    # No ACK in ESTABLISHED.
    c = socket.socket()
    c.connect(('127.0.0.1', PORT))
    a, _ = lst.accept()
    a.setblocking(False)
    cport = c.getsockname()[1]
    TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ = 19, 20, 21
    c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
    c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, 2)	# send queue
    snd = struct.unpack('I', c.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4))[0]
    c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, 1)	# receive queue
    rcv = struct.unpack('I', c.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4))[0]
    c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 0)

    def inq():
        return struct.unpack('i', fcntl.ioctl(a, termios.FIONREAD, b'\0\0\0\0'))[0]

    raw.sendto(tcp4(cport, PORT, snd, 0, 0x08, data=b'hello'), ('127.0.0.1', 0))
    raw.sendto(tcp4(cport, PORT, snd, 0, 0x01), ('127.0.0.1', 0))
    time.sleep(0.1)
    check('PSH without ACK, then FIN: bytes queued', inq(), 0)
    try:
        eof = a.recv(10) == b''
    except BlockingIOError:
        eof = False
    check('  ... end of file seen', eof, False)
    raw.sendto(tcp4(cport, PORT, snd, rcv, 0x18, data=b'hello'), ('127.0.0.1', 0))
    time.sleep(0.1)
    check('PSH|ACK: bytes queued', inq(), 5)
    print('Linux %s: %s' % (os.uname().release, 'as mlwip' if bad == 0 else '%d differences' % bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
