"""The advice a cycle report gives, chosen by the graph, not by the
attribute names (they say nothing here).

    python advice.py SHAPE

SHAPE is one of:
  tree              Q.k holds the children in a list, Q.z points back at
                    the parent: the back-pointer is the edge many children
                    share one target by, and a list cannot be weakly referenced
  observer          a bus (V) holds bound methods of widgets (W) in a dict,
                    each widget holds the bus (W.r); never the dict
  handler           a callback and an owner in one object (H.a, H.b): both
                    attributes, the bound method by WeakMethod
  stored_exception  an exception stored on an attribute (E.t) inside
                    `except`: its traceback's frame holds self; a weak
                    reference to it would be dead at once, so no attribute
                    is proposed and the hint says what to do
Records 5 of that shape collected and prints one JSON line: [the top
shape's path, its suggestion (a dict or null), its hint].
"""
import json
import sys

import gcx
from gcx import report as R


class Q:
    def __init__(self, z=None):
        self.z, self.k = z, []
        if z is not None:
            z.k.append(self)


def make_tree():
    root = Q()
    for _ in range(4):
        Q(root)


class V:
    def __init__(self):
        self.m = {}


class W:
    def __init__(self, v, i):
        self.r = v
        v.m[i] = self.f

    def f(self):
        pass


def make_observer():
    v = V()
    for i in range(3):
        W(v, i)


class S:
    def g(self):
        pass


class H:
    def __init__(self, s):
        self.a, self.b = s, s.g
        s.c = self


def make_handler():
    H(S())


class E:
    def go(self):
        try:
            raise ValueError("x")
        except ValueError as e:
            self.t = e


def make_stored_exception():
    E().go()


make = globals()["make_" + sys.argv[1]]
gcx.disable()
gcx.collect()
with R.record_cycles() as report:
    for _ in range(5):
        make()
    gcx.collect()
top = report.top()[0]
print(json.dumps([top.path, top.suggestion, top.hint]))
