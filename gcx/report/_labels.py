"""Edge labels: how each reference from one member of a group to another is
named: the attribute (``.parent``), dict key (``['name']``), container
position (``[3]``), frame local (``.f_locals['x']``), ``.__class__``, or an
lru_cache's ``<cache>``; ``.?`` when it cannot be named.

Labels are read without running the program's code (no properties, no
``__getattr__``, no overridden ``__iter__``) and without creating an
instance ``__dict__`` where CPython 3.13 keeps the attributes inline: an
attribute held in inline values is named by trying candidate names (see
gcx/report/_names.py) and keeping one only if the instance's attribute of
that name is the very object the reference reaches.
"""

import collections
import keyword
import sys
import types
from collections.abc import Sequence
from typing import Any, cast

from .. import _gcx
from . import _names
from ._model import Edge, EdgeName
from ._names import type_dict, type_mro

_MISSING: Any = object()
_UNSAFE: Any = object()

UNNAMED = EdgeName(".?", ".?")
CLASS = EdgeName(".__class__", ".__class__")
OWN_DICT = EdgeName(".__dict__", ".__dict__")
DICT_KEY = EdgeName("<key>", "<key>")
SET_MEMBER = EdgeName("{}", "{}")
CACHE = EdgeName("<cache>", "<cache>")
CACHE_ENTRY = EdgeName("<cache entry>", "<cache entry>")
FUNCTION = EdgeName("<function>", "<function>")

# Builtin containers: shown inside the path, not as steps of their own.
INLINED = (list, tuple, dict, set, frozenset)

# Getset descriptors that are safe to call: they return what is stored and
# create nothing.  (Others are not: function.__dict__ and __annotations__
# create a dict, generator.gi_frame a frame object, frame.f_locals a proxy.)
_SAFE_GETSETS: dict[type, tuple[str, ...]] = {
    types.FunctionType: ("__defaults__", "__kwdefaults__", "__code__"),
    types.CellType: ("cell_contents",),
    types.FrameType: ("f_back", "f_code", "f_globals", "f_builtins", "f_trace"),
    types.TracebackType: ("tb_next",),
    BaseException: ("__traceback__", "__context__", "__cause__", "args"),
    type: ("__bases__", "__mro__"),
}

# Containers whose items are labelled, read through these types' own methods
# (a subclass's overridden __iter__ or items() is program code).
_CONTAINERS = (dict, list, tuple, collections.deque, set, frozenset)

# Class attributes whose __get__ runs no program code (skipping them is only
# needed when they have one: a plain value has none).
_HARMLESS_NONDATA = (types.FunctionType, staticmethod, classmethod,
                     types.BuiltinFunctionType, types.MethodDescriptorType,
                     types.WrapperDescriptorType, types.ClassMethodDescriptorType)

# Trying every name a module uses costs; once it has failed for a type
# often enough in one analysis, its instances' other edges stay ".?".
_MAX_MISSES = 20

# Names learned so far, per type key: strings only, so nothing is kept alive.
_learned: collections.defaultdict[str, dict[str, None]] = collections.defaultdict(dict)
_LEARNED_MAX = 256


def key_label(key: object) -> EdgeName:
    """A dict's reference to the value under ``key``."""
    if type(key) is str:
        text = repr(key) if len(key) <= 40 else repr(key[:37]) + "..."
        return EdgeName(f"[{text}]", f"[{text}]")
    if type(key) in (int, bool):
        return EdgeName(f"[{key}]", "[int]")
    name = f"[<{_names.type_key(type(key))}>]"
    return EdgeName(name, name)


_attr_labels: dict[str, EdgeName] = {}


def attr_label(name: str) -> EdgeName:
    label = _attr_labels.get(name)
    if label is None:
        if len(_attr_labels) > 10_000:
            _attr_labels.clear()
        label = _attr_labels[name] = EdgeName("." + name, "." + name)
    return label


_POSITIONS = {folded: [EdgeName(f"[{i}]", "[]" if folded else f"[{i}]") for i in range(64)]
              for folded in (False, True)}


def position_label(i: int, folded: bool) -> EdgeName:
    """A list's, tuple's or deque's reference to item ``i`` (``folded``: the
    shape keeps no position)."""
    if i < 64:
        return _POSITIONS[folded][i]
    return EdgeName(f"[{i}]", "[]" if folded else f"[{i}]")


def through_dict(name: EdgeName) -> EdgeName:
    """The label of an edge leaving an instance's __dict__, as an attribute."""
    text = name.text
    if text.startswith("['") and text.endswith("']"):
        key = text[2:-2]
        if key.isidentifier() and not keyword.iskeyword(key):
            return attr_label(key)
    return EdgeName(".__dict__" + text, ".__dict__" + name.kind)


def _mro_has(tp: type, name: str) -> bool:
    """Whether the class tp (through its MRO) defines ``name``."""
    return any(name in type_dict(cls) for cls in type_mro(tp))


class TypeInfo:
    """What labelling needs to know about one type, computed once per
    analysis (never kept across collections: the type may be garbage)."""

    __slots__ = ("key", "fields", "has_dict", "mro_dicts", "container",
                 "is_class", "candidates", "hits", "misses", "plain", "lookups")

    key: str                       # type_key()
    fields: dict[str, Any]         # name -> a descriptor safe to call: slots, C members,
                                   # the safe getsets
    has_dict: bool                 # instances may have a __dict__
    mro_dicts: list[types.MappingProxyType[str, Any]]
    container: Any                 # the builtin container type to read it as, or None
    is_class: bool                 # a type (its instances are classes)
    candidates: "Candidates | None"
    hits: list[str]                # names found in this analysis: tried first
    misses: int                    # instances with edges no candidate name explained
    plain: bool                    # members are named by their type alone
    lookups: dict[str, Any]        # name -> the class attribute, _MISSING or _UNSAFE

    def __init__(self, tp: type) -> None:
        self.key = _names.type_key(tp)
        self.mro_dicts = [type_dict(cls) for cls in type_mro(tp)]
        self.fields = {}
        for d in self.mro_dicts:
            for name, attr in d.items():
                if type(attr) is types.MemberDescriptorType and name not in self.fields:
                    self.fields[name] = attr
        for base, names in _SAFE_GETSETS.items():
            if issubclass(tp, base):
                for name in names:
                    descr = type_dict(base).get(name)
                    if descr is not None:
                        self.fields.setdefault(name, descr)
        flags = _names.type_flags(tp)
        self.has_dict = bool(flags & _names.TPFLAGS_MANAGED_DICT) \
            or _names.type_dictoffset(tp) != 0
        self.container = next((base for base in _CONTAINERS if issubclass(tp, base)), None)
        self.is_class = issubclass(tp, type)
        self.candidates = None
        self.lookups = {}
        self.hits = []
        self.misses = 0
        self.plain = not _names.is_named_kind(tp)

    def class_attr(self, name: str) -> Any:
        """What the class has under ``name``: _MISSING if nothing, _UNSAFE
        if reading the instance's ``name`` could run a descriptor that runs
        program code or hides the instance's own value."""
        found = self.lookups.get(name)
        if found is None:
            found = _MISSING
            for d in self.mro_dicts:
                if name in d:
                    found = d[name]
                    break
            if found is not _MISSING:
                dtype = type(found)
                if _mro_has(dtype, "__get__") and (
                        _mro_has(dtype, "__set__") or _mro_has(dtype, "__delete__")
                        or not issubclass(dtype, _HARMLESS_NONDATA)):
                    found = _UNSAFE
            self.lookups[name] = found
        return found

    def learn(self, name: str) -> None:
        if name not in self.hits:
            self.hits.append(name)
        learned = _learned[self.key]
        if name not in learned and len(learned) < _LEARNED_MAX:
            learned[name] = None


class Candidates:
    """Names that may be instance attributes of a type: ``declared`` (learned
    before, then what the classes declare), ``harvested`` (the names the
    code of its module, and of the program being reported on, uses)."""

    __slots__ = ("declared", "harvested")

    def __init__(self, declared: list[str], harvested: tuple[str, ...]) -> None:
        self.declared = declared
        self.harvested = harvested


TypeInfos = dict[type, TypeInfo]


def type_info(infos: TypeInfos, tp: type) -> TypeInfo:
    """tp's TypeInfo from ``infos``, the analysis's own cache (dropped with
    it: a type may itself be garbage)."""
    info = infos.get(tp)
    if info is None:
        info = infos[tp] = TypeInfo(tp)
    return info


def _instance_attr(obj: object, info: TypeInfo, name: str) -> Any:
    """obj's own attribute ``name``, read as object.__getattribute__ does but
    never running a descriptor that could run program code; _MISSING if it
    has none (or it cannot be read safely).  Never materialises a __dict__:
    with inline values, CPython looks exact str names up in the values."""
    descr = info.class_attr(name)
    if descr is _UNSAFE:
        return _MISSING
    try:
        value = object.__getattribute__(obj, name)
    except Exception:
        return _MISSING
    if descr is not _MISSING and value is descr:
        return _MISSING                # the class's, not the instance's
    return value


def is_instance_dict(obj: object, info: TypeInfo, d: object) -> bool:
    """Whether the dict ``d`` (a referent of obj) is obj's own __dict__: every
    key a str naming an attribute of obj whose value is the dict's."""
    if type(d) is not dict or not info.has_dict:
        return False
    for key, value in dict.items(d):
        if type(key) is not str or _instance_attr(obj, info, key) is not value:
            return False
    return True


def _candidates(tp: type, info: TypeInfo) -> Candidates:
    """Names that may be instance attributes of tp: learned ones first, then
    what the classes declare, then the names its module's code and the
    program's use."""
    if info.candidates is None:
        names = dict(_learned.get(info.key, {}))
        for d in info.mro_dicts:
            for name in d.get("__static_attributes__", ()):
                names.setdefault(name, None)
            for declared in ("__annotations__", "__dataclass_fields__"):
                mapping = d.get(declared)
                if type(mapping) is dict:
                    for name in mapping:
                        names.setdefault(name, None)
        namespace = _names.class_namespace(tp)
        harvested = _names.harvested_names(namespace) if namespace is not None else ()
        extra = _names.program_names(_names.module_name_of(tp))
        if extra:
            harvested = (*harvested, *extra)
        info.candidates = Candidates([n for n in names if type(n) is str], harvested)
    return info.candidates


class _Labeller:
    """The labels of one object's references into its group."""

    __slots__ = ("wanted", "objs", "out", "named")

    def __init__(self, wanted: dict[int, int], objs: Sequence[object]) -> None:
        self.wanted = wanted          # id(target) -> its index in objs
        self.objs = objs
        self.out: list[Edge] = []
        self.named: set[int] = set()  # ids of the targets named so far

    def add(self, target: object, name: EdgeName, owned: bool = False) -> None:
        j = self.wanted.get(id(target))
        if j is not None:
            self.out.append(Edge(j, name, owned))
            self.named.add(id(target))

    def unnamed(self) -> set[int]:
        return {target for target in self.wanted if target not in self.named}


def labels(obj: object, wanted: dict[int, int], objs: Sequence[object],
           infos: TypeInfos) -> list[Edge]:
    """Label obj's edges to the objects in ``wanted`` (id -> index).  Targets
    it cannot name get ".?"."""
    tp = type(obj)
    info = type_info(infos, tp)
    labeller = _Labeller(wanted, objs)
    add = labeller.add

    base: Any = info.container
    if base is dict:
        for key, value in dict.items(cast("dict[Any, Any]", obj)):
            if id(value) in wanted:
                add(value, key_label(key))
            if id(key) in wanted:
                add(key, DICT_KEY)
    elif base in (set, frozenset):
        for value in base.__iter__(obj):
            if id(value) in wanted:
                add(value, SET_MEMBER)
    elif base is not None:
        folded = base is not tuple
        for i, value in enumerate(base.__iter__(obj)):
            if id(value) in wanted:
                add(value, position_label(i, folded))

    # Slots and C members (safe: they read a field), then safe getsets.
    for name, descr in info.fields.items():
        try:
            value = descr.__get__(obj, tp)
        except Exception:
            continue
        if id(value) in wanted:
            add(value, attr_label(name))

    # A heap type's instance refers to its class.
    if id(tp) in wanted:
        add(tp, CLASS)

    if info.is_class:
        try:
            proxy = type_dict(obj)  # type: ignore[arg-type]
            for inner in _gcx.referents_of((proxy,)):
                if id(inner) in wanted:
                    add(inner, OWN_DICT)
        except Exception:
            pass

    if tp is types.FrameType:
        _frame_labels(obj, labeller)

    if tp is _names.LRU_CACHE_WRAPPER:
        _lru_cache_labels(obj, info, labeller)

    if info.has_dict:
        _attribute_labels(obj, tp, info, labeller)

    named, out = labeller.named, labeller.out
    for target_id, j in wanted.items():
        if target_id not in named:
            out.append(Edge(j, UNNAMED))
    return out


def _attribute_labels(obj: object, tp: type, info: TypeInfo, labeller: _Labeller) -> None:
    """Name obj's edges to its attributes: its own __dict__ if it has one
    already (only edges into the group matter, so only such a dict can be
    it), else the attributes kept in inline values, by candidate names."""
    unnamed = labeller.unnamed()
    if not unnamed:
        return
    for target in unnamed:
        r = labeller.objs[labeller.wanted[target]]
        if type(r) is dict and is_instance_dict(obj, info, r):
            labeller.add(r, OWN_DICT, True)
            for key in r:
                info.learn(key)
            return
    candidates = _candidates(tp, info)
    groups: tuple[Sequence[str], ...] = (info.hits, candidates.declared)
    if info.misses < _MAX_MISSES:
        groups += (candidates.harvested,)
    for group in groups:
        for name in group:
            if type(name) is not str:
                continue
            value = _instance_attr(obj, info, name)
            if value is not _MISSING and id(value) in unnamed:
                labeller.add(value, attr_label(name))
                info.learn(name)
                unnamed.discard(id(value))
                if not unnamed:
                    return
    info.misses += 1


def _lru_cache_labels(wrapper: object, info: TypeInfo, labeller: _Labeller) -> None:
    """An lru_cache wrapper's own fields: the function it wraps (also its
    ``__wrapped__``), its cache dict, and, for a bounded cache, each entry's
    key and result, which it refers to directly from its linked list.  Its
    own __dict__ is left to _attribute_labels()."""
    wrapped = _instance_attr(wrapper, info, "__wrapped__")
    for target in labeller.unnamed():
        r = labeller.objs[labeller.wanted[target]]
        if r is wrapped:
            labeller.add(r, attr_label("__wrapped__"))
        elif type(r) is dict:
            if not is_instance_dict(wrapper, info, r):
                labeller.add(r, CACHE)
        else:
            labeller.add(r, CACHE_ENTRY)


_CO_OPTIMIZED = 0x0001       # a function's code: its locals live in the frame, not a dict
_frame_get_var: Any = None   # 3.12: the C API's PyFrame_GetVar, through ctypes


def _frame_locals(frame: Any) -> list[tuple[str, Any]]:
    """A frame's local variables, as (name, value), read without creating
    anything the frame keeps.  3.13+'s f_locals is a view (PEP 667).
    3.12's, for a function's frame, copies the locals into a dict the frame
    then holds: one more object in the garbage being reported, collected
    with it.  There each variable is read with PyFrame_GetVar (C API, 3.12),
    which copies nothing; unbound ones raise NameError and are left out."""
    if sys.version_info >= (3, 13) or not frame.f_code.co_flags & _CO_OPTIMIZED:
        return list(frame.f_locals.items())
    global _frame_get_var
    if _frame_get_var is None:
        import ctypes
        get_var = ctypes.pythonapi["PyFrame_GetVar"]   # a function object of our own
        get_var.argtypes = (ctypes.py_object, ctypes.py_object)
        get_var.restype = ctypes.py_object
        _frame_get_var = get_var
    code = frame.f_code
    items = []
    for name in dict.fromkeys(code.co_varnames + code.co_cellvars + code.co_freevars):
        try:
            items.append((name, _frame_get_var(frame, name)))
        except NameError:
            pass
    return items


def _frame_labels(frame: Any, labeller: _Labeller) -> None:
    """Name a frame's edges to its locals (_frame_locals), and to the
    function it runs (3.13 frames hold it; no attribute shows it)."""
    try:
        items = _frame_locals(frame)
    except Exception:
        items = []
    for name, value in items:
        if id(value) in labeller.wanted:
            labeller.add(value, EdgeName(f".f_locals[{name!r}]", f".f_locals[{name!r}]"))
    code = frame.f_code
    for target in labeller.unnamed():
        function = labeller.objs[labeller.wanted[target]]
        if type(function) is types.FunctionType and _names.func_code(function) is code:
            labeller.add(function, FUNCTION)
