"""it_echo.py - the echo checks the integration tests' Python clients share (importable: lib.sh puts this folder on PYTHONPATH).

echo(s, data, timeout): sends data on the connected socket s while a thread
reads, and says whether exactly data came back within timeout seconds.
echo_small(s, n): sends n bytes of b"x" and reads until n bytes or EOF;
says whether they came back whole.
"""
import threading


def echo(s, data, timeout=30):
    got = bytearray()

    def reader():
        while len(got) < len(data):
            b = s.recv(1 << 16)
            if not b:
                break
            got.extend(b)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    t.join(timeout)
    return bytes(got) == data


def echo_small(s, n=1000):
    s.sendall(b"x" * n)
    got = b""
    while len(got) < n:
        b = s.recv(4096)
        if not b:
            break
        got += b
    return got == b"x" * n
