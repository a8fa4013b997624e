"""gcx in lists mode, installed and not (run by tests/test_versions.py):
births read from CPython's own generation lists, deaths from the allocator
wrapper.  CPython 3.12's only exact mode; GCX_MODE=lists on 3.13+.

    python lists_mode.py

Checks that the lists are read directly (O(new containers), the layout
proven at import); that cycles made before and after a stdlib gc.freeze()
are found, and the stdlib's frozen count is left as the program made it;
that automatic collection finds cycles made after install(); that the
stdlib's own get_objects and get_referrers still see every object while
gcx is installed (gcx moves nothing out of CPython's lists); that
uninstall() leaves a cycle gcx left behind to the stdlib's collector; and
that gcx's table is sound throughout.  Prints OK.
"""
import gc
import weakref

import gcx
from gcx import _gcx, _stdlib


class N:
    pass


def cycles(n, every=1000, keep=None):
    refs = []
    for i in range(n):
        a = N()
        a.self = a                  # a garbage cycle once the loop moves on
        if keep is not None:
            keep.append(a)
        if i % every == 0:
            refs.append(weakref.ref(a))
    return refs


info = _gcx.info()
assert info["mode"] == "lists" and info["owner"] is False, info
assert info["lists_readable"] is True, info

# not installed: a gcx collection finds what was made since the last read,
# whichever stdlib generation it is in by now
gc.disable()
keep = []
refs = cycles(3000, keep=keep)
gc.collect(0)                       # the stdlib moves them to its generation 1
refs += cycles(3000, keep=keep)
gc.collect(1)                       # ... and all of them to its generation 2
refs += cycles(3000, keep=keep)
del keep
assert gcx.collect() >= 9000 and not any(r() for r in refs)
gc.enable()
_gcx.check()

# the program's own gc.freeze(), before install(): gcx's marker is frozen
# with everything else, and stays so (the stdlib's count is the program's)
gc.collect()
frozen_by_program = [{"frozen": [i]} for i in range(100)]
gc.freeze()
frozen_before = _stdlib.get_freeze_count()
gc.disable()
refs = cycles(2000)
frozen_now = _stdlib.get_freeze_count()   # (what the program froze and freed since is gone)
# a read: the marker stays frozen.  (Births are read every 1,024
# allocations, automatic collection on or off, so the frozen containers
# freed meanwhile may have counted down the young count, as CPython's own
# count does for every container freed.)
assert gcx.get_count()[0] >= 2000 - (frozen_before - frozen_now)
assert _stdlib.get_freeze_count() == frozen_now
assert gcx.collect() >= 2000 and not any(r() for r in refs)
gc.enable()
# (gcx's full collection untracks tuples and dicts as the stdlib's does, the
# frozen ones too, which the stdlib's never sees: the count may drop)
frozen_before = _stdlib.get_freeze_count()
assert _stdlib.get_freeze_count() == frozen_before
_gcx.check()

before = {"made": "before install()", "list": []}
births = _gcx.info()["births"]
gcx.install()
refs = cycles(30_000)
alive = sum(r() is not None for r in refs)
assert alive <= 1, f"{alive} of {len(refs)} cycles survived automatic collection"
assert gcx.get_stats()[0]["collections"] > 0
assert _gcx.info()["births"] >= births + 29_000

# the stdlib's own walks see everything: gcx moved nothing
assert any(o is before for o in _stdlib.get_objects())
assert [r for r in _stdlib.get_referrers(before["list"]) if r is before] == [before]
assert any(o is before for o in gc.get_objects())
assert 0 < _stdlib.get_freeze_count() <= frozen_before
assert not any(o is frozen_by_program[0] for o in _stdlib.get_objects())
_gcx.check()

late = N()
late.self = late                    # garbage made while installed ...
late_ref = weakref.ref(late)
del late
gcx.uninstall()
# ... is the stdlib's to collect once gcx is uninstalled
assert late_ref() is not None
assert gc.collect() >= 1 and late_ref() is None
assert 0 < _stdlib.get_freeze_count() <= frozen_before
assert not any(o is frozen_by_program[0] for o in _stdlib.get_objects())
gc.unfreeze()
_gcx.check()
print("OK")
