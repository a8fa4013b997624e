"""Automatic young collections per allocation at a given threshold 0,
under the stdlib collector or with gcx installed (run by
tests/test_installed.py).

    python threshold_cadence.py COLLECTOR THRESHOLD0

COLLECTOR: "gc" or "gcx".  Makes 2,000 self-referencing instances with
automatic collection on at (THRESHOLD0, 10, 10) and prints how many
collections of each generation the gc callbacks saw.
"""
import gc
import sys

import gcx

collector, threshold0 = sys.argv[1], int(sys.argv[2])
if collector == "gcx":
    gcx.install()
gc.collect()
seen = [0, 0, 0]
gc.callbacks.append(lambda phase, info: phase == "start" and seen.__setitem__(
    info["generation"], seen[info["generation"]] + 1))


class Node:
    pass


gc.set_threshold(threshold0, 10, 10)
gc.enable()
for _ in range(2000):
    node = Node()
    node.me = node
gc.disable()
print(*seen)
