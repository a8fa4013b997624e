"""PauseBudget takes over the young generations as the old one's work.

    python aged.py

Young objects made under gcx's default policy, automatic collection off
(live nodes, and cyclic garbage with a finalizer and a weakref callback
each), are in generations 0 and 1 when set_policy(PauseBudget) runs; it moves them into generation
2 unexamined (state()["aged"]), so that no young collection has to
examine them at once.  Young collections then leave them alone; the
policy's first cycle, run by churn that allocates, finds the garbage:
every finalizer and callback runs once, every live node stays intact.

Prints "ok AGED" or raises.
"""
import weakref

import gcx
from gcx import _gcx

finalized = []
called = []


class Node:
    def __init__(self, n):
        self.n = n
        self.peer = None


class Finalized(Node):
    def __del__(self):
        finalized.append(self.n)


def main():
    gcx.install()
    gcx.collect()
    gcx.disable()                   # all of it young when the policy is set
    live = [Node(i) for i in range(3000)]
    for i, node in enumerate(live):
        node.peer = live[i - 1]
    refs = []
    for i in range(300):
        a, b = Finalized(i), Node(-i)
        a.peer, b.peer = b, a
        refs.append(weakref.ref(b, lambda r: called.append(r)))
    del a, b
    young = _gcx.info()["tracked"][:2]
    assert sum(young) >= 3600, young
    policy = gcx.PauseBudget(ms=1.0)
    gcx.set_policy(policy)
    gcx.enable()
    aged = policy.state()["aged"]
    assert aged >= 3600, (aged, young)
    assert sum(_gcx.info()["tracked"][:2]) < 100, _gcx.info()["tracked"]
    _gcx.check()
    gcx.collect(1)                  # young collections: the aged are old now
    assert not finalized and not called, (len(finalized), len(called))
    churn = []
    for r in range(8000):           # until a cycle of the policy has ended
        churn.append([Node(r) for _ in range(200)])
        if len(churn) > 50:
            del churn[:25]
        if policy.state()["cycles"] >= 1:
            break
    assert policy.state()["cycles"] >= 1, policy.state()
    assert sorted(finalized) == list(range(300)), len(finalized)
    assert len(called) == 300 and all(r() is None for r in refs)
    assert all(node.n == i and node.peer is live[i - 1] for i, node in enumerate(live))
    gcx.set_policy(None)
    _gcx.check()
    print("ok", aged)


main()
