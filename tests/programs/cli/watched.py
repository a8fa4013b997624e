"""A program for ``gcx run --watch`` (run by tests/test_cli.py): it keeps
instances of one class, a step at a time, for the watch to see them grow.

    gcx run --watch SECONDS watched.py

Eight steps of 0.1 s, each adding 5,000 Leaky instances to a list it keeps;
then prints "done" to standard error and ends.
"""
import sys
import time


class Leaky:
    pass


kept = []
for _ in range(8):
    kept += [Leaky() for _ in range(5_000)]
    time.sleep(0.1)
print("done", file=sys.stderr)
