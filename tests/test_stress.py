"""Stress: churn a lot of containers through gcx and check it stays sound.

Phases churn lists, dicts, tuples, instances and garbage cycles from bytecode
loops, from several threads at once, from C code paths, with gcx's automatic
collection on, and through deep structures and resurrecting finalizers,
calling ``gcx.collect()`` at random generations and toggling tracemalloc now
and then.  After every phase (in a quiescent state):

- ``_gcx.check()`` passes (the table's invariants);
- every object ``gcx.get_objects()`` returns is one CPython also tracks
  (its identity set is a subset of ``gc.get_objects()``'s);
- a full ``gcx.collect()`` frees every garbage cycle the phase sampled
  through weak references;
- nothing crashed.

Size: ``GCX_STRESS_SCALE`` (a float, default 1.0, about 2 million
containers churned in all) multiplies every loop count; the random choices
come from ``GCX_STRESS_SEED`` (default 1234).  The same phases also run in a
fresh interpreter in the other mode (``GCX_MODE=safe`` when this process is
in tracer mode, tracer mode when this process was forced into safe mode on an
interpreter that supports it), at a quarter of the scale:
tests/programs/stress/other_mode.py imports this module and runs
``run_all()``.
"""
import collections
import copy
import itertools
import json
import os
import pickle
import random
import sys
import threading
import tracemalloc
import weakref

import pytest

import gcx
from gcx import _gcx

pytestmark = pytest.mark.slow

try:
    from conftest import STDLIB
except ImportError:                      # imported on its own by a child
    import gc as _gc
    STDLIB = {n: getattr(_gc, n) for n in dir(_gc) if not n.startswith("_")}

SCALE = float(os.environ.get("GCX_STRESS_SCALE", "1.0"))
SEED = int(os.environ.get("GCX_STRESS_SEED", "1234"))


def scaled(n):
    return max(1, int(n * SCALE))


class Churn:
    """Shared state of one stress run: the random source, weak references
    to sampled garbage, and a count of containers made."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.garbage_refs = []
        self.made = 0
        self.collections = 0
        self.toggles = 0
        self.lock = threading.Lock()

    def maybe_collect(self, p):
        if self.rng.random() < p:
            gcx.collect(self.rng.choice((0, 0, 0, 1, 1, 2)))
            self.collections += 1

    def maybe_toggle_tracemalloc(self, p):
        """Start or stop tracemalloc now and then; it never stays on long
        because tracing slows allocation down a lot."""
        if self.rng.random() < p:
            if tracemalloc.is_tracing():
                tracemalloc.stop()
            else:
                tracemalloc.start(1)
            self.toggles += 1

    def sample(self, obj):
        self.garbage_refs.append(weakref.ref(obj))


class Node:
    pass


class Slotted:
    __slots__ = ("a", "b", "__weakref__")


class Phoenix:
    """Resurrects itself once from __del__ into ``box``."""
    box = []

    def __del__(self):
        if len(Phoenix.box) < 10_000:
            Phoenix.box.append(self)


# ----------------------------------------------------------------- phases

def phase_loops(ch):
    """Bytecode loops: every kind of container, cycles left as garbage."""
    keep = collections.deque(maxlen=500)
    for i in range(scaled(50_000)):
        a = [i, [i]]
        b = {"i": i, "a": a}
        t = (a, b)
        n = Node()
        n.t = t
        if i % 3 == 0:                           # a two-node cycle
            m = Node()
            n.m, m.n = m, n
            m.d = {"back": n, "l": [m]}
            if i % 301 == 0:
                ch.sample(m)
        if i % 7 == 0:
            s = Slotted()
            s.a, s.b = s, [s, a]
            if i % 700 == 0:
                ch.sample(s)
        if i % 50 == 0:
            keep.append(n)
        ch.maybe_collect(0.001)
        ch.maybe_toggle_tracemalloc(0.0004)
    ch.made += scaled(50_000) * 6


def phase_threads(ch):
    """Threads churning at once; some collect at random generations."""
    nthreads = 5
    iterations = scaled(20_000)
    errors = []
    barrier = threading.Barrier(nthreads)

    def worker(index):
        rng = random.Random(SEED * 100 + index)
        keep = collections.deque(maxlen=200)
        try:
            barrier.wait()
            for i in range(iterations):
                x = [i, {"i": (i, [i])}]
                n = Node()
                n.x = x
                if i % 4 == 0:
                    n.self = n
                if i % 1000 == 0:
                    with ch.lock:
                        ch.sample(n)
                if i % 97 == 0:
                    keep.append(x)
                if i % 500 == 0:
                    y = pickle.loads(pickle.dumps([x, {"n": [1, (2, [3])]}]))
                    z = json.loads('{"a": [1, {"b": [2, 3]}], "c": {}}')
                    keep.append((y, z))
                if rng.random() < 0.0006:
                    gcx.collect(rng.choice((0, 1, 2)))
                if index == 0 and rng.random() < 0.0001:
                    if tracemalloc.is_tracing():
                        tracemalloc.stop()
                    else:
                        tracemalloc.start(1)
        except BaseException as exc:
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(5e-5)
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    ch.made += nthreads * iterations * 5


def phase_c_paths(ch):
    """Containers made and freed inside C: json, pickle, deepcopy, map,
    zip, itertools, sorted, dict/set constructors."""
    shared = [1, [2]]
    base = {"l": [shared, shared, {"x": (shared, [3])}], "n": Node(),
            "s": {(1, 2), frozenset({3})}, "t": tuple([i] for i in range(20))}
    base["n"].base = base                      # cyclic
    base["self"] = base
    text = json.dumps({"a": [[i, {"b": [i, {}]}] for i in range(200)]})
    rounds = scaled(400)
    for i in range(rounds):
        doc = json.loads(text)                 # ~800 containers
        cp = copy.deepcopy(base)               # ~30, cyclic: garbage
        if i % 100 == 0:
            ch.sample(cp["n"])
        back = pickle.loads(pickle.dumps(base, 4))
        m = list(map(lambda x: [x, (x,)], range(100)))
        z = dict(zip(map(str, range(50)), ([j] for j in range(50))))
        p = list(itertools.product(range(10), [[]], repeat=1))
        s = sorted(((j % 7, [j]) for j in range(60)), key=lambda t: t[0])
        del doc, cp, back, m, z, p, s
        ch.maybe_collect(0.05)
        ch.maybe_toggle_tracemalloc(0.015)
    ch.made += rounds * 1300


def phase_automatic(ch):
    """gcx's automatic collection on (low thresholds) while a loop and a
    thread churn cycles: collections run from pending calls and from the
    helper thread, finalizers resurrect."""
    old_threshold = gcx.get_threshold()
    stop = threading.Event()
    errors = []

    def background():
        try:
            i = 0
            while not stop.is_set():
                n = Node()
                n.self = [n, {"i": i}]
                i += 1
        except BaseException as exc:
            errors.append(exc)

    before = sum(s["collections"] for s in gcx.get_stats())
    gcx.set_threshold(300, 5, 5)
    gcx.enable()
    t = threading.Thread(target=background)
    t.start()
    try:
        for i in range(scaled(50_000)):
            n = Node()
            n.l = [n, (i, {"n": n})]
            if i % 1000 == 0:
                ch.sample(n)
            if i % 5000 == 0:
                p = Phoenix()
                p.self = p
        # a blocked main thread: the helper thread must collect
        stop.wait(0.05)
    finally:
        stop.set()
        t.join()
        gcx.disable()
        gcx.set_threshold(*old_threshold)
    assert not errors, errors
    after = sum(s["collections"] for s in gcx.get_stats())
    assert after > before, "no automatic collection ran"
    Phoenix.box.clear()
    ch.made += scaled(50_000) * 4


def phase_deep_and_resurrect(ch):
    """Deep structures freed through the trashcan, and objects resurrected
    by their finalizer on refcount death and in collections."""
    for r in range(scaled(4)):
        x = []
        for i in range(50_000):
            x = [x, {"i": i}]
        del x
        first = chain = Node()
        for i in range(20_000):
            n = Node()
            n.next = chain
            chain = n
        first.next = chain                     # one long cycle: garbage
        ch.sample(chain)
        del first, chain, n
        for i in range(2_000):
            Phoenix()                          # resurrected on refcount death
            p = Phoenix()
            p.self = p                         # resurrected by a collection
        del p
        gcx.collect(ch.rng.choice((0, 1, 2)))
        Phoenix.box.clear()                    # second death: freed for good
        ch.maybe_toggle_tracemalloc(0.3)
    ch.made += scaled(4) * 126_000


PHASES = [phase_loops, phase_threads, phase_c_paths, phase_automatic,
          phase_deep_and_resurrect]


# ----------------------------------------------------------------- checks

def check_after(ch, label):
    """The per-phase checks; tracemalloc is stopped first (and left off)."""
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    _gcx.check()
    theirs = STDLIB["get_objects"]()
    ours = gcx.get_objects()
    their_ids = {id(o) for o in theirs}
    stray = [o for o in ours if id(o) not in their_ids and o is not theirs]
    assert not stray, (f"after {label} (seed {SEED}, {gcx.mode()} mode): "
                       f"{len(stray)} objects in gcx.get_objects() that CPython "
                       f"does not list: {collections.Counter(type(o).__qualname__ for o in stray)}")
    del theirs, ours, their_ids, stray
    _gcx.check()
    gcx.collect()
    alive = sum(r() is not None for r in ch.garbage_refs)
    assert alive == 0, (f"after {label} (seed {SEED}, {gcx.mode()} mode): "
                        f"{alive} of {len(ch.garbage_refs)} sampled garbage "
                        "cycles survived a full gcx.collect()")
    ch.garbage_refs.clear()
    _gcx.check()


def run_all(report=print):
    """Every phase in order, checking after each; returns the Churn."""
    ch = Churn(SEED)
    try:
        for phase in PHASES:
            phase(ch)
            check_after(ch, phase.__name__)
            report(f"{phase.__name__}: ok ({ch.made} containers so far)")
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        Phoenix.box.clear()
    return ch


# ----------------------------------------------------------------- tests

def test_stress_here(quiet):
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc is already tracing")
    ch = run_all(report=lambda line: None)
    assert ch.made >= scaled(1_000_000)


def _other_mode():
    if gcx.mode() != "safe":
        return "safe"
    return ("tracer" if _gcx.info()["selftest"]
            else "alloc" if sys.version_info >= (3, 13) else "lists")


def test_stress_other_mode(run_program):
    mode = _other_mode()
    if mode is None:
        pytest.skip("this interpreter supports safe mode only (covered in-process)")
    scale = SCALE / 4
    proc = run_program("stress/other_mode.py", mode,
                       env={"GCX_MODE": mode, "GCX_STRESS_SCALE": str(scale),
                            "GCX_STRESS_SEED": str(SEED)}, timeout=900)
    assert proc.returncode == 0, (
        f"GCX_MODE={mode} GCX_STRESS_SCALE={scale} child failed "
        f"(exit status {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-6000:]}")
    assert proc.stdout.splitlines()[-1].startswith("done:"), proc.stdout
