"""gcx raises the stdlib's gc.* audit events (run by tests/test_api.py).

    python audit_events.py

Installs an audit hook keeping the gc.* events, calls gcx.get_objects()
(without and with a generation, then with a bad one), get_referrers() and
get_referents(), and prints repr() of the events in order: (event, args) for
gc.get_objects, (event, the types of the objects passed) for the others.
"""
import sys

import gcx

seen = []
sys.addaudithook(lambda event, args: seen.append((event, args))
                 if event.startswith("gc.") else None)
x = object()
gcx.get_objects()
gcx.get_objects(1)
gcx.get_referrers(x)
gcx.get_referents(x, 1)
try:
    gcx.get_objects(5)
except ValueError:
    pass
print(repr([(e, a if e == "gc.get_objects" else tuple(map(type, a[0])))
            for e, a in seen]))
