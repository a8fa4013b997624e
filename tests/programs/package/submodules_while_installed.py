"""Every module of the gcx package imported for the first time while gcx is
installed still reaches the stdlib collector, and uninstall() restores the
gc module (run by tests/test_package.py).

    python submodules_while_installed.py

Captures the gc module's public attributes before importing gcx, installs
gcx, then imports every module of the package (enumerated with pkgutil, so a
new one is covered) that ``import gcx`` did not import already, and the
pytest plugin gcx_pytest; then uninstalls.  Prints, one per line:

    listed [modules enumerated, JSON]
    imported [those imported here for the first time, JSON]
    changed [gc attributes not the originals, or added, or removed]
    collect BOOL (gc.collect is the stdlib's builtin again)
    stdlib collects BOOL BOOL (gc.collect() ran the stdlib's collection, not
        gcx's, and freed a cycle; the stdlib collector is enabled again)
    watch BOOL BOOL BOOL (a CycleWatch, from gcx.testing, switched the
        stdlib's automatic collection off inside its block and on after, and
        heard the stdlib's collection)
    report BOOL BOOL (record_cycles, from gcx.report, found a cycle and left
        the stdlib collector enabled)
    cli BOOL (the CLI's stdlib column uses the stdlib's get_threshold)
"""
import gc
import importlib
import json
import pkgutil
import sys
import types
import weakref


def public(module):
    return {name for name in dir(module) if not name.startswith("_")}


originals = {name: getattr(gc, name) for name in public(gc)}
import gcx  # noqa: E402  (after the capture, on purpose)

gcx.install()
listed = sorted(f"gcx.{m.name}" for m in pkgutil.iter_modules(gcx.__path__)) + ["gcx_pytest"]
imported = [name for name in listed if name not in sys.modules]
for name in imported:
    importlib.import_module(name)
gcx.uninstall()
print("listed", json.dumps(listed))
print("imported", json.dumps(imported))

# Every stdlib gc attribute is the original again, and no other is there.
changed = sorted(name for name in public(gc) | set(originals)
                 if getattr(gc, name, None) is not originals.get(name))
print("changed", changed)
print("collect", gc.collect is originals["collect"]
      and type(gc.collect) is types.BuiltinFunctionType and gc.collect.__self__ is gc)


# The stdlib collector is reachable and works: gc.collect() is its
# collection (its full-collection count rises, gcx's does not).
class Node:
    pass


a, b = Node(), Node()
a.other, b.other = b, a
ref = weakref.ref(a)
del a, b
gcx.disable()
stdlib_full, gcx_full = (m.get_stats()[2]["collections"] for m in (gc, gcx))
collected = gc.collect()
print("stdlib collects",
      collected >= 2 and ref() is None
      and gc.get_stats()[2]["collections"] > stdlib_full
      and gcx.get_stats()[2]["collections"] == gcx_full,
      gc.isenabled())
gcx.enable()

# The modules imported while gcx was installed work the stdlib
# collector, not gcx's: a CycleWatch turns the stdlib's automatic
# collection off for the block (gcx not installed) and back on,
# and hears the stdlib's explicit collections through gc.callbacks.
from gcx.testing import CycleWatch  # noqa: E402

watch = CycleWatch()
watch.start()
inside = gc.isenabled()
a, b = Node(), Node()
a.other, b.other = b, a
del a, b
originals["collect"]()
report = watch.stop()
print("watch", inside, gc.isenabled(), report.stdlib_collected >= 2)

# The garbage hook of gcx.report keeps the stdlib collector as it was.
from gcx.report import record_cycles  # noqa: E402

with record_cycles() as report:
    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    gcx.collect()
print("report", report.groups >= 1, gc.isenabled())

# The CLI's stdlib column is the stdlib's.
import gcx._overview as cli  # noqa: E402

print("cli", cli.gc.get_threshold is originals["get_threshold"])
