"""A tiny suite for `.ci/extensions.py --selftest`: outcomes that must compare
equal, and tests that must differ when gcx is installed (never collected by
the project's own pytest run: the name does not match test_*.py)."""

import gc
import sys

import pytest


def gcx_installed():
    gcx = sys.modules.get("gcx")
    return gcx is not None and gcx.is_installed()


def test_same():
    assert gc.collect() >= 0


def test_skipped():
    pytest.skip("the same on both")


@pytest.mark.xfail(reason="the same on both", strict=True)
def test_xfailed():
    assert False


def test_differs():
    # expected to differ: fails with gcx installed
    assert not gcx_installed()


def test_unraisable_differs():
    # expected to differ: a finalizer that raises, with gcx installed only
    class Raises:
        def __del__(self):
            raise RuntimeError("finalizer raised")
    if gcx_installed():
        x = Raises()
        x.cycle = x
        del x
        gc.collect()
