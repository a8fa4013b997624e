"""Importing gcx does not import tracemalloc; tracemalloc, imported later,
copies gcx's wrappers, and starting and stopping it resynchronises the core
(run by tests/test_api.py).

    python tracemalloc_unimported.py

Prints whether tracemalloc was in sys.modules after ``import gcx``, then
whether tracemalloc's start() and stop() are gcx's wrappers, then whether
tracemalloc.start() and stop() made at least two resyncs, whether the core
owned the reference tracer slot while tracemalloc ran and whether it owns it
after stop().
"""
import sys

import gcx

print("tracemalloc" in sys.modules)
import tracemalloc  # noqa: E402  (after the check above, on purpose)

print(all(hasattr(getattr(tracemalloc, name), "_gcx_original") for name in ("start", "stop")))
resyncs = gcx.info()["resyncs"]
tracemalloc.start()
owner = gcx.info()["owner"]
tracemalloc.stop()
print(gcx.info()["resyncs"] >= resyncs + 2, owner, gcx.info()["owner"])
