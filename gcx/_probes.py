"""The Python side of the core's import-time probes and self-tests
(src/probe.c, src/tracer.c, src/frames.c), which the core imports from its
init.

A module rather than source strings the core compiles: its bytecode is
cached (pip compiles it at install), and compiling the strings cost about
4.5 M instructions, a quarter of what ``import gcx`` added to a start-up
(benchmarks/RESULTS.md, "The core's probes from cached bytecode").  The
core reads the answers; nothing else uses this module.  It imports only
what a bare start-up has loaded (gc, sys) and built-in modules.
"""
import gc
import sys

import _weakref


class Plain:
    """A class without __slots__: its instances have the pre-header (the
    managed dict and weakref pointers) before the GC header."""


class DelProbe:
    """A class defining __del__: the core reads the tp_finalize CPython
    gives such classes."""
    def __del__(self):
        pass


def _collect_young():
    """A young collection by the stdlib collector, with the program's gc
    callbacks and debug flags set aside for it: no callback runs, nothing
    is printed or saved in gc.garbage for it.  Its statistics count it,
    and the program's young garbage goes with it."""
    callbacks, debug = gc.callbacks[:], gc.get_debug()
    gc.callbacks.clear()
    gc.set_debug(0)
    try:
        gc.collect(0)
    finally:
        gc.callbacks[:] = callbacks
        gc.set_debug(debug)


class _Resurrector:
    def __del__(self):
        _made.append(_weakref.ref(self, _called.append))


_made = []
_called = []


def late_weakref_clear():
    """Whether the stdlib collector clears a weakref that a finalizer made
    to garbage before the garbage is freed (GH-91636): two objects in a
    cycle each make one in __del__; before the fix the weakrefs survive
    until their objects are freed and their callbacks run then."""
    a, b = _Resurrector(), _Resurrector()
    a.other, b.other = b, a
    del a, b
    _collect_young()
    late = len(_made) == 2 and not _called
    _made.clear()
    _called.clear()
    return late


class _Looker:
    def __del__(self):
        _seen.append(_ref() is self)


_seen = []
_ref = None


def weakrefs_after_finalizers():
    """Whether a weakref without a callback to a garbage object is still
    alive inside that object's __del__: cleared before finalizers run
    before gh-135552 (3.15), after the resurrection check since."""
    global _ref
    a = _Looker()
    a.self = a
    _ref = _weakref.ref(a)
    del a
    _collect_young()
    after = _seen == [True]
    _seen.clear()
    _ref = None
    return after


# The self-tests free a deep chain where CPython's trashcan must defer: the
# core's free_deep drops it with the thread's limits moved so that it
# defers about 50 (3.12), 100 (3.13) or 425 (3.14+, by the C stack left)
# levels down (src/trashcan.c; src/tracer.c, "the start-up self-test",
# says why these depths).
DEPTH = 1000 if sys.version_info >= (3, 14) else 300


def selftest(free_deep):
    """Lists, dicts and tuples made and freed by the bytecode loop, by a
    deep nested list the trashcan defers (free_deep), and by tuple
    resizes; all die inside."""
    for i in range(3000):
        x = [i]
        y = {"k": x, i: (x, i)}
        del x, y
    deep = []
    for i in range(DEPTH):
        deep = [[], deep]
    holder = [deep]
    del deep
    free_deep(holder)
    for n in range(40):
        t = tuple(j for j in range(n) if j % 3)
        del t


class AllocD:
    pass


class AllocS:
    __slots__ = ("next",)


def alloc_selftest(note, free_deep):
    """Instances with the managed-dict preheader (AllocD) and with
    __slots__ (AllocS), each passed to note() and freed, by the bytecode
    loop and through the trashcan (free_deep as for selftest)."""
    for i in range(300):
        d = AllocD()
        s = AllocS()
        note(d)
        note(s)
        d.s = s
        del d, s
    deep = None
    for i in range(DEPTH):
        n = AllocS()
        n.next = deep
        note(n)
        deep = n
    holder = [deep]
    del deep, n
    free_deep(holder)


# src/frames.c's self-tests.

def _use(a, b):
    return a


def _suspended():
    x = borrowed_target
    _use(x, (yield))


# Held by this module and, while the generator is suspended, by its local x
# and (on 3.14+, LOAD_FAST_BORROW across the yield) borrowed on its stack.
borrowed_target = ["kept"]


def suspended_generator():
    """A generator suspended with a local borrowed on its value stack."""
    gen = _suspended()
    next(gen)
    return gen


def _via(probe):
    return probe(_box)


def _inner(probe):
    return (_box, _via(probe))[1]


def _outer(probe):
    held = _marker
    return _inner(probe), held


_marker = ["outer"]
_box = [_marker]


def frame_roots(probe):
    """probe(box) while box is on _inner's value stack (in no local) and
    the list box holds is a local two frames up from probe's caller: what
    probe answers."""
    return _outer(probe)[0]
