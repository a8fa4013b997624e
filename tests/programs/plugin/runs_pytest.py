"""A program that imports the plugin's module, then runs pytest in-process
(tests/test_plugin.py).

    python runs_pytest.py PYTEST_ARG ...

pytest marks the plugin's module for assertion rewriting and would warn that
it was imported already (an error under ``filterwarnings = error``) but for
the PYTEST_DONT_REWRITE in its docstring.  Exits with pytest.main()'s status.
"""
import sys

import gcx_pytest  # noqa: F401
import pytest

sys.exit(pytest.main(sys.argv[1:]))
