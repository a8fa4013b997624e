"""gcx takes the reference tracer slot back from a tracer that does nothing
and rebuilds its records (run by tests/test_api.py).

    python noop_tracer.py

bench_tracking measures CPython's tracer hook alone by putting a tracer that
does nothing in the slot: gcx misses every event then.  The program makes
3000 garbage self-cycles and 3000 live lists gcx never hears of, then asserts
that gcx.collect() frees exactly the cycles, that gcx owns the slot again
after a resync, that it tracks the lists, and that the table checks out.
Prints "ok".
"""
import gc

import gcx

gc.disable()
gcx.disable()
gcx.collect()          # garbage from start-up (3.14: gcx's self-test thread's) first
gcx._gcx.noop_tracer()
assert not gcx.info()["owner"]
resyncs = gcx.info()["resyncs"]


class Node:
    pass


made = []
for i in range(3000):
    n = Node()
    n.self = n                       # garbage gcx never hears of
    made.append([i])                 # live containers it never hears of
del n
assert gcx.collect() == 3000
assert gcx.info()["owner"] and gcx.info()["resyncs"] > resyncs
assert all(gcx.is_tracked(x) for x in made)
gcx._gcx.check()
print("ok")
