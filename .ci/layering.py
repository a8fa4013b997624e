"""Check that calls and writes in src/ go the way src/README.md says.

    python3 .ci/layering.py [SRC_DIR]

Every name gcx_* belongs to one file: the .c file that defines it (a
function or a global), or, for what gcx.h declares inline or as a type or
macro, the .c file named in the heading of the gcx.h section it stands in
("/* ---- ... (table.c) ---- */"), or what a header of a file's own
declares (frames.h: frames.c, lists.h: lists.c, trashcan.h: trashcan.c); names from compat.h and debug.h belong to
no file and may be used anywhere.  A file that uses a name of another file
depends on it.  The check fails when

  - a dependency is not in LAYERS below (the table at the top of
    src/README.md): a call or a read going the wrong way;
  - a global is written (=, op=, ++, --) outside the file that owns it.

It reads the sources as text (no compiler needed); it prints the
dependencies it found and each violation, one a line, and exits 1 on any.
"""
import pathlib
import re
import sys

# file -> the files it may use (src/README.md, "Layers").
LAYERS = {
    "module.c": {"collection.c", "heap.c", "schedule.c", "stats.c", "tracer.c",
                 "table.c", "probe.c", "check.c", "finalize.c", "frames.c", "memory.c",
                 "incremental.c"},
    "incremental.c": {"collection.c", "schedule.c", "stats.c", "region.c", "tracer.c",
                      "table.c", "frames.c"},
    "collection.c": {"schedule.c", "stats.c", "finalize.c", "region.c", "tracer.c",
                     "table.c", "check.c"},
    "check.c": {"table.c", "region.c", "tracer.c", "schedule.c", "stats.c", "probe.c"},
    "stats.c": {"heap.c", "tracer.c"},
    "heap.c": {"region.c", "tracer.c", "table.c", "finalize.c"},
    "finalize.c": {"region.c", "table.c", "probe.c", "frames.c", "lists.c", "tracer.c"},
    "region.c": {"tracer.c", "table.c", "probe.c", "frames.c"},
    "tracer.c": {"schedule.c", "probe.c", "table.c", "lists.c", "trashcan.c"},
    "schedule.c": set(),
    "probe.c": set(),
    "table.c": set(),
    "frames.c": set(),
    "lists.c": set(),
    "trashcan.c": set(),
    "memory.c": set(),
}

# The globals, and the one file that writes each.
GLOBALS = {
    "gcx_table": "table.c",
    "gcx_tr": "tracer.c",
    "gcx_sched": "schedule.c",
    "gcx_stats": "stats.c",
    "gcx_probed": "probe.c",
    "gcx_header_readable": "probe.c",
}

HEADING = re.compile(r"/\* -{4} (.*?) -+ \*/")
OWNER = re.compile(r"\((\w+\.c)\)")
INLINE = re.compile(r"^static inline [^(]*?\b(gcx_\w+)\s*\(", re.M)
NAME = re.compile(r"\b(gcx_\w+)\b")
# what a line of gcx.h declares: a prototype, a static inline function,
# an extern global, a typedef's name, a macro
DECLARES = re.compile(
    r"^(?:extern\s+)?(?:static\s+inline\s+)?(?:const\s+)?[A-Za-z_]\w*[\s*]+(gcx_\w+)\s*[(;\[]"
    r"|^\}\s*(gcx_\w+)\s*;"
    r"|^typedef\s+[^;(]*?\b(gcx_\w+)\s*;"
    r"|^typedef\s+[^;]*\(\*\s*(gcx_\w+)\)"
    r"|^#\s*define\s+(gcx_\w+)")
DEFINED = re.compile(r"^(gcx_\w+)\s*\(", re.M)          # return type on the line above
GLOBAL_DEF = re.compile(r"^[A-Za-z_][\w ]*?\b(gcx_\w+)\s*(?:=[^;]*)?;", re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')
WRITE = re.compile(
    r"(?:\b({g})\b(?:\s*(?:\.|->)\s*\w+|\s*\[[^\]]*\])*\s*(?:[-+*/|&^]|<<|>>)?=(?!=))"
    r"|(?:\b({g})\b(?:\s*(?:\.|->)\s*\w+|\s*\[[^\]]*\])*\s*(?:\+\+|--))"
    r"|(?:(?:\+\+|--)\s*\b({g})\b)".format(g="|".join(GLOBALS)))


def strip(text):
    """Comments and strings blanked out, line numbers kept."""
    text = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n") or " ", text)
    return STRING.sub('""', text)


def owners(src):
    """name -> owning .c file."""
    owner = {}
    header = (src / "gcx.h").read_text()
    current = None
    lines = header.splitlines()
    for i, line in enumerate(lines):
        m = HEADING.search(line)
        if m:
            o = OWNER.search(m.group(1))
            current = o.group(1) if o else None
            continue
        if current is None:
            continue
        # a static inline function's name may be on the line after its type
        joined = line + (" " + lines[i + 1] if line.startswith("static inline") else "")
        for m in DECLARES.finditer(joined.strip() if joined.startswith("}") else joined):
            owner.setdefault(next(g for g in m.groups() if g), current)
    # a header of its own (frames.h) belongs to the .c file of its name
    for path in sorted(src.glob("*.h")):
        if path.name in ("gcx.h", "compat.h", "debug.h"):
            continue
        for m in DECLARES.finditer(strip(path.read_text())):
            owner.setdefault(next(g for g in m.groups() if g), path.stem + ".c")
        for m in INLINE.finditer(path.read_text()):
            owner.setdefault(m.group(1), path.stem + ".c")
    for path in sorted(src.glob("*.c")):
        text = strip(path.read_text())
        for name in DEFINED.findall(text):
            owner[name] = path.name
        for name in GLOBAL_DEF.findall(text):
            if not text[text.find(name) - 7:text.find(name)].strip().startswith("static"):
                owner[name] = path.name
    return owner


def main(argv):
    src = pathlib.Path(argv[1] if len(argv) > 1 else
                       pathlib.Path(__file__).resolve().parent.parent / "src")
    owner = owners(src)
    problems = []
    files = sorted(p for p in src.glob("*.c"))
    missing = {p.name for p in files} - set(LAYERS)
    for name in sorted(missing):
        problems.append(f"{name}: not in LAYERS (add it to src/README.md and here)")
    for path in files:
        text = strip(path.read_text())
        uses = {}
        for name in set(NAME.findall(text)):
            dep = owner.get(name)
            if dep is not None and dep != path.name:
                uses.setdefault(dep, []).append(name)
        allowed = LAYERS.get(path.name, set())
        print(f"{path.name:14} -> {', '.join(sorted(uses)) or '-'}")
        for dep, names in sorted(uses.items()):
            if dep not in allowed:
                problems.append(f"{path.name} uses {dep} ({', '.join(sorted(names))}): "
                                "not allowed by the layering")
        for m in WRITE.finditer(text):
            name = next(g for g in m.groups() if g)
            if GLOBALS[name] != path.name:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{path.name}:{line} writes {name}, owned by {GLOBALS[name]}")
    for p in problems:
        print("layering:", p)
    print(f"layering: {len(files)} files, {len(problems)} violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
