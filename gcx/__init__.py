"""gcx: a second cycle collector for CPython 3.12-3.15, with the gc module's interface.

``import gcx as gc`` works: every public name of the stdlib ``gc`` module is
here, with the same signature, the same defaults and, for bad arguments, the
same exception type and message.  The functions validate their arguments in
Python and then call the C core, ``gcx._gcx``, which trusts what it is given.

Beyond the ``gc`` interface:

install()       make gcx the process's automatic collector: switch the stdlib
                collector off and point the stdlib ``gc`` module's functions
                (and its ``garbage``/``callbacks``) at gcx's
uninstall()     undo install() exactly
installed()     context manager: install() for the duration of a with block
is_installed()  whether install() is in effect
info()          the core's state: mode, tracer ownership, table sizes, ...
mode()          "tracer", "alloc", "lists" or "safe" (see info())
metrics(), census(), growth(), show_growth(), log_slow_pauses()
                monitoring (gcx/monitor.py); exporters in gcx.prometheus
                and gcx.otel
Policy, set_policy(), get_policy(), using_policy(), safe_point(),
full_collection_due(), warmup(), no_gc(), add_memory_pressure(), memory_held()
                when automatic collection collects and how much
                (gcx/policy.py)
PauseBudget     full collections in slices of a time budget (gcx/_budget.py)

Two hooks are set when gcx is imported, because the core has to know about
them: one in the stdlib's ``gc.callbacks`` tells the core while the stdlib
collector runs, and wrappers around ``tracemalloc.start``/``tracemalloc.stop``
resynchronise the core after tracemalloc takes or releases the reference
tracer slot.

The package, by job: this file is the gc interface; gcx/_args.py raises the
stdlib's errors for bad arguments; gcx/_stdlib.py holds the stdlib's own gc
functions, captured once; gcx/_install.py does install()/uninstall() and
sets the hooks; gcx/_gcx is the C core.

PYTEST_DONT_REWRITE: ``gcx run -m pytest`` imports gcx before pytest starts,
and pytest would warn that it cannot rewrite it.
"""

from __future__ import annotations

import sys as _sys
from gc import get_count as _get_count, get_stats as _get_stats

# The stdlib's schedule as this import begins (install() gives gcx the
# counts it would have had without the import: gcx/_install.py)
_schedule_before = (_get_count(), [_s["collections"] for _s in _get_stats()])

from ._version import __version__

del annotations     # the __future__ import's name, not one of gcx's

# Every fresh process that installs gcx pays for its import, so nothing
# gcx imports at run time imports typing (nor functools, collections or
# struct): annotations are strings (the __future__ import), the names they
# use are imported for type checkers only, and what needs more is imported
# when first used (gcx.Pause, the monitoring and report modules, ...).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal, NamedTuple, SupportsIndex, overload

    from ._gcx import _GenerationStats, _Info
    from .monitor import (Growth, SlowPauseLog, census, growth, log_slow_pauses, metrics,
                          show_growth)
    from .report import CycleReport, record_cycles
    from .testing import CyclesFound, no_cycles


def _supported_interpreter() -> bool:
    """A GIL build of CPython 3.12 to 3.15: where a core can be built
    (the core refuses 3.14.0-3.14.4 itself, saying why)."""
    return (_sys.implementation.name == "cpython"
            and (3, 12) <= _sys.version_info[:2] <= (3, 15)
            and "t" not in getattr(_sys, "abiflags", ""))


def _redirect_from_source_tree() -> None:
    """Make this package load the installed gcx's core when this gcx/ is a
    source tree without one.

    ``python -m gcx`` and ``python -c`` put the current directory first on
    sys.path, so in the root of a checkout the source tree's gcx/ (which has
    no compiled core) hides the gcx that ``pip install .`` installed.  If a
    gcx with a core is found further along sys.path and its __init__.py is
    this one, this package's __path__ becomes that package's directory: the
    core and every submodule come from the installed copy, so the import
    behaves as the installed gcx does.  If the files differ (the tree was
    edited since), or no installed gcx is found, ImportError says what
    happened in one line.  Does nothing when this directory has a core."""
    import _imp
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    def core_in(directory: str) -> bool:
        # _imp's list is importlib.machinery.EXTENSION_SUFFIXES (importlib
        # copies it), without importing importlib.machinery
        return any(os.path.isfile(os.path.join(directory, "_gcx" + suffix))
                   for suffix in _imp.extension_suffixes())
    if core_in(here) or not _supported_interpreter():
        return
    import importlib.machinery as machinery
    root = os.path.dirname(here)
    elsewhere = [p for p in _sys.path if os.path.abspath(p or os.curdir) != root]
    spec = machinery.PathFinder.find_spec(__name__, elsewhere)
    installed = None
    if spec is not None and spec.submodule_search_locations:
        installed = next((d for d in spec.submodule_search_locations
                          if os.path.abspath(d) != here and core_in(d)), None)
    if installed is None:
        raise ImportError(
            f"{here} is gcx's source tree, which has no compiled core, and no "
            "installed gcx was found: install it (pip install .) and run the "
            "gcx command, or python from another directory", name=__name__)
    try:
        with open(__file__, "rb") as mine, \
                open(os.path.join(installed, "__init__.py"), "rb") as theirs:
            same = mine.read() == theirs.read()
    except OSError:
        same = False
    if not same:
        raise ImportError(
            f"{here} (gcx's source tree, the current directory's gcx/) hides the "
            f"installed gcx in {installed}, and differs from it: reinstall "
            "(pip install .), or run the gcx command, or python -P, or python "
            "from another directory", name=__name__)
    __path__[:] = [installed]
    if __spec__ is not None:
        __spec__.submodule_search_locations = __path__


_redirect_from_source_tree()

try:
    from . import _gcx
except ImportError as exc:
    # On a supported interpreter the core itself says what went wrong
    # (e.g. which patch levels it supports): let that through unchanged.
    # Elsewhere no core can have been built for this interpreter at all.
    if _supported_interpreter():
        if exc.name is None:
            exc.name = __name__     # python -m gcx: runpy says it in one line
        raise
    _this = (f"{_sys.implementation.name} {_sys.version.split()[0]}"
             f"{' (free-threaded)' if 't' in getattr(_sys, 'abiflags', '') else ''}")
    raise ImportError(f"gcx supports CPython 3.12, 3.13, 3.14.5+ and 3.15 with the GIL only, "
                      f"not {_this}",
                      name=__name__) from exc

from . import _args, _install, _stdlib  # noqa: E402
from ._install import install, installed, is_installed, uninstall  # noqa: E402

# In a child of fork(), a collection the parent had queued may never run
# (only the forking thread survives): the core re-arms its pending calls.
def _register_at_fork() -> None:
    import os      # loaded at start-up already (site)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_gcx.after_fork_child)


_register_at_fork()

__all__ = [
    # the stdlib gc interface, in the order of its module docstring
    "enable", "disable", "isenabled", "collect", "get_count", "get_stats",
    "set_debug", "get_debug", "set_threshold", "get_threshold", "get_objects",
    "is_tracked", "is_finalized", "get_referrers", "get_referents", "freeze",
    "unfreeze", "get_freeze_count", "garbage", "callbacks",
    "DEBUG_STATS", "DEBUG_COLLECTABLE", "DEBUG_UNCOLLECTABLE", "DEBUG_SAVEALL",
    "DEBUG_LEAK",
    # gcx's own
    "install", "uninstall", "installed", "is_installed", "info", "mode",
    "DEBUG_CYCLES", "recent_pauses", "Pause", "cycle_report", "record_cycles",
    "CycleReport", "no_cycles", "CyclesFound",
    # monitoring (gcx/monitor.py)
    "metrics", "census", "growth", "show_growth", "Growth", "log_slow_pauses",
    "SlowPauseLog",
    # when to collect (gcx/policy.py)
    "Policy", "set_policy", "get_policy", "using_policy", "safe_point",
    "full_collection_due", "warmup", "no_gc", "NoGCRegion", "add_memory_pressure",
    "memory_held", "PauseBudget",
]

from ._gcx import (DEBUG_COLLECTABLE, DEBUG_LEAK, DEBUG_SAVEALL,  # noqa: E402
                   DEBUG_STATS, DEBUG_UNCOLLECTABLE)

# gcx's own flag, a bit the stdlib's flags do not use: print the shapes of
# each collection's cyclic garbage to stderr and aggregate them into
# cycle_report() (gcx/report/).
DEBUG_CYCLES = 1 << 10

# The core's lists themselves, so that identity holds: gcx.garbage is the
# list the core appends to, and stays the same object for the process.
garbage = _gcx.garbage
callbacks = _gcx.callbacks

_NUM_GENERATIONS = 3


# ------------------------------------------------------------------------------
# The gc interface.  Each function has the stdlib function's signature; its
# decorator (gcx/_args.py) raises what the stdlib raises for a call of the
# wrong shape, and the converters of gcx/_args.py do the same for values.

@_args.noargs
def enable() -> None:
    """Enable automatic garbage collection."""
    if not _install.is_installed() and _stdlib.isenabled():
        import warnings
        warnings.warn(
            "gcx.enable() while gcx is not installed and the stdlib collector "
            "is enabled: both collectors now collect automatically; "
            "gcx.install() makes gcx the only one", RuntimeWarning, stacklevel=3)
    _gcx.enable()


@_args.noargs
def disable() -> None:
    """Disable automatic garbage collection."""
    _gcx.disable()


@_args.noargs
def isenabled() -> bool:
    """Returns true if automatic garbage collection is enabled."""
    return _gcx.isenabled()


@_args.one_optional_arg
def collect(generation: SupportsIndex = 2) -> int:
    """Run the garbage collector.

    With no arguments, run a full collection.  The optional argument
    may be an integer specifying which generation to collect.  A ValueError
    is raised if the generation number is invalid.

    The number of unreachable objects is returned.
    """
    number = _args.as_int(generation)
    if not 0 <= number < _NUM_GENERATIONS:
        raise ValueError("invalid generation")
    if _gcx.hold(0):     # inside gcx.no_gc(): run at the region's end
        from .policy import collect_held
        if collect_held(number):
            return 0
    return _gcx.collect(number)


@_args.one_arg
def set_debug(flags: SupportsIndex, /) -> None:
    """Set the garbage collection debugging flags.

      flags
        An integer that can have the following bits turned on:
          DEBUG_STATS - Print statistics during collection.
          DEBUG_COLLECTABLE - Print collectable objects found.
          DEBUG_UNCOLLECTABLE - Print unreachable but uncollectable objects
            found.
          DEBUG_SAVEALL - Save objects to gc.garbage rather than freeing them.
          DEBUG_LEAK - Debug leaking programs (everything but STATS).

    Debugging information is written to sys.stderr.
    """
    value = _args.as_int(flags)
    _gcx.set_debug(value)
    if value & DEBUG_CYCLES or "gcx.report" in _sys.modules:
        from . import report
        report._set_debug_cycles(bool(value & DEBUG_CYCLES))


@_args.noargs
def get_debug() -> int:
    """Get the garbage collection debugging flags."""
    return _gcx.get_debug()


@_args.noargs
def get_count() -> tuple[int, int, int]:
    """Return a three-tuple of the current collection counts."""
    return _gcx.get_count()


# The stdlib's set_threshold has optional groups, which no Python signature
# can express (inspect.signature() of the stdlib one raises ValueError): here
# a threshold not given is None, and its value stays as it is.  The decorator
# has converted the ones given to C ints (so an explicit None is refused as
# the stdlib refuses it).  The overloads are for type checkers: at run time
# they are not defined (typing.get_overloads() finds none, as for the
# stdlib's set_threshold).
if TYPE_CHECKING:
    @overload
    def set_threshold(threshold0: int, /) -> None: ...
    @overload
    def set_threshold(threshold0: int, threshold1: int, /) -> None: ...
    @overload
    def set_threshold(threshold0: int, threshold1: int, threshold2: int, /) -> None: ...
@_args.c_int_groups
def set_threshold(threshold0: int, threshold1: int | None = None,
                  threshold2: int | None = None, /) -> None:
    """set_threshold(threshold0, [threshold1, [threshold2]])
    Set the collection thresholds (the collection frequency).

    Setting 'threshold0' to zero disables collection.
    """
    current = _gcx.get_threshold()
    _gcx.set_threshold(threshold0,
                       current[1] if threshold1 is None else threshold1,
                       current[2] if threshold2 is None else threshold2)


# ... and at run time a builtin with no signature, as the stdlib's: its
# __text_signature__ is None and inspect.signature() raises ValueError
# (CPython's test_inspect asserts both of gc.set_threshold, which is this
# function while gcx is installed); the call is the function above.  Its
# docstring is the running interpreter's.
if not TYPE_CHECKING:
    set_threshold = _gcx.set_threshold_builtin(
        set_threshold, _sys.modules[__name__], __name__, _stdlib.set_threshold.__doc__)


@_args.noargs
def get_threshold() -> tuple[int, int, int]:
    """Return the current collection thresholds."""
    return _gcx.get_threshold()


@_args.one_optional_arg
def get_objects(generation: SupportsIndex | None = None) -> list[Any]:
    """Return a list of objects tracked by the collector (excluding the list returned).

      generation
        Generation to extract the objects from.

    If generation is not None, return only the objects tracked by the collector
    that are in that generation.
    """
    number = _args.as_optional_ssize_t(generation, -1)
    _sys.audit("gc.get_objects", number)
    if number >= _NUM_GENERATIONS:
        raise ValueError("generation parameter must be less than the number of "
                         f"available generations ({_NUM_GENERATIONS})")
    if number < -1:
        raise ValueError("generation parameter cannot be negative")
    return _gcx.get_objects(number)


@_args.noargs
def get_stats() -> list[_GenerationStats]:
    """Return a list of dictionaries containing per-generation statistics."""
    return _gcx.get_stats()


@_args.one_arg
def is_tracked(obj: object, /) -> bool:
    """Returns true if the object is tracked by the garbage collector.

    Simple atomic objects will return false.
    """
    return _gcx.is_tracked(obj)


@_args.one_arg
def is_finalized(obj: object, /) -> bool:
    """Returns true if the object has been already finalized by the GC."""
    return _gcx.is_finalized(obj)


# Built-in functions of gcx._gcx, as the stdlib's are built-in (src/module.c
# says why a Python wrapper would not do).
get_referrers = _gcx.get_referrers
get_referents = _gcx.get_referents
get_referrers.__module__ = get_referents.__module__ = __name__


@_args.noargs
def freeze() -> None:
    """Freeze all current tracked objects and ignore them for future collections.

    This can be used before a POSIX fork() call to make the gc copy-on-write friendly.
    Note: collection before a POSIX fork() call may free pages for future allocation
    which can cause copy-on-write.
    """
    _gcx.freeze()


@_args.noargs
def unfreeze() -> None:
    """Unfreeze all objects in the permanent generation.

    Put all objects in the permanent generation back into oldest generation.
    """
    _gcx.unfreeze()


@_args.noargs
def get_freeze_count() -> int:
    """Return the number of objects in the permanent generation."""
    return _gcx.get_freeze_count()


# ------------------------------------------------------------------------------
# gcx's own state.

def info() -> _Info:
    """The core's state, as a dict.

    mode               "tracer" (the reference tracer reports births and
                       deaths), "alloc" (the tracer reports births and a
                       wrapper around the object allocator sees deaths: where
                       the tracer misses deallocations, CPython 3.13.0-3.13.2),
                       "lists" (no tracer: births are read from CPython's own
                       generation lists, deaths seen by the allocator wrapper:
                       CPython 3.12, or GCX_MODE=lists) or "safe" (no trust in
                       either; set by GCX_MODE=safe, or where no self-test
                       passes)
    owner              gcx holds the reference tracer slot
    selftest           the import-time self-test of the tracer passed (None:
                       not run, lists mode's self-tests passed)
    alloc_selftest     the allocator wrapper's self-test passed (None: not
                       run, the tracer's passed and neither lists nor alloc
                       mode was asked)
    allocator_wraps    alloc/lists mode: times gcx put its wrapper on top of
                       the object allocator (again after someone replaced it)
    births             lists mode: containers found new in CPython's lists
    lists_readable     gcx reads CPython's generation lists directly (their
                       layout checked at import), in O(new containers)
    header_readable    gcx reads CPython's "tracked" bit inline (its layout
                       checked at import) instead of calling the API
    interp_head_readable
                       the tracer tells the main interpreter's objects from
                       subinterpreters' by reading the head of the runtime's
                       interpreter list (found through CPython's debugger
                       offsets) while no other interpreter exists, instead
                       of calling PyInterpreterState_Get for every container
    resyncs            how many times the table was rebuilt from CPython's
    tracked            records per generation (3 ints)
    frozen             records in the frozen set
    bookkeeping_bytes  memory used by the table
    collecting         a gcx collection is running
    version            gcx's version
    build              how the core was compiled: release, debug or asan
    """
    d = _gcx.info()
    d["version"] = __version__
    return d


def mode() -> Literal["tracer", "alloc", "lists", "safe"]:
    """The core's mode: "tracer", "alloc", "lists" or "safe" (see info())."""
    return _gcx.info()["mode"]


# ------------------------------------------------------------------------------
# Pauses and cycle reports.

# gcx.Pause is made the first time it is used (gcx.Pause, recent_pauses(),
# gcx.monitor), by the class statement in _pause_type(): a NamedTuple needs
# typing, and so would every import of gcx if it were made here.  Type
# checkers see this copy of it.
if TYPE_CHECKING:
    class Pause(NamedTuple):
        start: float
        duration: float
        generation: int
        collected: int
        uncollectable: int
        candidates: int

# A reload of gcx makes a new Pause, as a class statement here would.
globals().pop("Pause", None)


def _pause_type() -> type[Pause]:
    """gcx.Pause, made on the first call."""
    made: type[Pause] | None = globals().get("Pause")
    if made is None:
        from typing import NamedTuple

        class Pause(NamedTuple):
            """One gcx collection: start (a time.perf_counter() value) and
            duration in seconds, the generation collected, objects collected and
            uncollectable, and candidates (objects examined)."""
            start: float
            duration: float
            generation: int
            collected: int
            uncollectable: int
            candidates: int
        Pause.__qualname__ = "Pause"        # gcx.Pause, where pickle finds it
        made = globals().setdefault("Pause", Pause)    # one class, whichever thread won
    return made


def recent_pauses() -> list[Pause]:
    """The last gcx collections (at most 1024), oldest first, as Pause tuples."""
    # read before the first call makes Pause: that imports typing, whose
    # allocations may set off collections
    pauses = _gcx.recent_pauses()
    pause = _pause_type()
    return [pause(*raw) for raw in pauses]


def cycle_report() -> CycleReport:
    """The CycleReport of every gcx collection since gcx.set_debug() was
    last given DEBUG_CYCLES (gcx/report/)."""
    from . import report
    result: CycleReport = report.debug_report()
    return result


# Imported when first used: gcx.no_cycles, gcx.record_cycles, ...
_LAZY = {"no_cycles": "testing", "CyclesFound": "testing",
         "record_cycles": "report", "CycleReport": "report",
         **{name: "monitor" for name in ("metrics", "census", "growth", "show_growth",
                                         "Growth", "log_slow_pauses", "SlowPauseLog")},
         **{name: "policy" for name in ("Policy", "set_policy", "get_policy",
                                        "using_policy", "safe_point",
                                        "full_collection_due", "warmup", "no_gc",
                                        "NoGCRegion", "add_memory_pressure",
                                        "memory_held")},
         "PauseBudget": "_budget"}


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"Pause"})


def __getattr__(name: str) -> Any:
    if name == "Pause":
        return _pause_type()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


_install.hook_core(_gcx)
_install.imported(_schedule_before)
del _schedule_before, _get_count, _get_stats

del TYPE_CHECKING   # not one of gcx's names either
