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
"""

import functools

from . import _gcx, _stdlib
from .report import CycleReport, _listen, _unlisten

__all__ = ["no_cycles", "CyclesFound", "CycleWatch"]

# The stdlib collector's own functions come from gcx._stdlib: gcx.install()
# points the gc module's attributes at gcx's.


class CyclesFound(AssertionError):
    """Raised by no_cycles(): the block made cyclic garbage.  ``report`` is
    the CycleReport; the message is its text."""

    def __init__(self, report, message=None):
        super().__init__(message or report.text())
        self.report = report


def _is_class_shape(shape):
    return any(edge[0].startswith("class ") or edge[2].startswith("class ")
               for edge in shape.edges)


def _type_names(ignore):
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


class CycleWatch:
    """The machinery of no_cycles() and of the pytest plugin: start(), run
    the code, stop() -> the CycleReport of the cyclic garbage it made.

    classes   count classes created and dropped inside the block (every class
              is in a cycle with its own __mro__; off by default, so a test
              may define a local class)
    ignore    type names (as the report shows them, e.g. "Node" or
              "frame test_x") whose groups do not count
    """

    def __init__(self, classes=False, ignore=()):
        self.classes = classes
        self.ignore = _type_names(ignore)
        self.report = None
        self._stdlib_was_enabled = None
        self._running = False

    def _stdlib_callback(self, phase, info):
        if phase == "stop" and self.report is not None:
            self.report.stdlib_collected += info.get("collected", 0) + \
                info.get("uncollectable", 0)

    def start(self):
        if self._running:
            raise RuntimeError("this CycleWatch is already running")
        import gcx
        self._running = True
        self.report = CycleReport()
        # Garbage from before the block is not the block's.
        _gcx.collect(2)
        if not gcx.is_installed():
            self._stdlib_was_enabled = _stdlib.isenabled()
            _stdlib.disable()
            _stdlib.callbacks.append(self._stdlib_callback)
        else:
            self._stdlib_was_enabled = None
        _listen(self.report)
        return self.report

    def stop(self):
        """End the watch; returns the report of what counts (see counts())."""
        if not self._running:
            raise RuntimeError("this CycleWatch is not running")
        try:
            _gcx.collect(2)
        finally:
            _unlisten(self.report)
            if self._stdlib_was_enabled is not None:
                try:
                    _stdlib.callbacks.remove(self._stdlib_callback)
                except ValueError:
                    pass
                if self._stdlib_was_enabled:
                    _stdlib.enable()
            self._running = False
        return self.counts()

    def counts(self):
        """Leave out of the report the shapes that do not count (classes
        unless ``classes``, and the types in ``ignore``), counting their
        groups in ``report.ignored``; returns the report."""
        report = self.report
        dropped = [key for key, shape in report.shapes.items() if not self._counts(shape)]
        for key in dropped:
            shape = report.shapes.pop(key)
            report.groups -= shape.groups
            report.in_cycles -= shape.objects
            report.objects -= shape.objects + shape.held
            report.uncollectable -= shape.uncollectable
            report.ignored += shape.groups
        return report

    def _counts(self, shape):
        if not self.classes and _is_class_shape(shape):
            return False
        for name in self.ignore:
            if any(name in (edge[0], edge[2]) for edge in shape.edges):
                return False
        return True


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

    def __init__(self, *, classes=False, ignore=()):
        self._classes = classes
        self._ignore = _type_names(ignore)
        self._watches = []

    def __enter__(self):
        watch = CycleWatch(self._classes, self._ignore)
        self._watches.append(watch)
        return watch.start()

    def __exit__(self, exc_type, exc, tb):
        watch = self._watches.pop()
        report = watch.stop()
        if exc_type is None and report:
            raise CyclesFound(report, "the code made cyclic garbage: " + report.text())
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with no_cycles(classes=self._classes, ignore=self._ignore):
                return func(*args, **kwargs)
        return wrapper
