"""Fixtures shared by gcx's tests.

impl           the collector under test: the stdlib ``gc`` module (id
               "stdlib") or ``gcx`` (id "gcx").  A test that takes it runs
               once with each, inside ``quiet_collectors()``.
quiet          ``quiet_collectors()`` for a test that drives both collectors
               itself (differential tests that call ``gc`` and ``gcx`` side
               by side).
run_program    ``run(name, *args, python_args=(), env=None, timeout=120)``:
               run the program file tests/programs/NAME with
               ``sys.executable -X faulthandler *python_args PATH *args`` in
               a fresh interpreter that imports the same gcx as this one, from
               the test's scratch directory (tmp_path); ``env`` entries
               override the inherited environment (a value of None removes
               the variable).  Returns the ``subprocess.CompletedProcess``
               (text output captured, never checked: assert on
               ``returncode`` yourself).  ``args`` go through str().
               Programs take their parameters from sys.argv (or the
               environment), never from code built in the test; see
               tests/programs/README.md.

STDLIB maps each public name of the stdlib ``gc`` module to its original
object, captured before any test could ``gcx.install()``; use it wherever a
test must reach the real stdlib collector whatever state gc is in.
"""
import contextlib
import gc as stdlib_gc
import os
import sys

import pytest

import gcx
import helpers

STDLIB = {name: getattr(stdlib_gc, name)
          for name in dir(stdlib_gc) if not name.startswith("_")}


def _collector_state(gc):
    return {
        "enabled": gc.isenabled(),
        "threshold": gc.get_threshold(),
        "debug": gc.get_debug(),
        "frozen": gc.get_freeze_count(),
        "garbage": list(gc.garbage),
        "callbacks": list(gc.callbacks),
    }


def _restore_collector(gc, state):
    gc.set_debug(state["debug"])
    gc.set_threshold(*state["threshold"])
    if state["frozen"] == 0 and gc.get_freeze_count():
        gc.unfreeze()
    gc.garbage[:] = state["garbage"]
    gc.callbacks[:] = state["callbacks"]
    (gc.enable if state["enabled"] else gc.disable)()


class _Stdlib:
    """The real stdlib collector, reached through STDLIB (immune to install())."""
    def __getattr__(self, name):
        return STDLIB[name]


def _drop_last_failure():
    """Let go of the last failed test's exception now.  pytest keeps it in
    sys.last_exc (and last_type, last_value, last_traceback) for post-mortem
    debugging and deletes it when the next test's body starts, after that
    test's fixtures ran: the cycles of its frames would become garbage inside
    the body, and a test counting what a collection frees would count them."""
    for name in ("last_exc", "last_type", "last_value", "last_traceback"):
        if hasattr(sys, name):
            delattr(sys, name)


@contextlib.contextmanager
def quiet_collectors():
    """Run the body with both collectors quiet, then put everything back.

    On entry: the last failed test's exception dropped, a full collection
    with each collector, then both automatic collectors disabled.  On exit: each collector's enabled state,
    thresholds, debug flags, garbage and callbacks contents as they were
    (and an unfreeze if the body froze anything); the stdlib gc module's
    attributes as they were.  A body that leaves gcx installed is an error:
    the fixture uninstalls it and fails the test.
    """
    stdlib = _Stdlib()
    saved = {"stdlib": _collector_state(stdlib), "gcx": _collector_state(gcx)}
    module_attrs = dict(vars(stdlib_gc))
    _drop_last_failure()
    stdlib.collect()
    gcx.collect()
    stdlib.disable()
    gcx.disable()
    try:
        yield
    finally:
        problems = []
        if gcx.is_installed():
            gcx.uninstall()
            problems.append("the test left gcx installed")
        changed = sorted(name for name, value in vars(stdlib_gc).items()
                         if module_attrs.get(name, object()) is not value)
        if changed:
            problems.append(f"the test left gc attributes changed: {changed}")
            for name in changed:
                setattr(stdlib_gc, name, module_attrs[name])
        _restore_collector(gcx, saved["gcx"])
        _restore_collector(stdlib, saved["stdlib"])
        if problems:
            pytest.fail("; ".join(problems))


@pytest.fixture(params=[stdlib_gc, gcx], ids=["stdlib", "gcx"])
def impl(request):
    with quiet_collectors():
        yield request.param


@pytest.fixture(scope="module")
def frozen_heap():
    """With GCX_TEST_FROZEN=1, the test process's own heap (pytest, the
    modules imported, what earlier tests kept) is frozen under both
    collectors while a module of differential scenarios runs
    (test_collect_diff, test_random_graphs), so that the dozen full
    collections of each test examine what its scenario made, not that heap
    as well: half those modules' time, nine tenths of the random graphs'.
    CI runs them so on the interpreters besides the README's, whose run
    collects the whole heap each time."""
    if os.environ.get("GCX_TEST_FROZEN") != "1":
        yield
        return
    stdlib_gc.collect()
    gcx.collect()
    stdlib_gc.freeze()
    gcx.freeze()
    yield
    gcx.unfreeze()
    stdlib_gc.unfreeze()


@pytest.fixture
def quiet():
    with quiet_collectors():
        yield


@pytest.fixture
def run_program(tmp_path):
    def run(name, *args, python_args=(), env=None, timeout=120):
        return helpers.run_program(name, *args, python_args=python_args, env=env,
                                   cwd=tmp_path, timeout=timeout)
    return run


def pytest_collection_modifyitems(config, items):
    # every test that starts a fresh interpreter is a subprocess test
    for item in items:
        if "run_program" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.subprocess)


def pytest_report_header(config):
    # Which gcx the tests import: the installed one (run the `pytest` script
    # of the environment gcx is installed in; `python -m pytest` in the
    # checkout's root finds the source tree's gcx/ first, which then loads
    # the installed core, see gcx/__init__.py).
    return (f"gcx {gcx.__version__} from {os.path.dirname(os.path.abspath(gcx.__file__))}, "
            f"core {gcx._gcx.__file__}, {gcx.mode()} mode")
