"""How often full collections run while a heap is built and then churned:
under the stdlib's collector, or under PauseBudget (which starts a cycle
where the stdlib's rule would run a full collection, and must not start
them more often because it collects generation 1 early).

    python count.py stdlib|budget

The program: a heap of 300,000 live nodes built in steps, with cyclic
garbage made between them (so young collections run as in real
programs), then 200 rounds of churn that promote a little each.  Prints
"ok FULL_COLLECTIONS": the stdlib's full collections (gc.callbacks), or
PauseBudget's cycles and stop-the-world ones.  Checks that every piece of
garbage was freed by a final gc.collect() and no live node was.
"""
import gc
import sys
import weakref


class Node:
    def __init__(self, n):
        self.n = n
        self.kids = []


def main():
    config = sys.argv[1]
    fulls = 0
    if config == "budget":
        import gcx
        policy = gcx.PauseBudget(ms=1.0)
        gcx.install(policy=policy)
        mirror = gcx
    else:
        mirror = gc

        def count(phase, info):
            nonlocal fulls
            fulls += phase == "start" and info["generation"] == 2
        gc.callbacks.append(count)
    freed = [0]

    def on_free(_):
        freed[0] += 1

    live = []
    refs = []
    for step in range(300):
        live.extend(Node(step * 1000 + k) for k in range(1000))
        for _ in range(50):                     # cyclic garbage, young
            a, b = Node(-1), Node(-1)
            a.kids.append(b)
            b.kids.append(a)
            refs.append(weakref.ref(a, on_free))
        del a, b
    keep = []
    for r in range(200):                        # churn: some survive a while
        keep.append([Node(-2) for _ in range(300)])
        if len(keep) > 20:
            dead = keep.pop(0)
            dead[0].kids.append(dead)           # a cycle, old when it dies
            refs.append(weakref.ref(dead[0], on_free))
            del dead
    del keep
    if config == "budget":
        fulls = policy.state()["cycles"] + policy.state()["stop_the_world"]
        gcx.uninstall()
    mirror.collect()
    assert freed[0] == len(refs), (freed[0], len(refs))
    assert all(node.n == i for i, node in enumerate(live))
    print("ok", fulls)


main()
