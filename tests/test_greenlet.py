"""greenlet, a real extension whose type answers tp_is_gc.

A greenlet switched away from (suspended, not finished) is alive: its C
stack holds references that no tp_traverse reports, so its tp_is_gc answers
0 and CPython's collector treats it as referenced from outside.  A collector
that ignores this collects it, throws GreenletExit into it in the middle of
a collection (a stack switch inside the collector), and kills a live task.
Each test runs with the stdlib collector and with gcx (``impl``) and checks
the same outcome; tests/test_collect_diff.py covers the rule itself with
gcx._gcxtest.Refuser.
"""
import weakref

import pytest

greenlet = pytest.importorskip("greenlet")


def suspend_in_cycles(n, killed):
    """n greenlets, each switched away from inside its body and in a
    reference cycle with a list; returns weakrefs to them (nothing else
    refers to them)."""
    def body(i):
        try:
            greenlet.getcurrent().parent.switch()
        except greenlet.GreenletExit:
            killed.append(i)
            raise

    refs = []
    for i in range(n):
        g = greenlet.greenlet(body)
        g.switch(i)
        g.cycle = [g]
        refs.append(weakref.ref(g))
    return refs


def _stdlib_keeps_suspended_greenlets():
    """Does the stdlib collector leave a suspended greenlet in a cycle
    alone, as greenlet's tp_is_gc asks?  On CPython 3.13 and 3.14 it does;
    with greenlet 3.5.6 on 3.15 the stdlib collector frees it (without
    throwing GreenletExit into it), so there the tests below have no
    premise: gcx follows the stdlib (test_finished_... and the collect_diff
    scenarios with gcx._gcxtest.Refuser still test the rule)."""
    import gc
    killed = []
    refs = suspend_in_cycles(1, killed)
    was = gc.isenabled()
    gc.disable()
    try:
        from gcx import _stdlib
        _stdlib.collect()
        kept = refs[0]() is not None
    finally:
        if was:
            gc.enable()
    finish(refs)
    return kept


def finish(refs):
    """Let every greenlet still alive run to its end."""
    for ref in refs:
        g = ref()
        if g is not None and not g.dead:
            g.cycle = None
            g.switch()


KEEPS_SUSPENDED = _stdlib_keeps_suspended_greenlets()
needs_keeping = pytest.mark.skipif(
    not KEEPS_SUSPENDED,
    reason=f"greenlet {greenlet.__version__} here: the stdlib collector itself "
           "collects suspended greenlets")


@needs_keeping
def test_suspended_greenlets_in_cycles_survive(impl):
    killed = []
    refs = suspend_in_cycles(10, killed)
    try:
        impl.collect()
        impl.collect(0)
        assert killed == []
        assert all(ref() is not None and not ref().dead for ref in refs)
    finally:
        finish(refs)
    assert killed == []
    impl.collect()
    assert all(ref() is None for ref in refs)


@needs_keeping
def test_suspended_greenlet_keeps_what_it_reaches(impl):
    # garbage cycles reachable only from a suspended greenlet are alive:
    # their finalizers must not run
    finalized = []

    class Fin:
        def __del__(self):
            finalized.append(self.name)

    def body():
        a, b = Fin(), Fin()
        a.name, b.name = "a", "b"
        a.other, b.other = b, a
        greenlet.getcurrent().held = a
        greenlet.getcurrent().parent.switch()

    g = greenlet.greenlet(body)
    g.switch()
    g.cycle = [g]
    ref = weakref.ref(g)
    del g
    try:
        impl.collect()
        assert finalized == []
        assert ref() is not None and ref().held.other.name == "b"
    finally:
        finish([ref])
        if ref() is not None:
            ref().held = None
    impl.collect()
    assert sorted(finalized) == ["a", "b"]
    assert ref() is None


def test_finished_greenlets_in_cycles_are_collected(impl):
    # a dead greenlet answers 1: it is collected like any other container
    # (the number found is the stdlib's, whichever collector runs)
    def make():
        refs = []
        for _ in range(5):
            g = greenlet.greenlet(lambda: None)
            g.switch()
            g.cycle = [g]
            refs.append(weakref.ref(g))
        return refs

    refs = make()
    found = impl.collect()
    assert all(ref() is None for ref in refs)
    assert found >= 10


@needs_keeping
def test_finalizer_in_suspended_greenlet(impl):
    # greenlet's own test_finalizer_crash: a suspended greenlet in a cycle
    # with a list, holding an object with a finalizer; collecting it would
    # switch into the greenlet in the middle of the collection
    exits = []

    class WithFinalizer:
        def __del__(self):
            pass

    parent = greenlet.getcurrent()

    def body():
        greenlet.getcurrent().object = WithFinalizer()
        try:
            parent.switch()
        except greenlet.GreenletExit:
            exits.append("exit")
        finally:
            del greenlet.getcurrent().object

    array = []
    g = greenlet.greenlet(body)
    g.array = array
    array.append(g)
    g.switch()
    ref = weakref.ref(g)
    del array, g
    try:
        impl.collect()
        assert exits == []
        assert ref() is not None and not ref().dead
    finally:
        g = ref()
        if g is not None:
            g.array = None
            g.switch()   # it runs to its end, not killed
        del g
    assert exits == []
    assert ref() is None
