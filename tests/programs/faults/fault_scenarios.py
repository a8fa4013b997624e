"""Exceptions and signals inside a collection (run by tests/test_faults.py).

    python fault_scenarios.py SCENARIO COLLECTOR

COLLECTOR is ``gc`` (the stdlib collector) or ``gcx``.  The scenario builds
garbage whose finalizers or weakref callbacks misbehave, runs one full
``COLLECTOR.collect()`` with both automatic collectors off, and prints one
JSON line: what a program can observe (the events in order, unraisable
reports, what collect() returned or raised, what survived).  The test runs
each scenario under both collectors and compares the lines; for gcx the line
also says whether the table invariants hold afterwards, what a following
collection returns and what get_count() says.
"""
import json
import os
import signal
import sys
import time
import weakref

SCENARIO, COLLECTOR = sys.argv[1], sys.argv[2]

import gc as stdgc     # noqa: E402
import gcx             # noqa: E402
from gcx import _gcx   # noqa: E402

col = stdgc if COLLECTOR == "gc" else gcx
stdgc.disable()
gcx.disable()

EVENTS = []
UNRAISABLE = []
KEEP = []


def hook(args):
    UNRAISABLE.append([args.exc_type.__name__, args.err_msg,
                       getattr(args.object, "__qualname__", type(args.object).__name__)])


sys.unraisablehook = hook


class Node:
    """A garbage object: a self-cycle with a label and an optional action
    run by its finalizer."""

    def __init__(self, label, action=None):
        self.label = label
        self.action = action
        self.me = self


class Fin(Node):
    def __del__(self):
        EVENTS.append(["del", self.label])
        if self.action is not None:
            self.action(self)
        EVENTS.append(["del-end", self.label])


def callback_for(label, action=None):
    def cb(wr):
        EVENTS.append(["cb", label])
        if action is not None:
            action(wr)
        EVENTS.append(["cb-end", label])
    return cb


WEAKREFS = []


def with_callback(label, action=None):
    n = Node(label)
    WEAKREFS.append(weakref.ref(n, callback_for(label, action)))


# ---- actions --------------------------------------------------------------

def raise_value_error(_):
    raise ValueError("from a finalizer")


def raise_signal_sigint(_):
    signal.raise_signal(signal.SIGINT)
    EVENTS.append(["after-raise_signal"])


FIRED = [0]


def alarm_handler(signum, frame):
    FIRED[0] += 1
    raise KeyboardInterrupt("alarm")


def wait_for_timer(_):
    signal.setitimer(signal.ITIMER_REAL, 0.005)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:   # the handler interrupts this
        pass
    EVENTS.append(["timer-never-fired"])


def nested_collect(_):
    EVENTS.append(["nested", col.collect()])


def nested_stdlib_collect(_):
    EVENTS.append(["nested-stdlib", stdgc.collect()])


def exit_now(_):
    sys.exit(3)


def fork_and_check(_):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        out = {}
        try:
            made = Node("in-child")
            del made
            out["child_collect"] = col.collect()
            out["child_collect_again"] = col.collect()
            if col is gcx:
                _gcx.check()
                out["child_check"] = "ok"
            out["child_count_ok"] = all(c >= 0 for c in col.get_count())
        except BaseException as e:   # report, never raise in the child
            out["child_error"] = repr(e)
        os.write(w, json.dumps(out).encode())
        os.close(w)
        os._exit(7)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    EVENTS.append(["child", os.waitstatus_to_exitcode(status), json.loads(data)])


CHILD = [None]     # in a child that continues the collection: its pipe
PARENT = []        # in the parent: the child's pid and pipe


def fork_and_continue(_):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        CHILD[0] = w
        EVENTS.append(["in-child"])
        return
    os.close(w)
    PARENT[:] = [pid, r]


# ---- scenarios: each builds garbage (nothing left referring to it) ---------

def sc_finalizer_raises():
    Fin("a")
    Fin("b", raise_value_error)
    Fin("c")
    with_callback("w")


def sc_sigint_in_finalizer():
    # the default SIGINT handler raises KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    Fin("a")
    Fin("b", raise_signal_sigint)
    Fin("c")


def sc_sigint_in_callback():
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with_callback("w1")
    with_callback("w2", raise_signal_sigint)
    with_callback("w3")
    Fin("a")


def sc_timer_in_finalizer():
    signal.signal(signal.SIGALRM, alarm_handler)
    Fin("a")
    Fin("b", wait_for_timer)
    Fin("c")
    with_callback("w")


def sc_timer_in_callback():
    signal.signal(signal.SIGALRM, alarm_handler)
    with_callback("w1", wait_for_timer)
    with_callback("w2")
    Fin("a")


def sc_callback_collects():
    with_callback("w1", nested_collect)
    with_callback("w2")
    Fin("a", nested_collect)


def sc_callback_collects_stdlib():
    with_callback("w1", nested_stdlib_collect)
    Fin("a", nested_stdlib_collect)
    Fin("b")


def sc_exit_in_finalizer():
    Fin("a")
    Fin("b", exit_now)
    Fin("c")
    with_callback("w")


def sc_fork_in_finalizer():
    Fin("a")
    Fin("b", fork_and_check)
    Fin("c")
    with_callback("w")


def sc_fork_child_continues():
    # the child finishes the collection the fork interrupted, then collects
    Fin("a")
    Fin("b", fork_and_continue)
    Fin("c")
    with_callback("w")


def main():
    col.collect()
    globals()["sc_" + SCENARIO]()
    out = {}
    try:
        out["collected"] = col.collect()
        out["raised"] = None
    except BaseException as e:
        out["raised"] = type(e).__name__
    signal.setitimer(signal.ITIMER_REAL, 0)
    # a pending signal whose handler has not run yet runs here at the latest
    try:
        for _ in range(1000):
            pass
        out["raised_after"] = None
    except BaseException as e:
        out["raised_after"] = type(e).__name__
    out["events"] = EVENTS
    out["unraisable"] = UNRAISABLE
    out["weakrefs_dead"] = [w() is None for w in WEAKREFS]
    out["timer_fired"] = FIRED[0]
    # the collector works afterwards
    n = Node("after")
    del n
    out["collect_after"] = col.collect()
    out["count_sane"] = all(0 <= c < 1000 for c in col.get_count())
    if col is gcx:
        try:
            _gcx.check()
            out["check"] = "ok"
        except AssertionError as e:
            out["check"] = str(e)
        out["collecting"] = gcx.info()["collecting"]
    if CHILD[0] is not None:
        os.write(CHILD[0], json.dumps(out).encode())
        os.close(CHILD[0])
        os._exit(0)
    if PARENT:
        pid, r = PARENT
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        out["child"] = [os.waitstatus_to_exitcode(status), json.loads(data or b"null")]
    print(json.dumps(out), flush=True)


main()
