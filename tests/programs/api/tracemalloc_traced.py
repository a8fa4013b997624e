"""What tracemalloc traces of the collector's own memory (run by
tests/test_api.py).

    python tracemalloc_traced.py stdlib|gcx

With "gcx", gcx is installed first.  Builds a heap of 100,000 live
containers, starts tracemalloc and prints what it traces: right after
start(); after cyclic garbage made while tracing was dropped and collected
by a young and then a full collection (its memory freed again); and after a
gc.get_objects() whose result was dropped.  Under the stdlib collector each
is what the program itself holds; gcx's records of the heap, and the
working memory its collections keep, are its own and traced by none.
"""
import gc
import sys
import tracemalloc

if sys.argv[1] == "gcx":
    import gcx
    gcx.install()


class Node:
    """No free list keeps these (a full collection of gcx's cannot empty
    CPython's free lists: src/README.md, "Differences")."""
    __slots__ = ("other", "peer")

    def __init__(self, other):
        self.other = other
        self.peer = None


heap = [Node(None) for _ in range(50_000)]
gc.collect()


def garbage(n):
    for _ in range(n):
        a = Node(None)
        a.other = Node(a)


tracemalloc.start()
at_start = tracemalloc.get_traced_memory()[0]
garbage(20_000)
gc.collect(0)
garbage(20_000)
gc.collect()
after_collections = tracemalloc.get_traced_memory()[0]
objects = gc.get_objects()
del objects
after_get_objects = tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
print(at_start, after_collections, after_get_objects)
