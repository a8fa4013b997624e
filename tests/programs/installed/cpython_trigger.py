"""CPython's own trigger (src/tracer.c, K1-K4): where it is armed, with gcx
installed, and what CPython's collector looks like meanwhile (run by
tests/test_installed.py).

    python cpython_trigger.py states
    python cpython_trigger.py churn N [stock|policy|budget]
    python cpython_trigger.py burst N [N ...] [stock]
    python cpython_trigger.py overlap N

states: installs gcx and reports, after each control, which trigger serves
and the stdlib collector's own state (through the gc module's original
functions), then the same after uninstall().  churn: makes N
self-referencing instances, each with a payload list, and reports the
collections gcx ran (or, with "stock", the stdlib collector alone; with
"policy", under a policy that decides the stdlib's rule in Python and
counts its decisions; with "budget", under PauseBudget), the ones CPython's
trigger started, what the stdlib's own collections found (nothing, if they
find their lists empty) and how many instances are left alive.  overlap:
a policy's decide() waits, its GIL let go, while another thread makes N
cycles with finalizers and calls gc.collect(); reports where the policy was
called (inside CPython's collection, where its trigger serves), what that
collect() returned, and what was finalized and collected in all.
"""
import gc
import json
import sys

import gcx
from gcx import _gcx, _stdlib

ORIGINAL = {name: getattr(gc, name) for name in
            ("isenabled", "get_threshold", "get_debug", "get_freeze_count", "get_stats")}


def stdlib_state():
    return {"enabled": ORIGINAL["isenabled"](), "threshold": list(ORIGINAL["get_threshold"]()),
            "debug": ORIGINAL["get_debug"](), "frozen": ORIGINAL["get_freeze_count"]()}


def states():
    out = {"applies": (_gcx.info()["mode"] == "lists" and _gcx.info()["lists_readable"]
                       and sys.version_info >= (3, 13, 3))}
    gc.set_debug(0)
    before = stdlib_state()
    gc.set_debug(gc.DEBUG_SAVEALL)      # the stdlib's, before install: carried to gcx
    out["before"] = stdlib_state()

    def note(label):
        out[label] = {"trigger": _gcx.info()["trigger"], "stdlib": stdlib_state()}

    gcx.install()
    note("installed")
    gc.set_threshold(700, 10, 10)
    note("threshold 700")
    gc.disable()
    note("disabled")
    gc.enable()
    note("enabled")
    with gcx.no_gc():
        note("no_gc")
    note("after no_gc")
    gcx.set_policy(gcx.PauseBudget())
    note("policy")
    _gcx.set_trigger(300)               # a policy's young trigger: CPython's threshold follows
    note("young trigger 300")
    _gcx.set_trigger(0)
    note("young trigger off")
    gcx.set_policy(None)
    note("no policy")
    gc.set_threshold(0)
    note("threshold 0")
    gc.set_threshold(2000)
    gcx.uninstall()
    note("uninstalled")
    gc.set_debug(0)
    out["restored"] = stdlib_state() == dict(before, debug=0)
    print("RESULT " + json.dumps(out))


class Node:
    def __init__(self):
        self.me = self
        self.payload = [1, 2, 3]


class Counting(gcx.Policy):
    """The stdlib's rule, decided in Python: counts its decisions."""
    decisions = 0

    def decide(self, due, due_young):
        Counting.decisions += 1
        return super().decide(due, due_young)


def churn(n, how):
    if how == "policy":
        gcx.install(policy=Counting())
    elif how == "budget":
        gcx.install(policy=gcx.PauseBudget(ms=1.0))
    elif how != "stock":
        gcx.install()
    starts = [0]
    gc.callbacks.append(lambda phase, info: phase == "start" and starts.__setitem__(0, starts[0] + 1))
    found = []
    _stdlib.callbacks.append(lambda phase, info: phase == "stop" and found.append(
        info["collected"] + info["uncollectable"]))
    before = sys.getrefcount(Node)
    for _ in range(n):
        Node()
    alive = sys.getrefcount(Node) - before
    info = _gcx.info()
    print("RESULT " + json.dumps({
        "collections": starts[0], "triggered": info["cpython_triggered"],
        "trigger": info["trigger"], "stdlib_collections": len(found),
        "stdlib_found": sum(found), "alive": alive, "decisions": Counting.decisions}))


def burst(sizes, how):
    if how != "stock":
        gcx.install()
    found = {}
    for n in sizes:
        gc.collect()
        triggered = _gcx.info()["cpython_triggered"] if how != "stock" else 0
        keep = []
        while (how != "stock" and _gcx.info()["trigger"] == "cpython"
               and _gcx.info()["cpython_triggered"] == triggered):
            keep.append([])   # until a collection CPython's trigger started: the marker moved on
        del keep
        doc = json.loads("[" + ",".join(["[]"] * n) + "]")
        doc.append(doc)
        del doc
        found[str(n)] = gc.collect()
    print("RESULT " + json.dumps({"found": found, "trigger": _gcx.info()["trigger"]}))


class Fin:
    finalized = 0

    def __init__(self):
        self.me = self

    def __del__(self):
        Fin.finalized += 1


def overlap(n):
    import threading
    armed, inside, done = threading.Event(), threading.Event(), threading.Event()
    where = {}

    class Waiting(gcx.Policy):
        def decide(self, due, due_young):
            if armed.is_set() and not inside.is_set():
                # inside CPython's collection where its trigger serves
                # (CPython's own flag says so), else a pending call
                where["in_cpythons"] = _gcx.info()["trigger"] == "cpython"
                inside.set()
                done.wait(30)   # the GIL goes: the other thread runs
            return super().decide(due, due_young)

    gcx.install(policy=Waiting())
    got = {}

    def other():
        inside.wait(30)
        for _ in range(n):
            Fin()
        got["collect"] = gc.collect()
        got["finalized"] = Fin.finalized
        done.set()

    t = threading.Thread(target=other)
    t.start()
    armed.set()
    keep = []
    while not inside.is_set() and len(keep) < 10_000_000:
        keep.append([])   # until the policy is asked
    del keep
    t.join()
    later = gc.collect()
    print("RESULT " + json.dumps({
        "where": where, "trigger": _gcx.info()["trigger"], "other_collect": got.get("collect"),
        "finalized_then": got.get("finalized"), "later": later, "finalized": Fin.finalized,
        "garbage": len(gc.garbage)}))


if __name__ == "__main__":
    if sys.argv[1] == "states":
        states()
    elif sys.argv[1] == "overlap":
        overlap(int(sys.argv[2]))
    elif sys.argv[1] == "burst":
        how = "stock" if sys.argv[-1] == "stock" else "default"
        burst([int(a) for a in sys.argv[2:] if a != "stock"], how)
    else:
        churn(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "default")
