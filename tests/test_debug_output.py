"""DEBUG_* flags print what the stdlib prints, for the same heap.

Each case runs in a fresh interpreter, once per collector, with the other
collector switched off, and compares what reached stderr: the lines naming
collectable and uncollectable objects (as a multiset of types: the order
follows each collector's own lists, and addresses differ), and the
DEBUG_STATS summary line's counts.
"""
import collections
import re

import pytest

HEAP = """
import sys, gc, gcx
from gcx import _gcxtest as T
gc.disable(); gcx.disable()
import os
impl = gcx if os.environ["GCX_TEST_IMPL"] == "gcx" else gc
gc.collect(); gcx.collect()

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
impl.set_debug(int(os.environ["GCX_TEST_FLAGS"]))
n = impl.collect()
impl.set_debug(0)
print("returned", n)
impl.garbage.clear()
"""

ADDR = re.compile(r" at 0x[0-9a-f]+| 0x[0-9a-f]+")


def run(fresh_python, impl, flags):
    proc = fresh_python(HEAP, env={"GCX_TEST_IMPL": impl, "GCX_TEST_FLAGS": str(flags)})
    assert proc.returncode == 0, proc.stderr
    lines = [ADDR.sub("", line) for line in proc.stderr.splitlines()
             if line.startswith("gc: ")]
    return proc.stdout.split(), lines


def objects(lines, kind):
    return collections.Counter(line for line in lines if line.startswith(f"gc: {kind} <"))


@pytest.mark.parametrize("flag", ["DEBUG_COLLECTABLE", "DEBUG_UNCOLLECTABLE", "DEBUG_LEAK"])
def test_object_lines_match_stdlib(fresh_python, flag):
    import gc
    value = getattr(gc, flag)
    out_std, std = run(fresh_python, "stdlib", value)
    out_gcx, ours = run(fresh_python, "gcx", value)
    assert out_gcx == out_std
    for kind in ("collectable", "uncollectable"):
        assert objects(ours, kind) == objects(std, kind), kind
    # the cycle of two Nodes and the self-referencing list are collectable;
    # the LegacyDel and what it reaches are not
    if value & gc.DEBUG_COLLECTABLE:
        assert objects(std, "collectable")["gc: collectable <Node>"] == 2
        assert objects(std, "collectable")["gc: collectable <list>"] >= 1
    if value & gc.DEBUG_UNCOLLECTABLE:
        assert objects(std, "uncollectable")["gc: uncollectable <gcx._gcxtest.LegacyDel>"] == 1


def test_stats_lines_match_stdlib(fresh_python):
    import gc
    _, std = run(fresh_python, "stdlib", gc.DEBUG_STATS)
    _, ours = run(fresh_python, "gcx", gc.DEBUG_STATS)
    shape = [re.sub(r"\d+(\.\d+)?", "N", line) for line in std]
    assert [re.sub(r"\d+(\.\d+)?", "N", line) for line in ours] == shape
    assert shape == [
        "gc: collecting generation N...",
        "gc: objects in each generation: N N N",
        "gc: objects in permanent generation: N",
        "gc: done, N unreachable, N uncollectable, Ns elapsed",
    ]
    done = re.compile(r"gc: done, (\d+) unreachable, (\d+) uncollectable")
    assert done.match(ours[-1]).groups() == done.match(std[-1]).groups()
