"""The collection CPython runs at exit, before modules are torn down.

    python exit_collection.py COLLECTOR STATE

COLLECTOR: "gc" (the stdlib collector) or "gcx" (gcx installed).  STATE:
"enabled", or "disabled" (gc.disable() through the gc module, which
install() points at gcx: then no collection at exit).  Leaves a cycle whose
finalizer imports a module and one held by a legacy tp_del object (with
DEBUG_UNCOLLECTABLE), registers a gc callback, and exits without
collecting.  What the finalizer and the callback see goes to stdout;
CPython's shutdown report to stderr.
"""
import gc
import sys

import gcx
from gcx import _gcxtest

collector, state = sys.argv[1:3]
if collector == "gcx":
    gcx.install()
if state == "disabled":
    gc.disable()
gc.set_debug(gc.DEBUG_UNCOLLECTABLE)


def report(phase, info):
    if phase == "stop":
        print("callback: generation", info["generation"], "collected", info["collected"],
              "uncollectable", info["uncollectable"], flush=True)


class Importer:
    def __del__(self):
        try:
            import json  # noqa: F401  (a module not imported yet)
            print("finalizer: import ok", flush=True)
        except BaseException as e:
            print("finalizer:", type(e).__name__, flush=True)


gc.collect()                 # nothing of the start-up is left for the exit
assert "json" not in sys.modules
gc.callbacks.append(report)
cycle = Importer()
cycle.self = cycle
held = _gcxtest.LegacyDel()
box = [held]
held.ref = box
del cycle, held, box
print("end of main", flush=True)
