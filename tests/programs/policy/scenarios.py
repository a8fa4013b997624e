"""Collection policies at work in a process of their own (run by
tests/test_policy.py).

    python scenarios.py SCENARIO [ARGS...]

Each scenario installs gcx, sets a policy, runs a small workload with
automatic collection and prints one JSON object of what it observed: the
collections per generation (from get_stats()), the policy's state(), and
what the scenario checks (weak references, counts).  The test asserts on
it.  Scenarios:

  counts POLICY          POLICY "none" (the stdlib's rule), "default"
                         (Policy()) or "python" (a subclass deciding in
                         Python): a fixed churn; the collections per
                         generation (they must agree)
  deferred               full="deferred": churn with a growing old heap,
                         then full_collection_due() and safe_point()
  growth                 full="deferred", max_growth=0.05: the guard runs
                         full collections anyway
  adaptive               adaptive=True: a phase without cyclic garbage, then
                         one full of it; the young trigger after each
  limit                  memory_limit with add_memory_pressure: objects in
                         cycles owning declared native memory
  cap                    cpu_cap tiny: the cap binds
  freeze                 auto_freeze with frequent full collections of a
                         stable heap, then the heap dropped
  backstop               max_interval on generation 0: cyclic garbage made,
                         then no allocation while the process sleeps
  min_interval           min_interval on generation 2 with thresholds that
                         make full collections due all the time
  nogc                   a no-GC region: automatic collection, finalizers and
                         weakref callbacks held; gc.collect() inside runs at
                         the end
  nogc_threads           regions in two threads, overlapping
  nogc_many              forty regions in a row with a policy set: the
                         collections held in them still run
  nogc_budget            a region whose byte budget is exceeded: the callback
                         once; on_exceed="collect" collects at the end
  nogc_fork              fork() while another thread has a region open: the
                         child's collection is not held, its backstop runs
  bad_decide             a policy whose decide() returns a bad value: reported
                         as unraisable, the process goes on
  patched POLICY         POLICY "interval" (min_interval on generation 2) or
                         "budget" (PauseBudget): churn with a growing heap,
                         then the same churn with builtins.int, min and
                         max wrapped by mocks and time.perf_counter
                         stopped (as freezegun does); the collections per
                         generation in each, the mocks' calls
  small_limit            sys.setrecursionlimit(40), then churn with a policy
                         deciding in Python: its calls
  recursion POLICY       POLICY "python" (Same), "budget" (PauseBudget) or
                         "stdlib" (gcx not installed): cyclic garbage made
                         in the frame where RecursionError was raised, then
                         after the stack unwound; what was reported as
                         unraisable, the collections and the policy's calls
  traced POLICY          POLICY "python" (Same), "budget" (PauseBudget) or
                         "stdlib" (gcx not installed): churn of cycles whose
                         nodes have a __del__, under sys.settrace and (3.12+)
                         sys.monitoring's PY_START: the policy's frames
                         either saw, and the finalizers they saw and ran
  reentry                a policy whose decide() allocates past the trigger
                         and runs Python code (where a queued request could
                         run) at some calls, and moves the trigger at every
                         call: the deepest nesting of its calls
"""
import json
import sys
import threading
import time
import weakref

import gcx


class Node:
    pass


def cycles(n, keep=None, every=0):
    """n two-node cycles; every `every`-th one kept alive in `keep`."""
    for i in range(n):
        a, b = Node(), Node()
        a.other, b.other = b, a
        if keep is not None and every and i % every == 0:
            keep.append(a)


def stats():
    return [g["collections"] for g in gcx.get_stats()]


def since(before):
    return [n - b for n, b in zip(stats(), before)]


def jsonable(state):
    return {k: v for k, v in state.items() if k != "parameters"}


class Same(gcx.Policy):
    """The stdlib's rule, decided in Python at every pending call."""
    def decide(self, due, due_young):
        return super().decide(due, due_young)


def counts(which):
    gcx.install(policy={"none": None, "default": gcx.Policy(), "python": Same()}[which])
    keep = []
    before = stats()
    cycles(200_000, keep, every=50)
    return {"collections": since(before)}


def deferred():
    p = gcx.Policy(full="deferred", max_growth=None)
    gcx.install(policy=p)
    keep = []
    before = stats()
    cycles(400_000, keep, every=5)
    auto = since(before)
    due = gcx.full_collection_due()
    found = gcx.safe_point()
    after_safe = since(before)
    return {"auto": auto, "due": due, "found": found, "after_safe": after_safe,
            "due_after": gcx.full_collection_due(), "idle_safe_point": gcx.safe_point(),
            "state": jsonable(p.state())}


def growth():
    p = gcx.Policy(full="deferred", max_growth=0.05)
    gcx.install(policy=p)
    keep = []
    before = stats()
    cycles(400_000, keep, every=5)
    return {"auto": since(before), "state": jsonable(p.state())}


def adaptive():
    p = gcx.Policy(adaptive=True)
    gcx.install(policy=p)
    base = gcx.get_threshold()[0]
    batch = []
    for i in range(400_000):          # containers that die young, no cycles
        batch.append([i])
        if len(batch) == 5000:
            batch = []
    raised = gcx.metrics()["policies"]["young_trigger"]
    refs = []
    for _ in range(100):                  # now mostly cyclic garbage
        cycles(2000)
        a = Node()
        a.self = a
        refs.append(weakref.ref(a))
        del a
    lowered = gcx.metrics()["policies"]["young_trigger"]
    return {"base": base, "raised": raised, "lowered": lowered,
            "alive": sum(r() is not None for r in refs), "state": jsonable(p.state())}


class Owner:
    """A Python object owning native memory it declares."""
    SIZE = 10_000_000

    def __init__(self):
        gcx.add_memory_pressure(self.SIZE)
        self.self = self

    def __del__(self):
        gcx.add_memory_pressure(-self.SIZE)


def limit():
    start = gcx.memory_held()
    limit = 200_000_000
    p = gcx.Policy(memory_limit=start + limit)
    gcx.install(policy=p)
    gcx.set_threshold(2000, 10, 100_000)    # count-based full collections: never
    before = stats()
    peak = 0
    for _ in range(100):
        batch = [Owner() for _ in range(3)]
        batch.append(batch)                 # a cycle, and the owners with it
        for i in range(30_000):             # churn: batch is promoted while alive
            x = [i]
            x.append(x)
        del batch                           # now old cyclic garbage
        peak = max(peak, gcx.memory_held() - start)
    return {"auto": since(before), "peak": peak, "limit": limit,
            "state": jsonable(p.state())}


def cap():
    p = gcx.Policy(cpu_cap=0.0001, cpu_window=10.0)
    gcx.install(policy=p)
    keep = []
    before = stats()
    cycles(300_000, keep, every=3)
    return {"auto": since(before), "state": jsonable(p.state())}


def freeze():
    at_start = gcx.get_freeze_count()     # 3.12: the static objects it froze itself
    p = gcx.Policy(auto_freeze=True)
    gcx.install(policy=p)
    gcx.set_threshold(500, 1, 1)
    heap = [[i] for i in range(50_000)]     # the live heap of a warmed-up server
    for _ in range(1000):                   # requests: no cyclic garbage
        batch = [[i] for i in range(1000)]
        del batch
    frozen = gcx.get_freeze_count()
    state_frozen = jsonable(p.state())
    del heap                                # the frozen objects die
    for _ in range(20):
        batch = [[i] for i in range(1000)]
        del batch
    return {"frozen": frozen - at_start, "frozen_after": gcx.get_freeze_count() - at_start,
            "state_frozen": state_frozen, "state": jsonable(p.state())}


def backstop(with_policy):
    if with_policy == "yes":
        gcx.install(policy=gcx.Policy(max_interval=(0.05, None, None)))
    else:
        gcx.install()
    a = Node()
    a.self = a
    ref = weakref.ref(a)
    del a
    time.sleep(0.5)                       # idle: no allocation at all
    policy = gcx.get_policy()
    return {"alive": ref() is not None,
            "state": jsonable(policy.state()) if policy is not None else None}


class Sleeper:
    """Garbage whose finalizer lets the GIL go for a while."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.self = self

    def __del__(self):
        time.sleep(self.seconds)


def backstop_waits():
    """The backstop's thread finds a collection overdue while the main
    thread's collection sleeps in a finalizer for 0.5 s: each of its tries
    is refused (one collection at a time, as the stdlib's gc.collect()
    returns 0 while another thread collects)."""
    p = gcx.Policy(max_interval=(None, 0.02, 0.2))
    gcx.install(policy=p)
    time.sleep(0.3)                       # the backstop collects, on time
    before = dict(p.state()["collections"])
    starts = []
    gcx.callbacks.append(lambda phase, info: phase == "start" and starts.append(info))
    Sleeper(0.5)
    cpu = time.process_time()
    found = gcx.collect()
    cpu = time.process_time() - cpu
    after = dict(p.state()["collections"])
    return {"found": found, "cpu": cpu, "starts": len(starts),
            "periodic_during": sum(after.get(k, 0) - before.get(k, 0)
                                   for k in after if k.startswith("periodic")),
            "periodic_before": sum(v for k, v in before.items() if k.startswith("periodic"))}


def backstop_exit():
    """At exit (atexit's handlers) the backstop's daemon thread is stopped
    and waited for: one still collecting while the interpreter finalizes
    runs callbacks and finalizers as CPython frees the threads' states
    (valgrind saw a read of a freed thread state in drop_gil)."""
    import atexit
    import threading
    gcx.install(policy=gcx.Policy(max_interval=(0.01, 0.02, None)))
    gcx.callbacks.append(lambda phase, info: None)   # Python code in each collection
    for _ in range(20):
        Sleeper(0.001)
        time.sleep(0.01)

    def alive():
        return any(t.name == "gcx-backstop" and t.is_alive() for t in threading.enumerate())
    before = alive()
    atexit._run_exitfuncs()
    return {"alive_before": before, "alive_after_atexit": alive()}


def min_interval():
    p = gcx.Policy(min_interval=(None, None, 30.0))
    gcx.install(policy=p)
    gcx.set_threshold(500, 1, 1)
    before = stats()
    cycles(100_000)
    return {"auto": since(before), "state": jsonable(p.state())}


def nogc():
    gcx.install()
    seen = []
    before = stats()
    a = Node()
    a.self = a
    a.__del__ = None
    ref = weakref.ref(a, lambda r: seen.append("callback"))
    del a
    with gcx.no_gc():
        cycles(50_000)
        inside = since(before)
        explicit = gcx.collect()
        callback_inside = list(seen)
    after = since(before)
    return {"inside": inside, "explicit": explicit, "callback_inside": callback_inside,
            "after": after, "callback_after": list(seen), "alive": ref() is not None}


def nogc_threads():
    gcx.install()
    gcx.collect()       # generation 0's count from 0: starting the thread sets off nothing
    before = stats()
    entered, release_first = threading.Event(), threading.Event()
    out = {}

    def first():
        with gcx.no_gc():
            entered.set()
            release_first.wait()
        out["first_done"] = since(before)

    t = threading.Thread(target=first)
    t.start()
    entered.wait()
    with gcx.no_gc():
        cycles(20_000)
        release_first.set()
        t.join()
        cycles(20_000)
        out["while_second_open"] = since(before)
    cycles(20_000)
    out["after_both"] = since(before)
    return out


def nogc_many():
    # regions one after another, with a policy set: what was held in each
    # runs after it, and automatic collection goes on between them
    gcx.install(policy=gcx.Policy(adaptive=False, cpu_cap=1.0))
    before = stats()
    for _ in range(40):
        with gcx.no_gc():
            cycles(300)
    return {"auto": since(before), "count": gcx.get_count()[0],
            "threshold": gcx.get_threshold()[0]}


def nogc_budget():
    gcx.install()
    calls = []
    with gcx.no_gc(max_bytes=1_000_000, on_exceed=calls.append) as r1:
        keep = [bytearray(100_000) for _ in range(50)]
        cycles(20_000)
        n_inside = len(calls)
    before = stats()
    with gcx.no_gc(max_bytes=1_000_000) as r2:
        keep += [bytearray(100_000) for _ in range(50)]
        cycles(20_000)
        inside = since(before)
    return {"callback_calls_inside": n_inside, "callback_calls": len(calls),
            "called_with_region": bool(calls) and calls[0] is r1,
            "exceeded": [r1.exceeded, r2.exceeded], "inside": inside,
            "after": since(before)}


def nogc_fork():
    import os
    gcx.install(policy=gcx.Policy(max_interval=(0.05, None, None)))
    entered, release = threading.Event(), threading.Event()

    def holder():
        with gcx.no_gc():
            entered.set()
            release.wait()

    t = threading.Thread(target=holder)
    t.start()
    entered.wait()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                          # the child: the holder thread is gone
        before = stats()
        cycles(20_000)
        a = Node()
        a.self = a
        ref = weakref.ref(a)
        del a
        time.sleep(0.3)                   # the backstop, started again, collects
        out = {"held": gcx._gcx.schedule_state()["held"], "auto": since(before),
               "alive": ref() is not None}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    child = json.loads(os.read(r, 10000).decode())
    os.waitpid(pid, 0)
    release.set()
    t.join()
    return {"child": child, "parent_held_after": gcx._gcx.schedule_state()["held"]}


class BadPolicy(gcx.Policy):
    def decide(self, due, due_young):
        return "two"


def bad_decide():
    reports = []
    sys.unraisablehook = lambda args: reports.append(
        f"{type(args.exc_value).__name__}: {args.exc_value}")
    gcx.install(policy=BadPolicy())
    cycles(20_000)
    gcx.set_policy(None)
    before = stats()
    cycles(20_000)
    return {"reports": len(reports), "first": reports[0] if reports else None,
            "auto_after": since(before)}


class Reentered(gcx.Policy):
    """The stdlib's rule, but every fifth call allocates two thresholds'
    worth of containers and keeps them while Python code runs, and every
    call moves the young trigger, as PauseBudget does."""
    depth = deepest = calls = 0

    def decide(self, due, due_young):
        Reentered.calls += 1
        Reentered.depth += 1
        Reentered.deepest = max(Reentered.deepest, Reentered.depth)
        try:
            if Reentered.calls % 5 == 0:
                held = [[] for _ in range(2 * gcx.get_threshold()[0])]
                total = 0
                for i in range(20_000):     # eval-breaker checks
                    total += i
                del held
            g = super().decide(due, due_young)
            self._set_trigger(gcx.get_threshold()[0] // 2 + Reentered.calls % 7)
            return g
        finally:
            Reentered.depth -= 1


def reentry():
    gcx.install(policy=Reentered())
    keep = []
    cycles(100_000, keep, every=3)
    gcx.set_policy(None)
    return {"calls": Reentered.calls, "deepest": Reentered.deepest,
            "mode": gcx.info()["mode"], "trigger": gcx.info()["trigger"]}


class CountedSame(Same):
    calls = 0

    def decide(self, due, due_young):
        CountedSame.calls += 1
        return super().decide(due, due_young)


class CountedBudget(gcx.PauseBudget):
    calls = 0

    def decide(self, due, due_young):
        CountedBudget.calls += 1
        return super().decide(due, due_young)


def recursion(policy):
    """Where a thread has recursed to its limit, the policy (Python code)
    cannot be called without raising RecursionError inside it; the stdlib's
    collection runs no code of its own there."""
    reports = []
    sys.unraisablehook = reports.append   # C: callable with no room left
    chosen = {"python": CountedSame, "budget": CountedBudget}.get(policy)
    if chosen is not None:
        gcx.install(policy=chosen())
    module = gcx if chosen is not None else __import__("gc")
    calls = (lambda: chosen.calls) if chosen is not None else (lambda: 0)
    seen = {}

    def deep():
        try:
            deep()
        except RecursionError:
            if not seen:
                seen["calls"] = chosen.calls if chosen is not None else 0
                for _ in range(30_000):       # no call: there is no room
                    a, b = Node(), Node()
                    a.other, b.other = b, a
                seen["calls"] = (chosen.calls if chosen is not None else 0) - seen["calls"]

    def counts():
        return [g["collections"] for g in module.get_stats()]

    before = counts()
    deep()
    deep_collections = [n - b for n, b in zip(counts(), before)]
    deep_reports = len(reports)
    start = calls()
    before = counts()
    cycles(30_000)
    after = [n - b for n, b in zip(counts(), before)]
    if chosen is not None:
        gcx.set_policy(None)
    first = reports[0].exc_value if reports else None
    return {"deep_reports": deep_reports,
            "first": f"{type(first).__name__}: {first}" if first else None,
            "deep_collections": deep_collections, "deep_calls": seen["calls"],
            "after_collections": after, "after_calls": calls() - start,
            "reports": len(reports)}


def small_limit():
    """A program that set a recursion limit below the policy's room (50
    calls) still has its policy called where half of that limit is left."""
    sys.setrecursionlimit(40)
    gcx.install(policy=CountedSame())
    before = stats()
    cycles(30_000)
    gcx.set_policy(None)
    return {"calls": CountedSame.calls, "collections": since(before)}


def patched(policy):
    """The policy's calls come inside whatever code the program is running,
    with its patches in place: they must neither reach the patched
    functions nor go by a stopped clock."""
    from unittest import mock
    import builtins
    reports = []
    sys.unraisablehook = reports.append
    if policy == "interval":
        gcx.install(policy=gcx.Policy(min_interval=(None, None, 0.001)))
    else:
        gcx.install(policy=gcx.PauseBudget(ms=1.0))
    keep = []
    phases = {}
    for phase in ("plain", "patched"):
        before = stats()
        if phase == "plain":
            cycles(300_000, keep, every=4)
            mocks = {}
        else:
            names = ("int", "min", "max")   # (len: mock's own calls use it)
            with mock.patch("time.perf_counter", return_value=0.0):
                patches = [mock.patch.object(builtins, n, wraps=getattr(builtins, n))
                           for n in names]
                mocks = dict(zip(names, (p.start() for p in patches)))
                try:
                    cycles(300_000, keep, every=4)
                finally:
                    for p in patches:
                        p.stop()
        phases[phase] = since(before)
        phases[phase + "_calls"] = {n: m.call_count for n, m in mocks.items()}
    gcx.set_policy(None)
    phases["reports"] = len(reports)
    return phases


class Finalized:
    ran = 0

    def __del__(self):
        Finalized.ran += 1


def traced(policy):
    """A policy is gcx's own code, like the stdlib collector's C: a tracer
    or a profiler sees none of its frames.  What a collection runs
    (finalizers, callbacks) is the program's, traced as the stdlib's
    collections have it traced."""
    import os
    if policy != "stdlib":
        gcx.install(policy=Same() if policy == "python" else gcx.PauseBudget(ms=1.0))
    package = os.path.dirname(gcx.__file__) + os.sep
    seen = {"settrace": {"policy": 0, "del": 0}, "monitoring": {"policy": 0, "del": 0}}

    def note(tool, code):
        if code.co_filename.startswith(package) or code.co_name == "decide":
            seen[tool]["policy"] += 1
        elif code.co_name == "__del__":
            seen[tool]["del"] += 1

    def tracer(frame, event, arg):
        if event == "call":
            note("settrace", frame.f_code)

    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:
        tool = monitoring.OPTIMIZER_ID
        monitoring.use_tool_id(tool, "scenarios")
        monitoring.register_callback(tool, monitoring.events.PY_START,
                                     lambda code, offset: note("monitoring", code))
        monitoring.set_events(tool, monitoring.events.PY_START)
    sys.settrace(tracer)
    try:
        for _ in range(6_000):
            a, b = Finalized(), Finalized()
            a.other, b.other = b, a
    finally:
        sys.settrace(None)
        if monitoring is not None:
            monitoring.set_events(tool, 0)
            monitoring.free_tool_id(tool)
    ran = Finalized.ran
    if policy != "stdlib":
        gcx.set_policy(None)
    return {"seen": seen, "ran": ran, "monitoring": monitoring is not None}


SCENARIOS = {"counts": counts, "traced": traced, "deferred": deferred, "growth": growth,
             "adaptive": adaptive, "limit": limit, "cap": cap, "freeze": freeze,
             "backstop": backstop, "backstop_waits": backstop_waits,
             "backstop_exit": backstop_exit, "min_interval": min_interval, "nogc": nogc,
             "nogc_threads": nogc_threads, "nogc_budget": nogc_budget,
             "nogc_fork": nogc_fork, "nogc_many": nogc_many,
             "bad_decide": bad_decide, "reentry": reentry,
             "recursion": recursion, "patched": patched, "small_limit": small_limit}

if __name__ == "__main__":
    result = SCENARIOS[sys.argv[1]](*sys.argv[2:])
    print(json.dumps(result))
