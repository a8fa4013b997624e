"""Blocks and functions under gcx.no_cycles() in a fresh interpreter
(run by tests/test_no_cycles.py).

    python blocks.py WHERE CASE

WHERE: ``installed`` (gcx.install() first) or ``not-installed``.  CASE
names one of the cases below (a function case_CASE, dashes for
underscores); it runs its blocks through outcome(), and the program prints
one JSON object, block name -> what happened:

    ["ok", the value returned]
    ["cycles", str(CyclesFound), report.groups, the report's top paths]
    ["error", exception type name, str(exception)]

The functions under no_cycles() are module-level, so the report's paths
name them as a user's would (``with_classes.<locals>.Local``).
"""
import gc
import json
import sys

import gcx
from gcx.testing import CyclesFound

WHERE, CASE = sys.argv[1], sys.argv[2]
assert WHERE in ("installed", "not-installed"), WHERE
if WHERE == "installed":
    gcx.install()


class Pair:
    pass


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def pair():
    a, b = Pair(), Pair()
    a.peer, b.peer = b, a


results = {}


def outcome(name, func):
    try:
        value = func()
    except CyclesFound as exc:
        results[name] = ["cycles", str(exc), exc.report.groups,
                         [s.path for s in exc.report.top()]]
    except Exception as exc:
        results[name] = ["error", type(exc).__name__, str(exc)]
    else:
        results[name] = ["ok", value]


# ------------------------------------------------------------ clean-block

def clean():
    with gcx.no_cycles() as report:
        data = [{"k": [i, (i, str(i))]} for i in range(10_000)]
        del data
    return [bool(report), report.groups]


@gcx.no_cycles()
def decorated(n):
    return sum(range(n))


@gcx.no_cycles()
def local_class():
    class Local:            # classes are cyclic; they do not count by default
        pass
    return Local.__name__


def case_clean_block():
    outcome("clean", clean)
    outcome("decorated", lambda: decorated(10))
    outcome("local class", local_class)


# ------------------------------------------------------------ pair-cycle

def three_pairs():
    with gcx.no_cycles():
        for _ in range(3):
            pair()


@gcx.no_cycles()
def tree():
    root = Node()
    Node(root)
    Node(root)


def case_pair_cycle():
    outcome("block", three_pairs)
    outcome("decorated tree", tree)


# ------------------------------------------------------------ garbage-before

def empty_block():
    with gcx.no_cycles():
        pass
    return gcx.isenabled(), gc.isenabled()


def case_garbage_before():
    gc.disable()
    gcx.disable()          # nobody collects the old garbage
    for _ in range(5):
        pair()
    outcome("block", empty_block)


# ------------------------------------------------------------ exception

def raises():
    with gcx.no_cycles():
        pair()
        raise KeyError("mine")


def case_exception():
    outcome("raises", raises)


# ------------------------------------------------------------ explicit-collection

def collects():
    with gcx.no_cycles():
        pair()
        return gc.collect()


def case_explicit_collection():
    outcome("collects", collects)
    outcome("stdlib still on", lambda: gc.isenabled())


# ------------------------------------------------------------ automatic-collections

def many():
    with gcx.no_cycles():
        for _ in range(20_000):
            pair()


def case_automatic_collections():
    outcome("many", many)
    outcome("collections", lambda: gcx.get_stats()[0]["collections"] > 0)


# ------------------------------------------------------------ options

def with_classes():
    with gcx.no_cycles(classes=True):
        class Local:
            pass
        del Local


def ignored():
    with gcx.no_cycles(ignore=["Pair"]) as report:
        pair()
    return report.ignored


def nested():
    with gcx.no_cycles():
        try:
            with gcx.no_cycles():
                pair()
        except CyclesFound:
            return "inner caught"


def case_options():
    outcome("classes", with_classes)
    outcome("ignored", ignored)
    outcome("nested", nested)


# ------------------------------------------------------------ safe-mode

def one_pair():
    with gcx.no_cycles():
        pair()


def case_safe_mode():
    assert gcx.mode() == "safe"
    outcome("block", one_pair)
    outcome("clean", lambda: gcx.no_cycles()(lambda: 1)())


globals()["case_" + CASE.replace("-", "_")]()
print(json.dumps(results))
