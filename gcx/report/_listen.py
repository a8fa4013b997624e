"""Listening: the garbage hook gcx's core calls in each collection that
finds garbage, and who listens to it: record_cycles() blocks, CycleWatch
(gcx/testing.py, through _listen()/_unlisten()), DEBUG_CYCLES, analyze(),
and a whole program's recording for ``gcx report`` (ProgramRecording).

The hook runs inside a collection: it analyses once and feeds every
listener, never raises into the collector, keeps none of the garbage, and
pauses the stdlib collector while it allocates.
"""

import sys
import threading
import types
from collections.abc import Iterable
from typing import Any, Literal

import _tracemalloc

from .. import _gcx, _stdlib
from . import _analysis, _names, _render
from ._model import Analysis, CycleReport, is_module_shape, split_analysis

_listeners: list[CycleReport] = []     # CycleReports recording now
_debug: "_DebugPrinter | None" = None   # the DEBUG_CYCLES printer, while the flag is set
_debug_report = CycleReport()
_hook_lock = threading.RLock()


def _hook(generation: int, collectable: list[Any], uncollectable: list[Any]) -> None:
    """The garbage hook: analyse once, feed every listener.  Runs inside a
    gcx collection; must not raise, nor keep any of the garbage."""
    listeners = list(_listeners)
    if not listeners:
        return
    # No stdlib collection in the middle of this one (the analysis allocates).
    stdlib_on = _stdlib.isenabled()
    if stdlib_on:
        _stdlib.disable()
    analysis = Analysis()
    try:
        # _tracemalloc, not tracemalloc: importing that (and pickle) here
        # would leave garbage of its own for the next collection
        analysis = _analyze_guarded(collectable, uncollectable, _tracemalloc.is_tracing())
    except Exception as exc:          # never let one escape into the collector
        analysis.errors.append(f"{type(exc).__name__}: {exc}")
        exc.__traceback__ = None
        del exc
    finally:
        if stdlib_on:
            _stdlib.enable()
    for listener in listeners:
        listener._add(generation, analysis)


def _analyze_guarded(collectable: list[Any], uncollectable: list[Any] | tuple[()],
                     tracing: bool) -> Analysis:
    # a separate frame: the garbage referenced from locals here is gone
    # when it returns, even if the caller keeps running
    return _analysis.analyze_garbage(collectable, uncollectable, tracing)


def _update_hook() -> None:
    _gcx.set_garbage_hook(_hook if _listeners else None)


def _listen(report: CycleReport) -> None:
    """Feed ``report`` every gcx collection's garbage from now on."""
    with _hook_lock:
        _listeners.append(report)
        _update_hook()


def _unlisten(report: CycleReport) -> None:
    """Stop feeding ``report`` (its last _listen())."""
    with _hook_lock:
        for i in range(len(_listeners) - 1, -1, -1):
            if _listeners[i] is report:
                del _listeners[i]
                break
        _update_hook()


class record_cycles:
    """Context manager: ``with record_cycles() as report: ...``; the
    CycleReport fills up with the cyclic garbage of every gcx collection
    that runs inside the block (automatic ones while gcx is installed, and
    gcx.collect() calls).  May be nested; each report sees every collection
    of its own block.

    report     the CycleReport to add to (a new one by default)
    collect    run a full gcx collection on exit, so the garbage the block
               left behind is in the report (default False)
    """

    def __init__(self, report: CycleReport | None = None, collect: bool = False) -> None:
        if report is not None and not isinstance(report, CycleReport):
            raise TypeError(f"report must be a CycleReport or None, not "
                            f"{type(report).__name__}")
        if not isinstance(collect, bool):
            raise TypeError(f"collect must be a bool, not {type(collect).__name__}")
        self.report = report if report is not None else CycleReport()
        self._collect = collect

    def __enter__(self) -> CycleReport:
        _listen(self.report)
        return self.report

    def __exit__(self, *exc_info: object) -> Literal[False]:
        try:
            if self._collect:
                _gcx.collect(2)
        finally:
            _unlisten(self.report)
        return False


def analyze(objects: Iterable[object]) -> CycleReport:
    """A CycleReport of the objects given (e.g. gc.garbage after
    DEBUG_SAVEALL): cycles among them, as one collection."""
    held = list(objects)
    report = CycleReport()
    try:
        report._add(None, _analyze_guarded(held, (), _tracemalloc.is_tracing()))
    finally:
        del held
    return report


def debug_report() -> CycleReport:
    """The CycleReport of every collection since gcx.set_debug() was last
    given DEBUG_CYCLES (kept after the flag is cleared, until it is set
    again)."""
    return _debug_report


class _DebugPrinter(CycleReport):
    """DEBUG_CYCLES: each collection's cycles to stderr, as DEBUG_COLLECTABLE
    prints its objects, and into debug_report()."""

    def _add(self, generation: int | None, analysis: Analysis) -> None:
        _debug_report._add(generation, analysis)
        if not analysis.tallies and not analysis.errors:
            return
        one = CycleReport()
        one._add(generation, analysis)
        out = sys.stderr
        if out is None:
            return
        try:
            for line in _render.debug_lines(one, generation):
                out.write(line + "\n")
        except Exception:
            pass


def _set_debug_cycles(flag: bool) -> None:
    """gcx.set_debug() calls this with whether DEBUG_CYCLES is in the flags."""
    global _debug, _debug_report
    with _hook_lock:
        if flag and _debug is None:
            _debug_report = CycleReport()
            _debug = _DebugPrinter()
            _listen(_debug)
        elif not flag and _debug is not None:
            _unlisten(_debug)
            _debug = None


# ------------------------------------------------------------------------------
# A whole program (gcx report).

class ProgramRecording:
    """What a program made while it ran, for ``gcx report``::

        recording = ProgramRecording(show_at_exit=False)
        recording.start()                   # before the program starts
        ...   # run it; when its code has ended: recording.program_ended(outcome)
        recording.stop()
        recording.text(top=10), recording.json(indent=2)

    start() first collects without recording: garbage from before the
    program (gcx's own start-up) is not the program's.  program_ended()
    collects while the runner still holds the program's module (runpy's
    copy of its globals, or the traceback of the exception it raised), so
    that what the program made and dropped while it ran is told apart from
    what is freed only because runpy then drops its module; it also takes
    the names the program's code uses, for labels (runpy has already put
    gcx's ``__main__`` back in sys.modules).

    Of what is freed after that, the groups of a module's definitions
    (classes, and a module's globals with its functions: see
    is_module_shape()) are ``at_exit``: every class and every function of
    a module is in a cycle, and python frees them only as the interpreter
    exits.  They are left out of the text and the JSON unless
    ``show_at_exit``, which puts them under their own heading (and the
    "at_exit" key).  Other groups freed then (a cycle of instances still
    held by a global when the program ended) are the program's: ``run``.
    """

    def __init__(self, show_at_exit: bool = False) -> None:
        self.run = CycleReport()
        self.at_exit = CycleReport()
        self.show_at_exit = show_at_exit
        self._after_end = _AfterEnd(self.run, self.at_exit)
        self._phase = "new"

    def start(self) -> None:
        _gcx.collect(2)
        _listen(self.run)
        self._phase = "run"

    def program_ended(self, outcome: object = None) -> None:
        """The program's code has ended: ``outcome`` is runpy's copy of its
        globals, or the exception it raised (None if unknown)."""
        if self._phase != "run":
            return
        namespace = outcome if type(outcome) is dict else \
            _program_namespace(outcome) if isinstance(outcome, BaseException) else None
        if namespace is not None:
            _names.register_program(namespace)
        try:
            _gcx.collect(2)
        finally:
            _listen(self._after_end)
            _unlisten(self.run)
            self._phase = "ended"

    def stop(self) -> None:
        try:
            self.program_ended()
            _gcx.collect(2)
        finally:
            _unlisten(self._after_end)
            _names.forget_programs()
            self._phase = "stopped"

    def text(self, top: int | None = 10, tracebacks: bool = True) -> str:
        return _render.program_text(self.run, self.at_exit, self.show_at_exit, top, tracebacks)

    def as_dict(self, top: int | None = None) -> dict[str, Any]:
        return _render.program_dict(self.run, self.at_exit, self.show_at_exit, top)

    def json(self, top: int | None = None, **kwargs: Any) -> str:
        return _render.to_json(self.as_dict(top), **kwargs)


class _AfterEnd(CycleReport):
    """The listener after a program's end: a module's definitions to
    ``at_exit``, the rest to ``run``."""

    def __init__(self, run: CycleReport, at_exit: CycleReport) -> None:
        super().__init__()
        self._run = run
        self._at_exit = at_exit

    def _add(self, generation: int | None, analysis: Analysis) -> None:
        programs, modules = split_analysis(analysis, lambda key: not is_module_shape(key))
        self._run._add(generation, programs)
        self._at_exit._add(generation, modules)


def _program_namespace(exc: BaseException) -> dict[str, Any] | None:
    """The globals of the program's outermost frame in the traceback of the
    exception it raised: the first frame that is not gcx's or runpy's."""
    files = _analysis.own_code_files()
    tb = exc.__traceback__
    while tb is not None:
        frame: types.FrameType = tb.tb_frame
        if not _analysis.is_own_frame(frame, files):
            return frame.f_globals
        tb = tb.tb_next
    return None
