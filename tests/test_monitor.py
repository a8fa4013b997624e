"""gcx's monitoring (gcx/monitor.py): metrics() against what the collections
did (get_stats, recent_pauses, get_objects), census() against get_objects(),
growth reports, and the slow-pause log through the stdlib logging module."""
import bisect
import collections
import io
import logging
import math
import os
import re
import sys
import threading

import pytest

import gcx
from gcx import monitor

class Node:
    pass


def make_cycles(n):
    """n two-instance cycles, unreachable on return: 2n objects to collect
    (their instance dicts are inline in 3.13)."""
    for _ in range(n):
        a, b = Node(), Node()
        a.peer, b.peer = b, a


def tracer_mode():
    return gcx.mode() == "tracer"


# ------------------------------------------------------------------ metrics()

GENERATION_KEYS = {"collections", "collected", "uncollectable", "candidates", "duration",
                   "pause_counts", "pause_seconds", "objects", "last"}


def test_metrics_shape(quiet):
    m = gcx.metrics()
    assert set(m) == {"pause_buckets", "generations", "frozen", "garbage",
                      "pauses_recorded", "collecting", "policies"}
    assert m["pause_buckets"] == list(monitor.PAUSE_BUCKETS)
    assert m["pause_buckets"] == sorted(m["pause_buckets"])
    assert m["pause_buckets"][-1] == math.inf
    assert len(m["generations"]) == 3
    for gen in m["generations"]:
        assert set(gen) == GENERATION_KEYS
        assert len(gen["pause_counts"]) == len(gen["pause_seconds"]) == len(m["pause_buckets"])
    assert m["policies"] is None      # no policies yet: a place, no made-up values
    assert m["collecting"] is False
    # plain data all the way down
    def plain(x):
        if isinstance(x, dict):
            return all(type(k) is str and plain(v) for k, v in x.items())
        if isinstance(x, list):
            return all(map(plain, x))
        return x is None or type(x) in (int, float, bool)
    assert plain(m)


def test_metrics_agree_with_get_stats_and_pauses(quiet):
    before = gcx.metrics()
    make_cycles(300)
    assert gcx.collect(0) == 600
    big = [[i] for i in range(50_000)]
    gcx.collect(1)
    make_cycles(100)
    gcx.collect()
    gcx.collect(0)
    del big
    after = gcx.metrics()
    stats = gcx.get_stats()
    new = after["pauses_recorded"] - before["pauses_recorded"]
    assert new == 4
    pauses = gcx.recent_pauses()[-new:]
    for g, (gen, st) in enumerate(zip(after["generations"], stats)):
        for key in st:        # 3.15's get_stats() also has candidates and duration
            assert gen[key] == st[key], (g, key)
        counts, seconds = gen["pause_counts"], gen["pause_seconds"]
        assert counts == sorted(counts) and counts[-1] == gen["collections"]
        assert seconds[-1] == pytest.approx(gen["duration"], rel=1e-9, abs=1e-12)
        # each new pause counts in every bucket whose bound is >= its duration
        old = before["generations"][g]
        mine = [p for p in pauses if p.generation == g]
        for b, bound in enumerate(after["pause_buckets"]):
            inside = [p.duration for p in mine if p.duration <= bound]
            assert counts[b] - old["pause_counts"][b] == len(inside), (g, bound)
            assert seconds[b] - old["pause_seconds"][b] == pytest.approx(
                sum(inside), rel=1e-9, abs=1e-12)
        if mine:
            last = mine[-1]
            assert gen["last"] == {"start": last.start, "duration": last.duration,
                                   "collected": last.collected,
                                   "uncollectable": last.uncollectable,
                                   "candidates": last.candidates}
    assert after["generations"][0]["last"]["collected"] == 0
    assert after["generations"][2]["last"]["collected"] == 200


def test_pause_buckets_are_upper_bounds():
    # a pause of d seconds counts from the first bound >= d on
    bounds = monitor.PAUSE_BUCKETS
    for d in (0.0, bounds[0], math.nextafter(bounds[0], 1), 0.003, bounds[-2], 100.0):
        first = bisect.bisect_left(bounds, d)
        assert all(d <= b for b in bounds[first:]) and all(d > b for b in bounds[:first])


def test_uncollectable_and_garbage(quiet):
    from gcx import _gcxtest
    before = gcx.metrics()
    ld = _gcxtest.LegacyDel()
    ld.ref = [ld]
    del ld
    gcx.collect()
    try:
        after = gcx.metrics()
        assert after["garbage"] == len(gcx.garbage) == before["garbage"] + 1
        gen2 = after["generations"][2]
        assert gen2["uncollectable"] - before["generations"][2]["uncollectable"] == 2
        assert gen2["last"]["uncollectable"] == 2
    finally:
        for obj in gcx.garbage:
            if type(obj) is _gcxtest.LegacyDel:
                obj.ref = None
        gcx.garbage.clear()
        gcx.collect()


def generation_objects(g):
    return gcx.metrics()["generations"][g]["objects"]     # the answer dies at once


def test_objects_per_generation(quiet):
    gcx.collect()
    o0, n0 = generation_objects(0), len(gcx.get_objects(0))
    lists = [[] for _ in range(10_000)]
    atoms = [{"k": i} for i in range(1_000)]     # dicts 3.13 leaves untracked
    o1, n1 = generation_objects(0), len(gcx.get_objects(0))
    untracked = sum(not gcx.is_tracked(d) for d in atoms)
    assert untracked == (1_000 if sys.version_info < (3, 14) else 0)
    # every new container has a record in generation 0, tracked or not
    # (lists mode, which reads births from CPython's lists: once CPython
    # tracks it); get_objects(0)
    # lists the tracked ones
    assert n1 - n0 >= 10_000 + 2 + 1_000 - untracked
    assert o1 - o0 >= 10_000 + 2 + 1_000 - (untracked if gcx.mode() == "lists" else 0)
    if tracer_mode():
        # exact records (safe mode's are exact just after a resync only)
        assert (o1 - o0) - (n1 - n0) == untracked
        for g in range(3):
            assert generation_objects(g) >= len(gcx.get_objects(g))
    o2 = generation_objects(2)
    gcx.collect()
    assert generation_objects(2) >= o2 + 10_002
    gcx.freeze()
    try:
        m = gcx.metrics()
        assert m["frozen"] >= gcx.get_freeze_count() > 10_000
        assert all(len(gcx.get_objects(g)) == 0 for g in range(1, 3))
        if tracer_mode():
            assert m["frozen"] == gcx.get_freeze_count()
            # what freeze() leaves in the generations: containers CPython
            # does not track (the untracked dicts among them)
            assert m["generations"][2]["objects"] >= untracked
    finally:
        gcx.unfreeze()
    del lists, atoms


def test_metrics_from_a_stop_callback(quiet):
    # the figures of the collection are recorded before its "stop" callbacks
    seen = []
    def callback(phase, info):
        if phase == "stop":
            m = gcx.metrics()
            seen.append((m["collecting"], m["generations"][1]["collections"],
                         m["generations"][1]["last"]["collected"]))
    before = gcx.metrics()["generations"][1]["collections"]
    gcx.callbacks.append(callback)
    try:
        make_cycles(10)
        gcx.collect(1)
    finally:
        gcx.callbacks.remove(callback)
    assert seen == [(True, before + 1, 20)]


# ------------------------------------------------------------------ census()

def by_type(objs):
    return collections.Counter(monitor.type_name(type(o)) for o in objs)


@pytest.mark.parametrize("generation", [None, 0, 1, 2])
def test_census_counts_what_get_objects_lists(quiet, generation):
    class Marker:
        pass
    keep = [Marker() for _ in range(2_345)]
    gcx.collect(0)
    keep += [Marker() for _ in range(1_000)]
    gcx.census(generation)                   # every name looked up once
    objs = gcx.get_objects(generation)
    census = gcx.census(generation)
    expected = by_type(objs)
    if generation in (None, 0):
        expected["list"] += 1                # objs, which get_objects() leaves out
    assert census == expected
    name = Marker.__module__ + "." + Marker.__qualname__
    assert census[name] == {None: 3_345, 0: 1_000, 1: 2_345, 2: 0}[generation]
    del keep


def test_census_names():
    class Local:
        pass
    assert monitor.type_name(list) == "list"
    assert monitor.type_name(Local) == f"{__name__}.{Local.__qualname__}"
    assert monitor.type_name(collections.OrderedDict) == "collections.OrderedDict"


def test_census_arguments_as_get_objects():
    for bad in ("0", 1.0, 3, -2, 2**70):
        with pytest.raises(Exception) as theirs:
            gcx.get_objects(bad)
        with pytest.raises(type(theirs.value)) as mine:
            gcx.census(bad)
        assert str(mine.value) == str(theirs.value)
    gcx.census(True)      # an index, as get_objects() takes it


def test_growth(quiet):
    class Leak:
        pass
    before = gcx.census()
    leaked = [Leak() for _ in range(500)]
    after = gcx.census()
    rows = gcx.growth(before, after)
    name = f"{__name__}.{Leak.__qualname__}"
    assert rows[0] == gcx.Growth(name, 500, 500)
    assert [r.delta for r in rows] == sorted((r.delta for r in rows), reverse=True)
    assert all(r.delta == after[r.name] - before[r.name] > 0 and r.objects == after[r.name]
               for r in rows)
    assert gcx.growth(before, after, limit=1) == rows[:1]
    assert name not in [r.name for r in gcx.growth(after, before)]
    del leaked[:]
    assert name not in [r.name for r in gcx.growth(after)]       # a new census


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((5,), {}, TypeError, "before must be a census (a mapping of type names to counts), "
                          "not int"),
    (({"x": "a"},), {}, TypeError, "before must map type names to counts (int), not str: "
                                  "'x': 'a'"),
    (({}, []), {}, TypeError, "after must be a census"),
    (({}, {"x": 1.5}), {}, TypeError, "after must map type names to counts (int), not float"),
    (({},), {"limit": -1}, ValueError, "limit must be >= 0, not -1"),
    (({},), {"limit": "3"}, TypeError, "limit must be an int or None, not str"),
    (({},), {"limit": True}, TypeError, "limit must be an int or None, not bool"),
])
def test_growth_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        gcx.growth(*args, **kwargs)


def test_show_growth_bad_arguments():
    peaks = dict(monitor._peaks)
    for bad, error in (("x", TypeError), (-1, ValueError), (1.5, TypeError)):
        with pytest.raises(error, match="^limit must be"):
            gcx.show_growth(bad, file=io.StringIO())
    assert monitor._peaks == peaks          # refused before any census
    assert gcx.growth({}, {"x": 2, "y": 1}, limit=None) == [("x", 2, 2), ("y", 1, 1)]
    assert gcx.growth({}, {"x": 2, "y": 1}, limit=0) == []


def test_show_growth_reports_rises_above_the_peak(quiet):
    class Grower:
        pass
    out = io.StringIO()
    gcx.show_growth(limit=1000, file=out)          # every type: the first peaks
    keep = [Grower() for _ in range(300)]
    out = io.StringIO()
    rows = gcx.show_growth(limit=1000, file=out)
    name = f"{__name__}.{Grower.__qualname__}"
    assert (name, 300, 300) in rows
    line = next(line for line in out.getvalue().splitlines() if line.startswith(name + " "))
    assert line.split() == [name, "300", "+300"]
    del keep[150:]
    rows = gcx.show_growth(limit=1000, file=io.StringIO())
    assert name not in [r.name for r in rows]       # below its peak
    keep += [Grower() for _ in range(200)]
    rows = gcx.show_growth(limit=1000, file=io.StringIO())
    assert (name, 350, 50) in rows                  # above the peak of 300 by 50


# ------------------------------------------------------------------ log_slow_pauses()

class Records(logging.Handler):
    """Collects records; wait(n) blocks until n arrived (or fails)."""

    def __init__(self):
        super().__init__()
        self.records = []
        self.arrived = threading.Condition()
        self.threads = set()
        self.inside = []

    def emit(self, record):
        self.threads.add(threading.current_thread().name)
        self.inside.append(gcx.info()["collecting"])
        with self.arrived:
            self.records.append(record)
            self.arrived.notify_all()

    def wait(self, n, timeout=60):
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.records) >= n, timeout), \
                f"{len(self.records)} of {n} records after {timeout}s"
        return self.records


@pytest.fixture
def logger():
    log = logging.getLogger(f"gcx-test-{id(object())}")
    log.propagate = False
    handler = Records()
    log.addHandler(handler)
    yield log, handler
    gcx.log_slow_pauses(None)
    log.removeHandler(handler)


def test_slow_pauses_logged_after_the_collection(quiet, logger):
    log, handler = logger
    slow = gcx.log_slow_pauses(0, log)
    try:
        make_cycles(50)
        gcx.collect(1)
        (record,) = handler.wait(1)
    finally:
        slow.stop()
    pause = gcx.recent_pauses()[-1]
    assert record.gcx_pause == pause and record.gcx_census is None
    assert record.levelno == logging.WARNING and record.name == log.name
    msg = record.getMessage()
    assert msg.startswith(f"gcx: collection of generation 1 took {pause.duration * 1e3:.3f} ms "
                          f"(threshold 0 ms): {pause.candidates} objects scanned, "
                          "100 collected, 0 uncollectable")
    assert handler.threads == {"gcx-slow-pauses"}
    assert handler.inside == [False]
    assert slow.logged == 1 and not slow.active


def test_threshold_filters(quiet, logger):
    log, handler = logger
    heap = [[i] for i in range(200_000)]
    gcx.collect()
    gcx.collect(0)
    full, young = gcx.recent_pauses()[-2:]
    if not full.duration > 2 * young.duration:
        pytest.skip("the full collection was not slower than the young one here")
    threshold = (full.duration + young.duration) / 2
    with gcx.log_slow_pauses(threshold * 1e3, log):
        for _ in range(5):
            gcx.collect(0)
        gcx.collect()
        (record,) = handler.wait(1)
    # the young collections stayed below the threshold, if they stayed fast
    young_ones = gcx.recent_pauses()[-6:-1]
    if all(p.duration < threshold for p in young_ones):
        assert record.gcx_pause.generation == 2
    assert all(r.gcx_pause.duration >= threshold for r in handler.records)
    del heap


def test_census_in_the_log(quiet, logger):
    log, handler = logger
    class Bulky:
        pass
    heap = [Bulky() for _ in range(30_000)]
    with gcx.log_slow_pauses(0, log, census=3):
        gcx.collect(0)
        (record,) = handler.wait(1)
    name = f"{__name__}.{Bulky.__qualname__}"
    top = record.gcx_census
    assert len(top) == 3 and (name, 30_000) in top
    assert [n for _, n in top] == sorted((n for _, n in top), reverse=True)
    assert f"largest types in generations 0-1 after it: " in record.getMessage()
    assert f"{name} 30000" in record.getMessage()
    del heap


def test_turning_it_off(quiet, logger):
    log, handler = logger
    first = gcx.log_slow_pauses(0, log)
    second = gcx.log_slow_pauses(0, log)            # replaces the first
    assert not first.active and second.active
    first.stop()                                     # no effect on the second
    gcx.collect(0)
    handler.wait(1)
    assert gcx.log_slow_pauses(None) is None
    assert not second.active
    n = len(handler.records)
    gcx.collect(0)
    gcx.collect()
    threading.Event().wait(0.2)
    assert len(handler.records) == n
    assert "stopped" in repr(second)


def test_handlers_may_lock_allocate_and_collect(quiet, logger):
    # The prometheus_client deadlock, for a logger: a thread holds a lock
    # when a slow collection happens, and the handler needs that lock.  The
    # handler runs in the log's thread, after the collection, so it waits
    # for the lock like any other thread; and it may collect itself.
    log, handler = logger
    lock = threading.Lock()                          # not reentrant
    results = []

    class Locking(logging.Handler):
        def emit(self, record):
            if results:
                return                   # its own collection's record
            got = lock.acquire(timeout=60)
            make_cycles(5)
            results.append((got, gcx.collect(0)))
            if got:
                lock.release()
    locking = Locking()
    log.addHandler(locking)
    slow = gcx.log_slow_pauses(0, log)
    try:
        with lock:
            gcx.collect(0)
            for _ in range(10_000):      # eval-breaker checks while the lock is held
                pass
        handler.wait(2)                  # the collection, then the handler's own
    finally:
        slow.stop()
        log.removeHandler(locking)
    assert results[0] == (True, 10)


def test_bad_arguments():
    for bad, exc in (("1", TypeError), (True, TypeError), (-1, ValueError),
                     (math.nan, ValueError), (math.inf, ValueError)):
        with pytest.raises(exc):
            gcx.log_slow_pauses(bad)
    with pytest.raises(TypeError):
        gcx.log_slow_pauses(1, logger="gcx")
    with pytest.raises(TypeError):
        gcx.log_slow_pauses(1, census="yes")
    with pytest.raises(ValueError):
        gcx.log_slow_pauses(1, census=-1)
    assert monitor._current is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_forked_child_logs_its_own_pauses(run_program):
    proc = run_program("monitor/slow_pause_fork.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["parent", "1", "child", "1", "parent", "2"]


# ------------------------------------------------------------------ memory() and watch()

def test_memory():
    import resource
    m = monitor.memory()
    assert set(m) == {"rss", "pymalloc_blocks", "malloc_in_use"}
    assert m["pymalloc_blocks"] == pytest.approx(sys.getallocatedblocks(), rel=0.1)
    if sys.platform == "linux":
        # the kernel updates the peak lazily: roughly
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        assert 0 < m["rss"] <= 1.05 * peak
    if m["malloc_in_use"] is not None:
        big = [bytearray(1 << 20) for _ in range(20)]        # malloc's, not pymalloc's
        assert monitor.memory()["malloc_in_use"] >= m["malloc_in_use"] + (15 << 20)
        del big


def test_watch_lines(quiet):
    class Kept:
        pass
    out = io.StringIO()
    w = monitor.watch(0.1, file=out, top=2)
    kept = [Kept() for _ in range(1_000)]
    threading.Event().wait(0.35)
    w.stop(final=True)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2 and all(line.startswith("gcx watch +") for line in lines)
    assert sum(f"{__name__}.{Kept.__qualname__} +1000" in line for line in lines) == 1
    assert all(line.count(" +") <= 3 for line in lines)      # the elapsed time, 2 types
    with pytest.raises(ValueError):
        monitor.watch(0)
    with pytest.raises(TypeError):
        monitor.watch("1")
    # at most 10 lines a second; at least one a day (a longer wait overflows
    # the thread's timeout)
    for bad in (0.000001, 0.09, 86401, 1e300, math.inf, math.nan):
        with pytest.raises(ValueError, match=r"^seconds must be from 0\.1 to 86400, not "):
            monitor.watch(bad)
    with pytest.raises(TypeError):
        monitor.watch(1, top="2")
    with pytest.raises(ValueError):
        monitor.watch(1, top=-1)
    del kept
