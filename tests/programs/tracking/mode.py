"""Which mode the core chose in a fresh interpreter
(run by tests/test_tracking.py, with GCX_MODE set or not).

    python mode.py

Imports the core (gcx first, as any import of it does), prints its mode,
whether its self-tests passed (the tracer's; the allocator wrapper's, None
where it did not run) and whether it owns the reference tracer slot,
then checks its table.  A GCX_MODE the core refuses makes the import raise
ImportError (exit status 1).
"""
from gcx import _gcx

info = _gcx.info()
print(info["mode"], info["selftest"], info["alloc_selftest"], info["owner"])
_gcx.check()
