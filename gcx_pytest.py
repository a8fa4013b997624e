"""pytest plugin: the tests that leave cyclic garbage behind.

Registered through the ``pytest11`` entry point and off unless asked for:

  pytest --gcx-cycles               fail every test whose call made cyclic garbage
  pytest --gcx-cycles-report        only report them, in a summary at the end
                                    (of the two options, the last given wins,
                                    so a command line overrides addopts)
  @pytest.mark.gcx_no_cycles        fail this test if its call makes cyclic
                                    garbage (with or without the option),
                                    checked by full collections; takes
                                    no_cycles()'s keywords: classes=, ignore=
                                    (other arguments: the test's setup fails,
                                    saying why)
  @pytest.mark.gcx_allow_cycles     never report this test

ini options: ``gcx_cycles = fail|report`` (as the option), ``gcx_cycles_ignore``
(type names whose cycles do not count, as the report names them).

With either option every phase of every test (setup, call, teardown) is a
span of a gcx.testing.SpanWatch: a young gcx collection of the objects the
test made ends it, and the cyclic garbage found is what died in that phase
(the teardown's span ends after pytest drops the test's fixture values).
Garbage made of older objects (a module-scoped fixture's, a cache filled by an earlier test) is
found by a full collection ("sweep"), run after the last test of a test
file in which a fixture of a wider scope than the function was finalized
(a module-scoped fixture's value dies then), once the old generation has
grown by a quarter (gcx's own rule for full collections), and after the
last test; it is reported against the test after which it was found, as
made by one of the tests since the previous sweep.  Only the call's garbage
fails a test (``--gcx-cycles``); the setup's and teardown's are reported.
The summary rolls the findings up by shape: one entry per shape with the
number of tests and a few test ids (all of them with ``-v``).

Without the options, only tests marked gcx_no_cycles are checked, each
call between two full collections (gcx.testing.CycleWatch).

Works whether or not gcx is installed as the process's collector (when it
is not, the stdlib collector's automatic collection is paused while tests
run, so that it cannot collect their garbage unseen).  Nothing of gcx is
imported until a test is checked.

PYTEST_DONT_REWRITE: pytest marks this module for assertion rewriting (a
pytest11 plugin's) and warns, an error under ``filterwarnings = error``,
when it was imported before pytest started (by a program that then runs
pytest.main()); this line in the docstring tells it not to.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from gcx.report import CycleReport, Shape
    from gcx.testing import SpanWatch

_MODES = ("fail", "report")
_SECTION = "gcx cycles"
_SHOWN = 3        # test ids shown per shape in the summary (-v: all)
_WIDER_SCOPES = ("class", "module", "package", "session")


@dataclass
class _Finding:
    """Cyclic garbage found at the end of one phase of one test."""
    nodeid: str
    phase: str                 # "setup", "call", "teardown", or "older"
    failed: bool               # the test is failed for it
    report: CycleReport
    since: str | None = None   # "older": the first test since the previous sweep
    function: str | None = None   # the test function's code's qualified name

    def label(self) -> str:
        if self.phase == "call":
            return self.nodeid
        if self.phase == "older":
            return (f"{self.nodeid} (older objects, found by a full collection there: "
                    f"made by one of the tests from {self.since})")
        return f"{self.nodeid} ({self.phase})"


@dataclass
class _Plan:
    """How one test is checked."""
    allowed: bool                       # gcx_allow_cycles: never reported
    exact: bool                         # gcx_no_cycles: full collections, fails
    classes: bool = False
    ignore: tuple[str, ...] = ()
    error: str | None = None            # a marker's bad arguments: the test's setup fails


_NO_CYCLES_KEYWORDS = ("classes", "ignore")


def _no_cycles_arguments(marker: pytest.Mark) -> tuple[bool, tuple[str, ...]]:
    """classes= and ignore= of a gcx_no_cycles marker, checked as
    gcx.no_cycles() checks them (TypeError, ValueError)."""
    if marker.args:
        raise TypeError("takes keyword arguments only (classes=, ignore=), not "
                        + ", ".join(map(repr, marker.args)))
    unknown = [key for key in marker.kwargs if key not in _NO_CYCLES_KEYWORDS]
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r} "
                        "(it takes classes= and ignore=)")
    from gcx.testing import _flag, _type_names
    return (_flag("classes", marker.kwargs.get("classes", False)),
            _type_names(marker.kwargs.get("ignore", ())))


@dataclass
class _State:
    mode: str | None
    ignore: tuple[str, ...]
    found: list[_Finding] = field(default_factory=list)
    watch: SpanWatch | None = None
    wider_finalized: bool = False       # a class/module/... fixture was torn down
                                        # (since the last sweep)
    since: str | None = None            # first test since the last sweep
    last: str | None = None             # the last test that ran
    young: int = 0                      # collections the watch ran
    full: int = 0
    seconds: float = 0.0                # spent in them (with their analysis)

    def plan(self, item: pytest.Item) -> _Plan | None:
        """None when the test is not checked at all."""
        allow = item.get_closest_marker("gcx_allow_cycles")
        if allow is not None:
            if allow.args or allow.kwargs:
                return _Plan(allowed=True, exact=False,
                             error="@pytest.mark.gcx_allow_cycles takes no arguments")
            return _Plan(allowed=True, exact=False)
        marker = item.get_closest_marker("gcx_no_cycles")
        if marker is not None:
            try:
                classes, names = _no_cycles_arguments(marker)
            except (TypeError, ValueError) as exc:
                return _Plan(allowed=False, exact=False, ignore=self.ignore,
                             error=f"@pytest.mark.gcx_no_cycles: {exc}")
            return _Plan(allowed=False, exact=True, classes=classes,
                         ignore=names + self.ignore)
        if self.mode is None:
            return None
        return _Plan(allowed=False, exact=False, ignore=self.ignore)

    def add(self, item: pytest.Item, finding: _Finding) -> None:
        finding.function = _function_name(item)
        self.found.append(finding)
        item.stash.setdefault(_FOUND, {})[finding.phase] = finding


def _function_name(item: pytest.Item) -> str | None:
    """The qualified name of the test function's code, as its frames are
    named in the report (frame test_x), or None."""
    func = getattr(item, "obj", None)
    try:
        code = inspect.unwrap(func).__code__ if func is not None else None
    except Exception:
        return None
    name = getattr(code, "co_qualname", None)
    return name if isinstance(name, str) else None


def _generic(path: str, function: str | None) -> str:
    """The shape's name with the test's own frame as "frame (the test)", so
    that tests leaking through their own frames roll up into one entry (a
    nested function's frame, "frame test_x.<locals>.f", keeps its name)."""
    if function is None:
        return path
    return re.sub(r"frame " + re.escape(function) + r"(?=\.(?!<locals>)|\s|$)",
                  "frame (the test)", path)


_STATE = pytest.StashKey[_State]()                   # config.stash
_PLAN = pytest.StashKey[_Plan]()                     # item.stash
_FOUND = pytest.StashKey[dict[str, _Finding]]()      # item.stash, by phase


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gcx", "gcx: reference cycles made by tests")
    group.addoption(
        "--gcx-cycles", action="store_const", const="fail", default=None,
        dest="gcx_cycles",
        help="fail the tests that make cyclic garbage, naming its shapes (gcx; of "
             "--gcx-cycles and --gcx-cycles-report, the last given wins)")
    group.addoption(
        "--gcx-cycles-report", action="store_const", const="report",
        dest="gcx_cycles",
        help="report the tests that make cyclic garbage, without failing them (gcx; "
             "of --gcx-cycles and --gcx-cycles-report, the last given wins)")
    parser.addini("gcx_cycles", "check every test for cyclic garbage: fail or report",
                  default="")
    parser.addini("gcx_cycles_ignore", "type names whose cycles do not count",
                  type="args", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "gcx_no_cycles(classes=False, ignore=()): fail the test if its "
                   "call makes cyclic garbage (gcx)")
    config.addinivalue_line(
        "markers", "gcx_allow_cycles: do not report the test's cyclic garbage (gcx)")
    mode = config.getoption("gcx_cycles", None) or config.getini("gcx_cycles") or None
    if mode is not None and mode not in _MODES:
        raise pytest.UsageError(f"gcx_cycles must be one of {', '.join(_MODES)}, "
                                f"not {mode!r}")
    ignore: list[str] = config.getini("gcx_cycles_ignore")
    config.stash[_STATE] = _State(mode, tuple(ignore))


@contextlib.contextmanager
def _timed(state: _State) -> Iterator[None]:
    """Add the time a collection of the watch's took (with its analysis)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        state.seconds += time.perf_counter() - start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, None, None]:
    state = session.config.stash.get(_STATE, None)
    if state is None or state.mode is None or session.config.option.collectonly:
        yield
        return
    from gcx.testing import SpanWatch
    watch = state.watch = SpanWatch(ignore=state.ignore)
    with _timed(state):
        watch.start()
    try:
        yield
    finally:
        try:
            if state.last is not None:
                _sweep(state, state.last)
        finally:
            state.watch = None
            with _timed(state):
                watch.stop()
            state.young, state.full = watch.young, watch.full


def _sweep(state: _State, nodeid: str, within_test: bool = False) -> None:
    """A full collection after the test nodeid's teardown (or its setup,
    within_test): the garbage of older objects, made since the previous
    sweep."""
    watch = state.watch
    if watch is None:
        return
    with _timed(state):
        report = watch.sweep(within_unit=within_test)
    if report:
        state.found.append(_Finding(nodeid, "older", False, report, since=state.since))
    state.since = None


def pytest_fixture_post_finalizer(fixturedef: pytest.FixtureDef[Any],
                                  request: pytest.FixtureRequest) -> None:
    state = request.config.stash.get(_STATE, None)
    if state is not None and fixturedef.scope in _WIDER_SCOPES:
        state.wider_finalized = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, None, None]:
    """The test's end: after its teardown, and after pytest dropped its
    fixture values (item.funcargs), which is when a fixture's value dies."""
    state = item.config.stash.get(_STATE, None)
    if state is None:
        yield
        return
    plan = state.plan(item)
    if plan is not None:
        item.stash[_PLAN] = plan
    state.last = item.nodeid
    if state.since is None:
        state.since = item.nodeid
    try:
        yield
    finally:
        watch = state.watch
        if watch is not None:
            _boundary(state, item, "teardown", plan, end_of_test=True)
            # (after the last test, pytest_runtestloop sweeps)
            module_ends = nextitem is not None and nextitem.path != item.path
            if (state.wider_finalized and module_ends) or watch.sweep_due():
                state.wider_finalized = False
                _sweep(state, item.nodeid)


def _boundary(state: _State, item: pytest.Item, phase: str, plan: _Plan | None,
              end_of_test: bool = False, exact: bool = False) -> None:
    """End the span of the test's phase: what it found is the phase's."""
    watch = state.watch
    assert watch is not None
    if exact and plan is not None:
        classes, ignore = plan.classes, plan.ignore
    else:
        classes, ignore = False, state.ignore
    with _timed(state):
        report = watch.boundary(end_of_unit=end_of_test, full=exact,
                                classes=classes, ignore=ignore)
    if report and plan is not None and not plan.allowed:
        failed = phase == "call" and (exact or state.mode == "fail")
        state.add(item, _Finding(item.nodeid, phase, failed, report))


def _phase(item: pytest.Item, phase: str) -> Generator[None, None, None]:
    """The body of the setup and call wrappers."""
    state = item.config.stash.get(_STATE, None)
    plan = item.stash.get(_PLAN, None)
    if phase == "setup" and plan is not None and plan.error is not None:
        # the test's setup fails (an error of this test alone, as pytest's
        # own markers given bad arguments): the test does not run
        pytest.fail(plan.error, pytrace=False)
    if state is None:
        yield
        return
    watch = state.watch
    if watch is None:
        # No span watch (no option): a marked test's call between full collections.
        if phase != "call" or plan is None or not plan.exact:
            yield
            return
        from gcx.testing import CycleWatch
        marked = CycleWatch(classes=plan.classes, ignore=plan.ignore)
        marked.start()
        try:
            yield
        finally:
            report = marked.stop()
            if report:
                state.add(item, _Finding(item.nodeid, phase, True, report))
        return
    exact = plan is not None and plan.exact and phase == "call"
    if exact:
        # the call must begin after a full collection for its own full one
        # to find only its garbage
        _sweep(state, item.nodeid, within_test=True)
        state.since = item.nodeid
    try:
        yield
    finally:
        _boundary(state, item, phase, plan, exact=exact)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    yield from _phase(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield from _phase(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    state = item.config.stash.get(_STATE, None)
    if call.when == "call" and call.excinfo is not None and state is not None \
            and state.watch is not None:
        # What pytest's reporting of the failure made (ExceptionInfo's
        # closures, ...) is pytest's, not the test's teardown's.
        with _timed(state):
            state.watch.boundary()
    findings = item.stash.get(_FOUND, None)
    finding = findings.pop(call.when, None) if findings is not None else None
    if finding is None:
        return
    rep: pytest.TestReport = outcome.get_result()
    if finding.failed and rep.passed and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = f"the test made cyclic garbage (gcx)\n{finding.report.text()}"
    elif not rep.passed:
        # shown with the failure; a passing test's is in the summary alone
        rep.sections.append((f"{_SECTION} ({call.when})", finding.report.text()))


# ------------------------------------------------------------------------------
# The summary: one entry per shape.

@dataclass
class _Entry:
    """One shape (or the stdlib's garbage of unknown shape) over the run."""
    shape: Shape | None
    name: str = ""              # the shape's name, the test's frame generic
    function: str | None = None     # the first test's function (see _generic)
    labels: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    tests: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    groups: int = 0
    objects: int = 0

    def add(self, finding: _Finding, groups: int, objects: int) -> None:
        label = finding.label()
        if label not in self._seen:
            self._seen.add(label)
            self.labels.append(label)
        self.tests.add(finding.nodeid)
        if finding.failed:
            self.failed.add(finding.nodeid)
        self.groups += groups
        self.objects += objects


def _roll_up(found: Iterable[_Finding]) -> list[_Entry]:
    """One entry per shape, by its name (its example path: shapes whose
    keys differ only in edges off that path read the same, and are one
    entry), the stdlib's unknown shapes last; most tests first."""
    by_name: dict[str, _Entry] = {}
    unknown = _Entry(None)
    for finding in found:
        for shape in finding.report.shapes.values():
            name = _generic(shape.name, finding.function)
            entry = by_name.get(name)
            if entry is None:
                entry = by_name[name] = _Entry(shape, name, finding.function)
            entry.add(finding, shape.groups, shape.objects)
        if finding.report.stdlib_collected:
            unknown.add(finding, 0, finding.report.stdlib_collected)
    entries = sorted(by_name.values(), key=lambda e: (-len(e.tests), -e.groups, e.name))
    if unknown.tests:
        entries.append(unknown)
    return entries


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _entry_lines(rank: int, entry: _Entry, verbose: bool) -> list[str]:
    tests = _plural(len(entry.tests), "test")
    if entry.failed:
        tests += f" ({len(entry.failed)} failed for it)"
    shape = entry.shape
    if shape is None:
        lines = [f"#{rank}  {tests}: the stdlib collector collected {entry.objects} "
                 "objects (an explicit gc.collect(); shapes unknown: install gcx, "
                 "e.g. gcx.install() in conftest.py, to see them)"]
    else:
        lines = [f"#{rank}  {tests}: {_plural(entry.groups, 'cycle')}, "
                 f"{entry.objects} objects",
                 f"    {entry.name}"]
        if shape.suggestion is not None:
            advice = _generic(shape.suggestion["advice"], entry.function)
            lines.append(f"    break it: {advice}")
        if shape.hint:
            lines.append(f"    note: {_generic(shape.hint, entry.function)}")
    if verbose or len(entry.labels) <= _SHOWN:
        lines.extend(f"    {label}" for label in entry.labels)
    else:
        lines.extend(f"    {label}" for label in entry.labels[:_SHOWN])
        lines.append(f"    ... and {len(entry.labels) - _SHOWN} more (-v lists them)")
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or (state.mode is None and not state.found):
        return
    tr = terminalreporter
    tr.section(_SECTION)
    if state.mode is not None:
        tr.write_line(f"checked by {state.young} young and {state.full} full gcx "
                      f"collections: {state.seconds:.2f} s with their analysis")
    if not state.found:
        tr.write_line("no test made cyclic garbage")
        return
    verbose = config.get_verbosity() > 0
    entries = _roll_up(state.found)
    for rank, entry in enumerate(entries, 1):
        for line in _entry_lines(rank, entry, verbose):
            tr.write_line(line)
    errors = sorted({e for f in state.found for e in f.report.errors})
    for error in errors[:5]:
        tr.write_line(f"error while analysing: {error}")
    tests = {f.nodeid for f in state.found if f.phase != "older"}
    shapes = sum(1 for e in entries if e.shape is not None)
    line = f"{_plural(len(tests), 'test')} made cyclic garbage, of {_plural(shapes, 'shape')}"
    older = sum(1 for f in state.found if f.phase == "older")
    if older:
        line += f"; {_plural(older, 'full collection')} found garbage of older objects"
    tr.write_line(line)
