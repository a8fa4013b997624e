"""An incremental cycle while the program mutates the graph between slices.

    python mutate.py SEED [SLICES_PER_STEP]

Builds a seeded random graph of nodes (instances with a list of edges, some
with __del__, all weakly referenced), makes it old (two full collections),
then runs incremental cycles (gcx._gcx.incr_*) one object at a time,
mutating between slices: references moved from one node to another and the
originals dropped (the move a marker misses), new nodes pointing at old
ones, roots dropped, young and generation-1 collections, a thread doing the
same; then the sweep, one step at a time, mutating between steps (some
cycles end before it is done).  After each cycle's end the graph's reachability is computed in
Python from the roots: every reachable node must be alive with its payload
intact and never finalized; after a quiet second cycle every unreachable
node must be dead and finalized exactly once (if it has __del__).

Prints "ok CYCLES SLICES FREED SWEEP_STEPS" or raises.
"""
import random
import sys
import threading
import weakref

import gcx
from gcx import _gcx

seed = int(sys.argv[1])
per_step = int(sys.argv[2]) if len(sys.argv) > 2 else 8
rng = random.Random(seed)
gcx.install()
gcx.disable()            # the test drives every collection

FINALIZED = []


class Node:
    def __init__(self, n):
        self.edges = []
        self.payload = ("payload", n)
        self.n = n


class Fin(Node):
    def __del__(self):
        FINALIZED.append(self.n)


nodes = {}               # n -> weakref
has_del = set()          # the n of Fin nodes
count = 0


def make(old=()):
    global count
    count += 1
    node = (Fin if rng.random() < 0.3 else Node)(count)
    nodes[count] = weakref.ref(node)
    if isinstance(node, Fin):
        has_del.add(count)
    for target in old:
        node.edges.append(target)
    return node


ROOTS = []
pool = [make() for _ in range(rng.randint(100, 400))]
for node in pool:
    for _ in range(rng.randint(0, 3)):
        node.edges.append(rng.choice(pool))
ROOTS.extend(rng.sample(pool, max(1, len(pool) // 20)))
del pool, node
_gcx.collect(2)
_gcx.collect(2)


def reachable():
    seen = {}
    stack = list(ROOTS)
    while stack:
        node = stack.pop()
        if node.n in seen:
            continue
        seen[node.n] = node
        stack.extend(node.edges)
    return seen


def some_live():
    live = list(reachable().values())
    return live


def mutate():
    live = some_live()
    if not live:
        ROOTS.append(make())
        return
    kind = rng.random()
    a, b = rng.choice(live), rng.choice(live)
    if kind < 0.35 and b.edges:
        # move a reference from b to a, dropping the original
        a.edges.append(b.edges.pop(rng.randrange(len(b.edges))))
    elif kind < 0.55:
        # a new node pointing at old ones, hung on a live one (or garbage)
        fresh = make(rng.sample(live, min(len(live), 2)))
        if rng.random() < 0.7:
            a.edges.append(fresh)
    elif kind < 0.7 and len(ROOTS) > 1:
        ROOTS.pop(rng.randrange(len(ROOTS)))
    elif kind < 0.8 and a.edges:
        a.edges.pop(rng.randrange(len(a.edges)))
    elif kind < 0.87:
        _gcx.collect(rng.choice((0, 0, 1)))
    elif kind < 0.93:
        # a cycle among new nodes, hanging from an old one
        x, y = make([a]), make()
        x.edges.append(y)
        y.edges.append(x)
        b.edges.append(x)
    else:
        t = threading.Thread(target=thread_step, args=(a, b))
        t.start()
        t.join()


def thread_step(a, b):
    if b.edges:
        a.edges.append(b.edges.pop())
    a.edges.append(make([b]))


def check_live():
    live = reachable()
    for n, node in live.items():
        assert nodes[n]() is node, n
        assert node.payload == ("payload", n), (n, node.payload)
        assert n not in FINALIZED, ("a reachable node was finalized", n)
    return live


SWEEP_STEPS = [0]


def cycle(mutating):
    _gcx.incr_start([ROOTS])
    slices = 0
    while True:
        left = 1
        for _ in range(per_step):
            left = _gcx.incr_slice(0.0)
            if left == 0:
                break
        slices += 1
        if left == 0:
            break
        if mutating:
            mutate()
    # the sweep: one unmarked object and what it reaches of its kind per
    # step, collected; a mutating cycle may end before the sweep is done
    # (the memory guard's way out), leaving the rest to the end
    stop_after = rng.randrange(1, 8) if mutating and rng.random() < 0.3 else -1
    steps = 0
    while steps != stop_after and _gcx.incr_sweep(0.0):
        steps += 1
        SWEEP_STEPS[0] += 1
        if mutating:
            mutate()
            if steps % 4 == 0:
                check_live()      # nothing reachable freed mid-sweep
    found = _gcx.incr_finish()
    assert found >= 0
    return slices


cycles = slices = 0
for _ in range(3):
    slices += cycle(True)
    cycles += 1
    check_live()
# quiet cycles: what died during the mutating ones is unmarked now.  A
# cycle decides generation 2; the young generations wait for their own
# collections (the end of a whole sweep examines nothing more), which come
# with the program's allocations, so here (automatic collection is off)
# one of generations 0 and 1 before each
for _ in range(2):
    _gcx.collect(1)
    slices += cycle(False)
cycles += 2
live = check_live()
dead = [n for n, ref in nodes.items() if n not in live]
for n in dead:
    assert nodes[n]() is None, ("garbage survived two quiet cycles", n)
assert len(FINALIZED) == len(set(FINALIZED)), "finalized twice"
assert set(FINALIZED) == has_del & set(dead), "a dead node with __del__ was not finalized"
_gcx.check()
state = _gcx.incr_state()
assert not state["active"], state
print("ok", cycles, slices, len(dead), SWEEP_STEPS[0])
