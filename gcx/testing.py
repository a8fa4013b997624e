"""Catching reference cycles in tests.

    with gcx.no_cycles():
        ...                      # AssertionError (CyclesFound) if this made cyclic garbage

    @gcx.no_cycles()
    def test_something(): ...

The block runs between two full gcx collections: the first (not reported)
clears whatever garbage existed before, the last finds what the block left
behind.  Every gcx collection in between is reported too, so garbage that
gcx's automatic collection (while gcx is installed) collected inside the
block counts.  It works whether or not gcx is installed as the process's
collector: when it is not, the stdlib collector's automatic collection is
paused for the block (so it cannot collect the block's garbage unseen), and
explicit stdlib ``gc.collect()`` calls inside the block are counted through
the stdlib's callbacks (their garbage counts, but its shape is unknown).

Other threads' garbage made while the block runs counts as the block's.

SpanWatch is the cheap watch of a long run cut into spans (the pytest
plugin's: each phase of each test is a span): a young collection ends each
span instead of two full ones around it, so its cost follows what a span
leaves alive, not the size of the heap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Literal, ParamSpec, TypeVar

from . import _gcx, _stdlib
from .report import CycleReport, Shape, record_cycles

__all__ = ["no_cycles", "CyclesFound", "CycleWatch", "SpanWatch"]

# The stdlib collector's own functions come from gcx._stdlib: gcx.install()
# points the gc module's attributes at gcx's.

_P = ParamSpec("_P")
_R = TypeVar("_R")

_FULL = 2     # the oldest generation: collecting it is a full collection


class CyclesFound(AssertionError):
    """Raised by no_cycles(): the block made cyclic garbage.  ``report`` is
    the CycleReport; the message is its text."""

    def __init__(self, report: CycleReport, message: str | None = None) -> None:
        super().__init__(message or report.text())
        self.report = report


def _is_class_shape(shape: Shape) -> bool:
    return any(edge[0].startswith("class ") or edge[2].startswith("class ")
               for edge in shape.edges)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def _type_names(ignore: str | Iterable[str]) -> tuple[str, ...]:
    """``ignore`` as a tuple of type names: one string is one name (not its
    characters); anything else must be an iterable of strings."""
    if isinstance(ignore, str):
        return (ignore,)
    try:
        names = tuple(ignore)
    except TypeError:
        raise TypeError(f"ignore must be a type name or an iterable of type names, "
                        f"not {type(ignore).__name__}") from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"ignore must hold type names (str), not "
                            f"{type(name).__name__}: {name!r}")
    return names


def _leave_out(report: CycleReport, classes: bool, ignore: tuple[str, ...]) -> CycleReport:
    """Take out of ``report`` the shapes that do not count (classes unless
    ``classes``, and shapes with a type named in ``ignore``), counting their
    groups in ``report.ignored``; returns the report."""
    def counts(shape: Shape) -> bool:
        if not classes and _is_class_shape(shape):
            return False
        return not any(name in (edge[0], edge[2])
                       for name in ignore for edge in shape.edges)

    for key in [key for key, shape in report.shapes.items() if not counts(shape)]:
        shape = report.shapes.pop(key)
        report.groups -= shape.groups
        report.in_cycles -= shape.objects
        report.objects -= shape.objects + shape.held
        report.uncollectable -= shape.uncollectable
        report.ignored += shape.groups
    return report


class _StdlibPause:
    """While gcx is not the process's collector, the stdlib collector could
    collect a watched block's garbage unseen: pause its automatic collection
    and count what explicit stdlib collections collect into ``report``."""

    def __init__(self) -> None:
        self.report: CycleReport | None = None
        self._was_enabled: bool | None = None

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and self.report is not None:
            self.report.stdlib_collected += info.get("collected", 0) + \
                info.get("uncollectable", 0)

    def start(self) -> None:
        import gcx
        if gcx.is_installed():
            self._was_enabled = None
            return
        self._was_enabled = _stdlib.isenabled()
        _stdlib.disable()
        _stdlib.callbacks.append(self._callback)

    def keep_paused(self) -> None:
        """Pause it again if code in the block enabled it."""
        if self._was_enabled is not None and _stdlib.isenabled():
            _stdlib.disable()

    def stop(self) -> None:
        if self._was_enabled is None:
            return
        try:
            _stdlib.callbacks.remove(self._callback)
        except ValueError:
            pass
        if self._was_enabled:
            _stdlib.enable()
        self._was_enabled = None


class CycleWatch:
    """The machinery of no_cycles(): start(), run the code, stop() -> the
    CycleReport of the cyclic garbage it made.

    classes   count classes created and dropped inside the block (every class
              is in a cycle with its own __mro__; off by default, so a test
              may define a local class)
    ignore    type names (as the report shows them, e.g. "Node" or
              "frame test_x") whose groups do not count
    """

    def __init__(self, classes: bool = False, ignore: str | Iterable[str] = ()) -> None:
        self.classes = _flag("classes", classes)
        self.ignore = _type_names(ignore)
        self.report: CycleReport | None = None
        self._recording: record_cycles | None = None
        self._pause = _StdlibPause()

    def start(self) -> CycleReport:
        if self._recording is not None:
            raise RuntimeError("this CycleWatch is already running")
        # Garbage from before the block is not the block's.
        _gcx.collect(_FULL)
        self._recording = record_cycles()
        self.report = self._pause.report = self._recording.__enter__()
        self._pause.start()
        return self.report

    def stop(self) -> CycleReport:
        """End the watch; returns the report of what counts (see counts())."""
        if self._recording is None:
            raise RuntimeError("this CycleWatch is not running")
        recording, self._recording = self._recording, None
        try:
            _gcx.collect(_FULL)
        finally:
            recording.__exit__(None, None, None)
            self._pause.stop()
        return self.counts()

    def counts(self) -> CycleReport:
        """Leave out of the report the shapes that do not count (classes
        unless ``classes``, and the types in ``ignore``), counting their
        groups in ``report.ignored``; returns the report."""
        if self.report is None:
            raise RuntimeError("this CycleWatch never ran")
        return _leave_out(self.report, self.classes, self.ignore)


class SpanWatch:
    """Cyclic garbage of consecutive spans of a long run, at the cost of a
    young collection per span (the pytest plugin's watch: the spans are the
    phases of a test, the units the tests)::

        watch = SpanWatch()
        watch.start()                      # a full collection: older garbage is nobody's
        ...                                # span 1 (setup)
        report = watch.boundary()          # span 1's garbage; span 2 begins
        ...                                # span 2 (call)
        report = watch.boundary()
        ...                                # span 3 (teardown)
        report = watch.boundary(end_of_unit=True)
        old = watch.sweep()                # a full collection: older objects' garbage
        watch.stop()

    A boundary collects generations 0 and 1, which hold every object the
    unit created (gcx's records are made in generation 0): its survivors stay
    in generation 1 (_gcx.collect_unpromoted), except at the end of a unit,
    where they move on to generation 2.  So each boundary examines exactly
    the objects made since the unit began, and the garbage it finds is what
    died in the span that ends: made garbage by it.  It returns a new
    CycleReport of that, and of what every other gcx collection in the span
    found.  Its cost follows what the unit keeps alive, not the heap.  When
    a collection of generation 1 or 2 ran in the unit (gcx's automatic
    collection while gcx is installed, an explicit collect()), the unit's
    objects may have moved to generation 2: its later boundaries are full
    collections.

    What these collections cannot see: objects older than the unit (a
    module-scoped fixture, a cache filled by an earlier test) that became
    garbage.  sweep(), a full collection, finds them; run right after a
    boundary, all it finds is such garbage, made at some point since the
    previous sweep.  sweep_due() applies gcx's own rule for full
    collections: the old generation has received a quarter of its size
    (LONG_LIVED_RATIO) since the last full collection.

    boundary(full=True) ends a span with a full collection: right after a
    sweep, that finds exactly the garbage the span made, older objects
    included (no_cycles()'s guarantee, for one span).

    classes, ignore: as CycleWatch, for every report (boundary() may
    override them for one).  Until stop(), the stdlib collector's automatic
    collection is paused unless gcx is installed, as in no_cycles().
    young, full: how many collections of each kind the watch ran.
    """

    def __init__(self, classes: bool = False, ignore: str | Iterable[str] = ()) -> None:
        self.classes = _flag("classes", classes)
        self.ignore = _type_names(ignore)
        self.young = self.full = 0
        self._recording: record_cycles | None = None
        self._pause = _StdlibPause()
        self._collections: list[int] = []     # per generation, after our last one
        self._unit_in_old = False             # the unit's objects may be in generation 2

    @property
    def running(self) -> bool:
        return self._recording is not None

    def start(self) -> None:
        if self._recording is not None:
            raise RuntimeError("this SpanWatch is already running")
        _gcx.collect(_FULL)
        self.full += 1
        self._begin()
        self._pause.start()

    def _begin(self) -> None:
        """A new span: a new report, fed by every gcx collection from now."""
        self._recording = record_cycles()
        self._pause.report = self._recording.__enter__()
        self._collections = [s["collections"] for s in _gcx.get_stats()]

    def boundary(self, end_of_unit: bool = False, full: bool = False, *,
                 classes: bool | None = None,
                 ignore: str | Iterable[str] | None = None) -> CycleReport:
        """End the current span and begin the next; the report of the span's
        cyclic garbage (classes, ignore: for this report, instead of the
        watch's)."""
        if classes is not None:
            _flag("classes", classes)
        recording = self._recording
        if recording is None:
            raise RuntimeError("this SpanWatch is not running")
        stats = _gcx.get_stats()
        if stats[1]["collections"] != self._collections[1] or \
                stats[2]["collections"] != self._collections[2]:
            self._unit_in_old = True
        full = full or self._unit_in_old
        try:
            if full:
                self.full += 1
                _gcx.collect(_FULL)
            elif end_of_unit:
                self.young += 1
                _gcx.collect(1)
            else:
                self.young += 1
                _gcx.collect_unpromoted(1)
        finally:
            recording.__exit__(None, None, None)
            self._recording = None
        # after a full collection inside a unit its objects are in generation 2
        self._unit_in_old = full and not end_of_unit
        self._pause.keep_paused()
        self._begin()
        return _leave_out(recording.report,
                          self.classes if classes is None else classes,
                          self.ignore if ignore is None else _type_names(ignore))

    def sweep(self, within_unit: bool = False) -> CycleReport:
        """A full collection right after a boundary: the report of the
        garbage made of objects older than the unit (see the class).
        within_unit: the sweep is not at the end of a unit, whose next
        boundaries must then be full collections too."""
        return self.boundary(end_of_unit=not within_unit, full=True)

    def sweep_due(self) -> bool:
        info = _gcx.info()
        return info["long_lived_pending"] > info["long_lived_total"] // _gcx.LONG_LIVED_RATIO

    def stop(self) -> CycleReport:
        """End the last span (as boundary(end_of_unit=True)) and the watch."""
        try:
            return self.boundary(end_of_unit=True)
        finally:
            if self._recording is not None:
                self._recording.__exit__(None, None, None)
                self._recording = None
            self._pause.stop()


class no_cycles:
    """Fail if the code inside makes cyclic garbage.

    As a context manager (``with no_cycles() as report:``, report being the
    CycleReport filled as the block runs) or a decorator (``@no_cycles()``).
    On exit, if the block made cyclic garbage, raises CyclesFound (an
    AssertionError) whose message is the cycle report: the shapes, the
    attribute that a weak reference could replace, and with tracemalloc
    tracing, where a member was allocated.  An exception raised by the block
    itself passes through unchanged.

    classes   also count classes created and dropped in the block (off)
    ignore    type names whose cycles do not count, e.g. ("frame test_x",);
              one string is one name
    """

    def __init__(self, *, classes: bool = False, ignore: str | Iterable[str] = ()) -> None:
        self._classes = _flag("classes", classes)
        self._ignore = _type_names(ignore)
        self._watches: list[CycleWatch] = []

    def __enter__(self) -> CycleReport:
        watch = CycleWatch(self._classes, self._ignore)
        self._watches.append(watch)
        return watch.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        watch = self._watches.pop()
        report = watch.stop()
        if exc_type is None and report:
            raise CyclesFound(report, "the code made cyclic garbage: " + report.text())
        return False

    def __call__(self, func: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with no_cycles(classes=self._classes, ignore=self._ignore):
                return func(*args, **kwargs)
        return wrapper
