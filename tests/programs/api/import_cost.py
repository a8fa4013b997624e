"""What ``import gcx`` and ``gcx.install()`` load (run by tests/test_api.py).

    python import_cost.py

Prints, on two lines: the names of the modules that ``import gcx`` and
``gcx.install()`` added to sys.modules, separated by spaces; then whether
typing is loaded once gcx.Pause has been used (it is made on first use).
"""
import sys

before = set(sys.modules)
import gcx  # noqa: E402  (after the snapshot above, on purpose)

gcx.install()
print(" ".join(sorted(set(sys.modules) - before)))
gcx.Pause
print("typing" in sys.modules)
