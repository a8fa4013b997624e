"""Garbage larger than a step's allowance of done records is found in the
cycle that sweeps it, even in one-seed steps (issue 14; S1 of
src/incremental.c).

A random graph of NODES __slots__ nodes (each with a list of three random
nodes of the graph), made after a live one four times its size, becomes
garbage once old.  One-seed steps each close
over what their seed reaches, and the nodes that refer into that set but
are not reached from it count as references from outside: the first steps
find the garbage alive.  A later pass with a larger allowance must decide
it whole.  argv: seed, nodes.
"""
import random
import sys
import weakref

import gcx
from gcx import _gcx

seed, nodes = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
gcx.install()
gcx.disable()


class Node:
    __slots__ = ("near", "__weakref__")


live = [Node() for _ in range(4 * nodes)]
for n in live:
    n.near = [live[rnd.randrange(4 * nodes)] for _ in range(3)]
garbage = [Node() for _ in range(nodes)]
for n in garbage:
    n.near = [garbage[rnd.randrange(nodes)] for _ in range(3)]
refs = [weakref.ref(n) for n in garbage]
gcx.collect()                     # old, and still alive
del garbage, n

_gcx.incr_start([sys.modules])
while _gcx.incr_slice(0.01):
    pass
steps = 0
while _gcx.incr_sweep(0.0):       # one seed and what it reaches a step
    steps += 1
state = _gcx.incr_state()
found = _gcx.incr_finish()
assert found >= 0
left = sum(r() is not None for r in refs)
assert left == 0, ("garbage outlived its cycle", left, state)
assert all(len(n.near) == 3 for n in live)
_gcx.check()
print("ok", steps, state["passes"], state["swept_found"] + found)
