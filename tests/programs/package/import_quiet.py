"""What `import gcx` leaves behind (run by tests/test_package.py).

    python import_quiet.py

The core's probes ask the stdlib collector for two young collections at
import; the program's gc callbacks must not see them, its debug flags must
print or save nothing for them, and the classes the probes and self-tests
define must not be left as garbage: a full collection right after the
import finds nothing, with either collector.  Prints the findings, one per
line.
"""
import gc
import sys

seen = []
gc.callbacks.append(lambda phase, info: seen.append(phase))
gc.set_debug(gc.DEBUG_SAVEALL)
gc.disable()
gc.collect()
seen.clear()

import gcx  # noqa: E402

print("callbacks during import", seen)
print("saved by the import", len(gc.garbage))
gc.set_debug(0)
print("stdlib collect after import", gc.collect())
print("gcx collect after import", gcx.collect())
print("enabled", gc.isenabled())
sys.stdout.flush()
