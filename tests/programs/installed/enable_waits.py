"""When automatic collection comes after gc.enable() or gc.set_threshold()
finds generation 0's count already past threshold 0, under the stdlib
collector or with gcx installed (run by tests/test_installed.py).

    python enable_waits.py COLLECTOR MODE

COLLECTOR: "gc" or "gcx".  With automatic collection off, 500 lists are
kept (the count past threshold 0 = 100), then MODE "enable" calls
gc.enable(), MODE "threshold" (collection on at threshold 10,000) lowers
threshold 0 to 100 instead.  Then the program allocates objects that are
not containers (ints, floats, strings, bytes) for a while, and then one
instance.  Prints how many collections the gc callbacks saw after the
non-containers, and after the instance (once one came, or 10,000 loop
iterations later): the stdlib asks for a collection only when a container
is allocated, so "0 1".  (Everything that makes containers, function and
class definitions included, comes before.)
"""
import gc
import sys

import gcx

collector, mode = sys.argv[1], sys.argv[2]
seen = []


class Box:
    pass


def scalars():
    total = 0
    for i in range(2_000):       # ints, floats, strings and bytes: no containers
        total += len(str(i * 1.5)) + len(b"x" * (i % 7))
    return total


def one_container(before):
    box = Box()                  # a container (not a list: lists may come from a
                                 # free list, which CPython does not count)
    total = 0
    for i in range(10_000):      # the pending call runs at an eval-breaker check
        if len(seen) > before:
            break
        total += i
    return box


def on_gc(phase, info):
    if phase == "start":
        seen.append(info["generation"])


if collector == "gcx":
    gcx.install()
scalars()        # its first run makes a container on 3.12 (caches), once
gc.disable()
gc.collect()
gc.callbacks.append(on_gc)
if mode == "threshold":
    gc.set_threshold(10_000, 10, 10)
    gc.enable()
else:
    gc.set_threshold(100, 10, 10)
kept = [[i] for i in range(500)]
if mode == "threshold":
    gc.set_threshold(100, 10, 10)
else:
    gc.enable()
scalars()
after_scalars = len(seen)
one_container(after_scalars)
gc.disable()
print(after_scalars, len(seen) - after_scalars)
