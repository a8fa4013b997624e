"""A sweep step decided in the slice after its gathering (S4 of
src/incremental.c), while the program changes the step's members between
the two slices.

    python deferred_step.py SIZE

A structure of SIZE nodes in one list, each node referring to the list, is
made old and is held only by C code (atexit's arguments), so marking from
sys.modules never reaches it and the sweep takes it whole as one step.
The sweep runs one seed a step (incr_sweep(0.0): every step deferred).
When the structure's step is gathered and waits for its decision, the
program, before the next slice:

  * frees a tenth of the nodes (their one reference dropped: the records
    of gathered members vanish);
  * moves another tenth to a young list outside the step (references from
    outside that gathering never saw), each no longer referring to the list;
  * on the second run (MODE "garbage"), unregisters the atexit call, so the
    rest of the structure is garbage when the step is decided.

Then the step is decided: nothing freed is touched (ASan), every moved node
is alive with its payload, and in "garbage" mode the rest is found by that
very step; in "live" mode the rest stays alive, and is garbage to a
stop-the-world collection only once unregistered.

Prints "ok MODE PENDING FOUND_IN_STEP DEFERRED" or raises.
"""
import atexit
import sys
import weakref

import gcx
from gcx import _gcx

size = int(sys.argv[1])
mode = sys.argv[2]
gcx.install()
gcx.disable()            # the program drives every collection


class Home(list):
    """The structure's list; weakly referenceable, so the program can reach
    it without holding it."""


class Node:
    __slots__ = ("home", "payload", "__weakref__")


def noop(*args):
    pass


def build():
    home = Home()
    for i in range(size):
        n = Node()
        n.home = home
        n.payload = ("payload", i)
        home.append(n)
    atexit.register(noop, home)
    return weakref.ref(home), [weakref.ref(n) for n in home]


home_ref, node_refs = build()
for _ in range(2):
    gcx.collect()        # old: generation 2

_gcx.incr_start([sys.modules])
while _gcx.incr_slice(0.0):
    pass

outside = []             # young: references from outside the step
moved = []
pending = 0
found_in_step = None
while True:
    state = _gcx.incr_state()
    if state["pending"] >= size and not pending:
        # the structure's step waits for its decision: change it
        pending = state["pending"]
        home = home_ref()
        for i in range(0, size, 10):
            home[i] = None                   # freed now
        for i in range(5, size, 10):
            outside.append(home[i])          # moved out, and no longer
            home[i].home = None              # holding the list
            moved.append(i)
            home[i] = None
        del home
        if mode == "garbage":
            atexit.unregister(noop)
        found_before = state["swept_found"]
        if not _gcx.incr_sweep(0.0):
            break
        found_in_step = _gcx.incr_state()["swept_found"] - found_before
        continue
    if not _gcx.incr_sweep(0.0):
        break
deferred = _gcx.incr_state()["deferred"]
_gcx.incr_finish()

assert pending >= size, ("the structure was never one pending step", pending)
for i in range(0, size, 10):
    assert node_refs[i]() is None, ("a freed node is alive", i)
for n, i in zip(outside, moved):
    assert n.payload == ("payload", i) and node_refs[i]() is n, ("a moved node", i)
    assert n.home is None
rest = [i for i in range(size) if i % 10 not in (0, 5)]
if mode == "garbage":
    # found by the step itself: the list and what it alone held
    assert found_in_step >= len(rest), (found_in_step, len(rest))
    assert home_ref() is None and all(node_refs[i]() is None for i in rest)
else:
    assert home_ref() is not None and all(node_refs[i]() is not None for i in rest)
    atexit.unregister(noop)
    gcx.collect()
    assert home_ref() is None and all(node_refs[i]() is None for i in rest)
outside.clear()
del n
gcx.collect()
assert all(r() is None for r in node_refs)
print("ok", mode, pending, found_in_step, deferred)
