"""A structure only a running frame's value stack holds is marked by an
incremental cycle, not left to the sweep.

    python stack_roots.py N [policy]

A comprehension builds a list of N cyclic pairs; at its last item (the
list is then on the enclosing frame's value stack, in no local and no
object) a full collection makes every pair old, and an incremental cycle
runs with no roots but the frames: marking, then the sweep one seed at a
time.  Prints "ok", the records the sweep decided, the most one step
decided, and whether the frames were readable (gcx.info().get("frame_roots")).
With the frames as roots the sweep decides far fewer than N records; the
pairs stay alive either way (checked after the cycle).

With "policy": PauseBudget runs the cycles on its own while a comprehension
builds N self-referencing lists calling no Python function (so on 3.12 and
3.13 the frame running the comprehension has no saved stack top and the
policy works its depth out from the bytecode); prints "ok", the cycles,
the largest sweep step of any cycle, and whether the frames were readable.

With "slow": the same, but each item also goes through sorted() with a
key that is one of 40 functions whose bytecode takes about a millisecond
each to analyse (the slices run inside them, over a frame calling C): the
policy reads the comprehension's frame only once it has had time for
the key functions' code, and the sweep must wait for that.
"""
import sys

import gcx
from gcx import _gcx

n = int(sys.argv[1])


def under_policy(build):
    """build() under PauseBudget, cycles starting (and ending) while it
    runs; checks the lists and prints what the policy saw."""
    gcx.install(policy=gcx.PauseBudget(ms=1.0))
    gcx.set_threshold(2000, 2, 2)
    lists = build()
    assert len(lists) == n and all(x[1] is x for x in lists)
    state = gcx.get_policy().state()
    print("ok", state["cycles"], state["largest_step"], gcx.info().get("frame_roots"))
    sys.exit(0)


if sys.argv[2:] == ["policy"]:
    under_policy(lambda: [x for i in range(n) for x in [[i]] if x.append(x) is None])
if sys.argv[2:] == ["slow"]:
    keys = []
    for k in range(40):
        body = "".join("    if x == %d:\n        x = x + %d\n" % (k * 100 + j, j) for j in range(60))
        space = {}
        exec("def key%d(x):\n    y = [x]\n%s    return x\n" % (k, body), space)
        keys.append(space["key%d" % k])
    under_policy(lambda: [x for i in range(n) for x in [[i]]
                          if x.append(x) is None and sorted(x[:1], key=keys[i % 40])])
gcx.install()
gcx.disable()
RESULT = {}


def pair(i):
    a, b = [i], [i]
    a.append(b)
    b.append(a)
    return a


def cycle_now():
    gcx.collect()                      # all of the pairs built so far are old
    _gcx.incr_start([])
    while _gcx.incr_slice(0.01):
        pass
    while _gcx.incr_sweep(0.0):
        pass
    state = _gcx.incr_state()
    assert _gcx.incr_finish() >= 0
    RESULT.update(swept=state["swept"], step_max=state["step_max"])
    return pair(n - 1)


def build():
    return [pair(i) if i < n - 1 else cycle_now() for i in range(n)]


pairs = build()
assert len(pairs) == n and all(p[0] == i and p[1][1] is p for i, p in enumerate(pairs))
print("ok", RESULT["swept"], RESULT["step_max"], gcx.info().get("frame_roots"))
