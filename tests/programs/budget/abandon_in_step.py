"""A finalizer abandons the cycle whose sweep step runs it (run by
tests/test_budget.py).

    python abandon_in_step.py [N]

PauseBudget is the policy; a garbage ring of N instances (more than a step's
arrays keep, 4,096 pages) is decided by one sweep step, and a finalizer in
it calls gcx.set_policy() with a new PauseBudget, which abandons the cycle
and frees its work arrays.  The step must return into that without touching
them (it read freed arrays: a segfault).  Prints "ok"."""
import sys
import gcx

N = int(sys.argv[1]) if len(sys.argv) > 1 else 320_000
gcx.install(policy=gcx.PauseBudget(ms=1.0))

class Node:
    __slots__ = ("next", "__weakref__")

class Fin(Node):
    __slots__ = ()
    def __del__(self):
        gcx.set_policy(gcx.PauseBudget(ms=1.0))

first = Fin()
node = first
for i in range(N):
    n = Node()
    node.next = n
    node = n
node.next = first
del node, n
gcx.collect()
del first                            # old garbage: left for a PauseBudget cycle

keep = []
for r in range(200):                  # the program goes on: long-lived data grows
    keep.append([[i] for i in range(20_000)])
    st = gcx.get_policy().state()
assert st["cycles"] >= 1, st
print("ok")
