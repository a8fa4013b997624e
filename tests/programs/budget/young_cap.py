"""PauseBudget collects generation 1 before it outgrows the budget.

    python young_cap.py

Churn where everything survives its young collection for a while (a
rolling buffer of cyclic pairs, as bench_pause.py's heap): under the
stdlib's rule generation 1 is collected every tenth young collection, with
the ten collections' survivors in it.  Under PauseBudget with a budget far
below what one of those takes, generation 1 is collected about as soon as
it holds anything, so no collection of it examines more than a few young
collections' worth.  The objects stay alive and intact either way.

Prints "ok DEFAULT_MAX BUDGET_MAX BUDGET_GEN1" (the most candidates of a
generation-1 collection under each, and how many the budget ran) or raises.
"""
import weakref

import gcx


class N:
    pass


def churn(rounds, buf, log):
    """Returns the candidates of every generation-1 collection."""
    since = gcx._gcx.pauses_since(0)[0]
    for _ in range(rounds):
        for i in range(2000):
            a, b = N(), N()
            a.o, b.o = b, a
            a.p = [i]
            buf.append(a)
        if len(buf) > 40_000:
            del buf[:20_000]
        since, pauses = gcx._gcx.pauses_since(since)
        log.extend(p[5] for p in pauses if p[2] == 1)


def main():
    gcx.install()
    buf = []
    default = []
    churn(60, buf, default)
    gcx.set_policy(gcx.PauseBudget(ms=0.05))
    budget = []
    churn(60, buf, budget)
    keep = [weakref.ref(x) for x in buf[::7]]
    assert all(r() is not None and r().o.o is r() for r in keep), "a live object was freed"
    assert default and budget, (default, budget)
    assert max(budget) * 3 < max(default), (max(budget), max(default))
    print("ok", max(default), max(budget), len(budget))


main()
