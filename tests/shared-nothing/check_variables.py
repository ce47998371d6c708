#!/usr/bin/env python3
"""check_variables.py NAMES.JSON EXPECTED - compare the variables a derivation
made thread-local (and its address tables) with the list kept for that lwIP
version (tests/shared-nothing/lwip-VERSION.vars), and print both
differences. A new lwIP version or configuration that adds or drops shared
state then shows up as a failing test naming the variables, not only as a
changed count.

EXPECTED lines: "SOURCE SYMBOL" (a variable; function statics by their
name, without the compiler's ".N" suffix) or "table SYMBOL" (an address
table); '#' starts a comment. Exit 77 when EXPECTED does not exist (an lwIP
version without a list: nothing to compare with)."""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lwip-port", "derive"))
import elfscan  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: check_variables.py NAMES.JSON EXPECTED\n")
        return 2
    names, expected_path = sys.argv[1:]
    summary = json.load(open(names))
    label = summary.get("label") or summary["name"]
    if not os.path.exists(expected_path):
        print("check_variables: SKIP: no list of expected variables for %s (%s); "
              "the derivation's report lists what it found" % (label, expected_path))
        return 77
    got = collections.Counter("%s %s" % (v["tu"], elfscan.base_name(v["symbol"]))
                              for v in summary["variables"])
    got.update("table %s" % t for t in summary["address_tables"])
    want = collections.Counter()
    for line in open(expected_path):
        line = line.split("#", 1)[0].strip()
        if line:
            want[" ".join(line.split())] += 1
    missing, extra = want - got, got - want
    for k in sorted(extra.elements()):
        print("NEW      %s (made thread-local, not in %s)" % (k, os.path.basename(expected_path)))
    for k in sorted(missing.elements()):
        print("MISSING  %s (listed, not found by the derivation)" % k)
    print("check_variables: %s: %d variables and %d address tables, %d expected; %s"
          % (label, len(summary["variables"]), len(summary["address_tables"]),
             sum(want.values()), "identical" if not (missing or extra) else "DIFFERENT"))
    return 0 if not (missing or extra) else 1


if __name__ == "__main__":
    sys.exit(main())
