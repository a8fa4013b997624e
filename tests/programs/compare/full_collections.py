"""A program whose automatic collections include full ones under the
stdlib's rule: a live heap that grows by a list every fourth step while
pairs of instances in reference cycles are made and dropped (run by
tests/test_compare.py through ``gcx compare --policy ...``).

    python full_collections.py STEPS [SAFE_EVERY]

STEPS steps of one garbage pair each; with SAFE_EVERY, every SAFE_EVERY
steps the program calls gcx.safe_point() when gcx was imported (a policy
with deferred full collections runs them only there).  Prints nothing.
"""
import sys


class Pair:
    pass


steps = int(sys.argv[1])
safe_every = int(sys.argv[2]) if len(sys.argv) > 2 else 0
gcx = sys.modules.get("gcx")
kept = []
for i in range(steps):
    a, b = Pair(), Pair()
    a.peer, b.peer = b, a
    if i % 4 == 0:
        kept.append([i])
    if safe_every and i % safe_every == 0 and gcx is not None:
        gcx.safe_point()
