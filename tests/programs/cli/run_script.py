"""A script for ``python -m gcx run``: gcx is installed from its first line
and collects its garbage (runlib.py), then it exits with status 3.

    python -m gcx run run_script.py ARGS...

Prints ``argv [ARGS]``; nothing on stderr when the checks pass.
"""
import sys

from runlib import check_installed, churn

check_installed(globals())
churn()
print("argv", sys.argv[1:])
sys.exit(3)
