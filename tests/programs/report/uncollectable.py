"""A cycle report counts uncollectable members (a legacy tp_del finalizer
in a cycle, from gcx._gcxtest).

    python uncollectable.py

Prints one JSON line: [the report's uncollectable count, the top shape's,
the top shape's type names, sorted].
"""
import json

import gcx
from gcx import _gcxtest, report as R

gcx.disable()
gcx.collect()
with R.record_cycles() as report:
    legacy = _gcxtest.LegacyDel()
    legacy.ref = _gcxtest.Box(legacy)
    del legacy
    gcx.collect()
gcx.garbage.clear()
shape = report.top()[0]
print(json.dumps([report.uncollectable, shape.uncollectable, sorted(shape.types)]))
