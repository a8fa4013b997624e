"""R.record_cycles() blocks nest: each sees the collections made while it
is open, and leaving both leaves no listener behind.

    python nested_records.py

Outer block: 2 pairs, then an inner block (collect=True) with 3
self-holding lists, then 1 pair and a collection.  Prints one JSON line:
[outer groups, inner groups, listeners left].
"""
import json

import gcx
from gcx import report as R
from shapelib import lists, pairs

gcx.disable()
gcx.collect()
with R.record_cycles() as outer:
    pairs(2)
    with R.record_cycles(collect=True) as inner:
        lists(3)
    pairs(1)
    gcx.collect()
print(json.dumps([outer.groups, inner.groups, len(R._listeners)]))
