"""Naming a frame's locals gives the frame nothing new (run by
tests/test_report.py).

    python frame_locals.py

Makes 5 garbage cycles of an exception, its traceback and the frame of the
function that caught it (whose local ``kept`` holds the exception), records
them with DEBUG_SAVEALL and collects.  Prints one JSON line: the objects the
collection found, the dicts among them, the frames in gcx.garbage that refer
to a dict (3.12's frame.f_locals would have given each function frame one),
and the report's shape paths.
"""
import gc
import json

import gcx
from gcx import report as R
from shapelib import errors

gc.disable()
gcx.disable()
gcx.collect()
with R.record_cycles() as report:
    gcx.set_debug(gcx.DEBUG_SAVEALL)
    errors(5)
    found = gcx.collect()
    gcx.set_debug(0)
frames = [o for o in gcx.garbage if type(o).__name__ == "frame"]
print(json.dumps([found, sum(type(o) is dict for o in gcx.garbage),
                  sum(any(type(r) is dict for r in gcx.get_referents(f)) for f in frames),
                  [s.path for s in report.top()]]))
