"""A gcx collection while the trashcan drains (CPython 3.14+ crash).

A 24,000-deep chain of objects with __del__ is freed in a thread, so
CPython defers most of the deallocations to its trashcan: 3.14+ by the C
stack left, in a thread of 256 KiB, which the chain could never be freed
in recursively; 3.13 by depth, in a thread of 4 MiB (stock 3.13 crashes
freeing such a chain in 1 MiB, with or without gcx);
each __del__ makes container garbage, and the threshold is low, so gcx
collects many times while the chain drains.  On 3.14+ an object waiting in
the trashcan has reference count 0 but still reads as tracked: a collector
that believes it pins and finalizes a freed object and frees it again.

    python trashcan_drain.py

Prints "collections N dels D" and exits 0; D must be 24000.  Checks gcx's
table invariants (gcx._gcx.check()) at the end.
"""
import sys
import threading

import gcx

dels = [0]


class Node:
    def __init__(self, child):
        self.child = child

    def __del__(self):
        dels[0] += 1
        junk = [[] for _ in range(30)]      # container churn: collections start
        del junk


def body():
    node = None
    for _ in range(24000):
        node = Node(node)
    del node                                 # the deep chain dies in this thread


gcx.install()
gcx.set_threshold(100, 10, 10)
before = len(gcx.recent_pauses())
old = threading.stack_size((256 if sys.version_info >= (3, 14) else 4096) * 1024)
try:
    t = threading.Thread(target=body)
    t.start()
    t.join()
finally:
    threading.stack_size(old)
collections = len(gcx.recent_pauses()) - before
gcx._gcx.check()
print("collections", collections, "dels", dels[0])
