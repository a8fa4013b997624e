"""Peak RSS of a program that churns garbage cycles while keeping a heap
(run by tests/test_installed.py).

    python churn_rss.py COLLECTOR LIVE CYCLES BLOB

COLLECTOR: ``stdlib`` (the stdlib collector, as it starts), ``gcx``
(gcx.install() first) or ``none`` (gc.disable(): nothing collects).  The
program keeps LIVE small dicts, makes CYCLES garbage cycles of two Nodes
with BLOB bytes of payload each, and reports hwm (peak RSS, bytes), peak
(the most Nodes alive at once) and collector_on (gc.isenabled()).
"""
import gc
import sys

from churnlib import churn, hwm, report

COLLECTOR = sys.argv[1]
LIVE, CYCLES, BLOB = map(int, sys.argv[2:5])
if COLLECTOR == "gcx":
    import gcx
    gcx.install()
elif COLLECTOR == "none":
    gc.disable()
live = [{"i": [i]} for i in range(LIVE)]   # what the program keeps
peak = churn(CYCLES, blob=BLOB)
report(hwm=hwm(), peak=peak, collector_on=gc.isenabled())
