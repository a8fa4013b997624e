"""A collection whose finalizer allocates more containers than threshold 0
(run by tests/test_installed.py):

    python finalizer_allocates.py [stock]

A cycle with a __del__ that makes 3,000 lists is left to automatic
collection; after the collection that finalizes it, generation 0's count
is already past the threshold, and the stdlib schedules the next
collection at the next allocation.  Prints how many allocations after the
first collection the second one began.
"""
import gc
import json
import sys

if sys.argv[-1] != "stock":
    import gcx
    gcx.install()

keep = []


class Allocating:
    def __init__(self):
        self.me = self

    def __del__(self):
        keep.extend([[] for _ in range(3000)])


starts = []
gc.collect()
gc.callbacks.append(lambda phase, info: phase == "start" and starts.append(info["generation"]))
Allocating()
junk = []
while not starts:
    junk.append([])            # until the collection that finalizes it
first = len(junk)
while len(starts) < 2 and len(junk) < first + 10_000:
    junk.append([])
gc.callbacks.clear()
print("RESULT " + json.dumps({"allocations_to_next": len(junk) - first, "starts": starts}))
