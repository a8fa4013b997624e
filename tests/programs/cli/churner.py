"""A module for ``python -m gcx run -m churner``: gcx is installed from its
first line and collects its garbage (runlib.py, which the test copies
beside it), then it exits with status 5.

    python -m gcx run -m churner ARGS...

Prints ``argv [ARGS] SAME NAME``: SAME is whether sys.argv[0] is this
file's __file__, NAME its __spec__.name.
"""
import sys

from runlib import check_installed, churn

check_installed(globals())
churn()
print("argv", sys.argv[1:], sys.argv[0] == __file__, __spec__.name)
raise SystemExit(5)
