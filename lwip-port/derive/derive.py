#!/usr/bin/env python3
"""derive.py - make lwIP (or an application written for lwIP) per-shard by
turning every mutable file-scope and function-static variable into a C11
_Thread_local one, without editing the source it was given.

Call chain: main -> analyse_tu (per source: preprocess, plain compile, read
writable symbols, clang JSON AST) -> plan (global fixpoint over names) ->
rewrite_tu (insert _Thread_local, move address tables to a per-thread
initialiser) -> derive_headers (same edits on the public headers).

Why preprocessed text: lwIP declares some state inside macros (memory pools,
LWIP_DECLARE_MEMORY_ALIGNED); after `cc -E` every declaration is literal
text, and clang's AST gives byte offsets into exactly that text. Line markers
are kept, so compiler diagnostics still point at the original files.

Why symbols first: the plain compile's symbol table is the ground truth of
what is writable (it accounts for every #if); the AST is only used to find
where each of those symbols is declared. Every writable symbol must be found,
or the derivation fails.

Address tables: a static-storage object whose initialiser takes the address
of a thread-local object (lwIP's `tcp_pcb_lists`, memory-pool descriptors
when pools are used) has no link-time value any more. Such objects become
thread-local too, lose their top-level const and their static initialiser,
and are filled per thread by a generated function that the hook function
(`lwip_init`) calls first.
"""

import argparse
import bisect
import concurrent.futures as cf
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elfscan  # noqa: E402

TLS = "_Thread_local "


def die(msg):
    sys.stderr.write("derive: error: %s\n" % msg)
    sys.exit(1)


def mangle(path, root):
    """Must agree with string(MAKE_C_IDENTIFIER) in cmake/MlwDerive.cmake."""
    rel = os.path.relpath(path, root)
    tag = re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(rel)[0])
    return "_" + tag if tag[0].isdigit() else tag


class LineMap:
    """Maps byte offsets in a preprocessed file to (original file, line)."""

    def __init__(self, text):
        self.starts, self.where = [], []
        off, cur_file, cur_line = 0, "?", 1
        for line in text.splitlines(keepends=True):
            m = re.match(r'# (\d+) "([^"]*)"', line)
            if m:
                cur_line, cur_file = int(m.group(1)), m.group(2)
            else:
                self.starts.append(off)
                self.where.append((cur_file, cur_line))
                cur_line += 1
            off += len(line.encode())

    def lookup(self, offset):
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.where[max(i, 0)]


def walk_decls(node, func, out):
    """Collect VarDecls with their context; func is the enclosing function."""
    kind = node.get("kind")
    if kind == "FunctionDecl":
        if any(c.get("kind") == "CompoundStmt" for c in node.get("inner", [])):
            func = node.get("name")
            out["functions"].append(node)
    if kind == "VarDecl" and "name" in node:
        sc = node.get("storageClass", "")
        if func is None or sc in ("static", "extern"):
            out["vars"].append((node, func))
    for child in node.get("inner", []) or []:
        walk_decls(child, func, out)


def refs_in(node, acc):
    if node.get("kind") == "DeclRefExpr":
        rd = node.get("referencedDecl", {})
        if rd.get("kind") == "VarDecl":
            acc.add(rd.get("name"))
    for child in node.get("inner", []) or []:
        refs_in(child, acc)
    return acc


def analyse_tu(args, src, idx):
    """Preprocess, compile plainly, read writable symbols, dump the AST."""
    tag = mangle(src, args.source_root)
    work = os.path.join(args.out, "work")
    ipath = os.path.join(work, tag + ".i")
    opath = os.path.join(work, tag + ".pristine.o")
    flags = shlex.split(args.flags)
    run = lambda cmd: subprocess.run(cmd, capture_output=True, text=True)
    r = run([args.cc, "-E"] + flags + [src, "-o", ipath])
    if r.returncode:
        die("preprocessing %s failed:\n%s" % (src, r.stderr))
    r = run([args.cc, "-c", "-O0", "-w"] + flags + ["-x", "cpp-output", ipath, "-o", opath])
    if r.returncode:
        die("plain compile of %s failed:\n%s" % (src, r.stderr))
    writable, _anon = elfscan.shared_data(opath)
    # The AST pass tolerates clang errors: the text was preprocessed by the
    # build compiler, and clang rejects some GCC-only attribute forms in
    # libc headers. What matters is that every writable symbol is found
    # below; a missing one stops the derivation.
    r = subprocess.run([args.clang, "-Xclang", "-ast-dump=json", "-fsyntax-only",
                        "-w", "-ferror-limit=0", "-std=gnu11", "-x", "c", ipath],
                       capture_output=True, text=True)
    try:
        ast = json.loads(r.stdout)
    except ValueError:
        die("clang could not dump the AST of %s:\n%s" % (src, r.stderr[-4000:]))
    found = {"vars": [], "functions": []}
    for top in ast.get("inner", []):
        walk_decls(top, None, found)
    decls = []
    for node, func in found["vars"]:
        rng = node.get("range", {})
        init = None
        if node.get("init") and node.get("inner"):
            init = node["inner"][-1]
        decls.append({
            "name": node["name"], "func": func,
            "storage": node.get("storageClass", ""),
            "begin": rng["begin"]["offset"],
            "name_off": node["loc"]["offset"],
            "name_len": node["loc"].get("tokLen", len(node["name"])),
            "qualtype": node.get("type", {}).get("qualType", ""),
            "init": None if init is None else (
                init["range"]["begin"]["offset"],
                init["range"]["end"]["offset"] + init["range"]["end"].get("tokLen", 1)),
            "refs": sorted(refs_in(init, set())) if init else [],
        })
    hook = None
    for fn in found["functions"]:
        if fn.get("name") == args.init_hook:
            body = [c for c in fn["inner"] if c.get("kind") == "CompoundStmt"][0]
            hook = {"begin": fn["range"]["begin"]["offset"],
                    "body": body["range"]["begin"]["offset"]}
    return {"src": src, "tag": tag, "i": ipath, "idx": idx,
            "writable": writable, "decls": decls, "hook": hook}


def is_definition(d):
    return d["storage"] != "extern" or d["init"] is not None


def plan(tus, imported):
    """Decide, per declaration, whether it becomes thread-local, and find the
    address tables that need a per-thread initialiser (fixpoint)."""
    g_names = set(imported)
    local = {}
    for tu in tus:
        local[tu["tag"]] = set()
        for name, bind, _sec, _size in tu["writable"]:
            if bind == "LOCAL":
                local[tu["tag"]].add(elfscan.base_name(name))
            else:
                g_names.add(name)
    # Every writable symbol must have a declaration we can edit.
    for tu in tus:
        for name, bind, sec, _size in tu["writable"]:
            base = elfscan.base_name(name)
            if not any(d["name"] == base and is_definition(d) for d in tu["decls"]):
                die("writable symbol %s (%s, %s) of %s has no declaration in the "
                    "AST; refusing to produce a partly shared lwIP" % (name, bind, sec, tu["src"]))

    def targeted(tu, d):
        if d["storage"] == "static":
            return d["name"] in local[tu["tag"]]
        return d["name"] in g_names

    tables = set()   # (tag or None for global, name)
    changed = True
    while changed:
        changed = False
        for tu in tus:
            tls_here = {d["name"] for d in tu["decls"] if targeted(tu, d)}
            for d in tu["decls"]:
                if d["init"] is None or not (set(d["refs"]) & tls_here):
                    continue
                key = (tu["tag"], d["name"]) if d["storage"] == "static" else (None, d["name"])
                if key in tables:
                    continue
                if d["func"] is not None:
                    die("%s: function-static %s in %s is initialised with the address "
                        "of a per-shard variable; not supported" % (tu["src"], d["name"], d["func"]))
                tables.add(key)
                changed = True
                if key[0] is None:
                    g_names.add(d["name"])
                else:
                    local[tu["tag"]].add(d["name"])
    return g_names, local, tables, targeted


def strip_top_const(decl_text):
    """Remove the top-level const of a declaration, given its text from the
    first token up to (not including) the declared name."""
    stars = [m.end() for m in re.finditer(r"\*", decl_text)]
    if not stars:
        # Only decl-specifiers precede the name: their const is top-level.
        return re.sub(r"\b(const|__const)\b\s*", "", decl_text)
    start = stars[-1]
    m = re.search(r"\b(const|__const)\b\s*", decl_text[start:])
    if m is None:
        return decl_text
    return decl_text[:start + m.start()] + decl_text[start + m.end():]


def rewrite_tu(args, tu, g_names, local, tables, targeted):
    raw = open(tu["i"], "rb").read()
    edits = []            # (offset, remove_len, insert_bytes)
    inits = []
    seen_begin = set()
    header_edits = []
    lm = LineMap(raw.decode(errors="replace"))
    for d in tu["decls"]:
        if not targeted(tu, d):
            continue
        is_table = ((tu["tag"], d["name"]) in tables and d["storage"] == "static") or \
                   ((None, d["name"]) in tables and d["storage"] != "static")
        if d["begin"] not in seen_begin:
            seen_begin.add(d["begin"])
            edits.append((d["begin"], 0, TLS.encode()))
        file, line = lm.lookup(d["name_off"])
        if d["func"] is None and d["storage"] == "extern":
            header_edits.append((file, line, d["name"], is_table))
        if not is_table:
            continue
        head = raw[d["begin"]:d["name_off"]].decode()
        new_head = strip_top_const(head)
        if new_head != head:
            edits.append((d["begin"], len(head.encode()), new_head.encode()))
        if d["init"] is None:
            continue
        ib, ie = d["init"]
        between = raw[d["name_off"] + d["name_len"]:ib]
        eq = between.rfind(b"=")
        if eq < 0:
            die("%s: cannot find '=' of %s" % (tu["src"], d["name"]))
        tail = between[:eq]
        size = re.search(r"\[(\d+)\]$", d["qualtype"])
        if b"[]" in tail and size:
            fixed = tail.replace(b"[]", b"[" + size.group(1).encode() + b"]", 1)
            edits.append((d["name_off"] + d["name_len"], len(tail), fixed))
        start = d["name_off"] + d["name_len"] + eq
        edits.append((start, ie - start, b""))
        inits.append("  { __typeof__(%s) mlw__v = %s;\n    __builtin_memcpy(&%s, &mlw__v, sizeof mlw__v); }\n"
                     % (d["name"], raw[ib:ie].decode(), d["name"]))
    init_fn = None
    if inits:
        init_fn = "mlw__tls_init_%s" % tu["tag"]
    if tu["hook"]:
        h = tu["hook"]
        edits.append((h["begin"], 0, ("void mlw__%s_tls_init(void); " % args.name).encode()))
        edits.append((h["body"] + 1, 0, (" mlw__%s_tls_init();" % args.name).encode()))
    # Apply from the end so earlier offsets stay valid; at one offset the
    # replacement is applied first, so an insertion there lands before it.
    edits.sort(key=lambda e: (e[0], e[1] != 0), reverse=True)
    out = bytearray(raw)
    for off, n, ins in edits:
        out[off:off + n] = ins
    text = out.decode()
    text = "/* Derived by lwip-port/derive/derive.py from %s: do not edit. */\n%s" % (tu["src"], text)
    if init_fn:
        text += "\n/* Per-thread values of address tables (see derive.py). */\nvoid %s(void);\nvoid %s(void)\n{\n%s}\n" % (
            init_fn, init_fn, "".join(inits))
    dst = os.path.join(args.out, tu["tag"] + ".c")
    with open(dst + ".tmp", "w") as f:
        f.write(text)
    os.replace(dst + ".tmp", dst)
    return init_fn, header_edits


def derive_headers(args, header_edits, tables_global):
    """Copy the header tree and apply the same edits to extern declarations."""
    root = os.path.realpath(args.header_root)
    dst_root = os.path.join(args.out, "include")
    if os.path.exists(dst_root + ".tmp"):
        shutil.rmtree(dst_root + ".tmp")
    shutil.copytree(root, dst_root + ".tmp")
    per_file = {}
    for file, line, name, is_table in header_edits:
        real = os.path.realpath(file)
        if not real.startswith(root + os.sep):
            continue
        per_file.setdefault(real, {})[line] = (name, is_table)
    count = 0
    for real, lines in sorted(per_file.items()):
        rel = os.path.relpath(real, root)
        path = os.path.join(dst_root + ".tmp", rel)
        # newline="": keep each header's own line endings (some are CRLF).
        text = open(path, newline="").read().split("\n")
        for line, (name, is_table) in sorted(lines.items()):
            s = text[line - 1]
            m = re.search(r"\bextern\b", s)
            if not m or not re.search(r"\b%s\b" % re.escape(name), s):
                die("%s:%d: extern declaration of %s is not on one line starting "
                    "with 'extern'; cannot derive the header" % (real, line, name))
            if is_table:
                k = re.search(r"\b%s\b" % re.escape(name), s).start()
                s = s[:m.start()] + strip_top_const(s[m.start():k]) + s[k:]
            text[line - 1] = s[:m.start()] + TLS + s[m.start():]
            count += 1
        with open(path, "w", newline="") as f:
            f.write("\n".join(text))
    if os.path.exists(dst_root):
        shutil.rmtree(dst_root)
    os.replace(dst_root + ".tmp", dst_root)
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True, help="library name (used in generated symbols)")
    ap.add_argument("--cc", required=True)
    ap.add_argument("--clang", default="clang")
    ap.add_argument("--flags", default="", help="preprocessor/compiler flags, shell-quoted")
    ap.add_argument("--out", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--header-root", help="derive a copy of this include tree into OUT/include")
    ap.add_argument("--init-hook", default="", help="function that calls the per-thread initialiser (lwip_init)")
    ap.add_argument("--import-names", action="append", default=[], help="JSON from another derivation")
    ap.add_argument("--export-names", help="write the thread-local global names here")
    ap.add_argument("--report", help="write a human-readable report here")
    ap.add_argument("--label", default="", help="what was derived, for the report (e.g. 'lwIP 2.2.1')")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("sources", nargs="+")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "work"), exist_ok=True)
    if shutil.which(args.clang) is None:
        die("clang (%s) not found: the derivation reads clang's AST. Install the "
            "Debian package 'clang'." % args.clang)
    imported = set()
    for path in args.import_names:
        imported |= set(json.load(open(path))["thread_local_globals"])

    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        tus = list(ex.map(lambda p: analyse_tu(args, p[1], p[0]), enumerate(args.sources)))
    g_names, local, tables, targeted = plan(tus, imported)

    init_fns, header_edits = [], []
    for tu in tus:
        fn, he = rewrite_tu(args, tu, g_names, local, tables, targeted)
        if fn:
            init_fns.append(fn)
        header_edits += he
    hooked = any(tu["hook"] for tu in tus)
    if init_fns and not hooked:
        die("address tables %s need a per-thread initialiser but no source defines "
            "the hook function '%s'" % (sorted(n for _t, n in tables), args.init_hook or "(none)"))
    init_c = os.path.join(args.out, "%s_tls_init.c" % args.name)
    with open(init_c, "w") as f:
        f.write("/* Generated by derive.py: fills per-thread address tables. */\n")
        for fn in init_fns:
            f.write("void %s(void);\n" % fn)
        f.write("void mlw__%s_tls_init(void);\nvoid mlw__%s_tls_init(void)\n{\n" % (args.name, args.name))
        for fn in init_fns:
            f.write("  %s();\n" % fn)
        f.write("}\n")
    nheader = 0
    if args.header_root:
        nheader = derive_headers(args, header_edits, tables)

    variables = []
    for tu in tus:
        for name, bind, sec, size in tu["writable"]:
            variables.append({"tu": os.path.relpath(tu["src"], args.source_root),
                              "symbol": name, "bind": bind, "section": sec, "size": size})
    summary = {
        "name": args.name,
        "label": args.label,
        "variables": variables,
        "thread_local_globals": sorted(g_names),
        "address_tables": sorted(n for _t, n in tables),
        "header_declarations_edited": nheader,
    }
    if args.export_names:
        with open(args.export_names, "w") as f:
            json.dump(summary, f, indent=1)
    if args.report:
        with open(args.report, "w") as f:
            f.write("derivation %s%s: %d variables made thread-local in %d sources; "
                    "%d address tables initialised per thread (%s); %d header declarations edited\n"
                    % (args.name, " (%s)" % args.label if args.label else "", len(variables), len(tus), len(tables),
                       ", ".join(sorted(n for _t, n in tables)) or "none", nheader))
            for v in variables:
                f.write("  %-28s %-6s %-8s %5d  %s\n" % (v["symbol"], v["bind"], v["section"], v["size"], v["tu"]))
    print("derive: %s%s: %d variables thread-local, %d address tables, %d header edits"
          % (args.name, " (%s)" % args.label if args.label else "", len(variables) + len(tables),
             len(tables), nheader))


if __name__ == "__main__":
    main()
