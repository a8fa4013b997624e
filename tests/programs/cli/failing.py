"""A module that writes ``x`` (no newline) to stdout, then divides by zero
at module level, on line 9.

    python -m failing
"""
import sys

sys.stdout.write('x')
1 / 0
