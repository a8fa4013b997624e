"""A dict made before gcx was imported, and tracked only afterwards, is one
gcx finds and collects (run by tests/test_api.py).

    python dicts_tracked_after_import.py

Dicts start untracked.  Two are made before ``import gcx``; afterwards one
gets a list (so CPython tracks it) and the other joins a garbage cycle.
Prints three words: whether CPython tracks the first, whether
gcx.get_objects() lists it, and whether a gcx.collect() freed the cycle.
"""
import gc
import weakref


class N:
    pass


early, early_cycle = {}, {}
import gcx  # noqa: E402  (after the dicts, on purpose)

early["k"] = []
a = N()
early_cycle["a"] = a
a.d = early_cycle
wr = weakref.ref(a)
del a, early_cycle
gc.disable()
gcx.disable()
print(gc.is_tracked(early), any(o is early for o in gcx.get_objects()))
gcx.collect()
print(wr() is None)
