"""gcx.no_cycles(ignore=STRING) takes the string as one type name, not as
the names of its characters.

    python no_cycles_ignore_one_name.py

Makes a garbage pair of Nodes under no_cycles(ignore="Node") and prints
the number of groups it ignored (1); then under no_cycles(ignore="N") (no
type is called N) and prints ``found`` when CyclesFound is raised.
"""
import gcx


class Node:
    pass


def make():
    a, b = Node(), Node()
    a.peer, b.peer = b, a


with gcx.no_cycles(ignore="Node") as report:
    make()
print(report.ignored)
try:
    with gcx.no_cycles(ignore="N"):      # no type is called N
        make()
except gcx.CyclesFound:
    print("found")
