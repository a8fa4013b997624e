"""gcx installed as the process's collector, each test in a fresh interpreter.

The programs are in tests/programs/installed/ (their shared helpers in
churnlib.py there); each reports one JSON line, read back by result().

Memory is judged two ways.  Peak RSS (VmHWM) is what a user sees; it means
little under AddressSanitizer (freed memory sits in quarantine), so RSS
comparisons are skipped there.  The live-instance count is exact everywhere:
every instance of a class holds a reference to its class, so
``sys.getrefcount(Node)`` rises by one per Node alive, garbage or not.

GCX_STRESS_SCALE (a float, default 1) scales the amount of churn, down to a
floor below which the bounds would mean nothing.
"""
import json
import os
import sys

import pytest

from helpers import PROGRAMS, gcx_cli

SCALE = float(os.environ.get("GCX_STRESS_SCALE", "1"))
UNDER_ASAN = "asan" in os.environ.get("LD_PRELOAD", "")
MB = 1024 * 1024
BLOB = 1000          # bytes of payload per garbage cycle, to make RSS move


def result(proc):
    """The program's report() values; fails with its output if it failed."""
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0][len("RESULT "):])


def reported(run_program, name, *args, env=None):
    """The report of tests/programs/installed/NAME run with ARGS."""
    return result(run_program(f"installed/{name}", *args, env=env))


def scaled(n):
    # Never below 200k cycles: the bounds below are fractions of the churn,
    # and must stay well above the garbage one collection interval allows.
    return max(200_000, int(n * SCALE))


# ------------------------------------------------------------------ (a) peak RSS

@pytest.mark.skipif(UNDER_ASAN, reason="RSS means nothing under ASan's quarantine")
@pytest.mark.parametrize("live", [0, 50_000], ids=["empty-heap", "50k-live-dicts"])
def test_peak_rss_close_to_stdlib(run_program, live):
    cycles = scaled(200_000)
    outcome = {
        collector: reported(run_program, "churn_rss.py", collector, live, cycles, BLOB)
        for collector in ("stdlib", "gcx", "none")}
    stdlib, ours, none = (outcome[c] for c in ("stdlib", "gcx", "none"))
    assert stdlib["collector_on"] and ours["collector_on"] and not none["collector_on"]
    # Sanity: without a collector this program's garbage costs at least half
    # its payload in RSS, so the test can tell collecting from not.
    assert none["hwm"] > stdlib["hwm"] + cycles * BLOB / 2, outcome
    assert ours["hwm"] <= 1.25 * stdlib["hwm"] + 10 * MB, (
        f"gcx peak RSS {ours['hwm'] / MB:.1f} MB, stdlib {stdlib['hwm'] / MB:.1f} MB "
        f"(peak Nodes alive: gcx {ours['peak']}, stdlib {stdlib['peak']})")


# ------------------------------------------------------------------ (b) threads

@pytest.mark.parametrize("how", ["join", "sleep"])
def test_worker_churn_while_main_blocked(run_program, how):
    # The main thread never reaches an eval-breaker check while the worker
    # runs, so gcx's pending call waits: the helper thread must collect.
    cycles = scaled(1_000_000)
    out = reported(run_program, "worker_churn.py", how, cycles, BLOB)
    assert out["collections"] >= 5, out
    assert out["others"] + out["worker"] >= 1, out   # not only the main thread
    assert out["peak"] <= 0.25 * 2 * cycles, out
    if not UNDER_ASAN:
        assert out["growth"] <= 0.25 * cycles * BLOB, out


# ------------------------------------------------------------------ (c) python -m gcx run

def test_run_cycle_churning_script(tmp_path):
    script = os.path.join(PROGRAMS, "installed", "run_churn.py")
    cycles = scaled(400_000)
    proc = gcx_cli("run", script, str(cycles), str(BLOB), cwd=tmp_path)
    out = result(proc)
    assert out["argv"] == [str(cycles), str(BLOB)]
    assert out["collections"] >= 5, out
    # the main thread churns: collections come every few thousand allocations
    assert out["peak"] <= 0.05 * 2 * cycles, out
    if not UNDER_ASAN:
        assert out["hwm"] <= 100 * MB + 0.05 * cycles * BLOB, out


# ------------------------------------------------------------------ (d) gc calls while installed

def test_stdlib_calls_go_to_gcx_while_installed(run_program):
    out = reported(run_program, "stdlib_calls.py")
    assert out == {"ok": True}


# ------------------------------------------------------------------ (e) exact restore

@pytest.mark.parametrize("stdlib_on", [True, False], ids=["stdlib-on", "stdlib-off"])
@pytest.mark.parametrize("gcx_on", [True, False], ids=["gcx-on", "gcx-off"])
def test_install_uninstall_restore_state(run_program, stdlib_on, gcx_on):
    out = reported(run_program, "restore_state.py",
                   "on" if stdlib_on else "off", "on" if gcx_on else "off")
    assert out == {"ok": True}


# ------------------------------------------------------------------ (f) finalizers

@pytest.mark.parametrize("threshold0", [-1, 1, 3, 50])
def test_young_cadence_at_small_and_negative_thresholds(run_program, threshold0):
    """Installed, automatic collections come as often as the stdlib's at the
    same threshold 0: past it, at every allocation for a negative one."""
    counts = {}
    for collector in ("gc", "gcx"):
        proc = run_program("installed/threshold_cadence.py", collector, str(threshold0))
        assert proc.returncode == 0, proc.stderr
        counts[collector] = [int(n) for n in proc.stdout.split()]
    want, got = counts["gc"], counts["gcx"]
    assert want[0] > 0
    assert abs(got[0] - want[0]) <= max(2, want[0] // 50), counts


def test_middle_and_full_collections_come_when_the_stdlibs_would(run_program):
    """Installed on a program's first line, gcx takes the stdlib's counts as
    they would be had gcx's import not run (its allocations and its probes'
    stdlib collections move the stdlib's middle and full collections
    sooner): each of the program's middle and full collections then comes
    within half a young collection's allocations of the stdlib's in a
    process that never imported gcx.  Before, gcx began with its own
    counts, and its middle and full collections came 2-3 young collections
    after the stdlib's, and with them the memory the garbage they
    free holds.  uninstall() hands gcx's counts back."""
    began = {}
    for collector in ("gc", "gcx"):
        proc = run_program("installed/count_phase.py", collector)
        assert proc.returncode == 0, proc.stderr
        began[collector] = [[int(n) for n in line.split()]
                            for line in proc.stdout.splitlines()[:3]]
    young = began["gc"][0]
    interval = sorted(b - a for a, b in zip(young, young[1:]))[len(young) // 2]
    for generation in (1, 2):
        want, got = began["gc"][generation], began["gcx"][generation]
        assert want and len(got) == len(want), (generation, want, got)
        assert all(abs(g - w) < interval / 2 for g, w in zip(got, want)), \
            (generation, interval, want, got)
    before1, before2, after1, after2, readable = proc.stdout.splitlines()[3].split()
    if readable == "True":
        assert (after1, after2) == (before1, before2)


def test_collection_scheduled_in_a_c_call_runs_after_the_count_fell(run_program):
    """The stdlib schedules a collection when an allocation passes threshold
    0 and decides which generation at the next eval-breaker check: a C call
    that makes and frees 3,000 lists (pickle.loads under map and sum) with
    generation 1's count past its threshold is followed by a middle
    collection, the count of generation 0 back under 100.  gcx's did not
    follow in lists mode (the default) or alloc mode: CPython's own
    trigger, armed with thresholds 1 and 2 out of reach, then found nothing
    to collect and did not call gcx; without the trigger, the read the
    allocator wrapper's look queued at the crossing asked for a collection
    only if the count was still past it.  The pickling program of
    bench_suite.py ran 31 collections to the stdlib's 33 (its pickle.dumps
    makes and frees a reduce tuple per object)."""
    out = {}
    for collector in ("gc", "gcx"):
        proc = run_program("installed/scheduled_burst.py", collector)
        assert proc.returncode == 0, proc.stderr
        out[collector] = proc.stdout.splitlines()
    assert out["gc"][0] == "1"
    assert out["gcx"][0] == out["gc"][0], out


@pytest.mark.parametrize("mode", ["enable", "threshold"])
def test_collection_past_the_threshold_waits_for_a_container(run_program, mode):
    """gc.enable(), or a threshold 0 lowered below the count, asks for no
    collection itself: the stdlib's comes at the next container allocated,
    not at the next object (gcx's allocator wrapper sees every object)."""
    out = {}
    for collector in ("gc", "gcx"):
        proc = run_program("installed/enable_waits.py", collector, mode)
        assert proc.returncode == 0, proc.stderr
        out[collector] = proc.stdout.split()
    assert out["gc"] == ["0", "1"], out
    assert out["gcx"] == out["gc"], out


def test_a_c_call_past_the_threshold_asks_once(run_program):
    """A C call that allocates 60,000 containers (json.loads) runs no
    eval-breaker check: as under the stdlib, one collection comes, when it
    returns; meanwhile gcx's allocator wrapper, which asked for it at the
    first allocation past the threshold, does not look again at every
    allocation until it has run."""
    out = {}
    for collector in ("gc", "gcx"):
        proc = run_program("installed/c_call_allocates.py", collector)
        assert proc.returncode == 0, proc.stderr
        out[collector] = [int(n) for n in proc.stdout.split()]
    assert out["gc"][0] == 1, out
    assert out["gcx"][0] == out["gc"][0], out
    assert out["gcx"][1] < 100, out


def test_finalizers_run_in_automatic_collections(run_program):
    out = reported(run_program, "finalizers.py", "main")
    assert out["collections"] > 0
    assert (out["deleted"], out["callbacks"]) == (1000, 1000), out
    # the pending call runs on the main thread, at its next eval-breaker check
    assert out["main"] and out["others"] == 0, out


def test_finalizers_run_when_main_thread_blocked(run_program):
    out = reported(run_program, "finalizers.py", "thread")
    assert out["collections"] > 0
    assert (out["deleted"], out["callbacks"]) == (1000, 1000), out
    # the main thread sat in join(): another thread ran them
    assert not out["main"], out


# ------------------------------------------------------------------ (g) fork

def test_fork_child_keeps_collecting(run_program):
    cycles = scaled(200_000)
    out = reported(run_program, "fork.py", cycles)
    assert out["status"] == 0, out
    installed, child_collections, main_peak, blocked_peak = out["child"]
    assert installed
    assert child_collections >= 5, out
    # bounded, far from the 100% of no collection (safe mode spaces its
    # collections by half the heap, garbage inherited from the parent included;
    # the parent has a churning thread too)
    assert main_peak <= 0.25 * 2 * cycles, out
    assert blocked_peak <= 0.25 * 2 * 4 * cycles, out
    assert out["parent_collections"] > 0 and out["parent_peak"] <= 0.25 * 2 * cycles, out


def test_fork_at_random_moments_of_churn(run_program):
    """fork() while a worker thread makes cycles and the main thread
    allocates, at random moments (often with a collection queued and not
    run): every child still collects automatically, its table passes the
    checker and its records name exactly what CPython tracks."""
    proc = run_program("installed/fork_churn.py", 12, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["OK", "12"]


# ------------------------------------------------------------------ both modes

def test_safe_mode_installed_churn(run_program):
    # the same churn under GCX_MODE=safe on any interpreter
    cycles = scaled(200_000)
    out = reported(run_program, "safe_churn.py", cycles, env={"GCX_MODE": "safe"})
    assert out["collections"] > 0
    assert out["peak"] <= 0.1 * 2 * cycles, out


def test_install_from_a_finalizer_during_install(run_program):
    """A collection install() lets run may run a finalizer that calls
    install(): no self-deadlock (faulthandler ends the program after 10 s)."""
    proc = run_program("installed/install_from_finalizer.py", timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ok: install() returned" in proc.stdout



# ------------------------------------------------------------------ (g) CPython's own trigger

INT_MAX = 2**31 - 1


def test_cpython_trigger_follows_the_controls(run_program):
    """Where it applies (lists mode, 3.13.3+), installed gcx lets CPython's
    own trigger ask for its collections (src/tracer.c, K1-K4): CPython's
    collector is on at gcx's threshold 0 with the older generations out of
    reach and its debug flags cleared, a policy's young trigger its
    threshold while one is set, and every control that lets the wrapper's
    looks matter again (disable, a no-GC region, threshold 0, uninstall)
    puts CPython's collector back as it was, nothing left frozen."""
    out = reported(run_program, "cpython_trigger.py", "states")
    armed = "cpython" if out["applies"] else "gcx"
    for label in ("installed", "threshold 700", "enabled", "after no_gc", "policy",
                  "young trigger 300", "young trigger off", "no policy"):
        assert out[label]["trigger"] == armed, (label, out)
    before = out["before"]                 # the stdlib's, just before install()
    for label in ("disabled", "no_gc", "threshold 0"):
        assert out[label]["trigger"] == "gcx", (label, out)
        # off, as install() left it, nothing else changed, nothing frozen
        assert out[label]["stdlib"] == dict(before, enabled=False), (label, out)
    if out["applies"]:
        t0 = before["threshold"][0]
        # threshold 1 at 0 (its count kept at 1): each collection CPython
        # schedules is of generation 1, and calls back whatever generation
        # 0's count is when it runs (tracer.c, K1)
        assert out["installed"]["stdlib"] == {"enabled": True, "threshold": [t0, 0, INT_MAX],
                                              "debug": 0, "frozen": out["installed"]["stdlib"]["frozen"]}
        assert out["threshold 700"]["stdlib"]["threshold"] == [700, 0, INT_MAX]
        assert out["young trigger 300"]["stdlib"]["threshold"] == [300, 0, INT_MAX]
        assert out["young trigger off"]["stdlib"]["threshold"] == [700, 0, INT_MAX]
    assert out["uninstalled"] == {"trigger": "gcx", "stdlib": before}, out
    assert out["restored"] is True, out


@pytest.mark.parametrize("how", ["default", "policy"])
def test_cpython_trigger_collects_when_the_stdlib_would(run_program, how):
    """Churning cycles, installed gcx collects about as often as the stdlib
    alone does, with the stdlib's rule decided in the core or by a Python
    policy; where CPython's trigger serves, it started every one of them
    (and asked the policy each time), and CPython's own collections,
    started to find their lists empty, found nothing."""
    n = scaled(200_000)
    stock = reported(run_program, "cpython_trigger.py", "churn", str(n), "stock")
    out = reported(run_program, "cpython_trigger.py", "churn", str(n), how)
    assert stock["collections"] > 50, stock
    assert abs(out["collections"] - stock["collections"]) <= max(2, stock["collections"] // 50), \
        (stock, out)
    assert out["alive"] <= 2 * 2000, out
    if how == "policy":
        assert out["decisions"] >= out["collections"], out
    if out["trigger"] == "cpython":
        assert out["triggered"] >= out["collections"] - 1, out
        assert out["stdlib_collections"] >= out["triggered"], out
        assert out["stdlib_found"] == 0, out
    else:
        assert out["triggered"] == 0 and out["stdlib_collections"] == 0, out


def test_births_read_at_once_after_cpython_trigger_moved_the_marker(run_program):
    """Where CPython's trigger serves, each of its collections leaves gcx's
    marker at the end of an older list, and what is tracked since fills the
    younger lists: a read takes the first 4,096 of them at once and walks
    the rest (lists.c's gather and each_rest).  Lists of N + 1 made in one C
    call, around and past that size, then tied into one cycle and dropped:
    gcx's collection finds every one, as the stdlib's does (where the
    trigger does not serve, 3.12 and 3.13.0-3.13.2, the same bursts are
    read from generation 0 or by the wrapper)."""
    sizes = ["100", "4094", "4095", "4096", "12289"]
    stock = reported(run_program, "cpython_trigger.py", "burst", *sizes, "stock")
    out = reported(run_program, "cpython_trigger.py", "burst", *sizes)
    for n in sizes:
        assert stock["found"][n] == int(n) + 1, stock
    assert out["found"] == stock["found"], (out, stock)


def test_no_collection_of_another_thread_inside_cpythons_collection(run_program):
    """Where CPython's trigger serves, a policy's decide() runs inside
    CPython's collection (its "start" callback), and may let the GIL go.
    Another thread's gc.collect() meanwhile returns 0, as the stdlib's does
    while a collection runs (G1 of schedule.c).  The build before let it
    collect there, and the trigger's freeze at the end of the first
    thread's turn then took the marker of its watch (a collection of
    garbage with finalizers, W1 of finalize.c), so that every look struck
    all the garbage again: a gc.collect(0) of two threads' cycles with
    __del__ took 4-45 s against the stdlib's 0.1 s.  Elsewhere decide()
    runs from a pending call, outside any collection, and the other
    thread's collect() collects.  Either way every finalizer runs once and
    nothing is left."""
    n = 20_000
    out = reported(run_program, "cpython_trigger.py", "overlap", str(n))
    assert out["where"], out    # the policy was asked while the other thread waited
    if out["trigger"] == "cpython":
        assert out["where"]["in_cpythons"] and out["other_collect"] == 0, out
    else:
        assert out["other_collect"] == n and out["finalized_then"] == n, out
    assert out["finalized"] == n and out["garbage"] == 0, out


def test_next_collection_when_a_finalizer_allocated_past_the_threshold(run_program):
    """A collection's finalizer allocates 3,000 containers, more than
    threshold 0: the stdlib schedules the next collection at the first
    allocation after it.  The build before backed the request off a whole
    threshold (G4 of schedule.c: 2,001 allocations), as for a request the
    policy declined; with threads allocating during collections that let
    generation 0 grow to several thresholds."""
    stock = reported(run_program, "finalizer_allocates.py", "stock")
    out = reported(run_program, "finalizer_allocates.py")
    assert stock["allocations_to_next"] <= 2, stock
    assert out["allocations_to_next"] <= stock["allocations_to_next"] + 1, (out, stock)
    assert out["starts"] == stock["starts"], (out, stock)


def test_young_candidates_are_the_stdlibs(run_program):
    """3.15's candidates of young collections are what the stdlib examines:
    not gcx's own markers in CPython's lists (lists mode), which the build
    before counted (one more in every young collection)."""
    stock = reported(run_program, "candidates.py", "stock")
    out = reported(run_program, "candidates.py")
    if sys.version_info < (3, 15):
        assert all(c is None for _, c in stock["seen"]), stock
    assert out["seen"] == stock["seen"], (out, stock)


def test_cpython_trigger_serves_the_pause_budget(run_program):
    """Under PauseBudget, which moves the young trigger and sets a young
    limit, CPython's trigger asks for its decisions where it applies, and
    the churned cycles are collected all the same."""
    n = scaled(200_000)
    out = reported(run_program, "cpython_trigger.py", "churn", str(n), "budget")
    assert out["alive"] <= 2 * 2000, out
    assert out["collections"] > 10, out
    if out["trigger"] == "cpython":
        assert out["triggered"] >= out["collections"], out
        assert out["stdlib_found"] == 0, out
    else:
        assert out["triggered"] == 0 and out["stdlib_collections"] == 0, out
