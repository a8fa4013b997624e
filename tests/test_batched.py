"""Edges resolved in batches (collect.c) must decide exactly what edges
resolved one at a time decide.

By default only regions of at least 32,768 members are batched, so most
tests here collect small regions one edge at a time.  GCX_BATCH_FROM=0 makes
every collection batched: this file runs the differential suites again in a
child interpreter set that way (CI's AddressSanitizer run sets it for the
whole suite, and then this file has nothing left to add).
"""
import gc
import os
import subprocess
import sys

import pytest

import gcx

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.skipif(os.environ.get("GCX_BATCH_FROM") == "0",
                    reason="this whole run is batched already")
def test_differential_suites_batched():
    env = dict(os.environ, GCX_BATCH_FROM="0", GCX_RANDOM_SEEDS="60")
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         os.path.join(HERE, "test_collect_diff.py"),
         os.path.join(HERE, "test_random_graphs.py")],
        capture_output=True, text=True, env=env, cwd=HERE, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert " passed" in r.stdout and "failed" not in r.stdout


def test_large_region_batched_by_default(quiet):
    # A region past the default threshold, garbage cycles mixed into a live
    # heap: both collectors must agree on what is collected.
    class Node:
        __slots__ = ("a", "b", "__weakref__")

    def build(n):
        nodes = [Node() for _ in range(n)]
        for i, v in enumerate(nodes):
            v.a = nodes[(i * 7919) % n]
            v.b = nodes[(i + 1) % n] if i % 3 else None
        for _ in range(n // 4):
            x, y = [], []
            x.append(y)
            y.append(x)
        return nodes

    got = {}
    for name, impl in (("stdlib", gc), ("gcx", gcx)):
        impl.collect()
        live = build(40_000)
        got[name] = impl.collect()
        assert len(live) == 40_000 and impl.collect() == 0
        del live
        got[name + " dropped"] = impl.collect()
    assert got["gcx"] == got["stdlib"] == 20_000
    assert got["gcx dropped"] == got["stdlib dropped"] == 40_000


def test_bad_batch_threshold(fresh_python):
    r = fresh_python("import gcx", env={"GCX_BATCH_FROM": "lots"})
    assert r.returncode != 0
    assert "GCX_BATCH_FROM must be a non-negative integer" in r.stderr
