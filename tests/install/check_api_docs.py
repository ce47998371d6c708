#!/usr/bin/env python3
"""check_api_docs.py INCLUDE_DIR [HTML_DIR [WARNINGS_FILE]] - every function a
public header exports (MLW_EXPORT) has a Doxygen comment (/** ... */ right
before it, or /**< ... */ on its line), and, given the generated API
reference, appears in it; Doxygen's warnings file, given, is empty. Prints
what is missing; "N passed, M failed" at the end."""
import glob
import os
import re
import sys


def exported(text):
    """(name, documented) of every MLW_EXPORT declaration in a header."""
    out = []
    for m in re.finditer(r"^MLW_EXPORT\b[^;{]*?\b(mlw_\w+)\s*\(", text, re.M | re.S):
        name = m.group(1)
        before = text[:m.start()].rstrip()
        line_end = text.find("\n", m.start())
        line = text[m.start():line_end if line_end >= 0 else len(text)]
        doc = False
        if before.endswith("*/"):
            start = before.rfind("/*")
            doc = start >= 0 and before[start:start + 3] in ("/**", "/*!")
            # a comment that documents the previous member (/**<) does not count
            doc = doc and not before[start:].startswith("/**<")
        # declarations sharing one comment: a run of MLW_EXPORT lines under it
        if not doc:
            prev = before.rsplit("\n", 1)[-1].strip()
            if prev.endswith(";") and prev.startswith("MLW_EXPORT"):
                doc = None  # decided by the first of the run (below)
        if "/**<" in line:
            doc = True
        out.append([name, doc])
    for i, item in enumerate(out):
        if item[1] is None:
            item[1] = out[i - 1][1] if i > 0 else False
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: check_api_docs.py INCLUDE_DIR [HTML_DIR]")
    inc, html = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
    warnings = sys.argv[3] if len(sys.argv) > 3 else None
    html_text = ""
    if html:
        for f in glob.glob(os.path.join(html, "*.html")):
            html_text += open(f, errors="replace").read()
    passed = failed = 0
    for h in sorted(glob.glob(os.path.join(inc, "mlwip", "*.h"))):
        for name, doc in exported(open(h).read()):
            ok = True
            if not doc:
                print("FAIL: %s: %s() has no Doxygen comment (/** ... */ before it)"
                      % (os.path.basename(h), name))
                ok = False
            if html and not re.search(r"\b%s\b" % re.escape(name), html_text):
                print("FAIL: %s() is not in the API reference %s" % (name, html))
                ok = False
            passed += ok
            failed += not ok
    if html and not os.path.exists(os.path.join(html, "index.html")):
        print("FAIL: no API reference at %s (build the 'docs' target)" % html)
        failed += 1
    if warnings:
        text = open(warnings).read().strip() if os.path.exists(warnings) else ""
        if text:
            print("FAIL: Doxygen warned (%s):\n%s" % (warnings, text))
            failed += 1
    if passed + failed == 0:
        print("FAIL: no MLW_EXPORT function found under %s" % inc)
        failed = 1
    print("api docs: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
