"""A script run by ``python -m gcx run`` that churns garbage cycles on the
main thread (run by tests/test_installed.py).

    python -m gcx run run_churn.py CYCLES BLOB

Asserts that it runs as __main__ with gcx installed and the stdlib collector
off (or serving as gcx's trigger: src/tracer.c, K1); makes CYCLES garbage cycles of two Nodes with BLOB bytes each; reports
peak (most Nodes alive at once), collections (gcx's, during the churn), hwm
(peak RSS, bytes) and argv (sys.argv[1:]).
"""
import sys

import gcx
from churnlib import churn, collections, hwm, report, stdlib_gc, stdlib_triggers

assert __name__ == "__main__" and gcx.is_installed()
assert stdlib_gc().isenabled() is stdlib_triggers()
CYCLES, BLOB = int(sys.argv[1]), int(sys.argv[2])
before = collections()
peak = churn(CYCLES, blob=BLOB)
report(peak=peak, collections=collections() - before, hwm=hwm(), argv=sys.argv[1:])
