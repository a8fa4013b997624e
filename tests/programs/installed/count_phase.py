"""When a program's middle and full collections come, under the stdlib
collector or with gcx imported and installed on the first line (run by
tests/test_installed.py).

    python count_phase.py COLLECTOR

COLLECTOR: "gc" (gcx is never imported) or "gcx".  300,000 two-object
cycles are made and dropped; printed: for generations 0, 1 and 2 the
iterations at which each automatic collection of it began, and then, with
gcx, the counts of generations 1 and 2 gcx had before uninstall() and the
stdlib's right after it, and whether gcx reads CPython's lists.
"""
import sys

if sys.argv[1] == "gcx":
    import gcx
    gcx.install()
import gc

began = {0: [], 1: [], 2: []}
i = 0
gc.callbacks.append(lambda phase, info: phase == "start" and began[info["generation"]].append(i))


class Node:
    pass


for i in range(300_000):
    a, b = Node(), Node()
    a.other, b.other = b, a
del a, b
gc.callbacks.clear()
for generation in (0, 1, 2):
    print(*began[generation])
if sys.argv[1] == "gcx":
    before = gc.get_count()[1:]
    gcx.uninstall()
    print(*before, *gc.get_count()[1:], gcx.info()["lists_readable"])
