"""Instructions spent inside gcx.collect(), for valgrind's callgrind.

    valgrind --tool=callgrind '--toggle-collect=m_collect*' \
        python benchmarks/cg_collect.py young|full

Counts instructions, not seconds, so two builds compare exactly on a busy
machine: a heap of 100,000 pairs of instances (each with a list and a tuple)
is collected once, then five times either 1,000 new garbage pairs are
collected young, or 20,000 garbage pairs in a full collection.  Only the
code under the _gcx module's collect() counts (--toggle-collect).
"""
import gc, sys
import gcx
gc.disable(); gcx.disable()
shape = sys.argv[1]
class Node:
    pass
def build(n):
    out = []
    for i in range(n):
        a = Node(); b = Node(); a.peer = b; b.peer = a; a.items = [i, (i,)]; out.append(a)
    return out
live = build(100000)
gcx.collect()
for r in range(5):
    if shape == "young":
        junk = build(1000); del junk
        gcx.collect(0)
    else:
        junk = build(20000); del junk
        gcx.collect(2)
