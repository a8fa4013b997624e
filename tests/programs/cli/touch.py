"""Creates a file: whether a program ran.

    python touch.py PATH

Creates an empty file at PATH; prints nothing.
"""
import sys

open(sys.argv[1], 'w').close()
