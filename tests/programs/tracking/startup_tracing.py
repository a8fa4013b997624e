"""Tracking parity when gcx is imported while tracemalloc holds the
reference tracer slot (run by tests/test_tracking.py).

    GCX_MODE=MODE python -X tracemalloc=2 startup_tracing.py MODE

Started with ``-X tracemalloc``, so tracemalloc traces from start-up.  MODE
(``tracer``, ``alloc`` or ``safe``) is gcx's mode, set through the environment; the
program asserts gcx chose it and owns the slot anyway.  With the checks of
test_tracking (imported from tests/): freed lists get fresh tracebacks and
tracemalloc still works; the resizes and resurrection scenarios keep
parity; parity holds after a churn of garbage cycles, after gcx.collect(0)
and the stdlib's collect(), and after tracemalloc is stopped and started
again.  Prints "OK" at the end; a failed check raises (exit status 1).
"""
import os
import sys
import tracemalloc

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS_DIR)

import gcx  # noqa: E402
import test_tracking as T  # noqa: E402
from gcx import _gcx  # noqa: E402

mode = sys.argv[1]
assert tracemalloc.is_tracing()
assert gcx.mode() == mode, (gcx.mode(), mode)
assert _gcx.info()["owner"] is T.holds_slot(mode)
T._quiesce()
T._freelist_traceback_is_current()
T._tracemalloc_works("traced since start-up")
for name in ("resizes", "resurrection"):
    T._quiesce()
    T.run_scenario(name)
Node = T._fresh_classes()[0]
keep = []
for i in range(20_000):
    n = Node()
    n.l = [n, {"i": (i, [i])}]              # garbage cycles
    if i % 1000 == 0:
        keep.append(n)
T.assert_parity("churn while traced", keep)
gcx.collect(0)
T.assert_parity("gcx.collect(0) while traced", keep)
T.STDLIB["collect"]()
T.assert_parity("gc.collect() while traced", keep)
assert tracemalloc.is_tracing()
T._freelist_traceback_is_current()
T._tracemalloc_works("still traced")
# the allocator wrapper: in alloc and lists modes, and on 3.12 in every mode
# (there it also counts allocations)
wrapped = mode in ("alloc", "lists") or not T.HAS_TRACER
wraps = _gcx.info()["allocator_wraps"]
assert wraps == (1 if wrapped else 0), wraps
tracemalloc.stop()
T.assert_parity("tracemalloc.stop()")
if wrapped:
    # stop() put back the allocator tracemalloc found at start-up, which
    # gcx's wrapper was not part of: gcx saw that, wrapped it again, and
    # dropped the records of what died meanwhile (the parity check)
    assert _gcx.info()["allocator_wraps"] == 2, _gcx.info()["allocator_wraps"]
tracemalloc.start()
T._freelist_traceback_is_current()
T.assert_parity("tracemalloc.start() again")
tracemalloc.stop()
print("OK", flush=True)
