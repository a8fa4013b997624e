"""PauseBudget collects generation 0 sooner where one young collection at
threshold 0 would overrun the budget.

    python young_limit.py

Bursts of young cyclic garbage with a weakref callback each (the HTTP
loop's responses, in miniature): under the stdlib's rule a young
collection examines about threshold 0's worth of them.  With a budget of
half what such a collection took, PauseBudget's young trigger drops below
threshold 0 and its young collections examine fewer candidates; every
garbage object is freed and what is alive stays so.

Prints "ok DEFAULT_MAX BUDGET_MAX TRIGGER" (the most candidates of a
generation-0 collection under each, and the young trigger at the end) or
raises.
"""
import statistics
import weakref

import gcx


class Node:
    pass


pending = set()      # a weakref to one object of each pair, until it dies


def burst(rounds, keep):
    for i in range(rounds):
        for _ in range(1000):
            a, b = Node(), Node()
            a.o, b.o = b, a
            a.items = [i, i + 1]
            pending.add(weakref.ref(b, pending.discard))
        if i % 50 == 0:
            keep.append(Node())


def young_pauses(since, oldest):
    since, pauses = gcx._gcx.pauses_since(since)
    # (start, duration, generation, collected, uncollectable, candidates)
    return since, [p for p in pauses if 0 <= p[2] <= oldest]


def main():
    gcx.install()
    keep = []
    since = gcx._gcx.pauses_since(0)[0]
    burst(200, keep)
    since, default = young_pauses(since, 0)
    typical = statistics.median(p[1] for p in default)
    policy = gcx.PauseBudget(ms=typical * 1000 / 2)
    gcx.set_policy(policy)
    burst(200, keep)
    # PauseBudget collects generation 1 with generation 0 when it holds
    # anything (young_cap.py): its young collections are of either
    since, budget = young_pauses(since, 1)
    trigger = policy.state()["young_trigger"]
    threshold = gcx.get_threshold()[0]
    gcx.set_policy(None)
    gcx.collect()
    assert trigger < threshold, (trigger, threshold)
    assert default and budget, (default, budget)
    most_default = max(p[5] for p in default)
    most_budget = max(p[5] for p in budget[1:])
    assert most_budget * 4 < most_default * 3, (most_budget, most_default)
    assert not pending, len(pending)
    assert all(isinstance(k, Node) for k in keep)
    print("ok", most_default, most_budget, trigger)


main()
