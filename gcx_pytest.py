"""pytest plugin: the tests that leave cyclic garbage behind.

Registered through the ``pytest11`` entry point and off unless asked for:

  pytest --gcx-cycles               fail every test whose call made cyclic garbage
  pytest --gcx-cycles-report        only report them, in a summary at the end
  @pytest.mark.gcx_no_cycles        fail this test if it makes cyclic garbage
                                    (with or without the option); takes
                                    no_cycles()'s keywords: classes=, ignore=
  @pytest.mark.gcx_allow_cycles     never check this test

ini options: ``gcx_cycles = fail|report`` (as the option), ``gcx_cycles_ignore``
(type names whose cycles do not count, as the report names them).

Each checked test's call runs inside a gcx.testing.CycleWatch (see
``gcx.no_cycles``): a full gcx collection before and after it, and every gcx
collection between them reported.  Setup and teardown are not checked.  A
failing test names the shapes of its cycles, with the attribute a weak
reference could replace; the summary lists every test that made cycles.
Works whether or not gcx is installed as the process's collector.

Nothing of gcx is imported until a test is checked.
"""

import pytest

_MODES = ("fail", "report")
_SECTION = "gcx cycles"
_STATE = pytest.StashKey()      # config.stash: the run's _State
_FOUND = pytest.StashKey()      # item.stash: (mode, report) of the test's call


def pytest_addoption(parser):
    group = parser.getgroup("gcx", "gcx: reference cycles made by tests")
    group.addoption(
        "--gcx-cycles", action="store_const", const="fail", default=None,
        dest="gcx_cycles",
        help="fail the tests that make cyclic garbage, naming its shapes (gcx)")
    group.addoption(
        "--gcx-cycles-report", action="store_const", const="report",
        dest="gcx_cycles",
        help="report the tests that make cyclic garbage, without failing them (gcx)")
    parser.addini("gcx_cycles", "check every test for cyclic garbage: fail or report",
                  default="")
    parser.addini("gcx_cycles_ignore", "type names whose cycles do not count",
                  type="args", default=[])


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gcx_no_cycles(classes=False, ignore=()): fail the test if its "
                   "call makes cyclic garbage (gcx)")
    config.addinivalue_line(
        "markers", "gcx_allow_cycles: do not check the test for cyclic garbage (gcx)")
    mode = config.getoption("gcx_cycles", None) or config.getini("gcx_cycles") or None
    if mode is not None and mode not in _MODES:
        raise pytest.UsageError(f"gcx_cycles must be one of {', '.join(_MODES)}, "
                                f"not {mode!r}")
    config.stash[_STATE] = _State(mode, list(config.getini("gcx_cycles_ignore")))


class _State:
    def __init__(self, mode, ignore):
        self.mode = mode
        self.ignore = ignore
        self.found = []          # (nodeid, mode, report) of tests that made cycles

    def plan(self, item):
        """(mode, keywords for CycleWatch) for this test, or None."""
        if item.get_closest_marker("gcx_allow_cycles") is not None:
            return None
        marker = item.get_closest_marker("gcx_no_cycles")
        if marker is not None:
            ignore = list(marker.kwargs.get("ignore", ())) + self.ignore
            return "fail", {"classes": marker.kwargs.get("classes", False),
                            "ignore": ignore}
        if self.mode is None:
            return None
        return self.mode, {"ignore": self.ignore}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    state = item.config.stash.get(_STATE, None)
    plan = state.plan(item) if state is not None else None
    if plan is None:
        yield
        return
    from gcx.testing import CycleWatch
    mode, keywords = plan
    watch = CycleWatch(**keywords)
    watch.start()
    try:
        yield
    finally:
        report = watch.stop()
        item.stash[_FOUND] = (mode, report)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    found = item.stash.get(_FOUND, None)
    if call.when != "call" or found is None:
        return
    del item.stash[_FOUND]
    mode, report = found
    if not report:
        return
    rep = outcome.get_result()
    text = report.text()
    item.config.stash[_STATE].found.append((item.nodeid, mode, report))
    if mode == "fail" and rep.passed and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = f"the test made cyclic garbage (gcx)\n{text}"
    else:
        rep.sections.append((_SECTION, text))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(_STATE, None)
    if state is None or (state.mode is None and not state.found):
        return
    tr = terminalreporter
    tr.section(_SECTION)
    if not state.found:
        tr.write_line("no test made cyclic garbage")
        return
    for nodeid, mode, report in state.found:
        verdict = "FAILED" if mode == "fail" else "reported"
        tr.write_line(f"{nodeid}: {verdict}: {report.summary()}")
        for shape in report.top(5):
            line = f"    {shape.groups} x {shape.path}"
            if shape.suggestion is not None:
                line += f"  [break it: {shape.suggestion['advice']}]"
            tr.write_line(line)
        if len(report.shapes) > 5:
            tr.write_line(f"    ... and {len(report.shapes) - 5} more shapes")
    tests = len(state.found)
    tr.write_line(f"{tests} test{'s' if tests != 1 else ''} made cyclic garbage")
