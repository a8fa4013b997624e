"""A cycle report keeps no reference to what it reported.

    python keeps_nothing_alive.py

Records a pair of instances of a local class pointing at each other, drops
them and the class, collects twice.  Prints one JSON line: [objects the
first collection found, objects the second found, whether each of the two
instances and the class is dead (weakrefs), the report's shape paths].
"""
import json
import weakref

import gcx
from gcx import report as R
import shapelib  # noqa: F401  (imports what the report's hook would)

gcx.disable()
gcx.collect()
with R.record_cycles() as report:
    class Local:
        pass
    a, b = Local(), Local()
    a.peer, b.peer = b, a
    refs = [weakref.ref(a), weakref.ref(b), weakref.ref(Local)]
    del a, b, Local
    first = gcx.collect()
    again = gcx.collect()
assert report.groups >= 2, report.text()
# the objects and their class are gone: the report kept no reference
print(json.dumps([first, again, [r() is None for r in refs],
                  [s.path for s in report.top()]]))
