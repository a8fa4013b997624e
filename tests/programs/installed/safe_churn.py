"""gcx installed in safe mode keeps a churning program's garbage bounded
(run by tests/test_installed.py with GCX_MODE=safe).

    python safe_churn.py CYCLES

Asserts gcx is in safe mode, installs it, makes CYCLES garbage cycles of two
Nodes and reports peak (most Nodes alive at once) and collections (gcx's,
during the churn).
"""
import sys

import gcx
from churnlib import churn, collections, report

assert gcx.mode() == "safe"
gcx.install()
before = collections()
peak = churn(int(sys.argv[1]))
report(peak=peak, collections=collections() - before)
