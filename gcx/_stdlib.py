"""The stdlib gc module's own functions and lists, captured once.

gcx.install() points the stdlib gc module's attributes at gcx's, so a module
that reads ``gc.enable`` (or does ``from gc import collect``) while gcx is
installed gets gcx's function, not the stdlib's.  Every part of gcx that
needs the stdlib collector itself imports it from here instead::

    from gcx import _stdlib
    _stdlib.disable()

This module is imported by gcx/__init__.py before gcx can be installed, so
the capture below sees the stdlib's own objects.  If it is ever imported
again while the gc module's attributes are not the stdlib's (a reload, or
sys.modules edited), the originals are taken from a new instance of the
built-in gc module instead: the built-in module's functions act on the
interpreter's one collector, and its ``garbage`` and ``callbacks`` are the
interpreter's own lists.
"""

import gc as _gc

TYPE_CHECKING = False
if TYPE_CHECKING:
    import types as _types

_BUILTIN_FUNCTION = type(len)   # types.BuiltinFunctionType, without importing types

# The stdlib gc module's attributes that gcx.install() points at gcx's.
TAKEN_OVER: tuple[str, ...] = (
    "collect", "enable", "disable", "isenabled", "get_count", "get_threshold",
    "set_threshold", "get_stats", "get_debug", "set_debug", "freeze",
    "unfreeze", "get_freeze_count", "is_finalized", "get_objects", "get_referrers",
    "garbage", "callbacks",
)


def _stdlib_module() -> "_types.ModuleType":
    """The gc module if its functions are still the stdlib's own, else a new
    instance of the built-in gc module."""
    if all(type(getattr(_gc, name)) is _BUILTIN_FUNCTION
           and getattr(getattr(_gc, name), "__self__", None) is _gc
           for name in TAKEN_OVER if name not in ("garbage", "callbacks")):
        return _gc
    import importlib.machinery
    import importlib.util
    spec = importlib.machinery.BuiltinImporter.find_spec("gc")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The gc module itself, whose attributes gcx.install() replaces.
gc_module = _gc

_module = _stdlib_module()

enable = _module.enable
disable = _module.disable
isenabled = _module.isenabled
collect = _module.collect
get_count = _module.get_count
get_stats = _module.get_stats
set_debug = _module.set_debug
get_debug = _module.get_debug
set_threshold = _module.set_threshold
get_threshold = _module.get_threshold
get_objects = _module.get_objects
is_tracked = _module.is_tracked
is_finalized = _module.is_finalized
get_referrers = _module.get_referrers
get_referents = _module.get_referents
freeze = _module.freeze
unfreeze = _module.unfreeze
get_freeze_count = _module.get_freeze_count
garbage = _module.garbage
callbacks = _module.callbacks
DEBUG_STATS = _module.DEBUG_STATS
DEBUG_COLLECTABLE = _module.DEBUG_COLLECTABLE
DEBUG_UNCOLLECTABLE = _module.DEBUG_UNCOLLECTABLE
DEBUG_SAVEALL = _module.DEBUG_SAVEALL
DEBUG_LEAK = _module.DEBUG_LEAK

del _module
