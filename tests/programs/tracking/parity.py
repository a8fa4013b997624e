"""Tracking parity scenarios of tests/test_tracking.py in a fresh interpreter
(run by tests/test_tracking.py).

    GCX_MODE=MODE python parity.py MODE [NAME ...]

MODE (``tracer``, ``alloc`` or ``safe``) is gcx's mode, set through the environment
before gcx is imported; the program asserts gcx chose it.  Runs the named
scenarios of test_tracking.SCENARIOS (default: all; test_tracking is
imported from tests/), each from a quiet heap as the ``quiet`` fixture
leaves it, and prints per scenario "START name", then one of
"OK name", "SKIP name reason" or "FAIL name repr(traceback)".
"""
import os
import sys
import traceback

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS_DIR)

import pytest  # noqa: E402

import gcx  # noqa: E402
import test_tracking as T  # noqa: E402

mode, names = sys.argv[1], sys.argv[2:]
assert gcx.mode() == mode, (gcx.mode(), mode)
for name in names or T.SCENARIOS:
    print("START", name, flush=True)
    try:
        T._quiesce()                     # as the quiet fixture does
        T.run_scenario(name)
    except pytest.skip.Exception as exc:
        print("SKIP", name, str(exc).replace("\n", " "), flush=True)
    except Exception:
        text = traceback.format_exc(limit=-3)
        print("FAIL", name, repr(text), flush=True)
    else:
        print("OK", name, flush=True)
