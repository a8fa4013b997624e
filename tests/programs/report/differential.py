"""What gcx collects with and without a cycle report being recorded.

    python differential.py MODE

MODE is ``plain`` (no report) or ``record`` (inside R.record_cycles()).
Makes every shape of shapelib.py plus finalizers, resurrections, weakref
callbacks, an uncollectable legacy finalizer and a garbage class, collects
in generations 0, 1, 2, 2, then once more with DEBUG_SAVEALL.  Prints one
JSON line: results (each collection's count), counts (finalizers and
weakref callbacks run), saved (type names in gcx.garbage), survivors,
dead (weakrefs dead), stats (per generation), materialized (objects in
gcx.garbage whose managed __dict__ exists) and groups (the report's, None
when plain).  Both collectors' automatic collection is off.
"""
import ctypes
import gc
import json
import sys
import weakref

import gcx
from gcx import _gcxtest
from gcx import report as R
from shapelib import Pair, closures, dicts, errors, lists, pairs, slotted, trees


class Finalized(Pair):
    def __del__(self):
        counts["finalized"] += 1


class Phoenix(Pair):
    def __del__(self):
        survivors.append(self)          # resurrects itself


counts = {"finalized": 0, "callbacks": 0}
survivors = []
watchers = []


def make_everything():
    trees(20); pairs(20); slotted(5); lists(5); errors(5); closures(5); dicts(5)  # noqa: E702
    for i in range(10):
        a, b = Finalized(), Phoenix() if i % 3 == 0 else Pair()
        a.peer, b.peer = b, a
        watchers.append(weakref.ref(b, lambda r: counts.__setitem__(
            "callbacks", counts["callbacks"] + 1)))
    legacy = _gcxtest.LegacyDel()
    legacy.ref = _gcxtest.Box(legacy)

    class Local:                         # a class, garbage once dropped
        pass
    Local.me = Local


gcx.disable()
gc.disable()    # the stdlib collector's timing depends on allocations, which recording changes
gcx.collect()
mode = sys.argv[1]
results = []
recorder = R.record_cycles() if mode == "record" else None
if recorder is not None:
    report = recorder.__enter__()
for generation in (0, 1, 2, 2):
    make_everything()
    results.append(gcx.collect(generation))
gcx.set_debug(gcx.DEBUG_SAVEALL)
make_everything()
results.append(gcx.collect())
saved = sorted(type(o).__name__ for o in gcx.garbage)


def has_dict(o):
    """Whether o, an instance whose attributes CPython keeps without a dict
    until asked for one, has a __dict__ now.  The word 3 words before the
    object says: 3.13+ (Py_TPFLAGS_INLINE_VALUES) keep the managed dict
    pointer there, NULL until a dict exists; 3.12 (Py_TPFLAGS_MANAGED_DICT)
    keeps the dict or, tagged with its low bit, the inline values."""
    word = ctypes.c_void_p.from_address(id(o) - 3 * ctypes.sizeof(ctypes.c_void_p)).value
    if sys.version_info >= (3, 13):
        return bool(type(o).__flags__ & (1 << 2) and word)
    return bool(type(o).__flags__ & (1 << 4) and word and not word & 1)


# nothing in gcx.garbage got a __dict__ it did not have
materialized = sum(1 for o in gcx.garbage if has_dict(o))
gcx.set_debug(0)
if recorder is not None:
    recorder.__exit__(None, None, None)
print(json.dumps({"results": results, "counts": counts, "saved": saved,
                  "survivors": len(survivors), "dead": sum(w() is None for w in watchers),
                  "stats": [{k: s[k] for k in ("collections", "collected", "uncollectable")}
                            for s in gcx.get_stats()],
                  "materialized": materialized,
                  "groups": report.groups if recorder else None}))
