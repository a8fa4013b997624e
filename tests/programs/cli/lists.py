"""A program for ``python -m gcx compare PROGRAM`` that only allocates.

    python lists.py

Makes a list of 1000 empty lists; prints nothing.
"""
x = [[] for _ in range(1000)]
