"""When lists mode reads births (run by tests/test_tracking.py, GCX_MODE=lists).

    python births_wait.py

Installed with the stdlib's automatic collection rule, gcx reads what
CPython tracked only when a collection is due (G9 of src/schedule.c), and
so it does under a policy where CPython's own trigger serves (G10: 3.13.3+):
a container that lives a few thousand allocations and dies before the next
collection is never recorded.  Otherwise births are read every few hundred
allocations.  For each variant the program keeps a rolling window of 400
live containers (each new one dropping the oldest: CPython's count of
generation 0 stays near 400, below threshold 0, so no collection is due)
for 20,000 of them, and prints the births gcx counted meanwhile (info() reads
what is alive at its call too), and the collections that ran:

    default N C      installed, automatic collection on, no policy
    disabled N C     the same after gc.disable()
    policy N C T     with a policy that decides in Python (gcx.set_policy);
                     T: 1 where CPython's trigger served meanwhile
    young N C        back to the default

then the young collections of a run that does reach threshold 0, so that
the read before a collection is seen to come when it must.
"""
import collections
import gc

import gcx

gcx.install()


class Box:
    """A container CPython keeps no free list of."""
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def window(n=20_000, keep=400):
    live = collections.deque()
    gc.collect()   # CPython's count from 0
    before = gcx.info()["births"]
    runs = sum(s["collections"] for s in gc.get_stats())
    for i in range(n):
        live.append(Box(i))
        if len(live) > keep:
            live.popleft()
    births = gcx.info()["births"] - before
    return births, sum(s["collections"] for s in gc.get_stats()) - runs


def report(label):
    births, runs = window()
    print(label, births, runs, int(gcx.info()["trigger"] == "cpython"))


report("default")
gc.disable()
report("disabled")
gc.enable()


gcx.set_policy(gcx.Policy(adaptive=True))   # decided in Python
report("policy")
gcx.set_policy(None)
report("young")

# a window of 6,000: CPython's count passes threshold 0, and each
# collection reads what is alive first
live = collections.deque()
gc.collect()
young_before = gc.get_stats()[0]["collections"]
for i in range(20_000):
    live.append(Box(i))
    if len(live) > 6_000:
        live.popleft()
print("reached", gc.get_stats()[0]["collections"] - young_before)
gcx._gcx.check()
