"""Marking reaches everything reachable, in slices, while the program frees
pages under it (issue 14).

A random graph of LIVE nodes (each with a list of three random nodes),
held by a module global, beside garbage of the same shape.  A cycle marks
in one-unit slices (an object or a page of the scan each); between them the
program drops and makes churn of its own, young collections run (freeing
table pages, which moves others in the page array), and it rewires live
edges.  Then: every live node was marked or decided alive by the sweep, the
sweep decided few live records (a scan that skipped what it marked ahead of
it would leave the whole graph to the sweep), every garbage node is freed,
and nothing live is.  argv: seed, live nodes.
"""
import random
import sys
import weakref

import gcx
from gcx import _gcx

seed, live = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
gcx.install()
gcx.disable()


class Node:
    __slots__ = ("near", "__weakref__")


def graph(n):
    nodes = [Node() for _ in range(n)]
    for node in nodes:
        node.near = [nodes[rnd.randrange(n)] for _ in range(3)]
    return nodes


GRAPH = graph(live)
garbage = graph(live // 4)
dead = [weakref.ref(n) for n in garbage]
alive = [weakref.ref(n) for n in GRAPH]
gcx.collect()                      # all of it old
del garbage

churn = []
_gcx.incr_start([sys.modules])
slices = 0
while _gcx.incr_slice(0.0):
    slices += 1
    if slices % 50 == 0:
        churn.append([[] for _ in range(200)])
        if len(churn) > 4:
            churn.pop(0)           # frees pages of young lists
        _gcx.collect(0)
    if slices % 7 == 0:
        a, b = GRAPH[rnd.randrange(live)], GRAPH[rnd.randrange(live)]
        a.near[rnd.randrange(3)] = b
state = _gcx.incr_state()
marked = state["marked"]
assert state["gray"] == 0 and not state["failed"], state
while _gcx.incr_sweep(1.0):       # steps that take the garbage's components whole
    pass
state = _gcx.incr_state()
found = _gcx.incr_finish()
assert found >= 0
assert state["swept_found"] + found >= 2 * (live // 4), (state, found, live)
# the garbage (a quarter of the live graph) was unmarked: the sweep
# decided it, and what only C code holds (about 3,000 records of the
# interpreter's own in a fresh process: marking starts from sys.modules);
# a scan that skipped what it marked ahead of it would leave it the graph
assert state["swept"] < live // 4 * 2 + 5000 + live // 10, (state, live)
assert marked >= 2 * live, (marked, live)
assert all(r() is not None for r in alive), "a live node was freed"
assert all(r() is None for r in dead), "garbage survived"
_gcx.check()
print("ok", slices, marked, state["swept"], state["swept_found"] + found)
