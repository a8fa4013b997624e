"""What things are called: the names of types and of a group's members, and
the names a class's instances may have as attributes.

Everything here reads C-level fields only: no program code runs (a metaclass
may define ``__qualname__`` as a property, so type's own getset is called
directly).  Type and member names are strings such as ``"Node"``,
``"pkg.mod:Node"``, ``"frame handle"`` or ``"lru_cache Cache.get"``.

Attribute names for labelling come from three places (gcx/report/_labels.py
tries them): what a class declares, what the code of the module that
defines it uses (``harvested``), and what the program being reported on
uses (``register_program``: the report CLI gives the program's namespace
when it ends, after runpy has put gcx's own ``__main__`` back in
sys.modules).  A name is only a candidate: a label is given only when the
instance's attribute of that name is the very object the edge reaches, so a
wrong candidate costs time, never a wrong label.
"""

import functools
import sys
import types
from collections.abc import Callable
from typing import Any

# Type flags (Include/object.h, 3.13).
TPFLAGS_MANAGED_WEAKREF = 1 << 3
TPFLAGS_MANAGED_DICT = 1 << 4
TPFLAGS_HEAPTYPE = 1 << 9

# type's own getsets, called directly (never a metaclass's override).
type_qualname: Callable[[type], str] = type.__dict__["__qualname__"].__get__
type_flags: Callable[[type], int] = type.__dict__["__flags__"].__get__
type_dictoffset: Callable[[type], int] = type.__dict__["__dictoffset__"].__get__
type_weakrefoffset: Callable[[type], int] = type.__dict__["__weakrefoffset__"].__get__
type_mro: Callable[[type], tuple[type, ...]] = type.__dict__["__mro__"].__get__
type_dict: Callable[[type], types.MappingProxyType[str, Any]] = \
    type.__dict__["__dict__"].__get__
_type_module: Callable[[type], object] = type.__dict__["__module__"].__get__
func_qualname: Callable[[types.FunctionType], str] = \
    types.FunctionType.__dict__["__qualname__"].__get__
func_code: Callable[[types.FunctionType], types.CodeType] = \
    types.FunctionType.__dict__["__code__"].__get__
func_globals: Callable[[types.FunctionType], dict[str, Any]] = \
    types.FunctionType.__dict__["__globals__"].__get__
module_dict: Callable[[types.ModuleType], dict[str, Any]] = \
    type_dict(types.ModuleType)["__dict__"].__get__

LRU_CACHE_WRAPPER: type = functools._lru_cache_wrapper

_SHORT_NAMES = {"builtins", "__main__"}

# Members named "<head> <which>": which function, frame, class, ...
_NAMED_HEADS = ("function", "method", "frame", "class", "generator", "coroutine",
                "async_generator", "lru_cache")


def module_name_of(tp: type) -> str | None:
    """tp's ``__module__`` if it is a string."""
    try:
        module = _type_module(tp)
    except Exception:
        return None
    return module if type(module) is str else None


def type_key(tp: type) -> str:
    """The type's name as shapes use it: ``module:qualname`` (the bare
    qualified name for builtins and __main__)."""
    qualname = type_qualname(tp)
    module = module_name_of(tp)
    if module is None or module in _SHORT_NAMES:
        return qualname
    return f"{module}:{qualname}"


def display(key: str) -> str:
    """A type key for people: the qualified name without its module."""
    return key.partition(":")[2] or key


def lru_cache_qualname(wrapper: object) -> str | None:
    """The qualified name functools.update_wrapper gave an lru_cache wrapper
    (None if it has none).  Its type defines no ``__qualname__``, so this
    reads the instance dict, and never creates one."""
    try:
        name = object.__getattribute__(wrapper, "__qualname__")
    except Exception:
        return None
    return name if type(name) is str else None


def node_key(obj: object) -> str:
    """Key naming one member of a group: its type, and for functions,
    methods, frames, generators, lru_cache wrappers and classes which one."""
    tp = type(obj)
    try:
        if tp is types.FunctionType:
            return f"function {func_qualname(obj)}"  # type: ignore[arg-type]
        if tp is types.MethodType:
            func = obj.__func__  # type: ignore[attr-defined]
            if type(func) is types.FunctionType:
                return f"method {func_qualname(func)}"
            return "method"
        if tp is types.FrameType:
            return f"frame {obj.f_code.co_qualname}"  # type: ignore[attr-defined]
        if tp in (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType):
            return f"{type_qualname(tp)} {tp.__dict__['__qualname__'].__get__(obj)}"
        if tp is LRU_CACHE_WRAPPER:
            name = lru_cache_qualname(obj)
            if name is not None:
                return f"lru_cache {name}"
        if issubclass(tp, type):
            return f"class {type_key(obj)}"  # type: ignore[arg-type]
    except Exception:
        pass
    return type_key(tp)


def is_named_kind(tp: type) -> bool:
    """Whether node_key() names tp's instances one by one (not by type)."""
    return tp in (types.FunctionType, types.MethodType, types.FrameType,
                  types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType,
                  LRU_CACHE_WRAPPER) or issubclass(tp, type)


def node_display(key: str) -> str:
    """A member's key for people (node_key() without type modules)."""
    head, _, rest = key.partition(" ")
    if rest and head in _NAMED_HEADS:
        return f"{head} {display(rest) if head == 'class' else rest}"
    return display(key)


# ------------------------------------------------------------------------------
# Names a class's instances may have: harvested from code.  Strings only are
# kept across collections, so nothing is kept alive.

_harvested: dict[tuple[str, int, int], tuple[str, ...]] = {}
_program_names: dict[str, tuple[str, ...]] = {}      # module name -> names
_HARVESTED_MAX = 200
_MODULE_NAMES_MAX = 20_000


def class_namespace(tp: type) -> dict[str, Any] | None:
    """The global namespace of the module that defines tp: its functions'
    ``__globals__`` (right even when sys.modules no longer maps its module
    name to it, as for a script run by runpy once it returns), else
    sys.modules' module of that name."""
    module = module_name_of(tp)
    if module is None:
        return None
    for value in list(type_dict(tp).values()):
        if type(value) in (staticmethod, classmethod):
            value = value.__func__
        if type(value) is types.FunctionType:
            namespace = func_globals(value)
            if type(namespace) is dict and namespace.get("__name__") == module:
                return namespace
    loaded = sys.modules.get(module)
    if issubclass(type(loaded), types.ModuleType):
        namespace = module_dict(loaded)  # type: ignore[arg-type]
        if type(namespace) is dict:
            return namespace
    return None


def harvested_names(namespace: dict[str, Any]) -> tuple[str, ...]:
    """Every identifier the code of a module uses as a name or a string
    constant (in its functions, methods, nested code and, from its source
    file, its top-level statements): where attributes set from outside the
    class (``a.peer = b``) get their names from."""
    name = namespace.get("__name__")
    key = (name if type(name) is str else "", id(namespace), len(namespace))
    names = _harvested.get(key)
    if names is not None:
        return names
    names = _harvest(namespace, key[0])
    if len(_harvested) > _HARVESTED_MAX:
        _harvested.clear()
    _harvested[key] = names
    return names


def _harvest(namespace: dict[str, Any], module_name: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    # an explicit stack, not a recursive closure: a closure that calls
    # itself is a reference cycle, and this runs inside a collection
    codes: list[types.CodeType] = []
    seen: set[int] = set()
    stack: list[tuple[object, int]] = [(value, 0) for value in list(namespace.values())]
    while stack:
        value, depth = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        tp = type(value)
        if tp is types.FunctionType:
            codes.append(func_code(value))  # type: ignore[arg-type]
        elif tp in (staticmethod, classmethod):
            stack.append((value.__func__, depth))  # type: ignore[attr-defined]
        elif issubclass(tp, type) and depth < 3:
            if module_name_of(value) != module_name:  # type: ignore[arg-type]
                continue
            stack.extend((attr, depth + 1)
                         for attr in list(type_dict(value).values()))  # type: ignore[arg-type]
    codes.extend(_module_code(namespace))
    while codes and len(found) < _MODULE_NAMES_MAX:
        code = codes.pop()
        for name in code.co_names:
            found.setdefault(name, None)
        for const in code.co_consts:
            if type(const) is types.CodeType:
                codes.append(const)
            elif type(const) is str and len(const) < 64 and const.isidentifier():
                found.setdefault(const, None)      # setattr(obj, "name", ...)
    return tuple(found)


def _module_code(namespace: dict[str, Any]) -> list[types.CodeType]:
    """The module's code compiled from its source file, if it has one (the
    names its top-level statements use are in no function); not run."""
    path = namespace.get("__file__")
    if type(path) is not str or not path.endswith(".py"):
        return []
    try:
        with open(path, "rb") as f:
            source = f.read()
        if len(source) > 2_000_000:
            return []
        return [compile(source, path, "exec", dont_inherit=True)]
    except (OSError, SyntaxError, ValueError):
        return []


def register_program(namespace: dict[str, Any]) -> None:
    """Take the names a program's module uses (strings only) as candidates
    for the classes of its module name, until forget_programs(): its
    classes are labelled even where sys.modules no longer holds it."""
    name = namespace.get("__name__")
    if type(name) is str:
        _program_names[name] = harvested_names(namespace)


def forget_programs() -> None:
    _program_names.clear()


def program_names(module: str | None) -> tuple[str, ...]:
    """The names register_program() took for the module name ``module``."""
    return _program_names.get(module, ()) if module is not None else ()
