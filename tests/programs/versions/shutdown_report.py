"""The interpreter's report of uncollectable objects at shutdown.

    python -W default shutdown_report.py COLLECTOR DEBUG

COLLECTOR: "gc" (the stdlib collector) or "gcx" (gcx installed); DEBUG:
"plain" or "uncollectable" (gc.set_debug(gc.DEBUG_UNCOLLECTABLE) through
the gc module, which install() points at gcx).  Makes three reference
cycles held by objects with a legacy tp_del (gcx._gcxtest.LegacyDel): the
collector finds them uncollectable and puts the LegacyDel objects into
gc.garbage.  Prints "garbage N" and exits; CPython's own shutdown report
(a ResourceWarning, and with DEBUG_UNCOLLECTABLE the objects) goes to
stderr.
"""
import gc
import sys

import gcx
from gcx import _gcxtest

collector, debug = sys.argv[1:3]
if collector == "gcx":
    gcx.install()
if debug == "uncollectable":
    gc.set_debug(gc.DEBUG_UNCOLLECTABLE)
for _ in range(3):
    held = _gcxtest.LegacyDel()
    box = [held]
    held.ref = box
    del held, box
gc.collect()
print("garbage", len(gc.garbage))
