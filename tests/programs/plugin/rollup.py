"""Tests for the plugin summary's roll-up (tests/test_plugin.py): 50 tests
leave the same shape behind (Leaky.me -> Leaky), 3 another one
(Knot.other -> Knot.other -> Knot), 2 tests with different names a third
one through their own frames (Holder.frame -> frame test_frame_a... ->
Holder: one entry, "frame (the test)"), 7 tests leave nothing.

Run as ``pytest --gcx-cycles-report [-v] rollup.py`` from a scratch
directory holding a copy of this file.  The summary must have one entry per
shape, saying 50 tests and 3 tests, with a few test ids (all of them with
-v).
"""
import sys

import pytest


class Leaky:
    def __init__(self):
        self.me = self


class Knot:
    def __init__(self, other=None):
        self.other = other


@pytest.mark.parametrize("i", range(50))
def test_leaks(i):
    Leaky()


@pytest.mark.parametrize("i", range(3))
def test_knots(i):
    a = Knot()
    a.other = Knot(a)


@pytest.mark.parametrize("i", range(7))
def test_clean(i):
    assert [Knot() for _ in range(i)] is not None


class Holder:
    pass


def test_frame_a():
    holder = Holder()
    holder.frame = sys._getframe()


def test_frame_b():
    holder = Holder()
    holder.frame = sys._getframe()
