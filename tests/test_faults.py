"""Faults inside a collection: out of memory, exceptions, signals, threads.

Out of memory (gcx._gcxfault, a test allocator over the RAW, MEM and OBJ
domains; GCX_MEMORY=python puts gcx's own memory there too):
tests/programs/faults/oom_sweep.py sweeps the allocation that
fails, n, through one whole full collection of a heap with finalizers,
weakref callbacks, resurrection, a legacy tp_del cycle and plain cycles, once
with only allocation n failing and once with every allocation from n on
failing, under the stdlib collector and under gcx, each in a fresh
interpreter.  Every trial must show: collect() returned (never raised); no
finalizer or callback ran twice; after a second, unarmed collection
everything collectable is gone (no pin leaked), the resurrected objects are
alive, intact and held by nothing but the program (their refcount is the
baseline's, and they die when it lets go), the legacy object is in
``garbage`` exactly once; for gcx the table invariants hold after each
collection, and a collection that returned 0 changed nothing (C3: it gave
up, nothing ran, nothing was freed).  The unarmed baselines of the two
collectors agree.

Exceptions and signals: tests/programs/faults/fault_scenarios.py runs each
scenario under both collectors in fresh interpreters; the observable
outcomes must be equal, and gcx's table must check out afterwards.

Threads: several threads allocating cycles and collecting at once with gcx
installed; a thread that exits holding the last reference to garbage; daemon
threads still allocating cycles while the interpreter shuts down.

Size: ``GCX_STRESS_SCALE`` (default 1.0) scales the thread tests' loops.
The OOM sweep always visits every n: it is a few dozen collections in a
child interpreter, and its assertions need every site it reaches.
"""
import gc as stdlib_gc
import json
import os
import re
import sys
import threading
import weakref

import pytest

import gcx
from gcx import _gcx

SCALE = float(os.environ.get("GCX_STRESS_SCALE", "1.0"))


def scaled(n):
    return max(1, int(n * SCALE))


def assert_clean_exit(proc, status=0):
    detail = f"exit status {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == status, detail
    for bad in ("Fatal Python error", "Segmentation fault", "AddressSanitizer",
                "Assertion", "SystemError", "Aborted"):
        assert bad not in proc.stderr, detail


# =============================================================== out of memory

_sweeps = {}


def sweep(run_program, collector, mode):
    """The records of one OOM sweep: (baseline, [trial records]), run once
    per session with the run_program fixture of the first test that asks."""
    key = (collector, mode)
    if key not in _sweeps:
        # gcx's own memory from Python's raw allocator, where the failing
        # allocator sits (by default it is the C library's: gcx.h)
        proc = run_program("faults/oom_sweep.py", collector, mode, 0, 100000, 1, timeout=300,
                           env={"GCX_MEMORY": "python"})
        assert_clean_exit(proc)
        records = [json.loads(line) for line in proc.stdout.splitlines()]
        assert records and records[0].get("baseline"), proc.stdout
        _sweeps[key] = (records[0], records[1:])
    return _sweeps[key]


SWEEPS = [pytest.param(c, m, id=f"{c}-{m}")
          for c in ("gc", "gcx") for m in ("once", "every")]

# The heap's fixed shape (see oom_sweep.py): what the extra ring adds.
LEGACY_CYCLE = 2     # LegacyDel + its list: uncollectable


def _lost(base, rec):
    """Finalizer and callback bodies the baseline ran and this trial never did."""
    fin = [i for i, (b, r) in enumerate(zip(base["after"]["fin"], rec["after"]["fin"]))
           if b and not r]
    cb = [i for i, (b, r) in enumerate(zip(base["after"]["cb"], rec["after"]["cb"]))
          if b and not r]
    return fin, cb


@pytest.mark.parametrize("collector, mode", SWEEPS)
def test_oom_sweep_is_sound(run_program, collector, mode):
    base, trials = sweep(run_program, collector, mode)
    assert trials, "no trial ran"
    # the sweep went past the end of the collection's allocations, and did
    # inject faults before that
    assert trials[-1]["failures"] == 0, trials[-1]
    assert any(t["failures"] for t in trials)
    base_collected, base_uncollectable = base["stats_armed"]
    assert base_uncollectable == LEGACY_CYCLE
    # what the baseline leaves observable: nothing, or on 3.15 the objects
    # the finalizers resurrected (kept alive in KEEP), each seen once
    alive = base["after"]["dead"].count(False)
    assert alive == (sum(base["after"]["kept"]) if sys.version_info >= (3, 15) else 0), base
    problems = []

    def expect(cond, what, rec):
        if not cond:
            problems.append(f"n={rec['n']}: {what}: {json.dumps(rec)[:1500]}")

    for rec in trials:
        expect(rec["ok"], "collect() raised", rec)
        for phase in ("armed", "after"):
            expect(all(c <= 1 for c in rec[phase]["fin"] + rec[phase]["cb"]),
                   "a finalizer or callback ran twice", rec)
        expect(all(c <= b for c, b in zip(rec["after"]["fin"] + rec["after"]["cb"],
                                           base["after"]["fin"] + base["after"]["cb"])),
               "a finalizer or callback ran that the baseline never runs", rec)
        lost_fin, _ = _lost(base, rec)
        # no pin leaked, nothing collectable left: every observed object is
        # gone, but for the resurrected ones, whose weakrefs without
        # callbacks 3.15 no longer clears (gh-135552): alive as in the baseline
        expect(all(d for d, b in zip(rec["after"]["dead"], base["after"]["dead"]) if b),
               "garbage survived the second collection", rec)
        # resurrection: where the finalizer ran, the object is back, intact,
        # with the baseline's refcount (a leaked pin adds one), and is freed
        # when the program lets go of it
        res_fins = range(len(rec["after"]["fin"]) - len(rec["after"]["kept"]),
                         len(rec["after"]["fin"]))
        for k, i in enumerate(res_fins):
            if i in lost_fin:
                continue
            expect(rec["after"]["kept"][k], "a resurrected object is missing", rec)
            expect(rec["kept_refcnt"][k] == base["kept_refcnt"][k],
                   "a resurrected object's refcount differs from the baseline's", rec)
        expect(all(rec["kept_payload_ok"]), "a resurrected object is damaged", rec)
        expect(all(rec["kept_freed"]), "a resurrected object outlived its last reference", rec)
        expect(rec["legacy_in_garbage"] == 1, "the legacy object is not in garbage once", rec)
        expect(rec["legacy_freed"], "the legacy object was not freed once released", rec)
        expect(rec["garbage_left"] == 0, "garbage holds other objects", rec)
        expect(rec["final_collect"] == base["final_collect"],
               "a later collection found leftovers", rec)
        # the counts: everything the baseline collects, collected once; the
        # legacy cycle counted once more only if it could not be appended to
        # garbage the first time (both collectors drop it then)
        collected = rec["stats_armed"][0] + rec["stats_after"][0]
        uncollectable = rec["stats_armed"][1] + rec["stats_after"][1]
        if not lost_fin:
            expect(collected == base_collected + rec["extra"],
                   "collected count differs from the baseline's", rec)
        expect(uncollectable in (LEGACY_CYCLE, 2 * LEGACY_CYCLE),
               "uncollectable count is off", rec)
        # a MemoryError inside a __del__ is reported as unraisable, in the
        # collection it happened in: against the __del__ (3.13: err_msg
        # None, the object the function), or in 3.14's own words
        fin_fail = sum(r and not ok for r, ok in zip(
            rec["armed"]["fin"][-len(rec["armed"]["kept"]) - len(rec["armed"]["alloc_ok"]):],
            rec["armed"]["alloc_ok"]))
        if fin_fail and mode == "once":
            expect([u[0] for u in rec["armed"]["unraisable"] if _finalizer_report(u)]
                   == ["MemoryError"] * fin_fail,
                   "a MemoryError in __del__ was not reported as unraisable", rec)
        # only MemoryError reported
        for phase in ("armed", "after"):
            for exc, msg, obj in rec[phase]["unraisable"]:
                expect(exc == "MemoryError", f"unraisable {exc} ({msg})", rec)
        if collector == "gcx":
            for key in ("check_armed", "check_after", "check_final"):
                expect(rec[key] is None, f"gcx._gcx.check() failed ({key})", rec)
            expect(all(0 <= c < 10000 for c in rec["count"]), "get_count() insane", rec)
            if rec["ret"] == 0:
                # C3: it gave up; nothing ran, nothing was freed
                armed = rec["armed"]
                expect(not any(armed["fin"]) and not any(armed["cb"])
                       and not any(armed["dead"]) and rec["stats_armed"] == [0, 0],
                       "a collection that returned 0 changed something", rec)
                expect(rec["ret2"] == base["ret"] + rec["extra"],
                       "the collection after a give-up did not collect everything", rec)
    assert not problems, "\n".join(problems[:10])
    # the sweep reached Python code too: an allocation inside a __del__ failed
    assert any(r and not ok for t in trials
               for r, ok in zip(t["armed"]["fin"][-len(t["armed"]["kept"]) - len(t["armed"]["alloc_ok"]):],
                                t["armed"]["alloc_ok"]))
    if collector == "gcx":
        # the sweep reached the core's own allocations, and some of them made
        # the collection give up (C3 exercised, not vacuous)
        assert any("core" in t["sites"] for t in trials)
        assert any(t["ret"] == 0 and t["failures"] for t in trials)


def test_oom_baselines_agree(run_program):
    """With nothing armed, the two collectors see the same heap the same way."""
    keys = ("ret", "ret2", "stats_armed", "stats_after", "kept_refcnt",
            "legacy_in_garbage", "final_collect", "armed", "after")
    gc_base, _ = sweep(run_program, "gc", "once")
    gcx_base, _ = sweep(run_program, "gcx", "once")
    assert {k: gcx_base[k] for k in keys} == {k: gc_base[k] for k in keys}


@pytest.mark.parametrize("collector, mode", [
    pytest.param(c, m, id=f"{c}-{m}") for c in ("gc", "gcx") for m in ("once", "every")])
def test_oom_never_loses_a_callback(run_program, collector, mode):
    """A weakref callback or finalizer the baseline runs may be lost only by
    failing itself (reported as unraisable with err_msg None, as
    PyErr_WriteUnraisable(callable) reports it), never by the collector's
    own allocation failing."""
    base, trials = sweep(run_program, collector, mode)
    bad = []
    for rec in trials:
        lost_fin, lost_cb = _lost(base, rec)
        own = [u for u in rec["armed"]["unraisable"] if u[1] is None]
        if len(lost_fin) + len(lost_cb) > len(own):
            bad.append((rec["n"], lost_fin, lost_cb, rec["armed"]["unraisable"],
                        rec["sites"]))
    assert not bad, bad


# ===================================================== exceptions and signals

SCENARIOS = [
    "finalizer_raises",
    "sigint_in_finalizer",       # signal.raise_signal(SIGINT) in a __del__
    "sigint_in_callback",        # ... in a weakref callback
    "timer_in_finalizer",        # setitimer: KeyboardInterrupt from SIGALRM handler
    "timer_in_callback",
    "callback_collects",         # a callback and a finalizer call collect()
    "callback_collects_stdlib",  # ... the stdlib's gc.collect(), under either
    "exit_in_finalizer",         # sys.exit() in a __del__
    "fork_in_finalizer",         # the child collects, checks, os._exit()s
    "fork_child_continues",      # the child finishes the collection, then collects
]


def _finalizer_report(u):
    """Is this [exception type, err_msg, object type] an unraisable report
    of a finalizer (__del__) failing, as the running interpreter words it?"""
    if sys.version_info >= (3, 14):
        return (u[1] or "").startswith("Exception ignored while calling deallocator ")
    return u[1] is None and u[2] == "function"


def normalize(events):
    """Events grouped by the finalizer or callback they happened in (labels
    sorted: the order in which objects are finalized is not part of the
    outcome; gcx goes by address, the stdlib by its list), plus the order of
    the phases (callbacks all run before finalizers in both)."""
    groups, phases, label = {}, [], None
    for e in events:
        if e[0] in ("cb", "del"):
            label = f"{e[0]}:{e[1]}"
            if not phases or phases[-1] != e[0]:
                phases.append(e[0])
        groups.setdefault(label, []).append(e)
    return {"groups": sorted(groups.items(), key=lambda kv: str(kv[0])), "phases": phases}


def _comparable(o):
    # addresses differ between the two processes (3.14 names the __del__
    # in its unraisable messages: "<function Fin.__del__ at 0x...>")
    o = json.loads(re.sub(r" at 0x[0-9a-f]+", " at 0x", json.dumps(o)))
    o["events"] = normalize(o["events"])
    if "child" in o:
        status, child = o["child"]
        o["child"] = [status, _comparable(child)]
    return o


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_exceptions_and_signals_match_stdlib(run_program, scenario):
    out = {}
    for collector in ("gc", "gcx"):
        proc = run_program("faults/fault_scenarios.py", scenario, collector, timeout=120)
        assert_clean_exit(proc)
        out[collector] = json.loads(proc.stdout.strip().splitlines()[-1])
    got, want = out["gcx"], out["gc"]

    def gcx_only(o):
        o = dict(o)
        extra = {k: o.pop(k) for k in ("check", "collecting") if k in o}
        if "child" in o:
            status, child = o["child"]
            child = dict(child)
            extra["child"] = {k: child.pop(k) for k in ("check", "collecting") if k in child}
            o["child"] = [status, child]
        events = []
        for e in o["events"]:
            if e[0] == "child":      # fork_in_finalizer: the child's report
                report = dict(e[2])
                extra["child_check"] = report.pop("child_check", None)
                e = [e[0], e[1], report]
            events.append(e)
        o["events"] = events
        return o, extra

    got, got_extra = gcx_only(got)
    assert _comparable(got) == _comparable(want)
    # gcx consistent afterwards: invariants, a working collection, sane counts
    assert got_extra["check"] == "ok"
    assert got_extra["collecting"] is False
    assert got["collect_after"] == 1 and got["count_sane"]
    if "child" in got_extra:
        assert got_extra["child"] == {"check": "ok", "collecting": False}
    # the scenario observed what it was built for (a vacuous run fails)
    assert got["raised"] is None and got["raised_after"] is None
    events = [e[0] for e in got["events"]]
    expected_unraisable = {
        "finalizer_raises": "ValueError", "sigint_in_finalizer": "KeyboardInterrupt",
        "sigint_in_callback": "KeyboardInterrupt", "timer_in_finalizer": "KeyboardInterrupt",
        "timer_in_callback": "KeyboardInterrupt", "exit_in_finalizer": "SystemExit",
    }.get(scenario)
    if expected_unraisable:
        assert [u[0] for u in got["unraisable"]] == [expected_unraisable]
    else:
        assert got["unraisable"] == []
    if scenario.startswith("timer"):
        assert got["timer_fired"] == 1
    if scenario.startswith("callback_collects"):
        assert sum(1 for e in got["events"] if e[0].startswith("nested")) == 2
        assert all(e[1] == 0 for e in got["events"] if e[0].startswith("nested"))
    if scenario == "fork_in_finalizer":
        child = next(e for e in got["events"] if e[0] == "child")
        assert child[1] == 7 and "child_error" not in child[2]
        assert child[2]["child_count_ok"]
        assert got_extra["child_check"] == "ok"
    if scenario == "fork_child_continues":
        assert got["child"][0] == 0 and "in-child" in [e[0] for e in got["child"][1]["events"]]
    assert "del" in events


# ===================================================================== threads

class _Fin:
    ran = 0
    lock = threading.Lock()

    def __del__(self):
        with _Fin.lock:
            _Fin.ran += 1


def _threads_collecting(collect, nthreads, per_thread):
    """Threads allocating cycles with finalizers and weakrefs and collecting
    as they go; returns (made, finalizers run, weakrefs, errors)."""
    errors, refs = [], []
    barrier = threading.Barrier(nthreads)

    def work(k):
        try:
            barrier.wait()
            for i in range(per_thread):
                a, b = _Fin(), _Fin()
                a.b, b.a = b, a
                a.junk = [b, {"a": a}]
                if i % 16 == 0:
                    refs.append(weakref.ref(a))
                if i % 50 == k:
                    collect()
        except BaseException as e:   # pragma: no cover - reported below
            errors.append(repr(e))

    _Fin.ran = 0
    threads = [threading.Thread(target=work, args=(k,)) for k in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    collect()
    collect()
    return nthreads * per_thread * 2, _Fin.ran, refs, errors


def test_threads_collect_at_once(quiet):
    nthreads, per_thread = 4, scaled(3000)
    want = _threads_collecting(stdlib_gc.collect, nthreads, per_thread)
    with gcx.installed():
        got = _threads_collecting(stdlib_gc.collect, nthreads, per_thread)
        assert gcx.isenabled()
        _gcx.check()
        assert all(0 <= c < 10000 for c in gcx.get_count())
    for made, ran, refs, errors in (want, got):
        assert errors == []
        assert ran == made            # every finalizer ran exactly once
        assert all(r() is None for r in refs)
    _gcx.check()
    assert gcx.collect() == 0
    assert stdlib_gc.collect() == 0


def test_thread_exits_holding_last_reference(quiet):
    """A thread's frame holds the last reference to a cycle when the thread
    ends; the next collection (in the main thread) collects it, as the
    stdlib's does, and runs its finalizer there."""
    def run(gc):
        stdlib_gc.collect()        # start clean for both collectors
        gcx.collect()
        seen = {}

        class Held:
            def __del__(self):
                seen["del_thread"] = threading.current_thread().name

        local = threading.local()

        def body():
            a, b = Held(), Held()
            a.b, b.a = b, a
            local.cycle = [a]          # and in thread-local storage
            seen["ref"] = weakref.ref(a)

        t = threading.Thread(target=body, name="worker")
        t.start()
        t.join()
        del t
        alive_before = seen["ref"]() is not None
        n = gc.collect()
        return {"alive_before": alive_before, "collected": n,
                "dead": seen["ref"]() is None, "del_thread": seen.get("del_thread")}

    want = run(stdlib_gc)
    got = run(gcx)
    assert want == {"alive_before": True, "collected": want["collected"], "dead": True,
                    "del_thread": "MainThread"}
    assert want["collected"] >= 2
    assert got == want
    _gcx.check()


@pytest.mark.parametrize("how, status", [("return", 0), ("exit", 0), ("raise", 1)])
@pytest.mark.parametrize("collector", ["gc", "gcx"])
def test_daemon_thread_allocating_at_shutdown(run_program, collector, how, status):
    for _ in range(scaled(2)):
        proc = run_program("faults/daemon_shutdown.py", collector, how, timeout=120)
        assert_clean_exit(proc, status)
        assert proc.stdout.split() == ["exiting", "True", "True", "True"], proc.stdout
