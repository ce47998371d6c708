#!/usr/bin/env python3
"""check_shared_nothing.py - fail if any object keeps mutable data outside
thread-local storage (.tdata/.tbss).

Usage: check_shared_nothing.py [--allow FILE] [--expect-shared MIN] PATH...
PATH is an object (.o), a static library (.a) or a folder (every .o in it).

Read-only-after-relocation data (.data.rel.ro*) is allowed. Exceptions are
listed in the --allow file, one "symbol  reason" per line; an exception that
no longer matches anything is reported, so the list cannot go stale.

--expect-shared MIN inverts the verdict, for the checker's own test: succeed
only if at least MIN shared variables are found (a pristine lwIP must fail).
--expect-from NAMES.JSON expects exactly the variables a derivation listed.
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lwip-port", "derive"))
import elfscan  # noqa: E402


def objects(path, tmp):
    if os.path.isdir(path):
        for root, _dirs, files in os.walk(path):
            for f in sorted(files):
                if f.endswith(".o"):
                    yield os.path.join(root, f), os.path.join(root, f)
    elif path.endswith(".a"):
        dest = tempfile.mkdtemp(dir=tmp)
        members = subprocess.run(["ar", "t", path], check=True, capture_output=True,
                                 text=True).stdout.split()
        for i, m in enumerate(members):
            # Members may share a name: 'ar xN k' extracts the k-th of them.
            sub = os.path.join(dest, str(i))
            os.mkdir(sub)
            count = members[:i + 1].count(m)
            subprocess.run(["ar", "xN", str(count), os.path.abspath(path), m],
                           check=True, cwd=sub)
            out = os.path.join(sub, m)
            yield out, "%s(%s)" % (path, m)
    else:
        yield path, path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--allow", help="file of allowed 'symbol reason' lines")
    ap.add_argument("--expect-shared", type=int, default=None)
    ap.add_argument("--expect-from", help="names.json of a derivation: expect exactly "
                    "the variables it made thread-local")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()

    if args.expect_from:
        import json
        expected = json.load(open(args.expect_from))["variables"]
        args.expect_shared = len(expected)
    allowed = {}
    if args.allow:
        for line in open(args.allow):
            line = line.strip()
            if line and not line.startswith("#"):
                sym, _, reason = line.partition(" ")
                allowed[sym] = reason.strip()
    used = set()
    shared, nobj = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for p in args.paths:
            if not os.path.exists(p):
                print("check_shared_nothing: %s does not exist" % p)
                return 2
            for obj, label in objects(p, tmp):
                nobj += 1
                syms, anon = elfscan.shared_data(obj)
                for name, bind, sec, size in syms:
                    if name in allowed:
                        used.add(name)
                        continue
                    shared.append((label, name, bind, sec, size))
                for sec, size in anon:
                    shared.append((label, "(anonymous)", "-", sec, size))

    for label, name, bind, sec, size in shared:
        print("SHARED  %-30s %-6s %-10s %6d  %s" % (name, bind, sec, size, label))
    for sym in sorted(set(allowed) - used):
        print("STALE EXCEPTION  %s (%s): matches nothing any more" % (sym, allowed[sym]))
    print("check_shared_nothing: %d objects, %d shared mutable variables, %d allowed exceptions"
          % (nobj, len(shared), len(used)))
    if nobj == 0:
        print("check_shared_nothing: no objects found: nothing was checked")
        return 1
    if args.expect_shared is not None:
        if args.expect_from:
            ok = len(shared) == args.expect_shared
            what = "exactly"
        else:
            ok = len(shared) >= args.expect_shared
            what = "at least"
        print("self-test: expected %s %d shared variables: %s"
              % (what, args.expect_shared, "found" if ok else "NOT found"))
        return 0 if ok else 1
    stale = set(allowed) - used
    return 1 if shared or stale else 0


if __name__ == "__main__":
    sys.exit(main())
