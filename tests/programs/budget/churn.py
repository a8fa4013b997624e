"""PauseBudget as the policy of automatic collection, under churn.

    python churn.py MS

A live heap (module-level and a local of main()) of linked instances,
weakly referenced, and churn: pairs in cycles kept a while in a rolling
buffer, then dropped (they reach generation 2 first, so full collections
are due).  Under gcx.install(policy=gcx.PauseBudget(ms=MS)): the live heap
must stay alive and intact, cycles must complete, and garbage dropped long
ago must be collected; mid-cycle, get_objects() and is_tracked() still see
the old generation, gc.collect() is a full stop-the-world collection that
abandons the cycle, and freeze() keeps what it froze.

Prints "ok CYCLES SLICES ABANDONED" or raises.
"""
import sys
import weakref

import gcx

ms = float(sys.argv[1])


class N:
    pass


HEAP = [N() for _ in range(50_000)]


def churn(rounds, buf):
    for r in range(rounds):
        for i in range(2000):
            a, b = N(), N()
            a.o, b.o = b, a
            a.p = [i]
            buf.append(a)
        if len(buf) > 30_000:
            del buf[:15_000]


def main():
    gcx.install(policy=gcx.PauseBudget(ms=ms))
    policy = gcx.get_policy()
    local = [N() for _ in range(50_000)]
    for x, y in zip(local, HEAP):
        x.peer = y
    refs = [weakref.ref(x) for x in local[::97] + HEAP[::89]]
    buf = []
    old_garbage = []
    for _ in range(100):
        a, b = N(), N()
        a.o, b.o = b, a
        old_garbage.append(weakref.ref(a))
    del a, b
    churn(200, buf)
    state = policy.state()
    assert state["cycles"] >= 1, state
    assert state["slices"] >= 1, state
    assert all(r() is not None for r in refs), "a live object was freed"
    assert all(x.peer is y for x, y in zip(local, HEAP))
    assert all(r() is None for r in old_garbage), "old garbage survived the cycles"

    # mid-cycle: get_objects, is_tracked, freeze, gc.collect(2)
    while not gcx._gcx.incr_state()["active"]:
        churn(1, buf)
    objs = gcx.get_objects(2)
    assert any(o is HEAP for o in objs)
    assert gcx.is_tracked(HEAP)
    frozen_cycle = N()
    frozen_cycle.me = frozen_cycle
    fref = weakref.ref(frozen_cycle)
    gcx.freeze()
    del frozen_cycle
    churn(20, buf)
    assert fref() is not None, "a frozen object was collected"
    gcx.unfreeze()
    while True:
        # old garbage made mid-cycle (a short cycle may have ended meanwhile:
        # then again)
        while not gcx._gcx.incr_state()["active"]:
            churn(1, buf)
        dropped = N()
        dropped.me = dropped
        dref = weakref.ref(dropped)
        gcx.collect(0)
        gcx.collect(1)
        del dropped
        if gcx._gcx.incr_state()["active"]:
            break
    before = policy.state()["abandoned"]
    gcx.collect()
    assert dref() is None, "gc.collect() mid-cycle did not collect everything"
    assert fref() is None, "unfrozen garbage survived gc.collect()"
    assert policy.state()["abandoned"] == before + 1, policy.state()
    assert not gcx._gcx.incr_state()["active"]
    churn(50, buf)
    assert all(r() is not None for r in refs), "a live object was freed"
    gcx._gcx.check()
    state = policy.state()
    assert state["slice_max"] > 0 and state["slice_p99"] <= state["slice_max"]
    print("ok", state["cycles"], state["slices"], state["abandoned"])


main()
