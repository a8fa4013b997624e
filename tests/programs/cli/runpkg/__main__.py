"""``python -m gcx run -m runpkg ARGS...``: gcx is installed from the
package's first line (runlib.py, found on PYTHONPATH: tests/programs/cli).

Prints ``runpkg.__main__ [ARGS]`` (its __spec__.name, its arguments).
"""
import sys

from runlib import check_installed

check_installed(globals())
print(__spec__.name, sys.argv[1:])
