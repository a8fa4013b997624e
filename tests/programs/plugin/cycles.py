"""Tests for the pytest plugin's child runs (tests/test_plugin.py): some make
known cycle shapes in their call, some make none.

Run as ``pytest [--gcx-cycles | --gcx-cycles-report] cycles.py`` from a
scratch directory holding a copy of this file.  Which tests fail and which
shapes the summary names is what test_plugin.py asserts:

  clean                 test_clean, test_clean_with_local_class,
                        test_clean_raises, test_allowed (marked
                        gcx_allow_cycles), test_marked_ignoring (its marker
                        ignores Pair)
  Pair.peer -> Pair.peer -> Pair          test_pair, test_fails_anyway
  Node.parent -> Node.children[i] -> Node test_tree
  list[0] -> list                         test_marked (gcx_no_cycles)
  collected by its own gc.collect()       test_collects_itself
"""
import gc

import pytest


class Pair:
    pass


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def test_clean():
    data = [{"k": (i, [i])} for i in range(1000)]
    assert len(data) == 1000


def test_clean_with_local_class():
    class Local:
        pass
    assert Local()


def test_clean_raises():
    with pytest.raises(ZeroDivisionError):
        1 / 0


def test_pair():
    a, b = Pair(), Pair()
    a.peer, b.peer = b, a


def test_tree():
    root = Node()
    for _ in range(3):
        Node(root)


def test_collects_itself():
    a = Pair()
    a.me = a
    del a
    gc.collect()


@pytest.mark.gcx_allow_cycles
def test_allowed():
    a = Pair()
    a.me = a


@pytest.mark.gcx_no_cycles
def test_marked():
    x = []
    x.append(x)


@pytest.mark.gcx_no_cycles(ignore=["Pair"])
def test_marked_ignoring():
    test_pair()


def test_fails_anyway():
    test_pair()
    assert False, "its own failure"
