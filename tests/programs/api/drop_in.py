"""gcx as a drop-in for the gc module: the same script under each
(run by tests/test_api.py).

    python drop_in.py MODULE

MODULE is ``gc`` (``import gc``) or ``gcx`` (``import gcx as gc``).  The
script disables automatic collection, collects, registers a callback, sets
thresholds and debug flags, collects a two-Node cycle at generations 2 and 0
(with DEBUG_SAVEALL the second time), reads the stats, freezes and
unfreezes, asserting what the stdlib documents at each step; then prints the
module's __name__ and the callback's (phase, generation) log.
"""
import sys

if sys.argv[1] == "gc":
    import gc
else:
    import gcx as gc
import weakref  # noqa: E402


class Node:
    pass


def cycle():
    a, b = Node(), Node()
    a.b, b.a = b, a
    return weakref.ref(a)


log = []
gc.disable()
assert not gc.isenabled()
gc.collect()
gc.callbacks.append(lambda phase, info: log.append((phase, info["generation"])))
gc.set_threshold(100, 5, 5)
assert gc.get_threshold() == (100, 5, 5)
wr = cycle()
assert gc.collect() == 2 and wr() is None
gc.set_debug(gc.DEBUG_SAVEALL)
wr = cycle()
assert gc.collect(generation=0) == 2
assert [type(o) for o in gc.garbage] == [Node, Node]
gc.garbage.clear()
gc.set_debug(0)
assert gc.get_debug() == 0
stats = gc.get_stats()
assert stats[2]["collections"] >= 2 and stats[0]["collections"] >= 1
del gc.callbacks[:]
gc.freeze()
assert gc.get_freeze_count() > 0
gc.unfreeze()
assert gc.is_tracked([]) and not gc.is_tracked(1)
print(gc.__name__, log)
