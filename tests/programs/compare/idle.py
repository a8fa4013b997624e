"""An idle program: one full collection (gc.collect()), then it sleeps,
allocating nothing, so that no count trigger collects while it runs (run by
tests/test_compare.py through ``gcx compare``: only a policy's time
backstop, max_interval, collects here).

    python idle.py SECONDS

Sleeps SECONDS in steps of a hundredth of a second; prints nothing.
"""
import gc
import sys
import time

gc.collect()
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    time.sleep(0.01)
