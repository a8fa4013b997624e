"""Old garbage whose weakrefs (with callbacks) are held by other garbage,
collected by the stdlib or by gcx with PauseBudget installed (run by
tests/test_budget.py).

    python weakref_elsewhere.py COLLECTOR N

COLLECTOR: "gc" or "budget".  Makes N pairs: a referent in a cycle of its
own, and a weakref to it whose callback is in a cycle with the weakref,
held by a second cycle that the referent does not reach (bpo-38006's
shape).  All of it is made old, then dropped at once; the program then
churns (cycles of small lists) until the collector has found the
garbage (under the budget only the policy collects: the program calls no
gc.collect() once the garbage is made), and prints how many callbacks ran
(the stdlib: 0, the weakrefs are garbage too) and whether every referent
is gone.
"""
import gc
import sys
import weakref

import gcx

collector, n = sys.argv[1], int(sys.argv[2])
if collector == "budget":
    gcx.install(policy=gcx.PauseBudget(ms=0.5))
called = []


class Node:
    pass


def pair(i):
    referent = Node()
    referent.me = referent
    referent.pad = [referent, i]
    box = [None]

    def callback(ref, box=box):           # callback -> box -> weakref -> callback
        called.append(i)
    ref = weakref.ref(referent, callback)
    box[0] = ref
    holder = Node()                       # another cycle holds the weakref
    holder.me = holder
    holder.ref = ref
    return referent, holder


gc.collect()
made = [pair(i) for i in range(n)]
watch = [weakref.ref(referent) for referent, holder in made]
gc.collect()
gc.collect()                              # all of it old
del made
keep = []
for rounds in range(2000):                # churn until the garbage is found
    keep.append([[i] for i in range(2000)])
    if len(keep) > 30:
        del keep[:15]
    if collector == "gc" and rounds == 0:
        gc.collect()
    if all(w() is None for w in watch[::97]) and all(w() is None for w in watch):
        break
print(len(called), all(w() is None for w in watch))
