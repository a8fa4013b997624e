"""A program for ``python -m gcx report --json -``: its own output reaches
standard output every way a program can, and it makes cycles.

    python writes_stdout.py

Prints ``from print``, writes ``from fd 1`` on file descriptor 1, runs a
child that prints ``from a child``, then makes 50 garbage pairs of Nodes.
"""
import os
import subprocess
import sys

print("from print")
os.write(1, b"from fd 1\n")
subprocess.run([sys.executable, "-c", "print('from a child')"])


class Node:
    pass


for _ in range(50):
    a, b = Node(), Node()
    a.peer, b.peer = b, a
