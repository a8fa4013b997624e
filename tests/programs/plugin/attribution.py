"""Tests for where the plugin attributes garbage (tests/test_plugin.py).

Run as ``pytest --gcx-cycles-report -v -p no:randomly attribution.py`` (or
--gcx-cycles) from a scratch directory holding a copy of this file; tests
run in file order.  Each kind of leak, with the attribution the summary
must show:

  test_1_clean, test_2_leaks       only test_2_leaks (Second.me -> Second)
  test_3_setup_leak                its setup: the fixture makes and drops a
                                   cycle (SetupJunk.me -> SetupJunk)
  test_4_teardown_leak             its teardown: the fixture makes and drops
                                   a cycle after the yield (TeardownJunk)
  test_5_fixture_value             its teardown: the fixture's value is a
                                   cycle, dropped when the fixture ends
                                   (FixtureValue.me -> FixtureValue)
  test_6_promoted_young, test_7_promoted_full
                                   the call makes a cycle, runs gcx.collect(0)
                                   (resp. gcx.collect(1)) while it is alive,
                                   then drops it: still the call's (Promoted0,
                                   Promoted1)
  test_8_keeps, test_9_drops       test_8_keeps stores a cycle in a global
                                   that test_9_drops drops: older objects,
                                   which the next full collection finds (the
                                   one before test_10_marked_old's call), as
                                   made by one of the tests since the
                                   previous one (Kept.me -> Kept)
  test_10_marked_old               marked gcx_no_cycles: drops a cycle made
                                   at import, which its full collections
                                   find (ImportTime.me -> ImportTime); fails
  test_11_module_a, test_12_module_b
                                   use a module-scoped fixture whose value,
                                   a cycle, is dropped at the module's end:
                                   older objects, found by the sweep after
                                   test_12_module_b's teardown (ModuleValue)
"""
import gcx
import pytest


class Second:
    def __init__(self):
        self.me = self


class SetupJunk(Second):
    pass


class TeardownJunk(Second):
    pass


class FixtureValue(Second):
    pass


class Kept(Second):
    pass


class Promoted0(Second):
    pass


class Promoted1(Second):
    pass


class ImportTime(Second):
    pass


class ModuleValue(Second):
    pass


KEPT = []
AT_IMPORT = [ImportTime()]


def test_1_clean():
    assert [[i] for i in range(100)]


def test_2_leaks():
    Second()


@pytest.fixture
def setup_junk():
    SetupJunk()
    yield 1


def test_3_setup_leak(setup_junk):
    assert setup_junk == 1


@pytest.fixture
def teardown_junk():
    yield 1
    TeardownJunk()


def test_4_teardown_leak(teardown_junk):
    assert teardown_junk == 1


@pytest.fixture
def fixture_value():
    return FixtureValue()


def test_5_fixture_value(fixture_value):
    assert fixture_value.me is fixture_value


def test_6_promoted_young():
    x = Promoted0()
    gcx.collect(0)
    del x


def test_7_promoted_full():
    x = Promoted1()
    gcx.collect(1)
    del x


def test_8_keeps():
    KEPT.append(Kept())


def test_9_drops():
    KEPT.clear()


@pytest.mark.gcx_no_cycles
def test_10_marked_old():
    AT_IMPORT.clear()


@pytest.fixture(scope="module")
def module_value():
    return ModuleValue()


def test_11_module_a(module_value):
    assert module_value.me is module_value


def test_12_module_b(module_value):
    assert module_value.me is module_value
