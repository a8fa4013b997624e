"""Tracking parity: gcx's record of containers against CPython's own.

In a quiescent state (both automatic collectors off, no other thread
running) the objects gcx reports as tracked, ``gcx.get_objects()``, must be
exactly the objects the stdlib reports, ``gc.get_objects()``, compared by
identity; the only allowed difference is the two result lists themselves.
``gcx.is_tracked()`` must agree with the stdlib's for a sample of tracked and
untracked objects, and ``_gcx.check()`` (the table's invariants) must pass.

Each *scenario* below churns the heap one way (bytecode loops, C code paths,
threads, the trashcan, resizes, resurrection, tracemalloc, collections,
freeze) and checks parity at its checkpoints and at its end.  Every scenario
runs twice:

- in this process, in whatever mode gcx chose here (``lists``, or the one
  ``GCX_MODE`` forces);
- in a fresh interpreter (``sys.executable``) in each other mode this
  interpreter can run (``safe``, ``lists``, ``alloc``, and ``tracer`` where
  the tracer reports every death), so every mode is always covered.

The fresh interpreter runs tests/programs/tracking/parity.py, which imports
this module and runs the scenarios.  A third kind of child,
tests/programs/tracking/startup_tracing.py, starts with ``-X tracemalloc``,
so that gcx is imported while tracemalloc holds the reference tracer slot.

When a check fails, the message lists the objects only one side reports,
grouped by type, with a few examples.
"""
import ast
import collections
import copy
import itertools
import json
import os
import pickle
import random
import re
import reprlib
import sys
import sysconfig
import threading
import tracemalloc
import weakref

import pytest

import gcx
from gcx import _gcx

try:
    from conftest import STDLIB
except ImportError:                      # imported on its own by a child
    import gc as _gc
    STDLIB = {n: getattr(_gc, n) for n in dir(_gc) if not n.startswith("_")}

# 3.12 has no reference tracer: gcx never holds a slot there
HAS_TRACER = sys.version_info >= (3, 13)
TRACER_WORKS = sys.version_info >= (3, 13, 3)
# Lists mode is preferred wherever its self-test passes (every 3.12-3.15 GIL
# build): births read from CPython's lists, deaths seen by the allocator
# wrapper; it costs whole programs less than CPython's reference-tracer hook
PREFER_LISTS = True
DEFAULT_MODE = ("lists" if PREFER_LISTS or not HAS_TRACER
                else "tracer" if TRACER_WORKS else "alloc")


def expected_selftest(forced):
    """info()["selftest"] with GCX_MODE=forced ("" or None: unset): None
    where the tracer's self-test is not needed (lists mode preferred or
    forced: it runs only where lists mode is unavailable), False on 3.12."""
    if not HAS_TRACER:
        return False
    if forced == "lists" or (not forced and PREFER_LISTS):
        return None
    return TRACER_WORKS


def holds_slot(mode):
    """Does gcx hold the reference tracer slot in this mode?  Every mode but
    lists mode uses the tracer, where there is one."""
    return HAS_TRACER and mode != "lists"


# --------------------------------------------------------------- the checks

_repr = reprlib.Repr()
_repr.maxlevel = 2
_repr.maxstring = 40
_repr.maxother = 40


def _describe(objs, limit=6):
    counts = collections.Counter(type(o).__qualname__ for o in objs)
    examples = []
    for o in objs[:limit]:
        try:
            text = _repr.repr(o)
        except Exception as exc:          # a broken __repr__ is not our concern
            text = f"<repr failed: {type(exc).__name__}>"
        examples.append(f"{type(o).__qualname__} at {id(o):#x}: {text}")
    return f"{dict(counts.most_common(10))}; e.g. " + " | ".join(examples)


def tracking_problems(sample=()):
    """Compare gcx's and CPython's tracked sets now; return a list of problems.

    Both lists are taken before anything else is built, so the only objects
    allowed on one side only are the lists themselves (``theirs`` is tracked
    and exists when gcx builds ``ours``).  ``sample``: extra objects, tracked
    or not, whose is_tracked() must agree.
    """
    # a read of gcx's first: at the first read after the stdlib's own
    # freeze() or unfreeze(), gcx's spare birth marker (an empty list of
    # its own) starts or stops being tracked (src/README.md, "Lists mode")
    gcx.get_count()
    theirs = STDLIB["get_objects"]()
    ours = gcx.get_objects()
    problems = []
    mine = {id(theirs), id(ours)}
    their_ids = {id(o): o for o in theirs}
    our_ids = {id(o): o for o in ours}
    if len(our_ids) != len(ours):
        problems.append(f"gcx.get_objects() lists {len(ours) - len(our_ids)} "
                        "objects more than once")
    missing = [their_ids[i] for i in their_ids.keys() - our_ids.keys() - mine]
    extra = [our_ids[i] for i in our_ids.keys() - their_ids.keys() - mine]
    if missing:
        problems.append(f"{len(missing)} objects CPython tracks are missing from "
                        f"gcx.get_objects(): {_describe(missing)}")
    if extra:
        problems.append(f"{len(extra)} objects in gcx.get_objects() are not in "
                        f"gc.get_objects(): {_describe(extra)}")
    del missing, extra, their_ids, our_ids
    # is_tracked() after the comparison: gcx.is_tracked() adopts a tracked
    # object it has no record of, which would hide a missing record above.
    candidates = list(sample) + theirs[::97]
    candidates += STDLIB["get_referents"](*candidates[:500])
    candidates += [0, 1.5, "text", b"bytes", (), (1, "a"), {}, {"a": 1}, frozenset()]
    disagree = [o for o in candidates
                if STDLIB["is_tracked"](o) != gcx.is_tracked(o)]
    if disagree:
        problems.append(f"is_tracked() disagrees for {len(disagree)} of "
                        f"{len(candidates)} objects: {_describe(disagree)}")
    del theirs, ours, candidates, disagree
    try:
        _gcx.check()
    except AssertionError as exc:
        problems.append(f"_gcx.check(): {exc}")
    return problems


def assert_listed(objs, label):
    """Every one of objs is tracked, and listed, by both collectors."""
    theirs = {id(o) for o in STDLIB["get_objects"]()}
    ours = {id(o) for o in gcx.get_objects()}
    not_theirs = [o for o in objs if id(o) not in theirs]
    not_ours = [o for o in objs if id(o) not in ours]
    assert not not_theirs, f"{label}: not in gc.get_objects(): {_describe(not_theirs)}"
    assert not not_ours, f"{label}: not in gcx.get_objects(): {_describe(not_ours)}"
    assert all(STDLIB["is_tracked"](o) and gcx.is_tracked(o) for o in objs), label


def assert_parity(label, sample=()):
    problems = tracking_problems(sample)
    assert not problems, f"after {label} ({gcx.mode()} mode):\n  " + "\n  ".join(problems)


# --------------------------------------------------------------- scenarios
#
# A scenario is ``scenario(keep, check)``: it churns the heap, puts what
# should outlive it into the list ``keep`` (which is also the is_tracked
# sample) and calls ``check(label)`` at its checkpoints.  The harness checks
# once more at the end.  Scenarios must leave both collectors as they found
# them (quiescent, nothing frozen, tracemalloc as it was).

SCENARIOS = {}


def scenario(func):
    SCENARIOS[func.__name__] = func
    return func


class PickledNode:
    """Module-level, so pickle can find it."""


class PickledSlotted:
    __slots__ = ("a", "b")


def _fresh_classes():
    """New classes per run, so no scenario changes another's heap shape."""
    class Node:
        pass

    class Slotted:
        __slots__ = ("a", "b")

    class ListSub(list):
        pass

    class DictSub(dict):
        pass
    return Node, Slotted, ListSub, DictSub


@scenario
def baseline(keep, check):
    """Nothing but the heap as it is."""


@scenario
def python_loops(keep, check):
    """Allocation and freeing from bytecode: every common container kind,
    dicts that become tracked later, garbage cycles left for later."""
    Node, Slotted, ListSub, DictSub = _fresh_classes()
    garbage_refs = []
    for i in range(60_000):
        a = [i, [i]]
        b = {"i": i, "a": a}
        c = (a, b, i)
        n = Node()
        n.a, n.c = a, c
        s = Slotted()
        s.a = a
        st = {i, (i, str(i))}
        fs = frozenset(st)
        gen = (x for x in a)
        fn = lambda: c                        # noqa: E731  (closure + cell)
        later = {"x": i}                      # untracked ...
        ls = ListSub(a)
        ds = DictSub(k=b)
        if i % 3 == 0:
            later["y"] = [i]                  # ... and now tracked
        if i % 5 == 0:                        # a cycle left as garbage
            cyc = Node()
            cyc.self = cyc
            cyc.d = {"back": cyc}
            if i % 500 == 0:
                garbage_refs.append(weakref.ref(cyc))
            del cyc
        if i % 997 == 0:
            keep.append((a, b, c, n, s, st, fs, gen, fn, later, ls, ds))
        del a, b, c, n, s, st, fs, gen, fn, later, ls, ds
    check("the allocation loop")
    # free most of what was kept, in the middle of the list and at its ends
    del keep[1:-3]
    assert any(r() is not None for r in garbage_refs)   # cycles still there


@scenario
def object_kinds(keep, check):
    """Less common containers and less common ways to make them: exceptions
    with tracebacks (frame objects made on demand), weak references with
    callbacks, classes, instance dicts materialised by ``__dict__``, bound
    methods, modules, partials, views and iterators, code run by exec."""
    import functools
    import types
    Node, Slotted, ListSub, DictSub = _fresh_classes()
    fired = []
    refs = []

    def raiser(i):
        raise KeyError([i])

    for i in range(8_000):
        try:
            raiser(i)
        except KeyError as exc:
            err = exc
        tb = err.__traceback__
        frame = tb.tb_frame                         # a frame object
        n = Node()
        n.x = i
        d = n.__dict__                              # materialises the dict
        d["later"] = [i]
        wr = weakref.ref(n, fired.append)
        refs.append(wr)                             # outlives n: its callback runs
        if len(refs) > 100:
            refs.clear()
        meth = Node.__init__.__get__(n)
        mod = types.ModuleType(f"m{i}")
        mod.value = [i]
        part = functools.partial(raiser, [i])
        it = iter({"a": [i]}.items())
        sv = {i, -i}.__iter__()
        view = {"k": [i]}.values()
        ns = {}
        exec("def f(): return [1]\nr = f()", ns)
        mv = memoryview(b"abc")
        sl = slice([i], None)
        if i % 100 == 0:
            cls = type(f"T{i}", (Node,), {"attr": [i]})   # garbage cycle later
            obj = cls()
            obj.self = obj
        if i % 400 == 0:
            keep.append((err, tb, frame, n, d, wr, meth, mod, part, it, sv,
                         view, ns, mv, sl))
        del err, tb, frame, n, d, wr, meth, mod, part, it, sv, view, ns, mv, sl
    assert fired                                    # callbacks ran
    check("the loop")
    gcx.collect()
    check("a gcx collection")


@scenario
def c_paths(keep, check):
    """Containers made and freed inside C code."""
    Node, Slotted, ListSub, DictSub = _fresh_classes()

    def nested(depth, width):
        doc = {"leaf": [1, 2.5, "s", None, True, {"e": []}]}
        for d in range(depth):
            doc = {"level": d, "items": [doc] + [{"k": [i, str(i)], "t": [i, i]}
                                                 for i in range(width)],
                   "meta": {"a": [], "b": {}, "c": [[[]]]}}
        return doc

    text = json.dumps(nested(40, 30))
    for i in range(15):
        doc = json.loads(text)
        if i % 7 == 0:
            keep.append(doc)
    del doc
    check("json.loads")

    for i in range(40):
        r = list(map(lambda x: [x, (x, [x])], range(1500)))
        z = list(zip(range(1500), map(str, range(1500)), range(1500)))
        e = list(enumerate([[]] * 500))
        d = dict(zip(map(str, range(500)), ([i] for i in range(500))))
        if i % 13 == 0:
            keep.append((r[::100], z[::100], e[::50], d))
    del r, z, e, d
    check("map/zip/enumerate/dict")

    shared = [1, 2, [3]]
    tree = {"shared": shared, "again": shared, "tuple": (shared, [shared]),
            "node": Node(), "set": {(1, 2), frozenset({3})}}
    tree["node"].tree = tree                  # a cycle deepcopy must keep
    tree["pnode"] = PickledNode()
    tree["pnode"].tree = tree
    tree["self"] = tree
    for i in range(300):
        cp = copy.deepcopy(tree)
        sh = copy.copy(tree)
        if i % 100 == 0:
            keep.append((cp, sh))
    del cp, sh
    check("copy.deepcopy")

    del tree["node"]                          # a local class: not picklable
    obj = {"tree": tree, "slotted": PickledSlotted(), "lists": [[i] for i in range(200)],
           "od": collections.OrderedDict(a=[1]), "dd": collections.defaultdict(list),
           "dq": collections.deque([[1], (2, [3])]), "ctr": collections.Counter("abcab")}
    obj["slotted"].a = obj
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):   # 0, 1: no __slots__
        for i in range(30):
            back = pickle.loads(pickle.dumps(obj, proto))
            if i == 0:
                keep.append(back)
    del back
    check("pickle round trips")

    for i in range(20):
        p = list(itertools.product(range(25), [[]], repeat=2))
        c = list(itertools.combinations([[x] for x in range(30)], 3))
        pm = list(itertools.permutations(range(6)))
        g = [(k, list(v)) for k, v in itertools.groupby(sorted(map(str, range(2000))), key=len)]
        t1, t2 = itertools.tee(iter([[x] for x in range(500)]))
        ch = list(itertools.chain(t1, t2, itertools.islice(itertools.count(), 100)))
        acc = list(itertools.accumulate(([x] for x in range(300)), lambda a, b: a + b[:0]))
        pw = list(itertools.pairwise([[x] for x in range(300)]))
        bt = list(itertools.batched(range(1000), 7))
        zl = list(itertools.zip_longest([[1]] * 100, range(150)))
        if i % 9 == 0:
            keep.append((p[:10], c[:10], pm[:10], g, ch[:10], acc[-1:], pw[:5], bt[:5], zl[:5]))
    del p, c, pm, g, t1, t2, ch, acc, pw, bt, zl
    check("itertools")

    rng = random.Random(7)
    data = [(rng.random(), [i], {"i": i}) for i in range(20_000)]
    for i in range(6):
        s1 = sorted(data, key=lambda t: t[0])
        s2 = sorted(((t[0], i) for i, t in enumerate(data)), reverse=True)
        s3 = sorted(data, key=lambda t: (t[1][0] % 10, -t[0]))
        if i == 0:
            keep.append((s1[:100], s2[:100], s3[:100]))
    del data, s1, s2, s3
    check("sorted")

    text = " ".join(f"key{i}=val{i}; [{i}]" for i in range(5000))
    for i in range(10):
        ms = list(re.finditer(r"(key(\d+))=(val\d+)", text))
        fa = re.findall(r"(key\d+)=(val\d+)", text)
        sp = re.split(r"(;)", text)
        sub = re.sub(r"\[(\d+)\]", lambda m: m.group(1) * 2, text)
        pats = [re.compile(f"k{j}(x|y)?") for j in range(50)]
        if i == 0:
            keep.append((ms[:20], fa[:20], sp[:20], sub[:50], pats[:3]))
    del ms, fa, sp, sub, pats
    check("re")


@scenario
def threads(keep, check):
    """Several threads allocating and freeing at once, with tiny switch
    intervals so that they interleave inside the loops."""
    Node, Slotted, ListSub, DictSub = _fresh_classes()
    nthreads = 6
    barrier = threading.Barrier(nthreads + 1)
    results = [None] * nthreads
    errors = []

    def worker(index):
        try:
            rng = random.Random(index)
            local = []
            barrier.wait()
            for i in range(15_000):
                x = [i, {"i": (i, [i])}]
                n = Node()
                n.x = x
                if index % 2:
                    n.self = n                # garbage cycles too
                if i % 250 == 0:
                    y = json.loads('{"a": [1, {"b": [2, 3]}], "c": {}}')
                    z = pickle.loads(pickle.dumps((x, [x])))
                    local.append((y, z))
                if rng.random() < 0.01:
                    local.append((x, n))
                if len(local) > 100:
                    del local[rng.randrange(len(local))]
            results[index] = local
        except BaseException as exc:          # reported by the main thread
            errors.append(exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        ts = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
        for t in ts:
            t.start()
        barrier.wait()
        mine = []
        for i in range(15_000):              # the main thread churns too
            mine.append([i, (i, {})])
            if len(mine) > 50:
                mine.clear()
        for t in ts:
            t.join()
    finally:
        sys.setswitchinterval(old_interval)
    assert not errors, errors
    del ts, t, mine
    keep.extend(results)
    check("the threads finished")
    results[1::2] = [None] * (nthreads // 2)  # free some threads' results
    keep[:] = [r for r in keep if r is not None]


_SUB_CHURN = """
class SubOnly:
    pass

kept = []
for i in range(ROUNDS):
    x = SubOnly()
    x.self = x                            # garbage cycles
    x.items = [i, {"i": (i, [i])}]
    if i % 100 == 0:
        kept.append(x)
import gc
gc.collect()
"""


@scenario
def subinterpreters(keep, check):
    """Subinterpreters' objects reach gcx's tracer (the slot is the
    runtime's) but are not gcx's: none may be recorded, whether the
    subinterpreter shares the main GIL and runs in this thread, or has its
    own and runs in another thread while this one allocates and collects."""
    try:
        import _interpreters
    except ImportError:
        return
    Node = _fresh_classes()[0]
    shared = _interpreters.create("legacy")
    own = _interpreters.create("isolated")
    try:
        _interpreters.run_string(shared, _SUB_CHURN.replace("ROUNDS", "3000"))
        check("a subinterpreter ran in this thread")
        errors = []

        def run_own():
            try:
                _interpreters.run_string(own, _SUB_CHURN.replace("ROUNDS", "60_000"))
            except BaseException as exc:      # reported by the main thread
                errors.append(exc)

        t = threading.Thread(target=run_own)
        t.start()
        mine = []
        while t.is_alive():                   # this thread churns and collects
            for i in range(500):
                n = Node()
                n.self = n
                mine.append([i, (i, {})])
            mine.clear()
            gcx.collect(0)
        t.join()
        assert not errors, errors
        del t, mine
        check("a subinterpreter with its own GIL ran in another thread")
    finally:
        _interpreters.destroy(shared)
        _interpreters.destroy(own)
    check("both subinterpreters were destroyed")


@scenario
def trashcan(keep, check):
    """Deep structures whose deallocation goes through the trashcan."""
    Node, Slotted, ListSub, DictSub = _fresh_classes()
    x = []
    for i in range(200_000):
        x = [x]
    del x
    check("200k nested lists freed")
    d = {}
    for i in range(100_000):
        d = {"d": d, "i": i}
    del d
    t = ()
    for i in range(100_000):
        t = (t, [i])
    del t
    n = None
    for i in range(100_000):
        m = Node()
        m.next = n
        n = m
    del n, m
    s = None
    for i in range(100_000):
        m = Slotted()
        m.a = s
        s = m
    del s, m
    check("nested dicts, tuples and instances freed")
    # keep the tail of a deep chain, free its head
    x = []
    middle = None
    for i in range(150_000):
        x = [x, i]
        if i == 50_000:
            middle = x
    keep.append(middle)
    del x, middle
    check("the head of a chain freed, its tail kept")


@scenario
def resizes(keep, check):
    """Objects resized in place or moved by realloc."""
    for n in range(0, 400):
        t = tuple([i] for i in range(n) if i % 3)   # _PyTuple_Resize
        u = tuple(i for i in range(n))              # resized, then untracked
        s = "".join(str(i) for i in range(n))
        b = b""
        for i in range(n % 50):
            b += bytes([i])                         # _PyBytes_Resize
        ba = bytearray(b) * 3
        lst = [[]] * n
        lst.extend([i] for i in range(n))           # list growth
        d = {}
        for i in range(n % 60):
            d[i] = [i]                              # dict growth
        if n % 50 == 0:
            keep.append((t, u, s, b, ba, lst, d))
    del t, u, s, b, ba, lst, d
    check("tuple/bytes/str/list/dict resizes")


@scenario
def resurrection(keep, check):
    """Objects resurrected by their __del__: on refcount death (bytecode and
    C deallocation paths) and in collections by gcx and by the stdlib."""
    box = []

    class Phoenix:
        def __init__(self):
            self.payload = [1, [2], {"x": []}]

        def __del__(self):
            box.append(self)

    class PhoenixList(list):
        def __del__(self):
            box.append(self)

    class PhoenixDict(dict):
        def __del__(self):
            box.append(self)

    for i in range(200):
        Phoenix()                                   # dies in the bytecode loop
        p = PhoenixList([[i]])
        del p
        q = PhoenixDict(k=[i])
        q = None
    container = [Phoenix() for _ in range(100)]
    container.clear()                               # dies inside list_clear
    del container
    {"k": Phoenix(), "l": PhoenixList()}            # dies inside dict_dealloc
    assert len(box) == 200 * 3 + 100 + 2
    assert_listed(box, "resurrected on refcount death")
    check("resurrection on refcount death")
    keep.append(box)

    def cycles(n):
        for i in range(n):
            p = Phoenix()
            p.self = p
            p.other = PhoenixList([p])

    before = len(box)
    cycles(50)
    gcx.collect()
    assert len(box) > before
    assert_listed(box[before:], "resurrected in a gcx collection")
    check("resurrection in a gcx collection")
    before = len(box)
    cycles(50)
    STDLIB["collect"]()
    assert len(box) > before
    assert_listed(box[before:], "resurrected in a stdlib collection")
    check("resurrection in a stdlib collection")
    # resurrected objects die for good the second time (no second __del__)
    del box[::2]
    check("resurrected objects freed")


def _tracemalloc_works(label, snapshot=True):
    """Traced memory grows while tracing, new objects get a traceback in this
    file, and a snapshot can be taken."""
    before = tracemalloc.get_traced_memory()[0]
    grow = [[i, str(i)] for i in range(5000)]
    after = tracemalloc.get_traced_memory()[0]
    assert after > before, (label, before, after)
    tb = tracemalloc.get_object_traceback(grow[-1])
    assert tb is not None and tb[-1].filename == __file__, (label, tb)
    if snapshot:
        snap = tracemalloc.take_snapshot()
        assert len(snap.traces) > 0, label
        del snap
    del grow


def _freelist_traceback_is_current():
    """A list taken from the freelist gets the traceback of its new
    allocation: tracemalloc learns of the reuse through the reference
    tracer, so this holds only if gcx forwards the tracer's events."""
    # More lists than the freelist holds (80): the ones it held, perhaps
    # allocated while tracemalloc was off and so untraced, are used up and
    # the last ones freed, all allocated while tracing, refill it.
    old = [[] for _ in range(300)]
    del old
    fresh = []                                # FRESH-LINE
    tb = tracemalloc.get_object_traceback(fresh)
    assert tb is not None
    with open(__file__) as f:
        expected = next(i for i, line in enumerate(f, 1)
                        if line.rstrip().endswith("# FRESH-LINE"))
    assert tb[-1].lineno == expected, (tb[-1].lineno, expected)   # most recent last


@scenario
def tracemalloc_midway(keep, check):
    """tracemalloc started and stopped (through the module's functions, which
    gcx wraps) midway and at random points inside a loop: gcx keeps its
    records right and tracemalloc keeps working."""
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc was already tracing")
    Node, Slotted, ListSub, DictSub = _fresh_classes()
    try:
        for i in range(20_000):
            keep.append([i]) if i % 1000 == 0 else [i, {"i": (i,)}]
        tracemalloc.start(3)
        assert gcx.info()["owner"] is holds_slot(gcx.mode())
        check("tracemalloc.start()")
        _tracemalloc_works("after start")
        _freelist_traceback_is_current()
        for i in range(5_000):
            n = Node()
            n.d = {"n": n}
            keep.append(n) if i % 500 == 0 else None
        check("allocating while tracing")
        tracemalloc.stop()
        assert gcx.info()["owner"] is holds_slot(gcx.mode())
        check("tracemalloc.stop()")

        rng = random.Random(2024)
        toggles = 0
        for i in range(30_000):
            x = [i, (i, {"i": [i]})]
            if i % 7 == 0:
                y = Node()
                y.self = y
            if i % 3000 == 0:
                keep.append(x)
            if rng.random() < 0.001:
                if tracemalloc.is_tracing():
                    tracemalloc.stop()
                else:
                    tracemalloc.start()
                    _tracemalloc_works(f"restart {toggles}", snapshot=toggles % 5 == 0)
                toggles += 1
            if rng.random() < 0.0002:
                check(f"iteration {i} (tracing: {tracemalloc.is_tracing()})")
        assert toggles >= 10
        check("the toggling loop")
    finally:
        tracemalloc.stop()
    check("tracemalloc stopped at the end")


@scenario
def tracemalloc_unwrapped(keep, check):
    """tracemalloc's own start/stop (not gcx's wrappers, as code that did
    ``from _tracemalloc import start`` before gcx was imported calls them):
    gcx finds out at its next look and still reports exactly."""
    import _tracemalloc
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc was already tracing")
    Node, Slotted, ListSub, DictSub = _fresh_classes()
    try:
        for round_ in range(3):
            _tracemalloc.start(1)
            for i in range(8_000):
                n = Node()
                n.l = [n, {"i": i}] if i % 2 else [i]
                if i % 1000 == 0:
                    keep.append(n)
            check(f"round {round_}: tracing, gcx not told")
            _tracemalloc_works(f"round {round_}")
            for i in range(5_000):
                x = [i, (i, [i])]
            _tracemalloc.stop()
            for i in range(10_000):
                x = {"x": [i]}
            del keep[::3]
            check(f"round {round_}: stopped, gcx not told")
    finally:
        _tracemalloc.stop()
    gcx.collect()
    check("a gcx collection after all that")


@scenario
def collections_run(keep, check):
    """After collections by gcx (each generation, and saving all garbage) and
    by the stdlib."""
    Node, Slotted, ListSub, DictSub = _fresh_classes()

    def make(n):
        refs = []
        for i in range(n):
            a, b = Node(), Node()
            a.b, b.a = b, a
            a.d = {"a": a, "t": (a, [b])}
            refs.append(weakref.ref(a))
            live = [i, {"i": [i]}]
            live.append(live)
            if i % 50 == 0:
                keep.append(live)
        return refs

    for gen in (0, 1, 2):
        refs = make(3000)
        gcx.collect(gen)
        check(f"gcx.collect({gen})")
        assert all(r() is None for r in refs), f"gcx.collect({gen}) left cycles"
    for gen in (0, 1, 2):
        refs = make(3000)
        STDLIB["collect"](gen)
        check(f"gc.collect({gen})")
        assert all(r() is None for r in refs), f"gc.collect({gen}) left cycles"
    old = gcx.get_debug()
    gcx.set_debug(gcx.DEBUG_SAVEALL)
    try:
        make(1000)
        gcx.collect()
        assert gcx.garbage
        check("gcx.collect() with DEBUG_SAVEALL")
    finally:
        gcx.set_debug(old)
        gcx.garbage.clear()
    check("gcx.garbage cleared")
    refs = make(1000)
    gcx.collect(0)
    STDLIB["collect"](1)
    gcx.collect(2)
    STDLIB["collect"]()
    check("alternating collections")


@scenario
def freeze_unfreeze(keep, check):
    """Both collectors frozen at the same point: get_objects() of each leaves
    out the frozen objects; after unfreezing both, everything is back."""
    Node, Slotted, ListSub, DictSub = _fresh_classes()
    keep.extend([i, {"i": [i]}] for i in range(2000))
    gcx.freeze()
    STDLIB["freeze"]()
    try:
        check("freeze")
        keep.extend(Node() for _ in range(2000))
        for i in range(20_000):
            x = [i, (i, {})]
        check("allocation while frozen")
        gcx.collect()
        STDLIB["collect"]()
        check("collections while frozen")
    finally:
        gcx.unfreeze()
        STDLIB["unfreeze"]()
    check("unfreeze")


@scenario
def freeze_count(keep, check):
    """Both collectors frozen at the same point froze the same objects."""
    if gcx.mode() == "safe" and sys.version_info < (3, 13, 3):
        pytest.skip("before 3.13.3 PyUnstable_GC_VisitObjects skips the stdlib's "
                    "permanent generation (gh-131740), so safe mode cannot see "
                    "objects the stdlib collector froze (documented in src/README.md)")
    keep.extend([i, {"i": [i]}] for i in range(2000))
    gcx.freeze()
    STDLIB["freeze"]()
    try:
        theirs, ours = STDLIB["get_freeze_count"](), gcx.get_freeze_count()
        assert theirs == ours, f"freeze counts: stdlib {theirs}, gcx {ours}"
    finally:
        gcx.unfreeze()
        STDLIB["unfreeze"]()


@scenario
def freeze_after_late_tracking(keep, check):
    """Dicts CPython began to track after gcx last looked at the heap are
    frozen by freeze() like everything else."""
    if gcx.mode() == "safe" and sys.version_info < (3, 13, 3):
        pytest.skip("before 3.13.3 PyUnstable_GC_VisitObjects skips the stdlib's "
                    "permanent generation (gh-131740), so safe mode cannot see "
                    "objects the stdlib collector froze (documented in src/README.md)")
    late = [{"i": i} for i in range(100)]           # dicts of atoms: untracked
    keep.append(late)
    check("untracked dicts made")                   # gcx looks (safe: a resync)
    for d in late:
        d["now"] = []                               # tracked from here
    gcx.freeze()
    STDLIB["freeze"]()
    try:
        check("freeze")
        theirs, ours = STDLIB["get_freeze_count"](), gcx.get_freeze_count()
        assert theirs == ours, f"freeze counts: stdlib {theirs}, gcx {ours}"
    finally:
        gcx.unfreeze()
        STDLIB["unfreeze"]()


@scenario
def freeze_then_track(keep, check):
    """A dict untracked when frozen and tracked afterwards is in the stdlib's
    young generation, so both must report it."""
    untracked = [{"i": i} for i in range(100)]       # dicts of atoms
    keep.append(untracked)
    gcx.freeze()
    STDLIB["freeze"]()
    try:
        for d in untracked:
            d["now"] = []                            # tracked from here
        assert all(STDLIB["is_tracked"](d) for d in untracked)
        check("dicts tracked after freeze()")
    finally:
        gcx.unfreeze()
        STDLIB["unfreeze"]()


# --------------------------------------------------------------- harness

def _quiesce():
    STDLIB["collect"]()
    gcx.collect()
    STDLIB["disable"]()
    gcx.disable()


def run_scenario(name):
    keep = []

    def check(label):
        assert_parity(f"{name}: {label}", keep)

    SCENARIOS[name](keep, check)
    check("the end")


def _modes_for_children():
    """Every mode this interpreter can run but this process does not."""
    modes = (["safe", "lists"] + (["alloc"] if HAS_TRACER else [])
             + (["tracer"] if TRACER_WORKS else []))
    return [m for m in modes if m != gcx.mode()]


_child_results = {}


def _child_outcome(request, run_program, mode, name):
    """One child per mode runs every scenario this session selected."""
    if mode not in _child_results:
        names = [item.callspec.params["name"] for item in request.session.items
                 if getattr(item, "originalname", None) == "test_parity_fresh_interpreter"
                 and item.callspec.params["mode"] == mode]
        proc = run_program("tracking/parity.py", mode, *(names or [name]),
                           env={"GCX_MODE": mode}, timeout=600)
        results = {}
        for line in proc.stdout.splitlines():
            kind, _, rest = line.partition(" ")
            scen, _, detail = rest.partition(" ")
            if kind in ("OK", "SKIP", "FAIL"):
                results[scen] = (kind, detail)
        _child_results[mode] = (proc, results)
    proc, results = _child_results[mode]
    if name not in results:
        started = [line for line in proc.stdout.splitlines() if line.startswith("START")]
        pytest.fail(f"the GCX_MODE={mode} child did not finish {name} "
                    f"(exit status {proc.returncode}; last started: "
                    f"{started[-1] if started else None}):\n{proc.stderr[-4000:]}")
    return results[name]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_parity_here(quiet, name):
    run_scenario(name)


@pytest.mark.parametrize("mode", ["safe", "tracer", "alloc", "lists"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_parity_fresh_interpreter(request, run_program, name, mode):
    if mode not in _modes_for_children():
        pytest.skip(f"{mode} mode is {'covered in this process' if mode == gcx.mode() else 'unavailable here'}")
    kind, detail = _child_outcome(request, run_program, mode, name)
    if kind == "SKIP":
        pytest.skip(detail)
    if kind == "FAIL":
        detail = ast.literal_eval(detail)    # the child printed repr(traceback)
    assert kind == "OK", f"GCX_MODE={mode} child:\n{detail}"


@pytest.mark.parametrize("mode", ["tracer", "alloc", "lists", "safe"])
def test_parity_tracemalloc_from_startup(run_program, mode):
    if mode == "tracer" and not TRACER_WORKS:
        pytest.skip("this interpreter's tracer misses deallocations")
    if mode == "alloc" and not HAS_TRACER:
        pytest.skip("alloc mode takes births from a reference tracer (3.13+)")
    proc = run_program("tracking/startup_tracing.py", mode,
                       python_args=("-X", "tracemalloc=2"), env={"GCX_MODE": mode}, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-6000:]
    assert proc.stdout.splitlines()[-1:] == ["OK"], proc.stdout


# --------------------------------------------------------------- modes

def test_mode_matches_interpreter():
    info = _gcx.info()
    forced = os.environ.get("GCX_MODE", "")
    assert info["selftest"] is expected_selftest(forced)
    expected = forced or DEFAULT_MODE
    assert info["mode"] == expected
    assert gcx.mode() == expected
    assert info["owner"] is holds_slot(expected)
    _gcx.check()


@pytest.mark.parametrize("forced", [None, "", "safe", "tracer", "alloc", "lists"])
def test_mode_in_fresh_interpreter(run_program, forced):
    proc = run_program("tracking/mode.py", env={"GCX_MODE": forced})
    if (forced == "tracer" and not TRACER_WORKS) or (forced == "alloc" and not HAS_TRACER):
        assert proc.returncode != 0
        assert "ImportError" in proc.stderr, proc.stderr
        assert "lists" in proc.stderr and "or safe mode" in proc.stderr, proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    expected = forced or DEFAULT_MODE
    # the allocator wrapper's self-test runs where its deaths may be used
    alloc_tested = "True" if expected in ("alloc", "lists") or not TRACER_WORKS else "None"
    assert proc.stdout.split() == [expected, str(expected_selftest(forced)), alloc_tested,
                                   str(holds_slot(expected))]


def test_bad_mode_rejected(run_program):
    proc = run_program("tracking/mode.py", env={"GCX_MODE": "fast"})
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and "GCX_MODE" in proc.stderr, proc.stderr


def test_container_addresses_are_multiples_of_16(quiet):
    """What the table's 16-byte granules rest on (src/gcx.h,
    GCX_GRAIN_SHIFT): every container CPython tracks here, of every type
    the interpreter and these tests made, is at an address that is a
    multiple of 16, and gcx found none that was not."""
    import gc
    objects = gc.get_objects()
    odd = [type(o).__name__ for o in objects if id(o) % 16]
    assert len(objects) > 10_000 and odd == []
    assert gcx.info()["unaligned"] == 0


def _instance_in_a_block_begun_on_the_page_before():
    """An instance at a page's first byte whose memory block begins 32 bytes
    before it, on a page of bytes objects: pools of the object allocator
    are filled with bytes objects of the instance's block size, the one
    that ends 32 bytes before a page is freed, and an instance takes its
    block.  (None, None) where no size class allows it."""
    for nattrs in range(12):
        body = "".join(f"    self.a{i} = {i}\n" for i in range(nattrs))
        ns = {}
        exec("def __init__(self):\n" + body + "    pass\n", ns)
        cls = type(f"Attrs{nattrs}", (), {"__init__": ns["__init__"]})
        # the block size: the distance between neighbours in the pools
        # made last, once the holes earlier frees left are filled
        probe = [cls() for _ in range(8192)]
        block = collections.Counter(
            id(b) - id(a) for a, b in zip(probe[-512:], probe[-511:])).most_common(1)[0][0]
        # pools of 16 KiB with a 48-byte header; a bytes object of n bytes
        # takes a block of 33 + n rounded up to 16
        if block > 512 or not any((page * 4096 - 32 - 48) % block == 0 for page in (1, 2, 3)):
            continue
        # enough to fill the holes earlier frees left in that size's pools
        # too: the pools made after them are full
        filler = [bytes(block - 33) for _ in range(64 * 16384 // block)]
        at_end = [i for i, b in enumerate(filler) if id(b) % 4096 == 4096 - 32]
        for i in reversed(at_end[:-1]):   # the last pool may not be full
            want = id(filler[i]) + 32
            del filler[i]   # a full pool's freed block is the next one taken
            o = cls()
            if id(o) == want:
                return o, (filler, probe)
            del o
        del probe
    return None, None


def test_a_block_begun_on_the_page_before_drops_its_record(quiet):
    """An instance with the pre-header (its managed dict and weakref
    pointers) lies 32 bytes into its memory block, so one at a page's first
    byte has a block that begins on the page before.  When the block is
    freed, the allocator wrapper (lists and alloc modes) or the tracer must
    drop its record all the same, even where the page before holds no
    record at all: the page filter answers for both pages with the earlier
    page's bit (table.c, T7)."""
    if os.environ.get("PYTHONMALLOC", "pymalloc").startswith("malloc") \
            or not sysconfig.get_config_var("WITH_PYMALLOC"):
        pytest.skip("placing the instance needs pymalloc's pools (PYTHONMALLOC=malloc here)")
    o, keep = _instance_in_a_block_begun_on_the_page_before()
    assert o is not None, "no instance could be placed at a page's first byte"
    assert id(o) % 4096 == 0 and type(o).__flags__ & (1 << 4)   # Py_TPFLAGS_MANAGED_DICT
    gcx.get_count()                       # o is recorded now
    assert any(x is o for x in gcx.get_objects(generation=0))
    # records after each step, every figure's list kept: a step that
    # frees o has one record fewer than a step that does not (so a
    # record parked with a free list's object counts the same in both)
    counts = [_gcx.info()["tracked"] for _ in range(2)]
    del o
    counts.append(_gcx.info()["tracked"])
    totals = [sum(c) for c in counts]
    assert totals[2] - totals[1] == totals[1] - totals[0] - 1, totals
    _gcx.check()


def test_stdlib_collection_moves_no_old_record_back_to_generation_0(quiet):
    """Not installed, the stdlib collector keeps collecting; its scan moves
    what it finds reachable late behind gcx's marker in CPython's list.
    Those are no births: gcx's old objects stay in its old generations."""
    gcx.collect()
    old = {id(o) for o in gcx.get_objects()}
    STDLIB["collect"](0)
    keep = [[] for _ in range(1000)]
    young = gcx.get_objects(0)
    moved = [o for o in young if id(o) in old and o is not keep]
    assert len(moved) <= 2, sorted({type(o).__name__ for o in moved})
    assert sum(1 for o in young if type(o) is list) >= 1000



class _Cycle:
    pass


@pytest.mark.parametrize("hook", ["seen", "unseen", "seen, then unseen"])
def test_births_survive_stdlib_collections_of_every_generation(quiet, hook):
    """Not installed, the stdlib collector keeps collecting and moves gcx's
    marker into older lists.  gcx reads births at each stdlib collection's
    start (its hook in gc.callbacks) and notes CPython's generation counts
    at its stop; a read after it leaves out the walk of the older list
    before the marker while those counts are unchanged.  With the hook
    taken out of gc.callbacks for both collections ("unseen") or for the
    second ("seen, then unseen") the walk is done.  Either way, containers
    made between collections of generations 0, 1 and 2 (a collection of 2
    puts generation 0's before generation 1's, where the marker is) all
    have records: gcx's full collection finds every one once they are
    garbage."""
    if gcx.mode() != "lists":
        pytest.skip("lists mode reads births from CPython's lists")
    callbacks = STDLIB["callbacks"]
    saved = list(callbacks)

    def unhook():
        callbacks[:] = [cb for cb in callbacks if not getattr(cb, "_gcx_hook", False)]
    try:
        for first, then in ((0, 2), (1, 2), (0, 1), (0, 0)):
            callbacks[:] = saved
            if hook == "unseen":
                unhook()
            gcx.get_count()                 # a read: the marker at generation 0's tail
            STDLIB["collect"](first)        # the marker into an older list
            if hook == "seen, then unseen":
                unhook()
            held, refs = [], []
            for _ in range(40):             # far fewer allocations than a read's 1,024
                c = _Cycle()
                c.self = c
                held.append(c)
                refs.append(weakref.ref(c))
            STDLIB["collect"](then)         # of 2: these before the marker
            del c
            held.clear()
            gcx.collect()
            alive = sum(1 for r in refs if r() is not None)
            assert alive == 0, f"collections {first}, {then}: {alive} of 40 cycles had no record"
    finally:
        callbacks[:] = saved


def test_lists_mode_reads_births_when_a_collection_is_due(run_program):
    """Installed, with the stdlib's rule and automatic collection on, lists
    mode reads births only before a collection (G9 of src/schedule.c): a
    container that dies before it is never recorded; so it does with a
    policy deciding in Python where CPython's own trigger serves (G10).
    With automatic collection off, or a policy without that trigger, they
    are read every few hundred allocations, as before; a run that reaches
    threshold 0 still collects."""
    if "lists" not in _modes_for_children() and gcx.mode() != "lists":
        pytest.skip("lists mode is unavailable here")
    proc = run_program("tracking/births_wait.py", env={"GCX_MODE": "lists"})
    assert proc.returncode == 0, proc.stderr
    out = {line.split()[0]: [int(x) for x in line.split()[1:]]
           for line in proc.stdout.splitlines()}
    for variant in ("default", "disabled", "policy", "young"):
        assert out[variant][1] == 0, out      # no collection was due
    # 20,000 containers, at most 400 alive at once (and at info()'s read)
    assert out["default"][0] <= 400, out
    assert out["young"][0] <= 400, out
    # read every 1,024 object allocations, 1-2 per container: up to 400
    # new ones alive at each read
    assert out["disabled"][0] >= 4_000, out
    if out["policy"][2]:
        assert out["policy"][0] <= 400, out
    else:
        assert out["policy"][0] >= 4_000, out
    assert out["reached"][0] >= 2, out
