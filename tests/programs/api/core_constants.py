"""A fresh gcx has the default thresholds (run by tests/test_api.py).

    python core_constants.py

Prints True when gcx.get_threshold(), the stdlib's gc.get_threshold() (the
stdlib's own defaults, in a fresh interpreter) and the core's
DEFAULT_THRESHOLDS are all equal.
"""
import gc

import gcx
from gcx import _gcx

print(gcx.get_threshold() == gc.get_threshold() == _gcx.DEFAULT_THRESHOLDS)
