"""What one collector's DEBUG_* flags print for a fixed heap
(run by tests/test_debug_output.py).

    python heap.py IMPL FLAGS

IMPL is ``stdlib`` (the gc module) or ``gcx``; FLAGS the debug flags, an
int.  With both automatic collectors off and the heap collected first, the
program makes a cycle of two Nodes, a self-referencing list, and a
gcx._gcxtest.LegacyDel (uncollectable: it has tp_del) in a cycle through a
list holding a dict; then collects once with IMPL under FLAGS.  The flags'
output goes to stderr; stdout has "returned N", what collect() returned.
"""
import gc
import sys

import gcx
from gcx import _gcxtest as T

gc.disable()
gcx.disable()
impl = gcx if sys.argv[1] == "gcx" else gc
gc.collect()
gcx.collect()


class Node:
    pass


def make():
    a, b = Node(), Node()
    a.other, b.other = b, a
    lst = [1, 2]
    lst.append(lst)
    legacy = T.LegacyDel()
    legacy.ref = [legacy, {"k": "v"}]


make()
impl.set_debug(int(sys.argv[2]))
n = impl.collect()
impl.set_debug(0)
print("returned", n)
impl.garbage.clear()
