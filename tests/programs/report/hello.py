"""A program for ``python -m gcx report`` that makes no cycles.

    python hello.py

Prints ``hello``.
"""
print('hello')
