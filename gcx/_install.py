"""Taking over from the stdlib collector, and the hooks the core needs.

install()/uninstall() point the stdlib gc module's attributes at gcx's
functions and lists and back.  hook_core() is run when gcx is imported (and
again on a reload of gcx, replacing what it set before): one hook in the
stdlib's ``gc.callbacks`` tells the core while the stdlib collector runs, and
wrappers around ``tracemalloc.start``/``tracemalloc.stop`` resynchronise the
core after tracemalloc takes or releases the reference tracer slot.

The install state lives here, not in gcx/__init__.py, so that a reload of
gcx keeps it.
"""

import _thread
import atexit
import sys
from _functools import partial  # type: ignore[import-not-found]  # (functools is not loaded at start-up)

from . import _gcx, _stdlib
from ._args import update_wrapper

# typing is not imported at run time (see gcx/__init__.py): the annotations
# that need it are strings, their names imported for type checkers only.
# The others stay evaluated, as the public functions' signatures show them;
# their two types are taken as types.py takes them, without importing it
# (0.2 ms of every start-up that installs gcx).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType, TracebackType
else:
    ModuleType = type(sys)
    try:
        raise TypeError
    except TypeError as e:
        TracebackType = type(e.__traceback__)
        del e
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal, Protocol, TypeAlias

    # the stdlib's counts, and its collections per generation
    _Schedule: TypeAlias = "tuple[tuple[int, int, int], list[int]]"

    from .policy import Policy, using_policy

    class _Core(Protocol):
        def stdlib_hook(self, phase: str, info: dict[str, int], /) -> None: ...
        def resync(self) -> None: ...


# While installed: (stdlib gc was enabled, gcx was enabled, gc's attributes,
# gcx's thresholds and debug flags, the callbacks and garbage install() gave
# gcx's lists).
_saved: "tuple[bool, bool, dict[str, object], tuple[Any, ...], int, list[Any], list[Any]] | None" = None
# "no policy given": install() leaves the policy alone; _policy_before is
# the policy install(policy=...) replaced, for uninstall() to put back.
_KEEP: object = object()
_policy_before: object = _KEEP
# reentrant: a collection that install() lets run (a pending call after
# _gcx.enable()) may run a finalizer that calls install() or uninstall()
_install_lock = _thread.RLock()


def _mirror() -> ModuleType:
    """The gcx package, whose gc functions install() puts into gc."""
    return sys.modules[__name__.rpartition(".")[0]]


def install(policy: "Policy | None | object" = _KEEP) -> None:
    """Make gcx the automatic collector of this process.

    Switches the stdlib collector off (or, where CPython's own trigger can
    ask for gcx's collections, to doing only that: its collections, started
    when its rule says, are gcx's, and find nothing else to do; see
    src/README.md, "Automatic collection") and points the stdlib gc module's
    collect, enable, disable, isenabled, get_count, get_threshold,
    set_threshold, get_stats, get_debug, set_debug, freeze, unfreeze,
    get_freeze_count, is_finalized, get_objects, get_referrers, garbage and
    callbacks at gcx's, so code that uses ``gc`` uses gcx.  What the
    program set through gc before carries over: gcx takes the stdlib's
    thresholds and debug flags, its callbacks and what its garbage list
    holds.  Enables gcx's automatic collection.
    With ``policy`` (a gcx.Policy, or None for the stdlib's rule), sets it
    as gcx.set_policy() does; uninstall() puts back the one it replaced.
    Installing again changes only the policy, if one is given.
    uninstall() undoes all of it.
    """
    global _saved, _policy_before
    if policy is not _KEEP:
        from .policy import _check_policy, set_policy
        _check_policy("install(policy=...)", policy)
    with _install_lock:
        if policy is not _KEEP:
            replaced = set_policy(policy)       # type: ignore[arg-type]
            if _policy_before is _KEEP:
                _policy_before = replaced
        if _saved is not None:
            return
        gc, mirror = _stdlib.gc_module, _mirror()
        given_callbacks = [cb for cb in _stdlib.callbacks
                           if not getattr(cb, "_gcx_hook", False)
                           and not any(cb is mine for mine in _gcx.callbacks)]
        given_garbage = [obj for obj in _stdlib.garbage
                         if not any(obj is mine for mine in _gcx.garbage)]
        saved = (_stdlib.isenabled(), _gcx.isenabled(),
                 {name: getattr(gc, name) for name in _stdlib.TAKEN_OVER},
                 _gcx.get_threshold(), _gcx.get_debug(), given_callbacks, given_garbage)
        _gcx.set_threshold(*_stdlib.get_threshold())
        _gcx.set_debug(_stdlib.get_debug())
        _gcx.callbacks.extend(given_callbacks)
        _gcx.garbage.extend(given_garbage)
        _stdlib.disable()
        _gcx.count_as_cpython(True)   # collect when the stdlib would have
        _gcx.adopt_counts(*_adopted_counts())
        _gcx.enable()
        for name in _stdlib.TAKEN_OVER:
            setattr(gc, name, getattr(mirror, name))
        _saved = saved
        global _report_at_exit
        if not _report_at_exit:
            atexit.register(_hand_over_at_exit)
            _report_at_exit = True


_report_at_exit = False


_import_schedule: "tuple[_Schedule, _Schedule] | None" = None


def _stdlib_schedule() -> "_Schedule":
    return _stdlib.get_count(), [s["collections"] for s in _stdlib.get_stats()]


def imported(began: "_Schedule") -> None:
    """gcx/__init__.py, as its import ends: the stdlib's schedule as it
    began, and now."""
    global _import_schedule
    _import_schedule = (began, _stdlib_schedule())


def _adopted_counts() -> "tuple[int, int, int]":
    """The counts install() gives gcx's schedule (src/schedule.c, G3): the
    stdlib's as they would be had gcx's import not run.  The import
    allocates, and its probes run stdlib collections (so may its
    allocations): each moves the stdlib's middle and full collections
    sooner, and a process that installs gcx on its first line would
    collect out of phase with one that never imported it.  So the counts
    as the import began, plus what the program did since it ended: the
    containers it allocated, and the collections the stdlib ran (each
    adds one to the next generation's count and zeroes the younger ones).
    Once only: a later install() takes the stdlib's counts as they are
    (uninstall() gave it gcx's)."""
    global _import_schedule
    now, collected = _stdlib_schedule()
    if _import_schedule is None:
        return now
    (before, _), (after, ended) = _import_schedule
    _import_schedule = None
    since = [c - e for c, e in zip(collected, ended)]
    count0 = max(0, before[0] + now[0] - after[0]) if not any(since) else now[0]
    count1 = before[1] + since[0] if since[1] == since[2] == 0 else now[1]
    count2 = before[2] + since[1] if since[2] == 0 else now[2]
    return count0, count1, count2


def _hand_over_at_exit() -> None:
    """At exit, while gcx is installed: collect as the interpreter would,
    then give it what its own shutdown report reads.

    CPython's finalization runs one full collection after atexit, while
    modules are still intact (finalizers can still import), if its
    collector is enabled; installed, the stdlib's is off, so gcx runs that
    collection here (if gcx's automatic collection is on), as the last
    handler but those registered before install().  CPython then prints "gc:
    N uncollectable objects at shutdown" (a ResourceWarning; with
    DEBUG_UNCOLLECTABLE, the objects themselves) from its own garbage list
    and debug flags; gcx's uncollectable objects are in gcx's list and the
    flags the program set through gc are gcx's, so both are handed over."""
    if _saved is None:
        return
    if _gcx.isenabled():
        # off first: a young collection due after this one (the finalizers
        # it runs allocate) would otherwise run at the next call, in
        # teardown, where CPython runs none that calls back
        _gcx.disable()
        _mirror().collect()
    if _gcx.garbage is not _stdlib.garbage:
        # what install() gave gcx's list is still in the stdlib's
        given_garbage = _saved[-1]
        _stdlib.garbage.extend(obj for obj in _gcx.garbage
                               if not any(obj is given for given in given_garbage))
    _stdlib.set_debug(_gcx.get_debug())


def _take_back(given: "list[Any]", lst: "list[Any]") -> None:
    """Remove from lst what install() gave it, if still there."""
    for obj in given:
        for i, mine in enumerate(lst):
            if mine is obj:
                del lst[i]
                break


def uninstall() -> None:
    """Undo install(): put back the stdlib gc module's attributes as they were,
    both collectors' automatic collection as it was, and gcx's thresholds,
    debug flags, callbacks and garbage list as they were but for what was
    added to them while installed.  Does nothing if not installed."""
    global _saved, _policy_before
    with _install_lock:
        if _saved is None:
            return
        if _policy_before is not _KEEP:
            from .policy import set_policy
            set_policy(_policy_before)      # type: ignore[arg-type]
            _policy_before = _KEEP
        stdlib_enabled, gcx_enabled, attributes, thresholds, debug, given_callbacks, \
            given_garbage = _saved
        for name, value in attributes.items():
            setattr(_stdlib.gc_module, name, value)
        _gcx.set_threshold(*thresholds)
        _gcx.set_debug(debug)
        _take_back(given_callbacks, _gcx.callbacks)
        _take_back(given_garbage, _gcx.garbage)
        _gcx.count_as_cpython(False)
        (_gcx.enable if gcx_enabled else _gcx.disable)()
        (_stdlib.enable if stdlib_enabled else _stdlib.disable)()
        _saved = None


def is_installed() -> bool:
    """Whether install() is in effect."""
    return _saved is not None


class installed:
    """Context manager: gcx installed for the duration of a with block.

    If gcx was already installed on entry, it stays installed on exit.
    With ``policy``, that policy is in force for the block (as
    gcx.using_policy), and the one before it after.
    """

    def __init__(self, policy: "Policy | None | object" = _KEEP) -> None:
        if policy is not _KEEP:
            from .policy import using_policy
            self._policy: "using_policy | None" = using_policy(policy)  # type: ignore[arg-type]
        else:
            self._policy = None
        self._installed_here = False

    def __enter__(self) -> None:
        self._installed_here = not is_installed()
        install()
        if self._policy is not None:
            self._policy.__enter__()
        return None

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc_value: BaseException | None,
                 traceback: TracebackType | None) -> "Literal[False]":
        if self._policy is not None:
            self._policy.__exit__(exc_type, exc_value, traceback)
        if self._installed_here:
            self._installed_here = False
            uninstall()
        return False



# ------------------------------------------------------------------------------
# Hooks the core needs.

def hook_core(core: "_Core") -> None:
    """Set (or, on a reload of gcx, replace) both hooks for ``core``."""
    _watch_stdlib_collections(core)
    _wrap_tracemalloc(core)


def _watch_stdlib_collections(core: "_Core") -> None:
    """Put a hook in the stdlib collector's own callbacks list (the stdlib
    runs it around each of its collections) that tells the core while the
    stdlib collector runs; gcx never collects during one, but for the
    collection CPython's own trigger starts for it (src/README.md,
    "Automatic collection").  In lists mode the core also reads births at
    the start, so that the collection moves its marker from generation 0's
    tail (src/tracer.c, before read_births_as): then a read after it need
    not walk the older list the marker lands in.  The hook is the core's
    builtin in a partial (which carries the mark that finds it again):
    calling it, at every collection CPython's own trigger starts, pushes no
    Python frame."""
    hook = partial(core.stdlib_hook)
    hook._gcx_hook = True

    hooks = _stdlib.callbacks
    hooks[:] = [cb for cb in hooks if not getattr(cb, "_gcx_hook", False)]
    hooks.append(hook)


def _wrap_tracemalloc(core: "_Core") -> None:
    """Replace tracemalloc's start() and stop() with functions that call
    them and then have the core resynchronise: tracemalloc takes the
    reference tracer slot on start() and empties it on stop().

    The wrappers go into the C module _tracemalloc, which the tracemalloc
    module copies its functions from when it is imported, so importing gcx
    does not import tracemalloc (nor pickle, fnmatch and the rest it pulls
    in); a tracemalloc imported already gets them too."""
    import _tracemalloc
    modules: list[ModuleType] = [_tracemalloc]
    if "tracemalloc" in sys.modules:
        modules.append(sys.modules["tracemalloc"])

    def wrap(original: "Callable[..., Any]") -> "Callable[..., Any]":
        def wrapper(*args: "Any", **kwargs: "Any") -> "Any":
            try:
                return original(*args, **kwargs)
            finally:
                core.resync()
        update_wrapper(wrapper, original)       # functools.wraps(original)
        wrapper._gcx_original = original  # type: ignore[attr-defined]
        return wrapper

    for name in ("start", "stop"):
        original = getattr(_tracemalloc, name)
        wrapper = wrap(getattr(original, "_gcx_original", original))   # after a reload
        for module in modules:
            setattr(module, name, wrapper)
