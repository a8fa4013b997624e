"""gcx: a second cycle collector for CPython 3.13, with the gc module's interface.

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
mode()          "tracer" or "safe" (see info())

Two hooks are set when gcx is imported, because the core has to know about
them: one in the stdlib's ``gc.callbacks`` tells the core while the stdlib
collector runs, and wrappers around ``tracemalloc.start``/``tracemalloc.stop``
resynchronise the core after tracemalloc takes or releases the reference
tracer slot.
"""

import _thread
import collections as _collections
import functools as _functools
import operator as _operator
import struct as _struct
import sys as _sys

from ._version import __version__


def _redirect_from_source_tree():
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
    import importlib.machinery as machinery
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    def core_in(directory):
        return any(os.path.isfile(os.path.join(directory, "_gcx" + suffix))
                   for suffix in machinery.EXTENSION_SUFFIXES)
    if core_in(here) or not (_sys.implementation.name == "cpython"
                             and _sys.version_info[:2] == (3, 13)
                             and "t" not in getattr(_sys, "abiflags", "")):
        return
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
    # On CPython 3.13 with the GIL the core itself says what went wrong
    # (e.g. which interpreters it supports): let that through unchanged.
    # Elsewhere no core can have been built for this interpreter at all.
    if (_sys.implementation.name == "cpython" and _sys.version_info[:2] == (3, 13)
            and "t" not in getattr(_sys, "abiflags", "")):
        raise
    _this = (f"{_sys.implementation.name} {_sys.version.split()[0]}"
             f"{' (free-threaded)' if 't' in getattr(_sys, 'abiflags', '') else ''}")
    raise ImportError(f"gcx supports CPython 3.13 with the GIL only, not {_this}",
                      name=__name__ + "._gcx") from exc

from . import _stdlib  # noqa: E402  (the stdlib's originals, captured once)

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
]

from ._gcx import (DEBUG_STATS, DEBUG_COLLECTABLE, DEBUG_UNCOLLECTABLE,  # noqa: E402
                   DEBUG_SAVEALL, DEBUG_LEAK)
# gcx's own flag, a bit the stdlib's flags do not use: print the shapes of
# each collection's cyclic garbage to stderr and aggregate them into
# cycle_report() (gcx/report.py).
DEBUG_CYCLES = 1 << 10

# The core's lists themselves, so that identity holds: gcx.garbage is the
# list the core appends to, and stays the same object for the process.
garbage = _gcx.garbage
callbacks = _gcx.callbacks

_NUM_GENERATIONS = 3

# ------------------------------------------------------------------------------
# Argument checking, written to raise what CPython's C argument parsing raises
# for the stdlib gc functions (Modules/gcmodule.c and its clinic file in
# 3.13).  Each helper names the C routine whose errors it reproduces.

_INT_MAX = 2**31 - 1                     # C int; 32 bits on every CPython platform
_INT_MIN = -2**31
_LONG_BITS = 8 * _struct.calcsize("l")   # C long: 64 bits on Linux, 32 on Windows
_LONG_MAX = 2**(_LONG_BITS - 1) - 1
_LONG_MIN = -2**(_LONG_BITS - 1)
_SSIZE_MAX = _sys.maxsize
_SSIZE_MIN = -_sys.maxsize - 1
_HEAPTYPE = 1 << 9                       # Py_TPFLAGS_HEAPTYPE

try:
    from _suggestions import _generate_suggestions
except ImportError:                      # not a public module; be safe
    def _generate_suggestions(candidates, item):
        return None


def _has_slot(tp, name):
    """True if the type (not its metaclass) defines the special method ``name``,
    i.e. if the matching C slot of ``tp`` is filled."""
    return any(name in vars(base) for base in tp.__mro__)


def _tp_name(obj):
    """``Py_TYPE(obj)->tp_name`` as C code prints it with ``'%.200s'``.

    Python has no attribute for tp_name (for a static type it is the dotted
    name; for a class statement, the bare name; for a type made from a spec,
    the spec's dotted name), so have CPython print it: operator.index() of
    an object without __index__, or memoryview() of one without the buffer
    protocol, fails with exactly this formatting of the name, and runs none
    of the object's own code.
    """
    tp = type(obj)
    if not _has_slot(tp, "__index__"):
        probe = _operator.index
        prefix, suffix = "'", "' object cannot be interpreted as an integer"
    elif not _has_slot(tp, "__buffer__"):
        probe = memoryview
        prefix, suffix = "memoryview: a bytes-like object is required, not '", "'"
    else:
        probe = None
    if probe is not None:
        try:
            probe(obj)
        except TypeError as exc:
            text = str(exc)
            if text.startswith(prefix) and text.endswith(suffix):
                return text[len(prefix):len(text) - len(suffix)]
    # An index-able buffer (no such type in CPython itself): best effort.
    if tp.__flags__ & _HEAPTYPE or tp.__module__ == "builtins":
        name = tp.__name__
    else:
        name = f"{tp.__module__}.{tp.__name__}"
    return name.encode("utf-8", "surrogatepass")[:200].decode("utf-8", "replace")


def _as_int(obj):
    """Convert like ``PyLong_AsInt`` (clinic's ``int`` converter)."""
    value = obj if type(obj) is int else _operator.index(obj)
    if not _INT_MIN <= value <= _INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return value


def _as_int_i_format(obj):
    """Convert like ``PyArg_ParseTuple``'s ``"i"`` format (via PyLong_AsLong)."""
    value = obj if type(obj) is int else _operator.index(obj)
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    if value > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if value < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return value


def _as_optional_ssize_t(obj, default):
    """Convert like ``_Py_convert_optional_to_ssize_t``: None means ``default``."""
    if obj is None:
        return default
    if type(obj) is not int and not _has_slot(type(obj), "__index__"):
        raise TypeError(f"argument should be integer or None, not '{_tp_name(obj)}'")
    value = obj if type(obj) is int else _operator.index(obj)
    if not _SSIZE_MIN <= value <= _SSIZE_MAX:
        raise OverflowError(f"cannot fit '{_tp_name(obj)}' into an index-sized integer")
    return value


def _check_no_args(name, args, kwargs):
    """METH_NOARGS: what calling ``gc.<name>`` with arguments raises."""
    if kwargs:
        raise TypeError(f"gc.{name}() takes no keyword arguments")
    if args:
        raise TypeError(f"gc.{name}() takes no arguments ({len(args)} given)")


def _one_arg(name, args, kwargs):
    """METH_O: the single positional argument of ``gc.<name>``."""
    if kwargs:
        raise TypeError(f"gc.{name}() takes no keyword arguments")
    if len(args) != 1:
        raise TypeError(f"gc.{name}() takes exactly one argument ({len(args)} given)")
    return args[0]


def _one_optional_arg(fname, keyword, args, kwargs, default):
    """``_PyArg_UnpackKeywords`` for ``fname(keyword=default)``: the argument,
    given by position or by name, or ``default``."""
    given = len(args) + len(kwargs)
    if given > 1:
        kind = "" if args else "keyword "
        raise TypeError(f"{fname}() takes at most 1 {kind}argument ({given} given)")
    if args:
        return args[0]
    if not kwargs:
        return default
    if keyword in kwargs:
        return kwargs[keyword]
    unknown = next(iter(kwargs))
    message = f"{fname}() got an unexpected keyword argument '{unknown}'"
    suggestion = _generate_suggestions([keyword], unknown)
    if suggestion:
        message += f". Did you mean '{suggestion}'?"
    raise TypeError(message)


def _signature(text):
    """Give a function the signature ``text`` (what inspect.signature reports)."""
    def decorate(func):
        func.__text_signature__ = text
        return func
    return decorate


# ------------------------------------------------------------------------------
# The gc interface.

@_signature("()")
def enable(*args, **kwargs):
    """Enable automatic garbage collection."""
    if args or kwargs:
        _check_no_args("enable", args, kwargs)
    if _saved is None and _stdlib.isenabled():
        import warnings
        warnings.warn(
            "gcx.enable() while gcx is not installed and the stdlib collector "
            "is enabled: both collectors now collect automatically; "
            "gcx.install() makes gcx the only one", RuntimeWarning, stacklevel=2)
    _gcx.enable()


@_signature("()")
def disable(*args, **kwargs):
    """Disable automatic garbage collection."""
    if args or kwargs:
        _check_no_args("disable", args, kwargs)
    _gcx.disable()


@_signature("()")
def isenabled(*args, **kwargs):
    """Returns true if automatic garbage collection is enabled."""
    if args or kwargs:
        _check_no_args("isenabled", args, kwargs)
    return _gcx.isenabled()


@_signature("(generation=2)")
def collect(*args, **kwargs):
    """Run the garbage collector.

    With no arguments, run a full collection.  The optional argument
    may be an integer specifying which generation to collect.  A ValueError
    is raised if the generation number is invalid.

    The number of unreachable objects is returned.
    """
    if not args and not kwargs:
        return _gcx.collect(_NUM_GENERATIONS - 1)
    generation = _as_int(_one_optional_arg("collect", "generation", args, kwargs,
                                           _NUM_GENERATIONS - 1))
    if not 0 <= generation < _NUM_GENERATIONS:
        raise ValueError("invalid generation")
    return _gcx.collect(generation)


@_signature("(flags, /)")
def set_debug(*args, **kwargs):
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
    flags = _as_int(_one_arg("set_debug", args, kwargs))
    _gcx.set_debug(flags)
    if flags & DEBUG_CYCLES or "gcx.report" in _sys.modules:
        from . import report
        report._set_debug_cycles(bool(flags & DEBUG_CYCLES))


@_signature("()")
def get_debug(*args, **kwargs):
    """Get the garbage collection debugging flags."""
    if args or kwargs:
        _check_no_args("get_debug", args, kwargs)
    return _gcx.get_debug()


@_signature("()")
def get_count(*args, **kwargs):
    """Return a three-tuple of the current collection counts."""
    if args or kwargs:
        _check_no_args("get_count", args, kwargs)
    return _gcx.get_count()


# The stdlib's set_threshold has optional groups, which no Python signature
# can express (inspect.signature() of the stdlib one raises ValueError).
@_signature("(*thresholds)")
def set_threshold(*args, **kwargs):
    """set_threshold(threshold0, [threshold1, [threshold2]])
    Set the collection thresholds (the collection frequency).

    Setting 'threshold0' to zero disables collection.
    """
    if kwargs:
        raise TypeError("set_threshold() takes no keyword arguments")
    if not 1 <= len(args) <= _NUM_GENERATIONS:
        raise TypeError("gc.set_threshold requires 1 to 3 arguments")
    given = [_as_int_i_format(arg) for arg in args]
    current = list(_gcx.get_threshold())
    current[:len(given)] = given
    _gcx.set_threshold(*current)


@_signature("()")
def get_threshold(*args, **kwargs):
    """Return the current collection thresholds."""
    if args or kwargs:
        _check_no_args("get_threshold", args, kwargs)
    return _gcx.get_threshold()


@_signature("(generation=None)")
def get_objects(*args, **kwargs):
    """Return a list of objects tracked by the collector (excluding the list returned).

      generation
        Generation to extract the objects from.

    If generation is not None, return only the objects tracked by the collector
    that are in that generation.
    """
    generation = _as_optional_ssize_t(
        _one_optional_arg("get_objects", "generation", args, kwargs, None), -1)
    _sys.audit("gc.get_objects", generation)
    if generation >= _NUM_GENERATIONS:
        raise ValueError("generation parameter must be less than the number of "
                         f"available generations ({_NUM_GENERATIONS})")
    if generation < -1:
        raise ValueError("generation parameter cannot be negative")
    return _gcx.get_objects(generation)


@_signature("()")
def get_stats(*args, **kwargs):
    """Return a list of dictionaries containing per-generation statistics."""
    if args or kwargs:
        _check_no_args("get_stats", args, kwargs)
    return _gcx.get_stats()


@_signature("(obj, /)")
def is_tracked(*args, **kwargs):
    """Returns true if the object is tracked by the garbage collector.

    Simple atomic objects will return false.
    """
    if len(args) == 1 and not kwargs:
        return _gcx.is_tracked(args[0])
    return _gcx.is_tracked(_one_arg("is_tracked", args, kwargs))


@_signature("(obj, /)")
def is_finalized(*args, **kwargs):
    """Returns true if the object has been already finalized by the GC."""
    if len(args) == 1 and not kwargs:
        return _gcx.is_finalized(args[0])
    return _gcx.is_finalized(_one_arg("is_finalized", args, kwargs))


@_signature("(*objs)")
def get_referrers(*objs, **kwargs):
    """Return the list of objects that directly refer to any of 'objs'."""
    if kwargs:
        raise TypeError("gc.get_referrers() takes no keyword arguments")
    _sys.audit("gc.get_referrers", objs)
    return _gcx.get_referrers(objs)


@_signature("(*objs)")
def get_referents(*objs, **kwargs):
    """Return the list of objects that are directly referred to by 'objs'."""
    if kwargs:
        raise TypeError("gc.get_referents() takes no keyword arguments")
    _sys.audit("gc.get_referents", objs)
    return _gcx.get_referents(objs)


@_signature("()")
def freeze(*args, **kwargs):
    """Freeze all current tracked objects and ignore them for future collections.

    This can be used before a POSIX fork() call to make the gc copy-on-write friendly.
    Note: collection before a POSIX fork() call may free pages for future allocation
    which can cause copy-on-write.
    """
    if args or kwargs:
        _check_no_args("freeze", args, kwargs)
    _gcx.freeze()


@_signature("()")
def unfreeze(*args, **kwargs):
    """Unfreeze all objects in the permanent generation.

    Put all objects in the permanent generation back into oldest generation.
    """
    if args or kwargs:
        _check_no_args("unfreeze", args, kwargs)
    _gcx.unfreeze()


@_signature("()")
def get_freeze_count(*args, **kwargs):
    """Return the number of objects in the permanent generation."""
    if args or kwargs:
        _check_no_args("get_freeze_count", args, kwargs)
    return _gcx.get_freeze_count()


# ------------------------------------------------------------------------------
# Taking over from the stdlib collector.

_TAKEN_OVER = _stdlib.TAKEN_OVER

# While installed: (stdlib gc was enabled, gcx was enabled, gc's attributes).
_saved = globals().get("_saved")
_install_lock = globals().get("_install_lock") or _thread.allocate_lock()


def install():
    """Make gcx the automatic collector of this process.

    Switches the stdlib collector off and points the stdlib gc module's
    collect, enable, disable, isenabled, get_count, get_threshold,
    set_threshold, get_stats, get_debug, set_debug, freeze, unfreeze,
    get_freeze_count, is_finalized, garbage and callbacks at gcx's, so code that uses
    ``gc`` uses gcx.  Enables gcx's automatic collection.  Does nothing if
    already installed.  uninstall() undoes all of it.
    """
    global _saved
    with _install_lock:
        if _saved is not None:
            return
        saved = (_stdlib.isenabled(), _gcx.isenabled(),
                 {name: getattr(_stdlib.gc_module, name) for name in _TAKEN_OVER})
        _stdlib.disable()
        _gcx.enable()
        for name in _TAKEN_OVER:
            setattr(_stdlib.gc_module, name, globals()[name])
        _saved = saved


def uninstall():
    """Undo install(): put back the stdlib gc module's attributes as they were,
    and both collectors' automatic collection as it was.  Does nothing if
    not installed."""
    global _saved
    with _install_lock:
        if _saved is None:
            return
        stdlib_enabled, gcx_enabled, attributes = _saved
        for name, value in attributes.items():
            setattr(_stdlib.gc_module, name, value)
        (_gcx.enable if gcx_enabled else _gcx.disable)()
        (_stdlib.enable if stdlib_enabled else _stdlib.disable)()
        _saved = None


def is_installed():
    """Whether install() is in effect."""
    return _saved is not None


class installed:
    """Context manager: gcx installed for the duration of the with block.

    If gcx was already installed on entry, it stays installed on exit.
    """

    def __init__(self):
        self._installed_here = False

    def __enter__(self):
        self._installed_here = not is_installed()
        install()
        return None

    def __exit__(self, *exc_info):
        if self._installed_here:
            self._installed_here = False
            uninstall()
        return False


def info():
    """The core's state, as a dict.

    mode               "tracer" (the reference tracer reports objects) or
                       "safe" (no trust in the tracer; set by GCX_MODE=safe or
                       forced on interpreters whose tracer misses deallocations)
    owner              gcx holds the reference tracer slot
    selftest           the import-time self-test of the tracer passed
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


def mode():
    """The core's mode: "tracer" or "safe" (see info())."""
    return _gcx.info()["mode"]


# ------------------------------------------------------------------------------
# Pauses and cycle reports.

Pause = _collections.namedtuple(
    "Pause", "start duration generation collected uncollectable candidates")
Pause.__doc__ = """One gcx collection: start (a time.perf_counter() value) and
duration in seconds, the generation collected, objects collected and
uncollectable, and candidates (objects examined)."""


def recent_pauses():
    """The last gcx collections (at most 1024), oldest first, as Pause tuples."""
    return [Pause(*pause) for pause in _gcx.recent_pauses()]


def cycle_report():
    """The CycleReport of every gcx collection since gcx.set_debug() was
    last given DEBUG_CYCLES (gcx/report.py)."""
    from . import report
    return report.debug_report()


# Imported when first used: gcx.no_cycles, gcx.record_cycles, ...
_LAZY = {"no_cycles": "testing", "CyclesFound": "testing",
         "record_cycles": "report", "CycleReport": "report"}


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


# ------------------------------------------------------------------------------
# Hooks the core needs.

def _watch_stdlib_collections(core):
    """Put a hook in the stdlib collector's own callbacks list (the stdlib
    runs it around each of its collections) that tells the core while the
    stdlib collector runs; gcx never collects during one."""
    def _gcx_stdlib_hook(phase, info):
        if phase == "start":
            core.stdlib_collecting(True)
        elif phase == "stop":
            core.stdlib_collecting(False)
    _gcx_stdlib_hook._gcx_hook = True

    hooks = _stdlib.callbacks
    hooks[:] = [cb for cb in hooks if not getattr(cb, "_gcx_hook", False)]
    hooks.append(_gcx_stdlib_hook)


def _wrap_tracemalloc(core):
    """Replace tracemalloc's start() and stop() with functions that call
    them and then have the core resynchronise: tracemalloc takes the
    reference tracer slot on start() and empties it on stop().

    The wrappers go into the C module _tracemalloc, which the tracemalloc
    module copies its functions from when it is imported, so importing gcx
    does not import tracemalloc (nor pickle, fnmatch and the rest it pulls
    in); a tracemalloc imported already gets them too."""
    import _tracemalloc
    modules = [_tracemalloc]
    if "tracemalloc" in _sys.modules:
        modules.append(_sys.modules["tracemalloc"])

    def wrap(original):
        @_functools.wraps(original)
        def wrapper(*args, **kwargs):
            try:
                return original(*args, **kwargs)
            finally:
                core.resync()
        wrapper._gcx_original = original
        return wrapper

    for name in ("start", "stop"):
        original = getattr(_tracemalloc, name)
        wrapper = wrap(getattr(original, "_gcx_original", original))   # after a reload
        for module in modules:
            setattr(module, name, wrapper)


_watch_stdlib_collections(_gcx)
_wrap_tracemalloc(_gcx)
