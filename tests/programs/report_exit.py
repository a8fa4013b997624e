"""A program whose module holds classes, exception classes, an enum, a
dataclass and functions, for ``gcx report`` (run by
tests/test_report_program.py).

    gcx report [--at-exit] --json - report_exit.py

While it runs it makes GROUPS pairs of instances and drops them, makes and
drops GROUPS classes at run time, and leaves one more pair in a global.
Every class and function of its module is in a cycle until runpy drops the
module after the program ended: those groups are not what the program
made while it ran.
"""
import dataclasses
import enum
import sys

GROUPS = 5


class ParseError(Exception):
    pass


class StrictParseError(ParseError):
    def describe(self):
        return "strict"


class Colour(enum.Enum):
    RED = 1
    GREEN = 2


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Pair:
    def link(self, other):
        self.peer = other
        other.peer = self


def pairs():
    for _ in range(GROUPS):
        Pair().link(Pair())


def classes():
    # classes made at run time and dropped: each is cyclic garbage the
    # program made while it ran
    for i in range(GROUPS):
        type(f"Made{i}", (), {})


pairs()
classes()
kept = Pair()
kept.link(Pair())
print(Colour.RED, Point(1, 2), file=sys.stderr)
