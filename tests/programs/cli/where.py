"""Whether the current directory is first on sys.path (the test copies this
file to its current directory and runs it with -m).

    python -m where

Prints ``True`` or ``False``.
"""
import os
import sys

print(sys.path[0] == os.getcwd())
