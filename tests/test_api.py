"""gcx's Python interface against the stdlib gc module's.

Differential where possible: the same call on ``gc`` and on ``gcx`` must give
the same result, or raise the same exception type with the same message.
"""
import array
import collections
import functools
import gc as stdlib_gc
import inspect
import pickle
import sys
import tracemalloc
import weakref

import pytest

import gcx
from conftest import STDLIB
from helpers import REF_TRACER

STDLIB_PUBLIC = sorted(STDLIB)
STDLIB_FUNCTIONS = sorted(n for n, v in STDLIB.items() if callable(v))
GCX_EXTRAS = {"install", "uninstall", "installed", "is_installed", "info", "mode",
              "DEBUG_CYCLES", "recent_pauses", "Pause", "cycle_report", "record_cycles",
              "CycleReport", "no_cycles", "CyclesFound",
              "metrics", "census", "growth", "show_growth", "Growth", "log_slow_pauses",
              "SlowPauseLog",
              "Policy", "set_policy", "get_policy", "using_policy", "safe_point",
              "full_collection_due", "warmup", "no_gc", "NoGCRegion",
              "add_memory_pressure", "memory_held", "PauseBudget"}
NOARGS = ["enable", "disable", "isenabled", "get_count", "get_threshold",
          "get_debug", "get_stats", "freeze", "unfreeze", "get_freeze_count"]
TAKEN_OVER = ["collect", "enable", "disable", "isenabled", "get_count",
              "get_threshold", "set_threshold", "get_stats", "get_debug",
              "set_debug", "freeze", "unfreeze", "get_freeze_count",
              "is_finalized", "get_objects", "get_referrers", "garbage", "callbacks"]


def outcome(func, *args, **kwargs):
    """("ok", result type) or (exception type, message)."""
    try:
        result = func(*args, **kwargs)
    except Exception as exc:
        return type(exc), str(exc)
    return "ok", type(result)


def holds(seq, obj):
    return any(item is obj for item in seq)


def ids(seq):
    return sorted(map(id, seq))


class Node:
    pass


def make_cycle():
    """Two instances in a reference cycle, unreachable on return; a weakref to one."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


# ------------------------------------------------------------------ names

def test_every_stdlib_name_exists():
    missing = [name for name in STDLIB_PUBLIC if not hasattr(gcx, name)]
    assert missing == []


def test_no_stray_public_names():
    # submodules (gcx.report, gcx.testing, ...) become attributes once imported
    public = {n for n in dir(gcx)
              if not n.startswith("_") and not inspect.ismodule(getattr(gcx, n))}
    assert public == set(STDLIB_PUBLIC) | GCX_EXTRAS
    assert sorted(gcx.__all__) == sorted(public)


def test_debug_constants():
    for name in ["DEBUG_STATS", "DEBUG_COLLECTABLE", "DEBUG_UNCOLLECTABLE",
                 "DEBUG_SAVEALL", "DEBUG_LEAK"]:
        assert type(getattr(gcx, name)) is int
        assert getattr(gcx, name) == STDLIB[name]
    assert (gcx.DEBUG_STATS, gcx.DEBUG_COLLECTABLE, gcx.DEBUG_UNCOLLECTABLE,
            gcx.DEBUG_SAVEALL, gcx.DEBUG_LEAK) == (1, 2, 4, 32, 38)


def test_core_constants(run_program):
    """The core's named constants are what gcx and CPython 3.13 use: the
    debug flags come from the core, and a fresh gcx has the default
    thresholds (the stdlib's own, in a fresh interpreter)."""
    from gcx import _gcx
    for name in ["DEBUG_STATS", "DEBUG_COLLECTABLE", "DEBUG_UNCOLLECTABLE",
                 "DEBUG_SAVEALL", "DEBUG_LEAK"]:
        assert getattr(gcx, name) is getattr(_gcx, name)
    assert (_gcx.LONG_LIVED_RATIO, _gcx.SAFE_SPACING) == (4, 16)
    proc = run_program("api/core_constants.py")
    assert proc.stdout.strip() == "True", proc.stderr


def test_version():
    from gcx import _version
    assert gcx.__version__ == _version.__version__
    assert isinstance(gcx.__version__, str) and gcx.__version__.count(".") >= 1


@pytest.mark.parametrize("name", STDLIB_FUNCTIONS)
def test_signature_matches_stdlib(name):
    if name == "set_threshold":
        # no signature can say clinic's optional groups: like the stdlib's,
        # gcx's is a builtin with none (CPython's test_inspect asserts both
        # of gc.set_threshold, which is gcx's while it is installed)
        for func in (STDLIB[name], gcx.set_threshold):
            assert func.__text_signature__ is None
            with pytest.raises(ValueError):
                inspect.signature(func)
        assert type(gcx.set_threshold) is type(STDLIB[name])
        assert gcx.set_threshold.__qualname__ == "set_threshold"
        assert gcx.set_threshold.__doc__ == STDLIB[name].__doc__
        return
    ours = inspect.signature(getattr(gcx, name))
    try:
        theirs = inspect.signature(STDLIB[name])
    except ValueError:
        # 3.12's get_referrers and get_referents predate Argument Clinic:
        # no signature, but their docstring states it ("name(*objs) -> list");
        # gcx's functions have that one (gcx/_args.py, "Shapes of calls")
        stated = STDLIB[name].__doc__.splitlines()[0]
        assert stated.startswith(f"{name}(") and " -> " in stated, stated
        assert str(ours) == stated[len(name):stated.index(" -> ")]
        return
    assert ours == theirs
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("name", STDLIB_FUNCTIONS)
def test_function_metadata(name):
    func = getattr(gcx, name)
    assert func.__name__ == name
    assert func.__module__ == "gcx"
    assert func.__doc__ and func.__doc__.strip()


def _generic[T](value: T, /, other: "Node | None" = None) -> list[T]:
    """A generic function with annotations, a docstring and an attribute."""
    return [value]


_generic.extra = "kept"


@pytest.mark.parametrize("original", [_generic, len, tracemalloc.start._gcx_original])
def test_update_wrapper_is_functools(original):
    # gcx/_args.py dresses its wrappers (and the tracemalloc ones) as
    # functools.update_wrapper does, without importing functools
    from gcx import _args
    assert _args.WRAPPER_ASSIGNMENTS == functools.WRAPPER_ASSIGNMENTS

    def fresh():
        def wrapper(*args: int, **kwargs: str) -> object:
            return None
        return wrapper
    ours, theirs = fresh(), fresh()
    _args.update_wrapper(ours, original)
    functools.update_wrapper(theirs, original)
    for attr in ("__module__", "__name__", "__qualname__", "__doc__", "__type_params__",
                 "__annotations__", "__dict__"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert ours.__wrapped__ is original


# What gcx's import must not load: typing, and the modules it would bring
# (functools, collections, ...), cost a fresh process more than gcx's own
# Python code, and every process that installs gcx pays for its import.
HEAVY_MODULES = {"typing", "functools", "collections", "collections.abc", "struct",
                 "operator", "importlib.machinery", "inspect", "re", "enum",
                 "contextlib", "warnings", "tracemalloc"}


def test_import_and_install_load_no_heavy_modules(run_program):
    proc = run_program("api/import_cost.py")
    assert proc.returncode == 0, proc.stderr
    loaded, compiled, typing_after_pause, threads = proc.stdout.splitlines()
    added = set(loaded.split())
    assert {"gcx", "gcx._gcx", "gcx._args", "gcx._install", "gcx._stdlib",
            "gcx._probes"} <= added
    assert added & HEAVY_MODULES == set()
    # the installed package's bytecode is cached (pip compiles it): the
    # core's probes compiled their source strings at every import before
    assert compiled == "0"
    assert typing_after_pause == "True"        # gcx.Pause is made when first used
    # the self-tests reach the trashcan in the importing thread
    # (src/trashcan.c); on 3.14+ they started a thread of their own before
    assert threads == "0"


def test_pause_type():
    pause = gcx.Pause(1.5, 0.25, 2, 3, 0, 10)
    assert gcx.Pause is gcx.Pause and "Pause" in dir(gcx)
    assert (gcx.Pause.__module__, gcx.Pause.__qualname__) == ("gcx", "Pause")
    assert gcx.Pause._fields == ("start", "duration", "generation", "collected",
                                 "uncollectable", "candidates")
    assert repr(pause) == ("Pause(start=1.5, duration=0.25, generation=2, collected=3, "
                           "uncollectable=0, candidates=10)")
    again = pickle.loads(pickle.dumps(pause))
    assert again == pause and type(again) is gcx.Pause
    gcx.collect()
    pauses = gcx.recent_pauses()
    assert pauses and all(type(p) is gcx.Pause for p in pauses)


# ------------------------------------------------------------------ argument errors

class Index:
    def __init__(self, value):
        self.value = value
        self.calls = 0

    def __index__(self):
        self.calls += 1
        return self.value


class RaisingIndex:
    def __index__(self):
        raise RuntimeError("boom from __index__")


class StrIndex:
    def __index__(self):
        return "not an int"


class NoneIndex:
    __index__ = None


LongName = type("L" * 250, (), {})
UnicodeName = type("a" + "Ü" * 150, (), {})   # 301 bytes: cut inside a character

BIG = 2**100
GARBAGE_VALUES = ["x", 1.0, None, b"b", [], BIG, -BIG, 2**31, -2**31 - 1,
                  2**63, -2**63 - 1, StrIndex(), RaisingIndex(), NoneIndex(),
                  Index(BIG), Index(2**31), LongName(), UnicodeName(),
                  collections.OrderedDict(), array.array("i")]

BAD_CALLS = [
    # collect: generation=2, clinic int converter, then range check
    *[("collect", (v,), {}) for v in GARBAGE_VALUES],
    ("collect", (3,), {}), ("collect", (-1,), {}), ("collect", (Index(3),), {}),
    ("collect", (1, 2), {}), ("collect", (1, 2, 3), {}),
    ("collect", (), {"gen": 1}), ("collect", (), {"generatio": 1}),
    ("collect", (), {"Generation": 1}),
    ("collect", (1,), {"generation": 1}), ("collect", (1,), {"x": 1}),
    ("collect", (), {"generation": "a"}), ("collect", (), {"generation": 5}),
    ("collect", (), {"generation": 1, "x": 2}), ("collect", (), {"a": 1, "b": 2}),
    # get_objects: generation=None, optional Py_ssize_t converter, range checks
    *[("get_objects", (v,), {}) for v in GARBAGE_VALUES if v is not None],
    ("get_objects", (3,), {}), ("get_objects", (-2,), {}),
    ("get_objects", (Index(7),), {}), ("get_objects", (Index(-2**63),), {}),
    ("get_objects", (1, 2), {}), ("get_objects", (), {"gen": 1}),
    ("get_objects", (), {"generations": 1}), ("get_objects", (1,), {"generation": 1}),
    ("get_objects", (), {"generation": "x"}), ("get_objects", (), {"generation": 9}),
    ("get_objects", (), {"generation": 1, "x": 1}),
    # set_threshold: 1 to 3 positional, "i" format
    *[("set_threshold", (v,), {}) for v in GARBAGE_VALUES],
    *[("set_threshold", (1, v), {}) for v in GARBAGE_VALUES],
    *[("set_threshold", (1, 2, v), {}) for v in GARBAGE_VALUES],
    ("set_threshold", (), {}), ("set_threshold", (1, 2, 3, 4), {}),
    ("set_threshold", (1, 2, 3, 4, 5), {}), ("set_threshold", ("a", "b", "c", "d"), {}),
    ("set_threshold", (), {"threshold0": 1}), ("set_threshold", (1,), {"x": 1}),
    ("set_threshold", (1, "a", 2**100), {}),
    # set_debug: METH_O, int converter
    *[("set_debug", (v,), {}) for v in GARBAGE_VALUES],
    ("set_debug", (), {}), ("set_debug", (1, 2), {}), ("set_debug", (), {"flags": 1}),
    ("set_debug", (1,), {"flags": 1}),
    # METH_O
    *[(name, args, kwargs) for name in ["is_tracked", "is_finalized"]
      for args, kwargs in [((), {}), ((1, 2), {}), ((), {"obj": 1}), ((1,), {"obj": 1})]],
    # METH_FASTCALL, *objs
    *[(name, args, {"a": 1}) for name in ["get_referrers", "get_referents"]
      for args in [(), (1,), (1, 2)]],
    # METH_NOARGS
    *[(name, args, kwargs) for name in NOARGS
      for args, kwargs in [((1,), {}), ((1, 2), {}), ((), {"x": 1}), ((1,), {"x": 1})]],
]


def _call_id(call):
    name, args, kwargs = call
    shown = [type(a).__name__[:12] if not isinstance(a, (int, str, float)) else repr(a)[:12]
             for a in args]
    shown += [f"{k}={v!r}"[:16] for k, v in kwargs.items()]
    return f"{name}({','.join(shown)})"


@pytest.mark.parametrize("call", BAD_CALLS, ids=[_call_id(c) for c in BAD_CALLS])
def test_argument_errors_match_stdlib(quiet, call):
    name, args, kwargs = call
    expected = outcome(STDLIB[name], *args, **kwargs)
    assert expected[0] != "ok", "table entry must be a bad call for the stdlib"
    assert outcome(getattr(gcx, name), *args, **kwargs) == expected


def test_long_type_names_are_cut_like_c():
    # %.200s in C: the message carries at most 200 bytes of the type name;
    # 3.13 cut a multi-byte character in two (U+FFFD), 3.14+ leaves it out
    _, message = outcome(gcx.get_objects, LongName())
    assert message == f"argument should be integer or None, not '{'L' * 200}'"
    _, message = outcome(gcx.get_objects, UnicodeName())
    cut = "\ufffd" if sys.version_info < (3, 14) else ""
    assert message == f"argument should be integer or None, not '{'a' + 'Ü' * 99}{cut}'"
    assert message == outcome(STDLIB["get_objects"], UnicodeName())[1]
    _, message = outcome(gcx.get_objects, Index(BIG))
    assert message == "cannot fit 'Index' into an index-sized integer"
    _, message = outcome(gcx.get_objects, collections.OrderedDict())
    assert message == "argument should be integer or None, not 'collections.OrderedDict'"
    _, message = outcome(gcx.get_objects, array.array("i"))
    assert message == "argument should be integer or None, not 'array.array'"


@pytest.mark.parametrize("name, make_args", [
    ("collect", lambda i: (i,)),
    ("get_objects", lambda i: (i,)),
    ("set_debug", lambda i: (i,)),
    ("set_threshold", lambda i: (i, 10, 10)),
])
def test_index_called_as_often_as_stdlib(quiet, name, make_args):
    value = {"set_threshold": 1000, "set_debug": 0}.get(name, 0)
    calls = []
    for func in (STDLIB[name], getattr(gcx, name)):
        index = Index(value)
        func(*make_args(index))
        calls.append(index.calls)
    assert calls[0] == calls[1] == 1


def test_keyword_forms_accepted(quiet):
    # the accepted spellings: positional or by name, None for get_objects
    for gc in (stdlib_gc, gcx):
        assert isinstance(gc.collect(generation=0), int)
        assert isinstance(gc.collect(True), int)          # bool is an int
        assert isinstance(gc.get_objects(generation=None), list)
        assert isinstance(gc.get_objects(None), list)
        assert isinstance(gc.get_objects(generation=Index(2)), list)
        assert gc.collect(**{}) >= 0


def test_audit_events(run_program):
    proc = run_program("api/audit_events.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == repr([
        ("gc.get_objects", (-1,)), ("gc.get_objects", (1,)),
        ("gc.get_referrers", (object,)), ("gc.get_referents", (object, int)),
        ("gc.get_objects", (5,))])


# ------------------------------------------------------------------ garbage, callbacks

def test_garbage_and_callbacks_identity(impl):
    garbage, callbacks = impl.garbage, impl.callbacks
    assert type(garbage) is list and type(callbacks) is list
    impl.collect()
    impl.collect(0)
    assert impl.garbage is garbage and impl.callbacks is callbacks
    if impl is gcx:
        assert gcx.garbage is gcx._gcx.garbage
        assert gcx.callbacks is gcx._gcx.callbacks
        assert gcx.garbage is not STDLIB["garbage"]
        assert gcx.callbacks is not STDLIB["callbacks"]
        with gcx.installed():
            assert stdlib_gc.garbage is garbage
        assert gcx.garbage is garbage and gcx.callbacks is callbacks


def test_callbacks_see_start_and_stop(impl):
    seen = []
    impl.callbacks.append(lambda phase, info: seen.append((phase, dict(info))))
    make_cycle()
    n = impl.collect(1)
    assert [phase for phase, _ in seen] == ["start", "stop"]
    # 3.15 adds candidates and duration (gh-140638)
    keys = {"generation", "collected", "uncollectable"}
    if sys.version_info >= (3, 15):
        keys |= {"candidates", "duration"}
    for phase, info in seen:
        assert set(info) == keys
        assert info["generation"] == 1
    stop = seen[1][1]
    assert stop["collected"] + stop["uncollectable"] == n
    assert stop["collected"] >= 2


def test_saveall_keeps_garbage(impl):
    impl.set_debug(impl.DEBUG_SAVEALL)
    wr = make_cycle()
    assert impl.collect() == 2
    assert wr() is None                   # weakrefs to garbage are cleared anyway
    nodes = [o for o in impl.garbage if type(o) is Node]
    assert len(nodes) == 2 and nodes[0].other is nodes[1] and nodes[1].other is nodes[0]
    impl.garbage.clear()
    impl.set_debug(0)


# ------------------------------------------------------------------ simple state

def test_enable_disable(impl):
    assert impl.isenabled() is False          # the fixture disabled it
    assert impl.enable() is None
    assert impl.isenabled() is True
    assert impl.disable() is None
    assert impl.isenabled() is False


def test_collectors_switch_independently(quiet):
    gcx.enable()
    assert STDLIB["isenabled"]() is False
    STDLIB["enable"]()
    gcx.disable()
    assert STDLIB["isenabled"]() is True and gcx.isenabled() is False


@pytest.mark.parametrize("args, expected", [
    ((500,), (500, 10, 10)),
    ((500, 7), (500, 7, 10)),
    ((500, 7, 3), (500, 7, 3)),
    ((0,), (0, 10, 10)),
    ((-5, 0, 2**31 - 1), (-5, 0, 2**31 - 1)),
    ((Index(42), True), (42, 1, 10)),
])
def test_thresholds(impl, args, expected):
    impl.set_threshold(2000, 10, 10)
    assert impl.get_threshold() == (2000, 10, 10)
    assert impl.set_threshold(*args) is None
    got = impl.get_threshold()
    assert type(got) is tuple and got == expected


def test_thresholds_are_per_collector(quiet):
    STDLIB["set_threshold"](1234, 5, 6)
    gcx.set_threshold(4321, 6, 5)
    assert STDLIB["get_threshold"]() == (1234, 5, 6)
    assert gcx.get_threshold() == (4321, 6, 5)


@pytest.mark.parametrize("flags", [0, 1, 2, 4, 32, 38, 39, 123, -1, 2**31 - 1])
def test_debug_flags(impl, flags):
    assert impl.set_debug(flags) is None
    assert impl.get_debug() == flags
    impl.set_debug(0)
    assert impl.get_debug() == 0


def test_count_shape_and_reset(impl):
    count = impl.get_count()
    assert type(count) is tuple and len(count) == 3
    assert all(type(c) is int and c >= 0 for c in count)
    impl.collect(2)
    assert impl.get_count()[1:] == (0, 0)
    impl.collect(0)
    assert impl.get_count()[1:] == (1, 0)
    impl.collect(0)
    assert impl.get_count()[1:] == (2, 0)
    impl.collect(1)
    assert impl.get_count()[1:] == (0, 1)


# Instances, not lists: CPython reuses lists from a free list, which its
# count does not count, and which gcx on 3.12, not installed, may take for
# the old object last parked there (src/README.md, "3.12").
def test_count_grows_with_allocations(impl):
    impl.collect()
    before = impl.get_count()[0]
    keep = [Node() for _ in range(500)]
    after = impl.get_count()[0]
    assert after - before >= 500
    del keep


def test_count_falls_when_containers_die(impl):
    impl.collect()
    keep = [Node() for _ in range(500)]
    grown = impl.get_count()[0]
    del keep
    assert impl.get_count()[0] <= grown - 400


def test_nested_collect_returns_zero(impl):
    nested = []

    def callback(phase, info):
        if phase == "start":
            nested.append(impl.collect())
    impl.callbacks.append(callback)
    make_cycle()
    assert impl.collect() == 2
    assert nested == [0]


def test_gcx_does_not_collect_inside_stdlib_collection(quiet):
    wr = make_cycle()
    STDLIB["freeze"]()                   # garbage for gcx, not for the stdlib
    inside = []

    def callback(phase, info):
        if phase == "start":              # gcx's hook has already run: it is older
            inside.append(gcx.collect())
    STDLIB["callbacks"].append(callback)
    try:
        STDLIB["collect"]()
    finally:
        STDLIB["callbacks"].remove(callback)
        STDLIB["unfreeze"]()
    assert inside == [0]
    assert wr() is not None
    assert gcx.collect() == 2 and wr() is None


def test_stdlib_collects_nothing_inside_gcx_collection(quiet):
    # The converse: while gcx collects, CPython's own "collecting" flag is
    # set, as the stdlib's collector sets it for its own (and profilers
    # that read the interpreter's state show a collection running); the
    # stdlib's gc.collect() inside returns 0, as a nested one does.  Before,
    # it collected the cycle gcx was about to collect, and gcx found none.
    if not gcx.info()["lists_readable"]:
        pytest.skip("gcx cannot read CPython's collector state here")
    wr = make_cycle()
    inside = []

    def callback(phase, info):
        if phase == "start":
            inside.append(STDLIB["collect"]())
    gcx.callbacks.append(callback)
    try:
        found = gcx.collect()
    finally:
        gcx.callbacks.remove(callback)
    assert inside == [0]
    assert found == 2 and wr() is None
    # the flag is down again: the stdlib collects as before
    wr = make_cycle()
    assert STDLIB["collect"]() == 2 and wr() is None


def test_callback_errors_are_unraisable(impl, monkeypatch):
    reports = []
    monkeypatch.setattr(sys, "unraisablehook",
                        lambda u: reports.append((type(u.exc_value), str(u.exc_value))))

    def callback(phase, info):
        raise ZeroDivisionError(phase)
    seen = []
    impl.callbacks.extend([callback, lambda phase, info: seen.append(phase)])
    impl.collect()
    reports.clear()
    seen.clear()
    make_cycle()
    assert impl.collect() == 2
    assert reports == [(ZeroDivisionError, "start"), (ZeroDivisionError, "stop")]
    assert seen == ["start", "stop"]


def test_debug_stats_output(impl, capfd):
    impl.collect()
    capfd.readouterr()
    impl.set_debug(impl.DEBUG_STATS)
    make_cycle()
    impl.collect()
    impl.set_debug(0)
    err = capfd.readouterr().err.splitlines()
    assert err[0] == "gc: collecting generation 2..."
    assert err[-1].startswith("gc: done, 2 unreachable, 0 uncollectable, ")
    impl.collect()
    assert capfd.readouterr().err == ""


def _churn(impl, rounds=3000):
    """Make garbage cycles; return (collections seen, cycles still alive)."""
    before = sum(s["collections"] for s in impl.get_stats())
    refs = [make_cycle() for _ in range(rounds)]
    for _ in range(100):                  # give a scheduled collection its chance
        [[] for _ in range(10)]
    after = sum(s["collections"] for s in impl.get_stats())
    return after - before, sum(wr() is not None for wr in refs)


def test_automatic_collection_needs_enable(impl):
    impl.set_threshold(100, 10, 10)
    collections, alive = _churn(impl)
    assert collections == 0 and alive == 3000
    impl.enable()
    if impl is gcx and gcx.mode() == "safe":
        # safe mode spaces collections by half the live heap (each one
        # starts with a resync of the whole heap), whatever threshold0 says
        rounds = max(3000, len(gcx.get_objects()))
        collections, alive = _churn(impl, rounds)
        impl.disable()
        assert collections >= 2 and alive < rounds // 2
        return
    collections, alive = _churn(impl)
    impl.disable()
    assert collections >= 10
    assert alive < 1000


def test_threshold_zero_disables_automatic_collection(impl):
    impl.set_threshold(0)
    impl.enable()
    collections, alive = _churn(impl)
    impl.disable()
    assert collections == 0 and alive == 3000


def test_stats(impl):
    stats = impl.get_stats()
    assert type(stats) is list and len(stats) == 3
    # exactly the running interpreter's keys (3.15 adds candidates and
    # duration): code comparing the key sets must not tell them apart
    stdlib_keys = set(STDLIB["get_stats"]()[0])
    counts = {"collections", "collected", "uncollectable"}
    assert counts <= stdlib_keys
    for entry in stats:
        assert type(entry) is dict
        assert set(entry) == stdlib_keys
        assert all(type(entry[k]) is int and entry[k] >= 0 for k in counts)
        if "duration" in entry:
            assert type(entry["duration"]) is float and entry["duration"] >= 0
            assert type(entry["candidates"]) is int and entry["candidates"] >= 0
    assert impl.get_stats() is not stats                   # a fresh list each time
    impl.collect(0)
    impl.collect(2)
    make_cycle()
    n = impl.collect(2)
    after = impl.get_stats()
    assert after[0]["collections"] == stats[0]["collections"] + 1
    assert after[1]["collections"] == stats[1]["collections"]
    assert after[2]["collections"] == stats[2]["collections"] + 2
    assert after[2]["collected"] - stats[2]["collected"] >= n >= 2


# ------------------------------------------------------------------ collection

def test_collect_frees_a_cycle(impl):
    impl.collect()
    wr = make_cycle()
    assert wr() is not None
    assert impl.collect() == 2
    assert wr() is None
    assert impl.collect() == 0


@pytest.mark.parametrize("generation", [0, 1, 2])
def test_collect_young_cycle_in_any_generation(impl, generation):
    wr = make_cycle()
    assert impl.collect(generation) >= 2
    assert wr() is None


def test_collect_spares_older_generations(impl):
    keep = [Node()]
    keep[0].me = keep[0]
    wr = weakref.ref(keep[0])
    impl.collect(0)                      # reachable: survives into generation 1
    del keep                             # now a garbage self-cycle in generation 1
    impl.collect(0)
    assert wr() is not None              # a young collection does not look at it
    impl.collect(1)
    assert wr() is None


def test_get_objects_follows_generations(impl):
    obj = Node()
    assert holds(impl.get_objects(0), obj)
    assert holds(impl.get_objects(), obj)
    assert holds(impl.get_objects(-1), obj)
    impl.collect(0)
    assert not holds(impl.get_objects(0), obj)
    assert holds(impl.get_objects(1), obj)
    impl.collect(1)
    assert holds(impl.get_objects(2), obj)
    assert not holds(impl.get_objects(1), obj)


def test_get_objects_excludes_its_result(impl):
    for generation in (None, 0, 2):
        result = impl.get_objects(generation)
        assert not holds(result, result)


def test_get_objects_skips_untracked(impl):
    # an untracked container: a dict of atoms on 3.13 (tracked once it
    # holds a container), a tuple of atoms built from a list on 3.14+
    # (born untracked there, gh-139951); a tracked one is listed
    if DICTS_LAZY:
        d = {"a": 1}
        assert not holds(impl.get_objects(), d)
        d["b"] = []                      # a container value: now tracked
        assert holds(impl.get_objects(), d)
    else:
        t = tuple([1, "x"])
        assert not STDLIB["is_tracked"](t)
        assert not holds(impl.get_objects(), t)
        d = {"a": 1}                     # every dict is tracked from birth
        assert holds(impl.get_objects(), d)


def test_get_objects_matches_stdlib(quiet):
    # every container CPython tracks, gcx reports, and nothing else
    theirs = STDLIB["get_objects"]()
    ours = gcx.get_objects()
    mine = {id(theirs), id(ours)}
    assert {id(o) for o in ours} - mine == {id(o) for o in theirs} - mine


def test_get_objects_sees_dicts_tracked_after_import(run_program):
    # dicts start untracked; one made before gcx was imported and tracked
    # only later must still be found (and collected when garbage)
    proc = run_program("api/dicts_tracked_after_import.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "True"]


def test_generations_partition_get_objects(impl):
    keep = [Node() for _ in range(50)]
    impl.collect(0)
    keep += [Node() for _ in range(50)]
    parts = [impl.get_objects(g) for g in range(3)]
    everything = impl.get_objects()
    part_ids = [{id(o) for o in part} for part in parts]
    assert sum(map(len, part_ids)) == len(set().union(*part_ids))      # disjoint
    assert set().union(*part_ids) - {id(p) for p in parts} == \
        {id(o) for o in everything} - {id(p) for p in parts}
    assert all(holds(parts[1], o) for o in keep[:50])
    assert all(holds(parts[0], o) for o in keep[50:])


# ------------------------------------------------------------------ freeze

def test_freeze_unfreeze(impl):
    if sys.version_info < (3, 13):
        # 3.12's collections move every immortal container they meet into
        # the permanent generation (update_refs, Modules/gcmodule.c), and
        # gcx's into its frozen set (region.c): the fixture's collection may
        # have left some there; unfreeze() moves them out
        impl.unfreeze()
    assert impl.get_freeze_count() == 0
    obj = []
    wr = make_cycle()
    assert impl.freeze() is None
    frozen = impl.get_freeze_count()
    assert frozen > 0
    assert not holds(impl.get_objects(), obj)
    for generation in (0, 1, 2):
        assert not holds(impl.get_objects(generation), obj)
    impl.collect()
    assert wr() is not None                   # frozen garbage is ignored
    assert impl.get_freeze_count() == frozen
    new = []
    assert holds(impl.get_objects(0), new)    # objects made after freeze are not frozen
    assert impl.unfreeze() is None
    assert impl.get_freeze_count() == 0
    assert holds(impl.get_objects(2), obj)    # unfreeze puts them in the oldest
    impl.collect()
    assert wr() is None


def test_freeze_count_grows(impl):
    impl.freeze()
    first = impl.get_freeze_count()
    keep = [[] for _ in range(100)]
    impl.freeze()
    assert impl.get_freeze_count() >= first + 100
    impl.unfreeze()
    assert impl.get_freeze_count() == 0
    del keep


def test_stdlib_freeze_leaves_gcx_generations_alone(quiet):
    """gcx imported beside the stdlib's gc.freeze(): what a young collection
    of gcx's promoted stays out of generation 0, the stdlib's freeze count
    does not move, and so again after unfreeze() and a second freeze().
    The build before read all that was tracked since the freeze as new at
    every read (gcx's birth marker frozen with it), so `kept` was young
    again at the next read."""
    def young(obj):
        return any(o is obj for o in gcx.get_objects(0))

    stdlib_gc.collect()
    gcx.collect()
    for _ in range(2):
        stdlib_gc.freeze()
        try:
            frozen = stdlib_gc.get_freeze_count()
            kept = [[1]]
            gcx.collect(0)                 # read, then promoted
            assert not young(kept)
            later = [[2]]
            assert young(later)            # read as new, at get_objects
            assert not young(kept)
            gcx.collect(0)
            assert not young(kept) and not young(later)
            assert stdlib_gc.get_freeze_count() == frozen
        finally:
            stdlib_gc.unfreeze()
        assert stdlib_gc.get_freeze_count() == 0
        gcx.get_count()                    # a read after the unfreeze
        del kept, later


# ------------------------------------------------------------------ is_tracked

def _fresh_tuple_of_atoms():
    """A tracked tuple of atoms (3.14 makes tuple(list of atoms) untracked
    at birth, but not a concatenation's result)."""
    one = 1
    return (one,) + (2,)


# 3.13 tracks dicts lazily; 3.14+ tracks every dict from birth (gh-127010)
DICTS_LAZY = not STDLIB["is_tracked"]({})


TRACKED_CASES = [
    ("int", lambda: 1, False),
    ("big int", lambda: 2**100, False),
    ("str", lambda: "abc", False),
    ("bytes", lambda: b"abc", False),
    ("float", lambda: 1.5, False),
    ("None", lambda: None, False),
    ("object()", lambda: object(), False),
    ("empty tuple", lambda: (), False),
    ("empty list", lambda: [], True),
    ("empty dict", lambda: {}, not DICTS_LAZY),
    ("atomic dict", lambda: {"a": 1, "b": "x"}, not DICTS_LAZY),
    ("dict holding list", lambda: {"a": []}, True),
    ("dict holding tuple", lambda: {"a": (1, [])}, True),
    ("set", lambda: set(), True),
    # 3.15 leaves a frozenset of atoms untracked, as tuples
    ("frozenset", lambda: frozenset([1]), sys.version_info < (3, 15)),
    ("frozenset holding an instance", lambda: frozenset([Node()]), True),
    ("tuple of atoms", _fresh_tuple_of_atoms, True),
    # gh-139951 (3.14): a tuple made from items that are all untracked
    ("tuple from a list of atoms", lambda: tuple([1, 2]), sys.version_info < (3, 14)),
    ("tuple with list", lambda: (1, []), True),
    ("instance", lambda: Node(), True),
    ("function", lambda: (lambda: None), True),
    ("class", lambda: type("C", (), {}), True),
    ("bytearray", lambda: bytearray(b"x"), False),
]


@pytest.mark.parametrize("label, make, expected", TRACKED_CASES,
                         ids=[c[0] for c in TRACKED_CASES])
def test_is_tracked(impl, label, make, expected):
    obj = make()
    assert impl.is_tracked(obj) is expected
    assert STDLIB["is_tracked"](obj) is expected


def test_tuple_of_atoms_untracked_by_collection(impl):
    t = _fresh_tuple_of_atoms()
    keep = (1, [])
    assert impl.is_tracked(t)
    impl.collect()
    assert impl.is_tracked(t) is False
    assert impl.is_tracked(keep) is True


def test_dict_untracked_by_full_collection(impl):
    # 3.13's full collections untrack a dict of atoms (tracked again when
    # it holds a container); 3.14+ never untracks a dict
    d = {"a": []}
    d["a"] = 1
    assert impl.is_tracked(d)
    impl.collect(2)
    assert impl.is_tracked(d) is not DICTS_LAZY
    d["b"] = []
    assert impl.is_tracked(d) is True


def test_is_finalized(impl):
    resurrected = []

    class Phoenix:
        def __del__(self):
            resurrected.append(self)

    def build():
        p = Phoenix()
        p.me = p
        assert impl.is_finalized(p) is False
        return weakref.ref(p)
    build()
    impl.collect()
    assert len(resurrected) == 1
    assert impl.is_finalized(resurrected[0]) is True
    assert impl.is_finalized(1) is False
    assert impl.is_finalized([]) is False
    resurrected[0].me = None
    resurrected.clear()


# ------------------------------------------------------------------ referents, referrers

def _referent_subjects():
    leaf = []
    inst = Node()
    inst.a, inst.b = leaf, "s"
    return [
        ([leaf, 1, "x"],),
        ({"k": leaf, "j": 2},),
        ((leaf, leaf),),
        (inst,),
        ({1, "x", (2, 3)},),
        (Node,),
        (make_cycle,),
        (1,),                                     # not a container: nothing
        ("abc", [1]),
        ([leaf], {"k": leaf}, (leaf,), inst),
        (),
    ]


@pytest.mark.parametrize("index", range(len(_referent_subjects())))
def test_get_referents_matches_stdlib(quiet, index):
    objs = _referent_subjects()[index]
    theirs = STDLIB["get_referents"](*objs)
    ours = gcx.get_referents(*objs)
    assert type(ours) is list
    assert ids(ours) == ids(theirs)


def test_get_referents_contents(impl):
    a, b = [], {}
    got = impl.get_referents([a, b, 1])
    assert ids(got) == ids([a, b, 1])
    assert impl.get_referents(1, "x", None) == []


def test_get_referrers(impl):
    target = []
    holder_list = [target]
    holder_dict = {"k": target}
    holder_tuple = (target, 1)
    inst = Node()
    inst.attr = target
    untracked = {"k": 1}
    found = impl.get_referrers(target)
    assert holds(found, holder_list)
    assert holds(found, holder_dict)
    assert holds(found, holder_tuple)
    assert holds(found, inst) or holds(found, getattr(inst, "__dict__", None))
    assert not holds(found, untracked)
    assert not holds(found, found)
    del untracked


def test_get_referrers_matches_stdlib(quiet):
    target = []
    holders = [[target], {"k": target}, (target,), Node()]
    holders[3].attr = target
    other = []
    other_holder = [other]
    STDLIB["collect"]()
    gcx.collect()
    theirs = STDLIB["get_referrers"](target, other)
    ours = gcx.get_referrers(target, other)
    assert set(ids(ours)) == set(ids(theirs))
    assert holds(ours, other_holder) and holds(ours, holders[0])
    assert gcx.get_referrers() == [] == STDLIB["get_referrers"]()


def _referrers_of_a_local(get_referrers):
    """What get_referrers says of a local of the frame that calls it: of a
    plain function, a generator and a coroutine (asyncio's own tests assert
    that a task's coroutine holds no reference to its exception this way)."""
    class Marker:
        pass

    def plain():
        local = Marker()
        return get_referrers(local)

    def generator():
        local = Marker()
        yield get_referrers(local)

    async def coroutine():
        local = Marker()
        return get_referrers(local)

    found = {"plain": plain(), "generator": next(generator())}
    try:
        coroutine().send(None)
    except StopIteration as stop:
        found["coroutine"] = stop.value
    return {kind: [type(r).__name__ for r in refs] for kind, refs in found.items()}


def test_get_referrers_of_a_running_frames_local_matches_stdlib(quiet):
    # On 3.12 and 3.13 a frame calling a built-in function shows tp_traverse
    # none of its locals; one calling a Python function shows them all: a
    # gcx.get_referrers written in Python listed the generator and the
    # coroutine, the stdlib's lists nothing.  3.14+ shows them either way.
    theirs = _referrers_of_a_local(STDLIB["get_referrers"])
    assert _referrers_of_a_local(gcx.get_referrers) == theirs
    expected = [] if sys.version_info < (3, 14) else ["generator"]
    assert theirs["generator"] == expected
    assert theirs["coroutine"] == ([] if sys.version_info < (3, 14) else ["coroutine"])


# ------------------------------------------------------------------ install

def _gc_attributes():
    return dict(vars(stdlib_gc))


@pytest.mark.parametrize("stdlib_on", [True, False], ids=["stdlib-on", "stdlib-off"])
@pytest.mark.parametrize("gcx_on", [True, False], ids=["gcx-on", "gcx-off"])
def test_install_uninstall_restores_exactly(quiet, stdlib_on, gcx_on):
    (STDLIB["enable"] if stdlib_on else STDLIB["disable"])()
    if gcx_on and stdlib_on:
        # both automatic collectors on at once: gcx says so
        with pytest.warns(RuntimeWarning, match="both"):
            gcx.enable()
    else:
        (gcx.enable if gcx_on else gcx.disable)()
    before = _gc_attributes()
    assert not gcx.is_installed()

    assert gcx.install() is None
    assert gcx.is_installed()
    for name in TAKEN_OVER:
        assert getattr(stdlib_gc, name) is getattr(gcx, name), name
    for name, value in before.items():
        if name not in TAKEN_OVER:
            assert getattr(stdlib_gc, name) is value, name
    # the stdlib's collector is off, or on as CPython's own trigger of
    # gcx's collections (src/tracer.c, K1)
    assert STDLIB["isenabled"]() is (gcx._gcx.info()["trigger"] == "cpython")
    assert gcx.isenabled() is True
    assert stdlib_gc.isenabled() is True         # gc.isenabled is gcx's now

    gcx.install()                                # a second install changes nothing
    assert gcx.is_installed() and stdlib_gc.collect is gcx.collect

    assert gcx.uninstall() is None
    assert not gcx.is_installed()
    after = _gc_attributes()
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)
    assert STDLIB["isenabled"]() is stdlib_on
    assert gcx.isenabled() is gcx_on
    gcx.uninstall()                              # not installed: nothing happens
    assert _gc_attributes() == before


def test_install_restores_patched_attributes(quiet):
    def mine():
        return "mine"
    stdlib_gc.collect = mine
    try:
        gcx.install()
        assert stdlib_gc.collect is gcx.collect
        gcx.uninstall()
        assert stdlib_gc.collect is mine
    finally:
        stdlib_gc.collect = STDLIB["collect"]


def test_installed_code_using_gc_drives_gcx(quiet):
    phases = []
    STDLIB["collect"]()
    make_cycle()
    # 2, or 4 once earlier tests gave Node instances dicts of their own
    # (too many attribute names for the class's shared keys)
    expected = STDLIB["collect"]()
    with gcx.installed():
        stdlib_gc.set_threshold(777, 8, 9)
        assert gcx.get_threshold() == (777, 8, 9)
        stdlib_gc.disable()
        assert gcx.isenabled() is False
        stdlib_gc.collect()                       # what earlier tests left
        stdlib_gc.callbacks.append(lambda phase, info: phases.append(phase))
        wr = make_cycle()
        assert stdlib_gc.collect() == expected
        assert wr() is None
        assert phases == ["start", "stop"]
        STDLIB["collect"]()                       # the stdlib's own: not seen
        assert phases == ["start", "stop"]
    assert STDLIB["get_threshold"]() != (777, 8, 9)


def test_set_threshold_failing_midway_leaves_what_the_stdlib_leaves(quiet):
    """3.12's set_threshold parses straight into the thresholds: those
    before a bad argument are set when it raises; 3.13's sets none."""
    left = {}
    for name, get, set_ in (("stdlib", STDLIB["get_threshold"], STDLIB["set_threshold"]),
                            ("gcx", gcx.get_threshold, gcx.set_threshold)):
        set_(700, 10, 10)
        with pytest.raises(TypeError):
            set_(1, None)
        after_one = get()
        with pytest.raises(TypeError):
            set_(5, 6, "x")
        left[name] = (after_one, get())
    assert left["gcx"] == left["stdlib"]


def test_install_carries_over_what_was_set_through_gc(quiet):
    """Thresholds, debug flags, callbacks and the garbage list set through
    the stdlib gc before install() are gcx's while installed, as a program
    that tuned gc at start-up expects; uninstall() gives gcx its own back."""
    phases = []

    def seen(phase, info):
        phases.append(phase)

    kept = make_cycle      # any object: what a program put in gc.garbage
    own_threshold, own_debug = gcx.get_threshold(), gcx.get_debug()
    STDLIB["set_threshold"](1234, 5, 6)
    STDLIB["set_debug"](stdlib_gc.DEBUG_SAVEALL)
    STDLIB["callbacks"].append(seen)
    STDLIB["garbage"].append(kept)
    try:
        with gcx.installed():
            assert stdlib_gc.get_threshold() == (1234, 5, 6)
            assert stdlib_gc.get_debug() == stdlib_gc.DEBUG_SAVEALL
            assert [cb for cb in stdlib_gc.callbacks if cb is seen] == [seen]
            assert not any(getattr(cb, "_gcx_hook", False) for cb in stdlib_gc.callbacks)
            assert [obj for obj in stdlib_gc.garbage if obj is kept] == [kept]
            stdlib_gc.collect()
            assert phases == ["start", "stop"]
        assert gcx.get_threshold() == own_threshold and gcx.get_debug() == own_debug
        assert not any(cb is seen for cb in gcx.callbacks)
        assert not any(obj is kept for obj in gcx.garbage)
        assert any(cb is seen for cb in STDLIB["callbacks"])
        assert any(obj is kept for obj in STDLIB["garbage"])
        assert STDLIB["get_threshold"]() == (1234, 5, 6)
    finally:
        STDLIB["callbacks"].remove(seen)
        STDLIB["garbage"].remove(kept)


def test_installed_get_objects_and_referrers_are_gcxs(quiet):
    """Installed, gc.get_objects() lists gcx's generations and leaves out
    what gc.freeze() froze, and get_referrers() skips frozen referrers, as
    the stdlib's do for its own; a finalizer that asks during a collection
    does not see the garbage being collected."""
    class Node:
        pass

    def generations(obj):
        return [g for g in range(3) if any(o is obj for o in stdlib_gc.get_objects(g))]

    with gcx.installed():
        stdlib_gc.collect()
        node = Node()
        assert generations(node) == [0]
        stdlib_gc.collect(0)
        assert generations(node) == [1]
        stdlib_gc.collect()
        assert generations(node) == [2]
        holder = [node]
        stdlib_gc.freeze()
        try:
            assert not any(o is node for o in stdlib_gc.get_objects())
            assert not any(r is holder for r in stdlib_gc.get_referrers(node))
            later = [node]
            assert any(r is later for r in stdlib_gc.get_referrers(node))
        finally:
            stdlib_gc.unfreeze()

        stash = []

        class Garbage:
            pass

        class Finalized:
            def __del__(self):
                stash.extend(o for o in stdlib_gc.get_objects() if type(o) is Garbage)

        for _ in range(5):
            a, b = Garbage(), Finalized()
            a.b, b.a = b, a
        del a, b
        assert stdlib_gc.collect() == 10
        assert stash == []


def test_installed_context_manager(quiet):
    before = _gc_attributes()
    with gcx.installed() as value:
        assert value is None
        assert gcx.is_installed()
        assert stdlib_gc.collect is gcx.collect
        with gcx.installed():                     # nested: stays installed
            assert gcx.is_installed()
        assert gcx.is_installed()
    assert not gcx.is_installed()
    assert all(getattr(stdlib_gc, n) is v for n, v in before.items())

    with pytest.raises(KeyError):
        with gcx.installed():
            raise KeyError("inside")
    assert not gcx.is_installed()
    assert all(getattr(stdlib_gc, n) is v for n, v in before.items())

    gcx.install()
    with gcx.installed():
        pass
    assert gcx.is_installed()                     # installed before: left installed
    gcx.uninstall()


# ------------------------------------------------------------------ hooks

def test_stdlib_hook_registered_once(quiet):
    hooks = [cb for cb in STDLIB["callbacks"] if getattr(cb, "_gcx_hook", False)]
    assert len(hooks) == 1
    assert not any(getattr(cb, "_gcx_hook", False) for cb in gcx.callbacks)


def test_stdlib_hook_brackets_stdlib_collections(quiet):
    # the hook is the core's builtin (no Python frame), run by the stdlib's
    # collections only; bad arguments are refused, unknown phases ignored
    hook, = [cb for cb in STDLIB["callbacks"] if getattr(cb, "_gcx_hook", False)]
    assert hook.func is gcx._gcx.stdlib_hook and not hook.args and not hook.keywords
    assert hook("neither", {}) is None and hook(0, None) is None
    with pytest.raises(TypeError):
        hook("start")
    seen = []

    def after(phase, info):
        # inside the stdlib's collection (the hook, older, has run): gcx
        # collects nothing
        seen.append((phase, gcx.collect() if phase == "start" else None))
    STDLIB["callbacks"].append(after)
    try:
        wr = make_cycle()
        STDLIB["collect"](0)
        gcx.collect(0)                          # no stdlib collection: no callback
    finally:
        STDLIB["callbacks"].remove(after)
    assert seen == [("start", 0), ("stop", None)]
    assert wr() is None                         # the stdlib's collection freed it


def test_reload_keeps_one_hook_and_state(run_program):
    proc = run_program("api/reload.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "True", "True", "True", "True", "True"]


def test_tracemalloc_wrappers(monkeypatch):
    import _tracemalloc
    for name in ("start", "stop"):
        wrapper = getattr(tracemalloc, name)
        original = wrapper._gcx_original
        assert type(original).__name__ == "builtin_function_or_method"
        assert wrapper is getattr(_tracemalloc, name) and wrapper.__wrapped__ is original
        assert wrapper.__name__ == name
        assert inspect.signature(wrapper) == inspect.signature(original)
    original = tracemalloc.start._gcx_original
    assert outcome(tracemalloc.start, "x") == outcome(original, "x")
    assert outcome(tracemalloc.start, -1) == outcome(original, -1)
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already running")
    calls = []
    monkeypatch.setattr(gcx._gcx, "resync", lambda: calls.append(tracemalloc.is_tracing()))
    tracemalloc.start()
    try:
        assert calls == [True]                     # resync after the original ran
    finally:
        tracemalloc.stop()
    assert calls == [True, False]


def test_import_leaves_tracemalloc_unimported(run_program):
    # gcx wraps _tracemalloc's functions; tracemalloc, imported later,
    # copies the wrappers, and starting it resynchronises the core.
    proc = run_program("api/tracemalloc_unimported.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[:2] == ["False", "True"]
    if REF_TRACER and gcx.mode() != "lists":
        # start() takes the tracer slot and stop() empties it: gcx takes it
        # back (forwarding to tracemalloc's tracer meanwhile) and resyncs.
        # 3.12 and lists mode use no slot: tracemalloc's allocator hooks go on
        # top of gcx's allocator wrapper, which still sees every free, and
        # nothing is missed.
        assert lines[2:] == ["True", "True", "True"]
    elif REF_TRACER:
        assert lines[3:] == ["False", "False"]


def test_tracemalloc_traces_none_of_gcx_own_memory(run_program):
    """A program traced by tracemalloc under gcx shows what it shows under
    the stdlib collector: gcx's records of a heap (resynchronised when
    tracemalloc starts), the working memory its collections keep and
    get_objects()'s are the C library's, not Python's allocators'.
    Before, 76,512 bytes were traced after two collections of garbage."""
    out = {}
    for collector in ("stdlib", "gcx"):
        proc = run_program("api/tracemalloc_traced.py", collector)
        assert proc.returncode == 0, proc.stderr
        out[collector] = [int(x) for x in proc.stdout.split()]
    # at start, after the collections, after get_objects()
    for stdlib, mine in zip(out["stdlib"], out["gcx"]):
        assert mine <= stdlib + 256, out


def test_tracemalloc_round_trip_keeps_core_working(quiet):
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already running")
    resyncs = gcx.info()["resyncs"]
    tracemalloc.start()
    try:
        wr = make_cycle()
        assert gcx.collect() == 2 and wr() is None
    finally:
        tracemalloc.stop()
    wr = make_cycle()
    assert gcx.collect() == 2 and wr() is None
    assert gcx.info()["resyncs"] >= resyncs
    gcx._gcx.check()


# ------------------------------------------------------------------ info, mode

def test_info_and_mode():
    info = gcx.info()
    assert info["mode"] in ("tracer", "alloc", "lists", "safe")
    assert gcx.mode() == info["mode"]
    assert {"mode", "owner", "selftest", "resyncs", "tracked", "frozen",
            "bookkeeping_bytes", "collecting", "version"} <= set(info)
    # selftest: None where the tracer's self-test was not needed (lists mode
    # preferred and available, 3.14+, or forced)
    assert type(info["owner"]) is bool and info["selftest"] in (True, False, None)
    if not REF_TRACER:
        # 3.12: no tracer slot to own or test; the allocator wrapper sees deaths
        assert info["owner"] is False and info["selftest"] is False
        assert info["mode"] in ("lists", "safe")
    # the allocator wrapper's self-test runs where the tracer's failed
    assert info["alloc_selftest"] in ((None,) if info["selftest"]
                                      and info["mode"] not in ("alloc", "lists")
                                      else (True, False))
    # every 3.12-3.15 GIL build has the generation lists' layout gcx checks
    assert info["lists_readable"] is True
    # every 3.12-3.15 GIL build has the header layout gcx checks for
    assert info["header_readable"] is True
    # ... and 3.13+ publish the debugger offsets (_Py_DebugOffsets) gcx reads
    # the interpreter list by, which only the tracer needs
    assert info["interp_head_readable"] is REF_TRACER
    assert type(info["collecting"]) is bool and info["collecting"] is False
    assert type(info["tracked"]) is list and len(info["tracked"]) == 3
    assert all(type(n) is int and n >= 0 for n in info["tracked"])
    assert type(info["resyncs"]) is int and info["resyncs"] >= 0
    assert type(info["bookkeeping_bytes"]) is int and info["bookkeeping_bytes"] >= 0
    assert isinstance(info["version"], str)
    assert gcx.info() is not gcx.info()


@pytest.mark.skipif(not REF_TRACER, reason="CPython 3.12 has no reference tracer "
                    "slot to lend to a tracer that does nothing (the slot is 3.13's)")
def test_noop_tracer_then_recovery(run_program):
    # bench_tracking measures CPython's tracer hook alone by putting a
    # tracer that does nothing in the slot: gcx misses every event then, and
    # must take the slot back and rebuild its records when next used.
    # Lists mode (3.14+'s default) holds no slot: the child then runs in
    # alloc mode, which takes births from the tracer.
    proc = run_program("api/noop_tracer.py",
                       env={"GCX_MODE": "alloc"} if gcx.mode() == "lists" else None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_safe_mode_env(run_program):
    proc = run_program("api/print_gcx.py", env={"GCX_MODE": "safe"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [gcx.__file__, "safe"]


# ------------------------------------------------------------------ drop-in

@pytest.mark.parametrize("module", ["gc", "gcx"])
def test_drop_in_script(run_program, module):
    proc = run_program("api/drop_in.py", module)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{module} [('start', 2), ('stop', 2), ('start', 0), ('stop', 0)]"


def test_import_error_propagates(run_program):
    # the core's ImportError (it says which interpreters are supported) must
    # reach the importer unchanged
    proc = run_program("api/import_error.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ImportError gcx supports only ... (test)"


def test_child_imports_same_gcx(run_program):
    proc = run_program("api/print_gcx.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [gcx.__file__, gcx.mode()]
