"""Cycles of known shapes, for the programs in this folder (imported, never
run on its own; tests/test_report.py asserts on the paths they make).

Attributes are set both in methods (known to the class:
__static_attributes__) and from outside it (a.peer = b: found in this
module's code), and objects keep their attributes inline (no __dict__ is
ever created for them, except by dicts()).

Node, Pair         plain classes; Slotted (with __weakref__), Bare (without:
                   cannot be weakly referenced) have __slots__ = other
trees(n)           n trees of a root and four children (parent pointers,
                   children lists)
pairs(n)           n pairs of Pairs pointing at each other by .peer
slotted(n, cls)    n pairs of cls pointing at each other by .other
lists(n)           n lists holding themselves
errors(n)          n KeyErrors held by their own frame's local `kept`
closures(n)        n functions that call themselves through their closure
dicts(n)           n Pairs given a real __dict__ that holds them (.me)

Importing it imports tracemalloc first: the report's hook imports it (and
pickle) at its first collection; pickle's Python exception classes,
replaced by _pickle's, are then cyclic garbage in the next one, so a
program's opening gcx.collect() must take them.  It also switches the
stdlib collector's automatic collection off: gcx is not installed in these
programs, and the stdlib collector must not collect a shape before gcx's
collection sees it (on 3.14+, which tracks every dict from birth, making
the shapes reaches its threshold).
"""
import gc
import tracemalloc  # noqa: F401  (see above)

gc.disable()


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


class Pair:
    pass


class Slotted:
    __slots__ = ("other", "__weakref__")


class Bare:
    __slots__ = ("other",)          # no __weakref__: cannot be weakly referenced


def trees(n):
    for _ in range(n):
        root = Node()
        for _ in range(4):
            Node(root)


def pairs(n):
    for _ in range(n):
        a, b = Pair(), Pair()
        a.peer = b
        b.peer = a


def slotted(n, cls=Slotted):
    for _ in range(n):
        a, b = cls(), cls()
        a.other, b.other = b, a


def lists(n):
    for _ in range(n):
        x = []
        x.append(x)


def error():
    try:
        raise KeyError("k")
    except KeyError as exc:
        kept = exc  # noqa: F841


def errors(n):
    for _ in range(n):
        error()


def closure():
    def again(k):
        return again(k - 1) if k else 0
    again(1)


def closures(n):
    for _ in range(n):
        closure()


def dicts(n):
    for _ in range(n):
        a = Pair()
        a.__dict__ = {}             # a real instance __dict__ this time
        a.me = {"owner": a}
