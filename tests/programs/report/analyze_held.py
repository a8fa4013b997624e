"""R.analyze() over objects the caller holds (gcx.garbage under
DEBUG_SAVEALL) rather than a recording.

    python analyze_held.py

Saves three garbage pairs of shapelib.Pair and analyzes gcx.garbage.
Prints one JSON line: [groups, the top shape's path, collections].
"""
import json

import gcx
from gcx import report as R
from shapelib import pairs

gcx.disable()
gcx.collect()
gcx.set_debug(gcx.DEBUG_SAVEALL)
pairs(3)
gcx.collect()
report = R.analyze(gcx.garbage)
assert len(gcx.garbage) == 6
print(json.dumps([report.groups, report.top()[0].path, report.collections]))
