"""gcx installed on CPython 3.12, where no reference tracer reports births
(run by tests/test_versions.py).

    python splice312.py

gcx reads births from CPython's generation lists and, while installed,
moves what it has read into CPython's permanent generation, so that the
next read costs only what was born since.  Checks that automatic
collection finds cycles made after install(); that gc.get_objects and
gc.get_referrers are gcx's while installed and see objects made before
install(), which the stdlib's own functions no longer see; that
uninstall() gives CPython its lists back (the stdlib's get_objects sees
them again and its collector collects a cycle gcx left behind) and leaves
frozen what the program froze before install(); and that
gcx's table is sound throughout.  Prints OK.
"""
import gc
import weakref

import gcx
from gcx import _gcx, _stdlib


class N:
    pass


gc.collect()
frozen_by_program = [{"frozen": [i]} for i in range(100)]
gc.freeze()                         # the program's own, before install()
frozen_before = _stdlib.get_freeze_count()
before = {"made": "before install()", "list": []}
gcx.install()
assert gc.get_objects is gcx.get_objects and gc.get_referrers is gcx.get_referrers
assert gcx.info()["mode"] == "alloc" and gcx.info()["owner"] is False

refs = []
for i in range(30_000):
    a = N()
    a.self = a                      # a garbage cycle once the loop moves on
    if i % 1000 == 0:
        refs.append(weakref.ref(a))
del a
alive = sum(r() is not None for r in refs)
assert alive <= 1, f"{alive} of {len(refs)} cycles survived automatic collection"
assert gcx.get_stats()[0]["collections"] > 0

assert any(o is before for o in gc.get_objects())
assert [r for r in gc.get_referrers(before["list"]) if r is before] == [before]
# the stdlib's own walk of its lists no longer sees what gcx spliced away
assert not any(o is before for o in _stdlib.get_objects())
assert _stdlib.get_freeze_count() > 0
_gcx.check()

late = N()
late.self = late                    # garbage made while installed ...
late_ref = weakref.ref(late)
del late
gcx.uninstall()
# ... reaches the stdlib's lists with everything else, and what the program
# froze before install() is still frozen, and only that
assert any(o is before for o in _stdlib.get_objects())
# (but one: the empty list gcx keeps at the tail of CPython's youngest list
# to tell what is new, which the program's freeze() took along)
assert frozen_before - 1 <= _stdlib.get_freeze_count() <= frozen_before, \
    (_stdlib.get_freeze_count(), frozen_before)
assert not any(o is frozen_by_program[0] for o in _stdlib.get_objects())
assert late_ref() is not None
assert gc.collect() >= 1 and late_ref() is None
_gcx.check()
print("OK")
