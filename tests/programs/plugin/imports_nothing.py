"""A test that passes only if nothing imported gcx (tests/test_plugin.py):
with the plugin registered but off, pytest must not import it.

Run as ``pytest imports_nothing.py`` from a scratch directory holding a
copy of this file."""
import sys


def test_gcx_not_imported():
    assert "gcx" not in sys.modules
