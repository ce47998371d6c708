"""elfscan.py - read an ELF object's sections and symbols (via readelf) and find
mutable data that is not thread-local. Shared by the derivation (derive.py),
which needs the writable symbols of a plain compile, and by the shared-nothing
checker (tests/shared-nothing/check_shared_nothing.py)."""

import re
import subprocess

# Sections that are writable in the object file but read-only at run time:
# the dynamic linker applies relocations and then mprotects them (RELRO).
RELRO_PREFIXES = (".data.rel.ro",)


def _readelf(args, obj):
    return subprocess.run(["readelf", "-W"] + args + [obj], check=True,
                          capture_output=True, text=True).stdout


def sections(obj):
    """Return {index: (name, size, flags)} for the sections of one object."""
    out = {}
    for line in _readelf(["-S"], obj).splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(.*)$", line)
        if not m or m.group(1) == "0":
            continue
        tok = m.group(2).split()
        if len(tok) < 8:
            continue
        name, size = tok[0], int(tok[4], 16)
        rest = tok[6:]
        flags = rest[0] if len(rest) == 4 else ""
        out[int(m.group(1))] = (name, size, flags)
    return out


def symbols(obj):
    """Return a list of dicts (name, type, bind, size, ndx) for one object."""
    out = []
    for line in _readelf(["-s"], obj).splitlines():
        tok = line.split()
        if len(tok) < 8 or not tok[0].endswith(":") or not tok[0][:-1].isdigit():
            continue
        out.append({"size": int(tok[2], 0) if tok[2].isdigit() else 0,
                    "type": tok[3], "bind": tok[4], "ndx": tok[6],
                    "name": tok[7]})
    return out


# ARM and AArch64 objects carry mapping symbols ($a, $t, $d, $x, optionally
# followed by '.' and anything): local, untyped labels that mark where code
# or data starts in a section (ELF for the Arm Architecture, "Mapping
# symbols"). They name no variable; a variable beside one has its own symbol.
MAPPING_SYMBOL = re.compile(r"^\$[adtx](\..*)?$")


def is_mapping_symbol(sym):
    return sym["type"] == "NOTYPE" and MAPPING_SYMBOL.match(sym["name"]) is not None


def is_shared_section(name, flags):
    """True if a section holds mutable data shared by all threads."""
    if "W" not in flags or "T" in flags:     # read-only, or TLS (.tdata/.tbss)
        return False
    if "X" in flags:                         # writable code: never expected
        return True
    return not name.startswith(RELRO_PREFIXES)


def shared_data(obj):
    """Find mutable, non-thread-local data in one object.

    Returns (symbols, anonymous): symbols is a list of (name, bind, section,
    size) for objects in shared writable sections or COMMON; anonymous lists
    (section, size) of shared writable sections with bytes but no symbol
    (e.g. file-scope compound literals), which are just as shared.
    """
    secs = sections(obj)
    found, covered = [], set()
    for s in symbols(obj):
        if s["type"] not in ("OBJECT", "NOTYPE") or not s["name"] or is_mapping_symbol(s):
            continue
        if s["ndx"] == "COM":
            found.append((s["name"], s["bind"], "COMMON", s["size"]))
            continue
        if not s["ndx"].isdigit():
            continue
        name, _size, flags = secs.get(int(s["ndx"]), ("?", 0, ""))
        if is_shared_section(name, flags):
            found.append((s["name"], s["bind"], name, s["size"]))
            covered.add(name)
    anonymous = [(n, sz) for n, sz, fl in secs.values()
                 if sz > 0 and is_shared_section(n, fl) and n not in covered
                 and fl.find("A") >= 0]
    return found, anonymous


def base_name(sym):
    """GCC names function-scope statics 'name.N', clang 'function.name';
    return 'name'."""
    parts = sym.split(".")
    if len(parts) > 1 and not parts[1].isdigit():
        return parts[1]
    return parts[0]
