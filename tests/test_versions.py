"""What differs between the CPython versions gcx runs on (3.12, 3.13,
3.14.5+, 3.15), tested on whichever runs these tests: each test states the stdlib's
behaviour on the running interpreter and checks gcx against it.

Three of them were crashes or wrong collections of gcx's 3.13-only core on
3.14 and 3.15 (../shared/design/cpython-314-315.md):
  - 3.15 calls the reference tracer with NULL when the slot changes hands
    (TRACKER_REMOVED): the import segfaulted;
  - 3.14+ leaves freed objects that wait in the trashcan looking tracked:
    a collection during the drain freed them twice;
  - 3.14+ suspended generators keep references they do not own on their
    stacks (LOAD_FAST_BORROW): a live object's weakref was cleared and its
    __del__ run.
They run on every version: on 3.13 they show gcx does what the stdlib does.
"""
import gc as stdlib_gc
import sys
import tracemalloc
import types
import weakref

import pytest

import gcx
from conftest import STDLIB

PY314 = sys.version_info >= (3, 14)


@pytest.fixture
def collectors():
    """Both automatic collectors off for the test; (name, collect) pairs."""
    was = stdlib_gc.isenabled(), gcx.isenabled()
    stdlib_gc.disable()
    gcx.disable()
    STDLIB["collect"]()
    gcx.collect()
    yield [("stdlib", STDLIB["collect"]), ("gcx", gcx.collect)]
    (stdlib_gc.enable if was[0] else stdlib_gc.disable)()
    (gcx.enable if was[1] else gcx.disable)()


# ------------------------------------------------------------------ the tracer slot changing hands

def test_tracer_slot_changes_hands_both_ways():
    """tracemalloc takes the slot and gives it back, repeatedly, while gcx
    collects: on 3.15 each change calls the previous owner with NULL."""
    gcx.collect()
    for _ in range(3):
        tracemalloc.start()
        a = [[] for _ in range(1000)]
        x, y = [], []
        x.append(y)
        y.append(x)
        del x, y
        assert gcx.collect() >= 2
        tracemalloc.stop()
        del a
        x, y = {}, {}
        x["y"], y["x"] = y, x
        del x, y
        assert gcx.collect() >= 2
        gcx._gcx.check()
    # 3.12: no tracer; lists mode (3.14+'s default) does not use it
    assert gcx.info()["owner"] is (sys.version_info >= (3, 13) and gcx.mode() != "lists")


# ------------------------------------------------------------------ the trashcan

def test_collections_while_the_trashcan_drains(run_program):
    proc = run_program("versions/trashcan_drain.py", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    words = proc.stdout.split()
    assert words[0] == "collections" and int(words[1]) > 0, proc.stdout
    assert words[2:] == ["dels", "24000"], proc.stdout


# ------------------------------------------------------------------ borrowed stack references

class Kept:
    def __del__(self):
        LOG.append("Kept.__del__")


LOG = []
kept = None


def _use(a, b):
    return a


def _suspended_cycle(ignore_exit):
    """A generator in a cycle (through its own local), suspended with the
    module-level `kept` borrowed on its stack across a yield."""
    def gen():
        me = yield
        x = kept
        try:
            _use(x, (yield))
        except GeneratorExit:
            if not ignore_exit:
                raise
            # ignoring it: the finalizer ran and left the frame suspended
        yield
    g = gen()
    next(g)
    g.send(g)                  # g's local `me` is g: a cycle
    return weakref.ref(g)


@pytest.mark.parametrize("ignore_exit", [False, True])
@pytest.mark.parametrize("generation", [0, 2])
def test_live_object_on_a_suspended_generators_stack(collectors, generation, ignore_exit):
    """`kept` is alive (a module global): neither collector may clear its
    weakref or run its __del__, whichever generation, also when the
    generator's finalizer left the frame suspended (it ignored
    GeneratorExit: the collection then clears the generator itself)."""
    global kept
    outcomes = {}
    for name, collect in collectors:
        for _, everything in collectors:
            everything()
        LOG.clear()
        kept = Kept()
        calls = []
        ref = weakref.ref(kept, calls.append)
        gen_ref = _suspended_cycle(ignore_exit)
        with unraisables() as errors:
            collect(generation)
        outcomes[name] = (kept is not None, ref() is kept, bool(calls), list(LOG),
                          gen_ref() is None, errors)
        kept = None
        with unraisables():
            collect()
    _close_suspended_leftovers()
    assert outcomes["gcx"] == outcomes["stdlib"]
    alive, weakref_alive, callback_ran, log, gen_collected, errors = outcomes["gcx"]
    assert alive and weakref_alive and not callback_ran and log == []
    assert gen_collected
    assert errors == (["RuntimeError"] if ignore_exit else [])


def _close_suspended_leftovers():
    """A generator whose frame stays suspended after its finalizer (it
    ignored GeneratorExit) cannot be cleared: both collectors count it as
    collected and leave it, for every later collection to find again.  The
    second close() ends it (GeneratorExit at its last yield)."""
    for obj in STDLIB["get_objects"]():
        if type(obj) is types.GeneratorType and obj.gi_code is _suspended_code():
            obj.close()


def _suspended_code():
    return _suspended_cycle.__code__.co_consts[
        [getattr(c, "co_name", None) for c in _suspended_cycle.__code__.co_consts].index("gen")]


class unraisables:
    """The types of the exceptions reported as unraisable inside the block."""

    def __enter__(self):
        self.seen = []
        self.old = sys.unraisablehook
        sys.unraisablehook = lambda u: self.seen.append(type(u.exc_value).__name__)
        return self.seen

    def __exit__(self, *exc):
        sys.unraisablehook = self.old
        return False


def test_generator_frames_are_understood():
    expected = "compensated" if PY314 else "exact"
    assert gcx.info()["generator_frames"] == expected


def test_running_frames_are_readable():
    """The pause budget's marking reads every thread's running frames
    (frames.c, FR4): their layout is checked at import on every supported
    interpreter."""
    assert gcx.info()["frame_roots"] is True


def test_coroutine_and_async_generator_cycles_are_collected(collectors):
    """Compensation gives back only what is borrowed: suspended coroutines
    and async generators in cycles are still garbage to both."""
    async def coro(box):
        box.append(box)
        x = box
        await _Suspend(x)

    async def agen(box):
        x = box
        yield _use(x, box)

    class _Suspend:
        def __init__(self, x):
            self.x = x

        def __await__(self):
            yield self.x

    counts = {}
    for name, collect in collectors:
        made = []
        for _ in range(50):
            box = []
            c = coro(box)
            c.send(None)
            box.append(c)           # box -> coroutine -> frame -> box
            made.append(weakref.ref(c))
            a = agen([])
            made.append(weakref.ref(a))
            del box, c, a
        collect()
        counts[name] = sum(r() is None for r in made)
    assert counts["gcx"] == counts["stdlib"] == 100


# ------------------------------------------------------------------ the interpreter's own answers

def test_dicts_tracked_as_the_stdlib_tracks_them(collectors):
    """3.13 tracks a dict lazily and its full collections untrack dicts of
    atoms; 3.14+ tracks every dict from birth and never untracks one."""
    results = {}
    for name, collect in collectors:
        d = {"a": 1}
        holder = [d]
        born = stdlib_gc.is_tracked(d)
        collect()
        results[name] = (born, stdlib_gc.is_tracked(d))
        del holder
    assert results["gcx"] == results["stdlib"]


def test_weakref_to_garbage_inside_its_finalizer(collectors):
    """3.15 clears weakrefs without callbacks only after finalizers ran
    (gh-135552); 3.13 and 3.14 before."""
    seen = {}
    for name, collect in collectors:
        box = []

        class Probe:
            def __del__(self):
                box.append(ref() is self)
        p = Probe()
        p.me = p
        ref = weakref.ref(p)
        del p
        collect()
        seen[name] = list(box)
    assert seen["gcx"] == seen["stdlib"]
    assert len(seen["gcx"]) == 1


def test_stats_and_callback_keys_match_the_interpreter(collectors):
    infos = {}
    for name, collect in collectors:
        got = []
        callbacks = stdlib_gc.callbacks if name == "stdlib" else gcx.callbacks
        def cb(phase, info):
            got.append((phase, sorted(info)))
        callbacks.append(cb)
        try:
            collect()
        finally:
            callbacks.remove(cb)
        infos[name] = got
    assert infos["gcx"] == infos["stdlib"]
    assert sorted(gcx.get_stats()[0]) == sorted(STDLIB["get_stats"]()[0])


def test_callback_error_messages_match_the_interpreter(collectors):
    """3.14 names the failing weakref callback and gc callback in its own
    message; 3.13 says "Exception ignored in:" the callback."""
    reports = {}
    for name, collect in collectors:
        seen = []
        old = sys.unraisablehook
        callbacks = stdlib_gc.callbacks if name == "stdlib" else gcx.callbacks

        def bad(phase, info):
            raise ValueError(phase)

        class Node:
            pass

        def wr_cb(r):
            raise KeyError("callback")

        def described(thing):
            return {id(bad): "gc callback", id(wr_cb): "weakref callback"}.get(
                id(thing), repr(thing))

        sys.unraisablehook = lambda u: seen.append(
            ((u.err_msg or "").replace(repr(bad), "<gc callback>")
             .replace(repr(wr_cb), "<weakref callback>"),
             described(u.object), type(u.exc_value).__name__))
        callbacks.append(bad)
        try:
            a = Node()
            a.me = a
            keep = weakref.ref(a, wr_cb)
            del a
            collect()
        finally:
            callbacks.remove(bad)
            sys.unraisablehook = old
        reports[name] = seen
        del keep
    assert reports["gcx"] == reports["stdlib"]
    assert [e for _, _, e in reports["gcx"]] == ["ValueError", "KeyError", "ValueError"]


# ------------------------------------------------------------------ the shutdown report

@pytest.mark.parametrize("debug", ["plain", "uncollectable"])
def test_shutdown_report_describes_gcx_garbage(run_program, debug):
    """CPython prints "gc: N uncollectable objects at shutdown" from its
    own garbage list and flags; with gcx installed it must describe gcx's
    garbage and honour the flags set through gc, as it does the stdlib's."""
    out = {}
    for collector in ("gc", "gcx"):
        proc = run_program("versions/shutdown_report.py", collector, debug,
                           python_args=("-W", "default"))
        assert proc.returncode == 0, proc.stderr
        report = [line for line in proc.stderr.splitlines()
                  if "uncollectable objects at shutdown" in line]
        listed = proc.stderr.count("gcx._gcxtest.LegacyDel object at")
        out[collector] = (proc.stdout.split(), report, listed)
    assert out["gcx"][0] == out["gc"][0] == ["garbage", "3"]
    assert out["gcx"][1] == out["gc"][1] and len(out["gcx"][1]) == 1
    assert "gc: 3 uncollectable objects at shutdown" in out["gcx"][1][0]
    assert out["gcx"][2] == out["gc"][2]


@pytest.mark.parametrize("state", ["enabled", "disabled"])
def test_exit_collection_as_the_interpreters(run_program, state):
    """CPython collects once at exit, while modules are intact, if its
    collector is enabled: a finalizer can still import, gc callbacks run,
    and what is uncollectable then is in the shutdown report.  Installed,
    gcx runs that collection (and none when disabled through gc)."""
    out = {}
    for collector in ("gc", "gcx"):
        proc = run_program("versions/exit_collection.py", collector, state,
                           python_args=("-W", "default"))
        assert proc.returncode == 0, proc.stderr
        listed = proc.stderr.count("gcx._gcxtest.LegacyDel object at")
        report = [line.split("ResourceWarning: ")[-1] for line in proc.stderr.splitlines()
                  if "uncollectable objects at shutdown" in line]
        out[collector] = (proc.stdout.splitlines(), listed, report)
    assert out["gcx"] == out["gc"]
    lines = out["gc"][0]
    if state == "enabled":
        assert lines == ["end of main", "finalizer: import ok",
                         "callback: generation 2 collected 1 uncollectable 2"], lines
        assert out["gc"][1] >= 1
    else:
        assert lines[0] == "end of main" and "finalizer: import ok" not in lines


# ------------------------------------------------------------------ lists mode: births from CPython's lists

def test_lists_mode(run_program):
    """Births read from CPython's generation lists (3.12's mode; forced with
    GCX_MODE=lists on 3.13+): reads in O(new containers), collections before
    and after a stdlib freeze(), installed and not, and uninstall()."""
    env = {} if sys.version_info < (3, 13) else {"GCX_MODE": "lists"}
    proc = run_program("versions/lists_mode.py", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.split() == ["OK"]
