#!/usr/bin/env python3
"""fsdata_body.py FSDATA_C PATH OUT - write the body lwIP's httpd serves for
PATH (e.g. /index.html): the "raw file data" bytes of that file in httpd's
compiled-in fsdata.c, which is what the server sends, byte for byte.

The pages under src/apps/http/fs are not always those bytes: lwIP 2.2.1's
tarball has them with LF line ends, while its fsdata.c (generated from the
CRLF files 2.1.3 still ships) holds CRLF."""
import re
import sys


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__.split("\n")[0] + "\n")
        return 2
    src, path, out = sys.argv[1:]
    lines = open(src).read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if re.match(r"/\* %s \(\d+ chars\) \*/$" % re.escape(path), line.strip()):
            start = i
            break
    if start is None:
        sys.stderr.write("fsdata_body: %s has no file %s\n" % (src, path))
        return 1
    want = None
    data = bytearray()
    for line in lines[start + 1:]:
        s = line.strip()
        m = re.match(r"/\* raw file data \((\d+) bytes\) \*/$", s)
        if m:
            want = int(m.group(1))
            continue
        if want is not None and not s.startswith("/*"):
            data += bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", s))
        if "};" in s:   # the array ends on its last data line: "0x0a,};"
            break
    if want is None or len(data) != want:
        sys.stderr.write("fsdata_body: %s: %s: expected %s bytes of raw file data, read %d\n"
                         % (src, path, want, len(data)))
        return 1
    with open(out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
