"""The stress phases of tests/test_stress.py in a fresh interpreter, in the
mode the test's own process is not in (run by tests/test_stress.py).

    GCX_MODE=MODE python other_mode.py MODE

MODE (``tracer``, ``alloc`` or ``safe``) is gcx's mode, set through the environment
before gcx is imported; the program asserts gcx chose it.  GCX_STRESS_SCALE
and GCX_STRESS_SEED size and seed the run as they do test_stress's own.
With both collectors collected and switched off, runs every phase of
test_stress (imported from tests/) with its checks after each, prints a line
per phase and then "done: N containers, ..."; a failed check raises (exit
status 1).
"""
import os
import sys

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS_DIR)

import gcx  # noqa: E402
import test_stress  # noqa: E402
from test_stress import STDLIB  # noqa: E402

mode = sys.argv[1]
assert gcx.mode() == mode, (gcx.mode(), mode)
STDLIB["collect"]()
gcx.collect()
STDLIB["disable"]()
gcx.disable()
ch = test_stress.run_all(report=lambda line: print(line, flush=True))
print(f"done: {ch.made} containers, {ch.collections} random collections, "
      f"{ch.toggles} tracemalloc toggles", flush=True)
