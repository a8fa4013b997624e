"""Edges resolved in batches (region.c) must decide exactly what edges
resolved one at a time would.

Every collection batches its edges; what differs with size is how many of
them wait: in a small region nearly every page is in the lookup cache and
edges are applied at once, in a large one scattered over memory most wait
in a full batch.  These tests build regions past the caches, with garbage
interleaved with live objects in memory, and compare with the stdlib.
"""
import gc
import sys
import weakref

import gcx
from conftest import STDLIB


class Node:
    __slots__ = ("a", "b", "__weakref__")


class Finalized:
    deaths = 0

    def __init__(self):
        self.peer = None

    def __del__(self):
        Finalized.deaths += 1


def build(n):
    """n live nodes wired far apart in memory and, made in between, n // 2
    garbage lists (two-list cycles) and n // 8 garbage instances with
    __del__ (pairs), a weakref with a callback on each pair's first."""
    nodes = []
    calls = []
    refs = []
    for i in range(n):
        nodes.append(Node())
        if i % 4 == 0:
            x, y = [], []
            x.append(y)
            y.append(x)
        if i % 16 == 0:
            f, g = Finalized(), Finalized()
            f.peer, g.peer = g, f
            refs.append(weakref.ref(f, calls.append))
    for i, v in enumerate(nodes):
        v.a = nodes[(i * 7919) % n]
        v.b = nodes[(i + 1) % n] if i % 3 else None
    return nodes, calls, refs


def outcome(impl, n):
    impl.collect()
    Finalized.deaths = 0
    live, calls, refs = build(n)
    first = impl.collect()
    state = (first, len(calls), Finalized.deaths, sum(r() is None for r in refs))
    assert impl.collect() == 0
    del live
    dropped = impl.collect()
    return state + (dropped,)


def test_large_region_same_as_stdlib(quiet):
    n = 40_000
    want = outcome(gc, n)
    got = outcome(gcx, n)
    # 2 per garbage list pair, 2 per finalized pair, weakrefs' callbacks
    assert want[0] == 2 * (n // 4) + 2 * (n // 16)
    assert want[1:4] == (n // 16, 2 * (n // 16), n // 16)
    assert want[4] > n // 2
    assert got == want


def test_huge_refcount_survives_like_stdlib(quiet):
    # A refcount past 2**30 is not copied into gcx's 32-bit counts: its
    # object is marked reachable outright.  Inflate one member's refcount
    # (through ctypes, and put it back): on 3.13 by 2**32, which cut to 32
    # bits would read 1, its one reference from b, so gcx would free a
    # cycle that 2**32 references keep alive (3.13 keeps immortality in the
    # low 32 bits, which stay small); 3.14+ keeps the count itself in 32
    # bits (the word's high half is other fields, and bit 31 means
    # immortal), so there by 2**30, just past gcx's limit.  Both collectors
    # must keep it.
    import ctypes

    bump = 1 << 32 if sys.version_info < (3, 14) else 1 << 30
    for impl in (gc, gcx):
        impl.collect()
        a, b = [], []
        a.append(b)
        b.append(a)
        count = ctypes.c_ssize_t.from_address(id(a))
        count.value += bump
        try:
            del a, b
            assert impl.collect() == 0, impl      # looks referenced from outside
        finally:
            count.value -= bump                   # the cycle is garbage again
        assert impl.collect() == 2, impl


def test_records_cpython_untracked_are_set_aside(quiet):
    # gcx numbers its region from its records alone and looks at each object
    # once, while counting: a record whose object the stdlib has untracked
    # meanwhile (a tuple of atoms, a dict of atoms) is set aside there, even
    # when a full collection's marking from sys.modules reaches it first.
    import sys
    import types

    # 3.13 tracks a dict lazily and untracks a dict of atoms in a full
    # collection; 3.14+ tracks every dict from birth and never untracks one
    dicts_untracked = not STDLIB["is_tracked"]({})
    mod = types.ModuleType("_gcx_probe_untracked")
    sys.modules[mod.__name__] = mod
    try:
        # tuples of atoms made tracked (3.14 makes most such tuples
        # untracked at birth, not those a concatenation makes)
        mod.t = (str(0),) + (str(1), str(2))
        mod.d = {"k": []}
        mod.d["k"] = 1                               # tracked, atoms only
        inner = (float("1.5"),) + (str("x"),)
        mod.holder = [inner]
        a, b = [], []
        a.append(b)
        b.append(a)
        del a, b
        assert gc.is_tracked(mod.t) and gc.is_tracked(inner)
        assert gcx.is_tracked(mod.t) and gcx.is_tracked(inner)
        gc.collect()          # untracks the tuples (and the dict), frees the cycle
        assert not gc.is_tracked(mod.t) and not gc.is_tracked(inner)
        assert gc.is_tracked(mod.d) is not dicts_untracked
        set_aside = (mod.t, inner) + ((mod.d,) if dicts_untracked else ())
        for gen in (0, 2):
            assert gcx.collect(gen) == 0
            gcx._gcx.check()
            ours = {id(o) for o in gcx.get_objects()}
            for o in set_aside:
                assert not gcx.is_tracked(o)
                assert id(o) not in ours
            assert (id(mod.d) in ours) is not dicts_untracked
        del o, ours, set_aside
        # a cycle through the set-aside dict's new contents is still found
        mod.d["k"] = [mod.d]
        assert gc.is_tracked(mod.d) and gcx.is_tracked(mod.d)
        del mod.d
        assert gcx.collect() == 2
    finally:
        del sys.modules[mod.__name__]
