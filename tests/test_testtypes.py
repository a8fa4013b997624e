"""Sanity checks of the test-only types in gcx._gcxtest against the stdlib gc.

The differential tests trust these types to behave as documented, so this
file pins that behaviour down using only the stdlib collector.
"""
import gc
import sys
import weakref

import pytest

from gcx import _gcxtest as t

TYPES = [t.Box, t.NoClear, t.LegacyDel, t.Resurrector]

# Captured when pytest collects this file, before any test can gcx.install().
STDLIB_COLLECT = gc.collect


@pytest.fixture(autouse=True)
def quiet_gc():
    """Run each test with automatic collection off and zeroed counters, and
    leave no test object behind (not even in gc.garbage)."""
    assert gc.collect is STDLIB_COLLECT, "gcx is installed over the stdlib gc"
    was_enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    t.reset()
    try:
        yield
    finally:
        for obj in gc.garbage:
            if type(obj) in TYPES:
                obj.ref = None
        gc.garbage[:] = [o for o in gc.garbage if type(o) not in TYPES]
        t.reset()
        gc.collect()
        if was_enabled:
            gc.enable()


def cycle(first_type, second_type=t.Box):
    """A two-object cycle first <-> second; returns (first, second)."""
    a = first_type()
    b = second_type(a)
    a.ref = b
    return a, b


def live(tp):
    return [o for o in gc.get_objects() if type(o) is tp]


# --- the API --------------------------------------------------------------

@pytest.mark.parametrize("tp", TYPES)
def test_ref_attribute(tp):
    target = object()
    assert tp().ref is None
    assert tp(None).ref is None
    assert tp(target).ref is target
    assert tp(ref=target).ref is target
    obj = tp()
    obj.ref = target
    assert obj.ref is target
    del obj.ref
    assert obj.ref is None
    obj.__init__(target)
    assert obj.ref is target


@pytest.mark.parametrize("tp", TYPES)
def test_bad_arguments(tp):
    name = tp.__name__
    with pytest.raises(TypeError, match=rf"^{name}\(\) takes at most 1 argument"):
        tp(1, 2)
    # PyArg_ParseTupleAndKeywords words it so from 3.13 on; 3.12 said
    # "'other' is an invalid keyword argument for Box()"
    unexpected = (rf"^{name}\(\) got an unexpected keyword" if sys.version_info >= (3, 13)
                  else rf"^'other' is an invalid keyword argument for {name}\(\)")
    with pytest.raises(TypeError, match=unexpected):
        tp(other=1)
    with pytest.raises(AttributeError):
        tp().other = 1          # no __dict__


@pytest.mark.parametrize("tp", TYPES)
def test_types_are_tracked_final_and_weakrefable(tp):
    obj = tp()
    assert gc.is_tracked(obj)
    assert weakref.ref(obj)() is obj
    with pytest.raises(TypeError):
        type("Sub", (tp,), {})


@pytest.mark.parametrize("tp", TYPES)
def test_visit_count_and_referents(tp):
    target = object()
    assert t.visit_count(tp()) == 0
    assert t.visit_count(tp(target)) == 1
    assert gc.get_referents(tp()) == []
    assert gc.get_referents(tp(target)) == [target]


def test_visit_count_of_other_objects():
    assert t.visit_count([1, 2, 3]) == 3
    assert t.visit_count((1, 2)) == 2
    with pytest.raises(TypeError):
        t.visit_count(1)


def test_resurrected_is_one_list_and_reset_empties_it():
    lst = t.resurrected()
    assert lst is t.resurrected()
    lst.append(1)
    t.reset()
    assert t.resurrected() is lst
    assert lst == []
    assert t.finalize_calls() == 0
    assert t.legacy_del_calls() == 0


# --- deallocation without the collector ------------------------------------

@pytest.mark.parametrize("tp", TYPES)
def test_weakref_callback_runs_on_refcount_death(tp):
    seen = []
    obj = tp(t.Box())
    ref = weakref.ref(obj, seen.append)
    del obj
    if tp is t.Resurrector:
        assert seen == [] and ref() is t.resurrected()[0]
        t.resurrected().clear()
    assert seen == [ref]
    assert ref() is None


def test_legacy_del_runs_on_refcount_death():
    obj = t.LegacyDel()
    del obj
    assert t.legacy_del_calls() == 1


def test_resurrector_refcount_death_finalizes_once():
    obj = t.Resurrector()
    ident = id(obj)
    del obj
    assert t.finalize_calls() == 1
    assert [id(o) for o in t.resurrected()] == [ident]
    assert gc.is_finalized(t.resurrected()[0])
    t.resurrected().clear()            # now it dies for good
    assert t.finalize_calls() == 1


DEEP = 1_000_000   # overflows an 8 MiB C stack without the trashcan


@pytest.mark.parametrize("tp", [t.Box, t.NoClear, t.LegacyDel])
def test_deep_chain_is_freed_without_stack_overflow(tp):
    head = None
    for _ in range(DEEP):
        head = tp(head)
    ref = weakref.ref(head)
    del head
    assert ref() is None
    assert t.legacy_del_calls() == (DEEP if tp is t.LegacyDel else 0)


def test_deep_chain_of_finalized_resurrectors_is_freed():
    gc.collect()
    # A ring, so that the gc finalizes (and resurrects) every member at once.
    head = tail = t.Resurrector()
    for _ in range(DEEP - 1):
        head = t.Resurrector(head)
    tail.ref = head
    ids = id(head), id(tail)
    del head, tail
    assert gc.collect() == 0
    assert t.finalize_calls() == DEEP
    assert len(t.resurrected()) == DEEP
    head, tail = sorted((o for o in t.resurrected() if id(o) in ids),
                        key=lambda o: ids.index(id(o)))
    tail.ref = None                     # a chain from head to tail now
    ref = weakref.ref(tail)
    del tail
    t.resurrected().clear()
    del head                            # frees the chain in one cascade
    assert ref() is None
    assert t.finalize_calls() == DEEP
    assert t.resurrected() == []


# --- the stdlib collector ---------------------------------------------------
#
# These tests assert exact gc.collect() counts, so each starts with its own
# gc.collect(): pytest itself leaves cyclic garbage between the fixture and
# the test body.

def test_box_cycle_is_collected():
    gc.collect()
    a, b = cycle(t.Box)
    wa, wb = weakref.ref(a), weakref.ref(b)
    del a, b
    assert gc.collect() == 2
    assert wa() is None and wb() is None
    assert gc.garbage == []


def test_noclear_box_cycle_is_collected():
    gc.collect()
    a, b = cycle(t.NoClear)
    wa, wb = weakref.ref(a), weakref.ref(b)
    del a, b
    assert gc.collect() == 2
    assert wa() is None and wb() is None
    assert gc.garbage == []


def test_noclear_only_cycle_survives_collection():
    gc.collect()
    # Nothing can break it: the gc counts it as collected, clears the
    # weakrefs, and leaves both objects alive.
    a, b = cycle(t.NoClear, t.NoClear)
    wa = weakref.ref(a)
    del a, b
    assert gc.collect() == 2
    assert wa() is None
    assert gc.garbage == []
    left = live(t.NoClear)
    assert len(left) == 2
    left[0].ref = None
    del left
    assert live(t.NoClear) == []


def test_legacy_del_cycle_is_uncollectable():
    gc.collect()
    a, b = cycle(t.LegacyDel)
    wa, wb = weakref.ref(a), weakref.ref(b)
    del a, b
    assert gc.collect() == 2            # both counted, as uncollectable
    assert gc.garbage == [wa()]         # only the object with tp_del
    assert wa().ref is wb() and wb().ref is wa()    # nothing was cleared
    assert t.legacy_del_calls() == 0    # the gc never runs tp_del

    gc.garbage.clear()
    assert gc.collect() == 2            # and again on the next collection
    assert gc.garbage == [wa()]

    gc.garbage.pop().ref = None         # breaking the cycle by hand frees it
    assert wa() is None and wb() is None
    assert t.legacy_del_calls() == 1


def test_legacy_del_stats_count_uncollectable():
    gc.collect()
    before = gc.get_stats()[2]["uncollectable"]
    a, b = cycle(t.LegacyDel)
    del a, b
    gc.collect()
    assert gc.get_stats()[2]["uncollectable"] - before == 2


def test_resurrector_cycle_is_resurrected_and_finalized_once():
    gc.collect()
    a, b = cycle(t.Resurrector)
    del a, b
    assert gc.collect() == 0            # resurrected objects are not counted
    assert t.finalize_calls() == 1
    [a] = t.resurrected()
    assert type(a) is t.Resurrector
    assert gc.is_finalized(a)
    assert type(a.ref) is t.Box and a.ref.ref is a   # nothing was cleared
    del a

    assert gc.collect() == 0            # still reachable from the list
    assert t.finalize_calls() == 1

    wa = weakref.ref(t.resurrected()[0])
    t.resurrected().clear()
    assert gc.collect() == 2            # dies without a second finalize
    assert wa() is None
    assert t.finalize_calls() == 1
    assert t.resurrected() == []
    assert gc.garbage == []
