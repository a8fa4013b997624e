"""gcx.DEBUG_CYCLES: a summary of each collection's cycles on stderr, and
gcx.cycle_report() with what was reported.

    python debug_cycles.py

With DEBUG_CYCLES: 4 pairs and 2 trees (shapelib.py) collected in
generation 2, then 1 pair in generation 0; without it, 1 more pair
(not reported).  Prints one JSON line: [the report's collections, groups,
[[path, groups] per shape, largest first]]; stderr holds the summaries.
"""
import json

import gcx
import gcx.report  # noqa: F401  (imported by the first reporting collection
#                    otherwise: its imports (dataclasses, inspect, ast) leave
#                    class garbage that the opening collection takes here)
from shapelib import pairs, trees

assert gcx.DEBUG_CYCLES == 1 << 10
assert gcx.DEBUG_CYCLES & (gcx.DEBUG_LEAK | gcx.DEBUG_STATS) == 0
gcx.disable()
gcx.collect()
gcx.set_debug(gcx.DEBUG_CYCLES)
assert gcx.get_debug() == gcx.DEBUG_CYCLES
pairs(4)
trees(2)
gcx.collect()
pairs(1)
gcx.collect(0)
gcx.set_debug(0)
pairs(1)
gcx.collect()                    # not reported
report = gcx.cycle_report()
print(json.dumps([report.collections, report.groups,
                  [(s.path, s.groups) for s in report.top()]]))
