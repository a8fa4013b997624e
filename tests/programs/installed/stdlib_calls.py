"""While gcx is installed, calls through the gc module reach gcx, and the
stdlib collector stays off, or serves as gcx's trigger, collecting nothing
itself (src/tracer.c, K1) (run by tests/test_installed.py).

    python stdlib_calls.py

Asserts, step by step: gc.collect() runs gcx's collection and not the
stdlib's; gc.disable()/enable() switch gcx's automatic collection (the
stdlib's stays off); thresholds, debug flags, garbage, counts, freezing,
callbacks and stats are gcx's; a stdlib gc.collect bound before install()
still runs the stdlib collector, after which gcx's table checks out and gcx
keeps collecting; uninstall() gives back the stdlib's functions, lists,
thresholds and enabled state.  Reports ok=True at the end.
"""
import gc
import sys
import weakref

import gcx
from churnlib import INT_MAX, Node, churn, collections, report, stdlib_gc, stdlib_triggers

real = stdlib_gc()
early_collect = gc.collect          # bound before install: the stdlib's
gc.set_threshold(700, 5, 3)
gcx.install()


def cycle():
    a, b = Node(), Node()
    a.peer, b.peer = b, a
    return weakref.ref(a)


# collect(): gcx collects; the stdlib collector does nothing
real_stats, gcx_stats = real.get_stats(), gcx.get_stats()
ref = cycle()
assert gc.collect() >= 2 and ref() is None
assert real.get_stats() == real_stats
assert gcx.get_stats()[2]["collections"] == gcx_stats[2]["collections"] + 1

# disable()/enable(): gcx's automatic collection; the stdlib stays off
gc.disable()
assert not gcx.isenabled() and not real.isenabled() and not gc.isenabled()
before = collections()
refs = [cycle() for _ in range(20_000)]
assert collections() == before, "collected while disabled"
assert all(r() is not None for r in refs)
gc.enable()
assert gcx.isenabled() and real.isenabled() is stdlib_triggers() and gc.isenabled()
churn(20_000)
assert collections() > before and all(r() is None for r in refs)

# thresholds, debug flags, counts, freezing: gcx's
gc.set_threshold(100)
assert gcx.get_threshold() == (100, 5, 3) == gc.get_threshold()   # 5, 3: carried over by install()
assert real.get_threshold() == ((100, 0, INT_MAX) if stdlib_triggers() else (700, 5, 3))
gc.collect()                        # leftovers of the churn above
gc.set_debug(gc.DEBUG_SAVEALL)
assert gcx.get_debug() == gc.DEBUG_SAVEALL and real.get_debug() == 0
ref = cycle()
gc.collect()
assert len(gcx.garbage) == 2 and gc.garbage is gcx.garbage and real.garbage == []
gc.garbage.clear()
gc.set_debug(0)
assert gc.get_count is gcx.get_count
frozen_by_stdlib = real.get_freeze_count()
gc.freeze()
assert gcx.get_freeze_count() > 0
if sys.version_info >= (3, 13) and not stdlib_triggers():
    # (3.12: while installed, gcx keeps CPython's generation lists in its
    # permanent generation; CPython's own trigger freezes them at each
    # collection: its count then says nothing about freeze())
    assert real.get_freeze_count() == frozen_by_stdlib == 0
gc.unfreeze()
assert gc.callbacks is gcx.callbacks and gc.get_stats() == gcx.get_stats()

# a stdlib function bound before install still runs the stdlib
# collector; gcx stays consistent and keeps collecting afterwards
ref = cycle()
assert early_collect() >= 2 and ref() is None
assert real.get_stats()[2]["collections"] == real_stats[2]["collections"] + 1
gcx._gcx.check()
before = collections()
churn(20_000)
assert collections() > before

gcx.uninstall()
assert gc.collect is early_collect and gc.garbage is real.garbage
assert gc.isenabled() and real.isenabled()
assert gc.get_threshold() == (700, 5, 3)
ref = cycle()
assert gc.collect() >= 2 and ref() is None
report(ok=True)
