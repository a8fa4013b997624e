"""Shared helpers for gcx's differential tests.

A *scenario* is a function ``scenario(gc, ctx) -> dict``.  It builds a heap,
drops its references, runs collections with ``gc`` (the stdlib ``gc`` module
or ``gcx``) and returns what a program could observe: return values of
``collect()``, survivors, the contents of ``gc.garbage``, what ``gc.callbacks``
saw.  It records finalizer and weakref-callback runs through ``ctx``.

``run(scenario, gc)`` wraps a scenario: it starts from a clean heap, captures
``sys.unraisablehook`` reports, and adds the order-insensitive event counts to
the outcome.  Two implementations agree on a scenario when ``run`` returns
equal outcomes for both.  Outcomes hold only plain data (ints, strings,
booleans, tuples, lists, dicts), never the objects themselves, so comparing
them keeps nothing alive.

Rules for scenario authors:
- build the heap in a helper function, so no stray local keeps it alive;
- label everything the outcome mentions; never report ids or addresses;
- leave ``gc.garbage`` empty and every uncollectable cycle broken on return
  (``run`` reports anything left in ``garbage``, then clears it);
- never let a helper object that outlives the scenario (``Ctx``, its lists)
  point back into the heap under test, except through ``ctx.saved``.
"""
import collections
import contextlib
import gc as stdlib_gc
import re
import sys
import weakref


# ---------------------------------------------------------------- recording

class Ctx:
    """Per-run recorder handed to a scenario.

    ``events`` is a list of ``(kind, label)`` pairs in the order they happened
    (``kind`` is "del", "wrcb", "finally", ...).  ``saved`` receives objects
    that finalizers resurrect.  ``Fin``, ``Phoenix``, ``Plain`` and
    ``Slotted`` are this run's own subclasses of the ``*Base`` classes below.  ``watch()`` attaches a weakref with a logging
    callback; ``alive()`` reads those weakrefs.
    """

    def __init__(self, gc):
        self.gc = gc
        self.events = []
        self.saved = []
        self._watched = {}
        self._callbacks = {}
        # Fresh classes for every run.  On 3.13 an instance keeps its
        # attributes inline (no separate __dict__ object, so one object fewer
        # per instance in every count) only while its class's shared keys
        # have room; classes shared between runs would let the attribute
        # names of earlier scenarios change the counts of later ones.
        ns = {"ctx": self, "__module__": __name__}
        self.Fin = type("Fin", (FinBase,), dict(ns))
        self.Phoenix = type("Phoenix", (PhoenixBase,), dict(ns))
        self.Plain = type("Plain", (PlainBase,), dict(ns))
        self.Slotted = type("Slotted", (SlottedBase,), dict(ns, __slots__=()))

    def log(self, kind, label):
        self.events.append((kind, label))

    def callback(self, label, kind="wrcb"):
        """A weakref callback that logs (kind, label).

        It closes over the events list only, so a weakref holding it does not
        keep the context (or anything the context reaches) alive.  The context
        keeps every callback it made alive, so a callback is never part of the
        garbage under test (and never changes a count).
        """
        key = (kind, label)
        if key not in self._callbacks:
            events = self.events

            def cb(wr):
                events.append(key)
            cb.__qualname__ = "callback"
            self._callbacks[key] = cb
        return self._callbacks[key]

    def watch(self, obj, label, callback=True):
        """Watch ``obj`` under ``label`` through a weakref held by the context."""
        cb = self.callback(label) if callback else None
        self._watched[label] = weakref.ref(obj, cb)

    def alive(self):
        """Sorted labels of the watched objects whose weakref is still live."""
        return sorted(k for k, wr in self._watched.items() if wr() is not None)

    def counts(self, kind=None):
        """Order-insensitive summary: sorted ``[kind, label, times]`` rows."""
        c = collections.Counter(e for e in self.events
                                if kind is None or e[0] == kind)
        return sorted([k, lab, n] for (k, lab), n in c.items())


class FinBase:
    """An instance (with ``__dict__``) whose ``__del__`` logs ("del", label).

    Scenarios use the fresh subclass ``ctx.Fin`` (see ``Ctx.__init__``).
    """

    ctx = None  # set on each run's fresh subclass

    def __init__(self, label):
        self.label = label

    def __del__(self):
        self.ctx.log("del", self.label)


class PhoenixBase(FinBase):
    """A ``Fin`` whose ``__del__`` resurrects it (appends it to ctx.saved)."""

    def __del__(self):
        self.ctx.log("del", self.label)
        self.ctx.saved.append(self)


class PlainBase:
    """A plain instance with ``__dict__`` and no finalizer."""

    def __init__(self, label):
        self.label = label


class SlottedBase:
    """An instance with ``__slots__`` (no ``__dict__``) and a finalizer."""

    __slots__ = ("label", "other", "__weakref__")
    ctx = None

    def __init__(self, label):
        self.label = label
        self.other = None

    def __del__(self):
        self.ctx.log("del", self.label)


# ---------------------------------------------------------------- describing

_ADDR = re.compile(r"0x[0-9a-fA-F]+")


def scrub(text):
    """Remove addresses from a repr so two runs compare equal."""
    return None if text is None else _ADDR.sub("0x?", text)


def describe(obj):
    """A stable, label-based description of one object."""
    try:
        label = object.__getattribute__(obj, "label")
    except (AttributeError, TypeError):
        label = None
    if isinstance(label, str):
        return label
    return type(obj).__name__


def describe_all(objs):
    """Order-insensitive descriptions of a collection of objects."""
    return sorted(describe(o) for o in objs)


def contains(objs, target):
    """Identity membership (``in`` would call ``__eq__``)."""
    return any(o is target for o in objs)


def generation_of(gc, obj):
    """The generation (0, 1, 2) whose get_objects() holds obj, else None."""
    for g in range(3):
        if contains(gc.get_objects(g), obj):
            return g
    return None


def clear_garbage(gc):
    """Break the cycles of everything in ``gc.garbage`` by hand, empty it,
    and return the descriptions of what was there.

    Lists, dicts and sets are emptied, ``ref`` attributes (the _gcxtest
    types) set to None, instance ``__dict__``s emptied.  Runs in its own
    frame so that no loop variable keeps the last object alive.
    """
    seen = describe_all(gc.garbage)
    for obj in gc.garbage:
        if isinstance(obj, (list, dict, set)):
            obj.clear()
        elif hasattr(type(obj), "ref"):
            obj.ref = None
        elif hasattr(obj, "__dict__"):
            vars(obj).clear()
    del gc.garbage[:]
    return seen


def stats_delta(before, after):
    """Per-generation differences between two get_stats() results."""
    return [{k: a[k] - b[k] for k in ("collections", "collected", "uncollectable")}
            for b, a in zip(before, after)]


# ---------------------------------------------------------------- running

@contextlib.contextmanager
def record_unraisable(seen):
    """Route sys.unraisablehook reports into ``seen`` as plain tuples."""
    def hook(u):
        obj = u.object
        name = getattr(obj, "__qualname__", None)
        if isinstance(name, str):
            name = name.rpartition("<locals>.")[2]
        else:
            name = None if obj is None else type(obj).__name__
        seen.append((type(u.exc_value).__name__, str(u.exc_value),
                     scrub(u.err_msg), name))
    old = sys.unraisablehook
    sys.unraisablehook = hook
    try:
        yield seen
    finally:
        sys.unraisablehook = old


@contextlib.contextmanager
def automatic_collection_off(gc):
    """Both automatic collectors off for the block (conftest does this too)."""
    olds = [(m, m.isenabled()) for m in {id(stdlib_gc): stdlib_gc, id(gc): gc}.values()]
    for m, _ in olds:
        m.disable()
    try:
        yield
    finally:
        for m, was in olds:
            if was:
                m.enable()


def settle(gc, then_stdlib=False):
    """Collect until a collection finds nothing (at most 3 times), so counts
    start from a clean heap; with ``then_stdlib``, then do the same with the
    stdlib collector (it frees whatever ``gc`` missed)."""
    collectors = [gc]
    if then_stdlib and gc is not stdlib_gc:
        collectors.append(stdlib_gc)
    for collector in collectors:
        for _ in range(3):
            if collector.collect() == 0:
                break


def run(scenario, gc):
    """Run one scenario under ``gc`` and return its outcome (a dict).

    Keys added here: "events" (order-insensitive counts of what happened
    while the scenario ran), "unraisable" (sorted reports), "garbage_left"
    (what the scenario left in ``garbage``), "cleanup_events" (events while
    ``run`` dropped ``ctx.saved`` and collected afterwards: ``gc`` first, then
    the stdlib, so a leak the scenario missed shows up here).
    """
    ctx = Ctx(gc)
    unraisable = []
    with automatic_collection_off(gc):
        settle(gc)
        with record_unraisable(unraisable):
            outcome = scenario(gc, ctx)
            assert isinstance(outcome, dict), "a scenario returns a dict"
            outcome = dict(outcome)
            outcome["events"] = ctx.counts()
            outcome["unraisable"] = sorted(unraisable)
            outcome["garbage_left"] = describe_all(gc.garbage)
            del gc.garbage[:]
            ctx.saved.clear()
            done = len(ctx.events)
            settle(gc, then_stdlib=True)
            outcome["cleanup_events"] = sorted(
                [k, lab, n] for (k, lab), n in
                collections.Counter(ctx.events[done:]).items())
            outcome["cleanup_unraisable"] = sorted(unraisable[len(outcome["unraisable"]):])
    return outcome


def check_expected(outcome, expected):
    """Assert the keys of ``expected`` (a partial outcome) match ``outcome``."""
    for key, want in expected.items():
        assert key in outcome, f"scenario outcome has no key {key!r}"
        assert outcome[key] == want, (
            f"stdlib outcome[{key!r}] = {outcome[key]!r}, hand-written "
            f"expectation {want!r}")
