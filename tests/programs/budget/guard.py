"""PauseBudget's memory guard: a cycle whose old generations grow too much
while it runs ends at once, and state() counts it.

    python guard.py

Automatic collection is off and the policy is driven by hand (decide()),
so that the growth between a cycle's start and its next slice is exact:

1. a cycle on a heap of 100,000 records that then grows by 40,000: more
   than guard (0.25) of the old generations, but under the 50,000 records
   they may always grow by: the cycle goes on (no fallback);
2. a cycle on a heap of 260,000 that grows by 120,000 (more than both):
   the next decision ends it (one fallback), and that end is a full
   collection of what the cycle had not decided: the cyclic garbage in
   generation 2 when the cycle started is collected, every live object
   is intact.

Prints "ok FALLBACKS_AFTER_1 FALLBACKS_AFTER_2" or raises.
"""
import weakref

import gcx
from gcx import _gcx


class N:
    pass


def promote():
    """Everything young into generation 2."""
    gcx.collect(1)
    gcx.collect(1)


def grow(n):
    made = [N() for _ in range(n)]
    promote()
    return made


def start_cycle(policy):
    policy.decide(2, -1)          # the stdlib's rule asks for a full collection
    assert _gcx.incr_state()["active"], "no cycle started"


def main():
    policy = gcx.PauseBudget(ms=0.05, guard=0.25)
    gcx.install(policy=policy)
    gcx.disable()
    # the stdlib's rule runs a full collection after two young ones at
    # these thresholds (PauseBudget follows it), and promote() runs two
    gcx.set_threshold(2000, 0, 0)
    gcx.collect()

    # 1: growth under the minimum allowance
    heap = grow(100_000)
    start_cycle(policy)
    more = grow(40_000)
    policy.decide(-1, -1)
    state = policy.state()
    after_1 = state["fallbacks"]
    assert after_1 == 0 and state["active"], state
    while _gcx.incr_state()["active"]:
        policy.decide(-1, -1)      # slices to the cycle's end
    assert policy.state()["cycles"] == 1, policy.state()

    # 2: growth past both
    heap += grow(160_000)
    pairs = []
    for _ in range(1000):
        a, b = N(), N()
        a.other, b.other = b, a
        pairs.append(a)
    del a, b
    promote()                     # alive as they enter generation 2 ...
    garbage = [weakref.ref(a) for a in pairs]
    del pairs                     # ... and garbage there
    assert all(r() is not None for r in garbage)
    start_cycle(policy)
    more += grow(120_000)
    policy.decide(-1, -1)
    state = policy.state()
    after_2 = state["fallbacks"]
    assert after_2 == 1 and not state["active"] and state["cycles"] == 2, state
    assert all(r() is None for r in garbage), "the fallback's end left garbage"
    assert all(type(x) is N for x in heap) and len(heap) == 260_000
    assert all(type(x) is N for x in more) and len(more) == 160_000
    print("ok", after_1, after_2)


main()
