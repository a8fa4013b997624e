"""_gcx.collect_unpromoted(generation): a collection of generations
0..generation whose survivors stay in ``generation`` (the pytest plugin's
SpanWatch ends each phase of a test with one over generations 0 and 1).

It must collect exactly what collect(generation) collects, leave the
survivors where it says, and keep the table's invariants (_gcx.check())."""
import pytest

import gcx
from gcx import _gcx


class Node:
    pass


def cycle(cls=Node):
    a, b = cls(), cls()
    a.other, b.other = b, a
    return a


def generation_of(obj):
    for generation in range(3):
        if any(o is obj for o in _gcx.get_objects(generation)):
            return generation
    return None


def test_survivors_stay_in_generation_1(quiet):
    gcx.collect()
    kept = cycle()
    assert generation_of(kept) == 0
    assert _gcx.collect_unpromoted(1) == 0
    assert generation_of(kept) == 1 and generation_of(kept.other) == 1
    assert _gcx.collect_unpromoted(1) == 0
    assert generation_of(kept) == 1
    _gcx.check()
    # an ordinary collection of generation 1 promotes them
    assert _gcx.collect(1) == 0
    assert generation_of(kept) == 2
    _gcx.check()


def test_generation_0_keeps_its_survivors(quiet):
    gcx.collect()
    kept = cycle()
    assert _gcx.collect_unpromoted(0) == 0
    assert generation_of(kept) == 0
    assert _gcx.collect(0) == 0
    assert generation_of(kept) == 1
    _gcx.check()


def test_finds_garbage_of_objects_it_examined_before(quiet):
    # what a previous unpromoted collection saw alive and later died is
    # found by the next: each phase's garbage is the phase's
    gcx.collect()
    first = cycle()
    assert _gcx.collect_unpromoted(1) == 0
    second = cycle()
    first.other.link = second           # a cycle across the two phases' objects
    assert _gcx.collect_unpromoted(1) == 0
    del first, second
    assert _gcx.collect_unpromoted(1) == 4
    _gcx.check()
    # the same after an ordinary young collection promoted some of them
    third = cycle()
    assert _gcx.collect(0) == 0
    assert generation_of(third) == 1
    del third
    assert _gcx.collect_unpromoted(1) == 2
    _gcx.check()


def test_collects_what_collect_collects(quiet):
    # the same program, collected by collect(1) and by collect_unpromoted(1):
    # the same count, and nothing left for a full collection after either
    counts = []
    for collect in (_gcx.collect, _gcx.collect_unpromoted):
        gcx.collect()
        # what every full collection finds again (an earlier test's generator
        # that ignored GeneratorExit stays garbage that cannot be freed, under
        # the stdlib's collector too)
        again = gcx.collect()
        live = [cycle() for _ in range(50)]
        for _ in range(30):
            cycle()
        assert _gcx.collect(0) == 60     # some garbage promoted to 1 first...
        live = live[:20]
        for _ in range(10):
            cycle()
        counts.append(collect(1))
        counts.append(gcx.collect() - again)
        del live
    assert counts == [80, 0, 80, 0]


def test_counted_as_a_collection_of_its_generation(quiet):
    before = [s["collections"] for s in _gcx.get_stats()]
    _gcx.collect_unpromoted(1)
    after = [s["collections"] for s in _gcx.get_stats()]
    assert [a - b for a, b in zip(after, before)] == [0, 1, 0]


@pytest.mark.parametrize("bad, error", [(3, ValueError), (-1, ValueError),
                                        (2**40, OverflowError), ("1", TypeError),
                                        (1.0, TypeError)])
def test_bad_generation(bad, error):
    with pytest.raises(error) as info:
        _gcx.collect_unpromoted(bad)
    with pytest.raises(error) as reference:
        _gcx.collect(bad)
    assert str(info.value) == str(reference.value)
