"""A script run by a relative path (the test copies it to its current
directory).

    python -m gcx run rel.py ARGS...

Prints ``__file__ [ARGS]`` on one line.
"""
import sys

print(__file__, sys.argv[1:])
