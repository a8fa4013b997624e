"""Cycles whose attribute names say nothing, for ``gcx report`` (run by
tests/test_report_program.py).

    gcx report --json - report_labels.py

Each shape is made GROUPS times with automatic collection off (how many
allocations the interpreter made before the program started decides
whether one would run, the stdlib's count and gcx's installed alike): they
are found by the collections as the program ends, when runpy has put gcx's
own ``__main__`` back in sys.modules.  Every attribute is set
from outside its class (no ``__static_attributes__`` names it), so the
report can only name the edges from the code of this program.
"""
import gc
import sys

GROUPS = 5
gc.disable()


class Qa:
    pass


class Qb:
    pass


class Qc:
    pass


class Qd:
    def m(self):                 # a method: the class's functions lead to this module
        return 0


class Qe:
    __slots__ = ("__dict__", "s4")


def pairs():
    for _ in range(GROUPS):
        a, b = Qa(), Qa()
        a.q1 = b
        b.q1 = a


def keyed():
    # an instance held as a dict key, the dict held by another instance
    for _ in range(GROUPS):
        h, k = Qb(), Qc()
        h.zz = {k: 1}
        k.yy = h


def named_by_string():
    for _ in range(GROUPS):
        a, b = Qd(), Qd()
        setattr(a, "vv", b)
        setattr(b, "vv", a)


def mixed():
    # a slot one way, an attribute set on the instance the other
    for _ in range(GROUPS):
        a, b = Qe(), Qe()
        a.s4 = b
        b.p0 = a


pairs()
keyed()
named_by_string()
mixed()
# top-level statements: the names are in no function
for _ in range(GROUPS):
    x, y = Qa(), Qa()
    x.t8 = y
    y.t9 = x
del x, y
print("made", GROUPS, file=sys.stderr)
