"""A program for ``python -m gcx report`` to report on: trees of three
Nodes with parent pointers (each a cycle of 5 objects with the children
lists), then it exits with a given status.

    python build_trees.py N STATUS

Builds N trees, prints ``built [ARGS]`` (its arguments), exits with STATUS.
"""
import sys


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def build(n):
    for _ in range(n):
        root = Node()
        Node(Node(root))


build(int(sys.argv[1]))
print("built", sys.argv[1:])
sys.exit(int(sys.argv[2]))
