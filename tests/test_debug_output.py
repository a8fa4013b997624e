"""DEBUG_* flags print what the stdlib prints, for the same heap.

Each case runs tests/programs/debug_output/heap.py in a fresh interpreter,
once per collector, with the other collector switched off, and compares what
reached stderr: the lines naming collectable and uncollectable objects (as a
multiset of types: the order follows each collector's own lists, and
addresses differ), and the DEBUG_STATS summary line's counts.
"""
import collections
import re

import pytest

ADDR = re.compile(r" at 0x[0-9a-f]+| 0x[0-9a-f]+")


def run(run_program, impl, flags):
    proc = run_program("debug_output/heap.py", impl, flags)
    assert proc.returncode == 0, proc.stderr
    lines = [ADDR.sub("", line) for line in proc.stderr.splitlines()
             if line.startswith("gc: ")]
    return proc.stdout.split(), lines


def objects(lines, kind):
    return collections.Counter(line for line in lines if line.startswith(f"gc: {kind} <"))


@pytest.mark.parametrize("flag", ["DEBUG_COLLECTABLE", "DEBUG_UNCOLLECTABLE", "DEBUG_LEAK"])
def test_object_lines_match_stdlib(run_program, flag):
    import gc
    value = getattr(gc, flag)
    out_std, std = run(run_program, "stdlib", value)
    out_gcx, ours = run(run_program, "gcx", value)
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


def test_stats_lines_match_stdlib(run_program):
    import gc
    _, std = run(run_program, "stdlib", gc.DEBUG_STATS)
    _, ours = run(run_program, "gcx", gc.DEBUG_STATS)
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
