"""Cycle reports: what the cyclic garbage gcx collects is made of.

For each gcx collection that finds garbage, the core calls a hook with the
garbage, intact, before weak references are cleared or finalizers run
(``_gcx.set_garbage_hook``).  This module is that hook.  It splits the
garbage into strongly connected groups (the cycles), names every edge of a
group by the attribute, dict key or container position it goes through, and
aggregates groups of the same *shape* across collections, so that a
program's top cycle makers rank first::

    #1  1000 groups of 2 objects (2000 objects) in 3 collections
        Pair.peer -> Pair.peer -> Pair
        break it: make Pair.peer a weak reference (weakref.ref) ...

Ways in:

* ``record_cycles()``: a context manager; the CycleReport it returns fills
  up with every gcx collection that runs inside the block.
* ``gcx.set_debug(gcx.DEBUG_CYCLES)``: every gcx collection that finds
  cyclic garbage prints its groups to stderr; ``debug_report()`` is the
  aggregate of all of them.
* ``python -m gcx report script.py``: a whole program with gcx installed.
* ``analyze(objects)``: one report of any objects you hold (for example
  ``gc.garbage`` after ``DEBUG_SAVEALL``).

A report never keeps the garbage alive and never changes what is collected:
it keeps only strings and numbers, never an object of the garbage nor a weak
reference to one; it reads attributes without running the program's code
(no properties, no ``__getattr__``, no ``__repr__``) and without creating
an instance ``__dict__`` where CPython 3.13 keeps the attributes inline.  The
price: an attribute held in inline values is named only when its name is
known from the class (``__static_attributes__``, annotations, dataclass
fields, ``__slots__``), from an instance whose ``__dict__`` exists, or from
the names the class's module uses; otherwise the edge shows as ``.?``.

Shapes.  After merging each instance with its own ``__dict__``, a group's
shape is the set of its edge kinds ``(source type, label, target type)``,
where list and set positions are folded (``[3]`` -> ``[]``) but tuple
positions, string dict keys and attribute names are kept.  So a tree of
nodes with back-pointers to their parents has one shape whatever its size.
"""

import collections
import json
import keyword
import re
import sys
import threading
import types

from . import _gcx, _stdlib

__all__ = ["DEBUG_CYCLES", "CycleReport", "Shape", "record_cycles", "analyze",
           "debug_report"]

#: gcx.set_debug() flag: print the cycles of each collection to stderr and
#: aggregate them into debug_report().  A bit none of the stdlib's DEBUG_*
#: flags uses (they stop at DEBUG_SAVEALL = 32).
DEBUG_CYCLES = 1 << 10

# Type flags (Include/object.h, 3.13).
_TPFLAGS_INLINE_VALUES = 1 << 2
_TPFLAGS_MANAGED_DICT = 1 << 4
_TPFLAGS_MANAGED_WEAKREF = 1 << 3
_TPFLAGS_HEAPTYPE = 1 << 9

_MISSING = object()
_UNSAFE = object()


# ------------------------------------------------------------------------------
# Names of types and objects.  Everything here reads C-level fields only:
# no user code runs (a metaclass may define __qualname__ as a property, so
# type's own getset is called directly).

_type_qualname = type.__dict__["__qualname__"].__get__
_type_flags = type.__dict__["__flags__"].__get__
_type_dictoffset = type.__dict__["__dictoffset__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_dict = type.__dict__["__dict__"].__get__
_type_module = type.__dict__["__module__"].__get__
_func_qualname = types.FunctionType.__dict__["__qualname__"].__get__
_SHORT_NAMES = {"builtins", "__main__"}


def _type_key(tp):
    """The type's name as shapes use it: ``module:qualname`` (the bare
    qualified name for builtins and __main__)."""
    qualname = _type_qualname(tp)
    try:
        module = _type_module(tp)
    except Exception:
        module = None
    if type(module) is not str or module in _SHORT_NAMES:
        return qualname
    return f"{module}:{qualname}"


def _display(key):
    """A type key for people: the qualified name without its module."""
    return key.partition(":")[2] or key


def _node_key(obj):
    """Key naming one member of a group: its type, and for functions,
    methods, frames, generators and classes which one."""
    tp = type(obj)
    try:
        if tp is types.FunctionType:
            return f"function {_func_qualname(obj)}"
        if tp is types.MethodType:
            func = obj.__func__
            if type(func) is types.FunctionType:
                return f"method {_func_qualname(func)}"
            return "method"
        if tp is types.FrameType:
            return f"frame {obj.f_code.co_qualname}"
        if tp in (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType):
            return f"{_type_qualname(tp)} {tp.__dict__['__qualname__'].__get__(obj)}"
        if issubclass(tp, type):
            return f"class {_type_key(obj)}"
    except Exception:
        pass
    return _type_key(tp)


def _node_display(key):
    head, _, rest = key.partition(" ")
    if rest and head in ("function", "method", "frame", "class", "generator",
                         "coroutine", "async_generator"):
        return f"{head} {_display(rest) if head == 'class' else rest}"
    return _display(key)


# ------------------------------------------------------------------------------
# Edge labels.  A label is (text, kind): text is what a path shows ("[3]",
# ".parent", "['name']"), kind is what a shape keeps ("[]", ".parent",
# "['name']").

_INLINED = (list, tuple, dict, set, frozenset)   # shown inside the path, not as a step


def _key_label(key):
    if type(key) is str:
        text = repr(key) if len(key) <= 40 else repr(key[:37]) + "..."
        return f"[{text}]", f"[{text}]"
    if type(key) in (int, bool):
        return f"[{key}]", "[int]"
    return f"[<{_type_key(type(key))}>]", f"[<{_type_key(type(key))}>]"


def _attr_label(name):
    return "." + name, "." + name


def _is_identifier(name):
    return type(name) is str and name.isidentifier() and not keyword.iskeyword(name)


# Getset descriptors that are safe to call: they return what is stored and
# create nothing.  (Others are not: function.__dict__ and __annotations__
# create a dict, generator.gi_frame a frame object, frame.f_locals a proxy.)
_SAFE_GETSETS = {
    types.FunctionType: ("__defaults__", "__kwdefaults__", "__code__"),
    types.CellType: ("cell_contents",),
    types.FrameType: ("f_back", "f_code", "f_globals", "f_builtins", "f_trace"),
    types.TracebackType: ("tb_next",),
    BaseException: ("__traceback__", "__context__", "__cause__", "args"),
    type: ("__bases__", "__mro__"),
}

# Class attributes whose __get__ runs no program code (skipping them is only
# needed when they have one: a plain value has none).
_HARMLESS_NONDATA = (types.FunctionType, staticmethod, classmethod,
                     types.BuiltinFunctionType, types.MethodDescriptorType,
                     types.WrapperDescriptorType, types.ClassMethodDescriptorType)


class _TypeInfo:
    """What labelling needs to know about one type, computed once per
    analysis (never kept across collections: the type may be garbage)."""

    __slots__ = ("key", "members", "getsets", "has_dict", "inline", "mro_dicts",
                 "candidates", "hits", "misses", "plain", "lookups")

    def __init__(self, tp):
        self.key = _type_key(tp)
        self.mro_dicts = [_type_dict(cls) for cls in _type_mro(tp)]
        members = []
        seen = set()
        for d in self.mro_dicts:
            for name, attr in d.items():
                if type(attr) is types.MemberDescriptorType and name not in seen:
                    seen.add(name)
                    members.append((name, attr))
        self.members = members
        getsets = []
        for base, names in _SAFE_GETSETS.items():
            if issubclass(tp, base):
                for name in names:
                    descr = _type_dict(base).get(name)
                    if descr is not None:
                        getsets.append((name, descr))
        self.getsets = getsets
        flags = _type_flags(tp)
        self.inline = bool(flags & _TPFLAGS_INLINE_VALUES)
        self.has_dict = bool(flags & _TPFLAGS_MANAGED_DICT) or _type_dictoffset(tp) != 0
        self.candidates = None
        self.lookups = {}           # name -> the class attribute, _MISSING or _UNSAFE
        self.hits = []              # names found in this analysis: tried first
        self.misses = 0             # instances with edges no candidate name explained
        self.plain = not (tp in (types.FunctionType, types.MethodType, types.FrameType,
                                 types.GeneratorType, types.CoroutineType,
                                 types.AsyncGeneratorType) or issubclass(tp, type))

    def class_attr(self, name):
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


def _mro_has(tp, name):
    """Whether the class tp (through its MRO) defines ``name``."""
    for cls in _type_mro(tp):
        if name in _type_dict(cls):
            return True
    return False


def _instance_attr(obj, info, name):
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


def _is_instance_dict(obj, info, d):
    """Whether the dict ``d`` (a referent of obj) is obj's own __dict__: every
    key a str naming an attribute of obj whose value is the dict's."""
    if type(d) is not dict or not info.has_dict:
        return False
    for key, value in dict.items(d):
        if type(key) is not str or _instance_attr(obj, info, key) is not value:
            return False
    return True


# Names learned so far, per type key: strings only, so nothing is kept alive.
_learned = collections.defaultdict(dict)     # type key -> {name: None} (ordered)
_module_names = {}                           # module name -> tuple of names
_LEARNED_MAX = 256
_MODULE_NAMES_MAX = 20_000


def _harvest_module_names(module_name):
    """Every identifier the code of a module uses as a name or a string
    constant (in its functions, methods, nested code and, from its source
    file, its top-level statements): where attributes set from outside the
    class (``a.peer = b``) get their names from."""
    names = _module_names.get(module_name)
    if names is not None:
        return names
    found = {}
    module = sys.modules.get(module_name)
    namespace = None
    if issubclass(type(module), types.ModuleType):
        namespace = types.ModuleType.__dict__["__dict__"].__get__(module)
    if type(namespace) is dict:
        # an explicit stack, not a recursive closure: a closure that calls
        # itself is a reference cycle, and this runs inside a collection
        codes = []
        seen = set()
        stack = [(value, 0) for value in list(namespace.values())]
        while stack:
            value, depth = stack.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            tp = type(value)
            if tp is types.FunctionType:
                codes.append(types.FunctionType.__dict__["__code__"].__get__(value))
            elif tp in (staticmethod, classmethod):
                stack.append((value.__func__, depth))
            elif issubclass(tp, type) and depth < 3:
                try:
                    if _type_module(value) != module_name:
                        continue
                except Exception:
                    continue
                stack.extend((attr, depth + 1) for attr in list(_type_dict(value).values()))
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
    names = tuple(found)
    if len(_module_names) > 200:
        _module_names.clear()
    _module_names[module_name] = names
    return names


def _module_code(namespace):
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


def _candidate_names(tp, info):
    """Names that may be instance attributes of tp: learned ones first, then
    what the classes declare, then the names its module's code uses."""
    if info.candidates is None:
        names = dict(_learned.get(info.key, {}))
        for d in info.mro_dicts:
            for name in d.get("__static_attributes__", ()):
                names.setdefault(name, None)
            annotations = d.get("__annotations__")
            if type(annotations) is dict:
                for name in annotations:
                    names.setdefault(name, None)
            fields = d.get("__dataclass_fields__")
            if type(fields) is dict:
                for name in fields:
                    names.setdefault(name, None)
        module = None
        try:
            module = _type_module(tp)
        except Exception:
            pass
        declared = [n for n in names if type(n) is str]
        harvested = _harvest_module_names(module) if isinstance(module, str) else ()
        info.candidates = (declared, harvested)
    return info.candidates


def _learn(info, name):
    if name not in info.hits:
        info.hits.append(name)
    learned = _learned[info.key]
    if name not in learned and len(learned) < _LEARNED_MAX:
        learned[name] = None


def _labels(obj, wanted, objs, infos):
    """Label obj's edges to the objects in ``wanted`` (id -> index).  Returns
    a list of (index, text, kind, owned); ``owned`` marks obj's own __dict__
    (merged into obj in shapes).  Targets it cannot name get ".?"."""
    tp = type(obj)
    info = _type_info(infos, tp)
    out = []
    named = set()

    def add(target, text, kind, owned=False):
        j = wanted.get(id(target))
        if j is not None:
            out.append((j, text, kind, owned))
            named.add(id(target))

    # Containers, read through the base type's own methods (a subclass's
    # overridden __iter__ or items() is program code).
    if issubclass(tp, dict):
        for key, value in dict.items(obj):
            if id(value) in wanted:
                add(value, *_key_label(key))
            if id(key) in wanted:
                add(key, "<key>", "<key>")
    elif issubclass(tp, (list, tuple, collections.deque)):
        base = list if issubclass(tp, list) else tuple if issubclass(tp, tuple) \
            else collections.deque
        folded = base is not tuple
        for i, value in enumerate(base.__iter__(obj)):
            if id(value) in wanted:
                add(value, f"[{i}]", "[]" if folded else f"[{i}]")
    elif issubclass(tp, (set, frozenset)):
        base = set if issubclass(tp, set) else frozenset
        for value in base.__iter__(obj):
            if id(value) in wanted:
                add(value, "{}", "{}")

    # Slots and C members (safe: they read a field), then safe getsets.
    for name, descr in info.members + info.getsets:
        try:
            value = descr.__get__(obj, tp)
        except Exception:
            continue
        if id(value) in wanted:
            add(value, *_attr_label(name))

    if issubclass(tp, type):
        try:
            proxy = _type_dict(obj)
            for inner in _gcx.get_referents((proxy,)):
                if id(inner) in wanted:
                    add(inner, ".__dict__", ".__dict__")
        except Exception:
            pass

    if tp is types.FrameType:
        _frame_local_labels(obj, wanted, add)

    if info.has_dict:
        _attribute_labels(obj, tp, info, wanted, named, add, objs)

    for target_id, j in wanted.items():
        if target_id not in named:
            out.append((j, ".?", ".?", False))
    return out


def _attribute_labels(obj, tp, info, wanted, named, add, objs):
    """Name obj's edges to its attributes: its own __dict__ if it has one
    already (only edges into the group matter, so only such a dict can be
    it), else the attributes kept in inline values, by candidate names."""
    unnamed = {target for target in wanted if target not in named}
    if not unnamed:
        return
    for target in unnamed:
        r = objs[wanted[target]]
        if type(r) is dict and _is_instance_dict(obj, info, r):
            add(r, ".__dict__", ".__dict__", True)
            for key in r:
                _learn(info, key)
            return
    declared, harvested = _candidate_names(tp, info)
    # Trying every name a module uses costs; once it has failed for a type
    # often enough in one analysis, its instances' other edges stay ".?".
    groups = (info.hits, declared) if info.misses >= _MAX_MISSES else \
        (info.hits, declared, harvested)
    for group in groups:
        for name in group:
            if type(name) is not str:
                continue
            value = _instance_attr(obj, info, name)
            if value is not _MISSING and id(value) in unnamed:
                add(value, *_attr_label(name))
                _learn(info, name)
                unnamed.discard(id(value))
                if not unnamed:
                    return
    info.misses += 1


_MAX_MISSES = 20


def _frame_local_labels(frame, wanted, add):
    """Name a frame's edges to its locals, through the 3.13 f_locals proxy
    (a view: reading it creates no dict for a function's frame)."""
    try:
        items = list(frame.f_locals.items())
    except Exception:
        return
    for name, value in items:
        if id(value) in wanted:
            add(value, f".f_locals[{name!r}]", f".f_locals[{name!r}]")


def _type_info(infos, tp):
    """tp's _TypeInfo from ``infos``, the analysis's own cache (dropped with
    it: a type may itself be garbage)."""
    info = infos.get(tp)
    if info is None:
        info = infos[tp] = _TypeInfo(tp)
    return info


# ------------------------------------------------------------------------------
# Graph algorithms, iterative (the garbage can be one long chain).

def _tarjan(succ):
    """Strongly connected components of the graph ``succ`` (list of lists of
    indices).  Returns (component of each node, number of components)."""
    n = len(succ)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack = []
    counter = 0
    ncomp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            v, pos = work[-1]
            edges = succ[v]
            if pos < len(edges):
                work[-1] = (v, pos + 1)
                w = edges[pos]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = ncomp
                    if w == v:
                        break
                ncomp += 1
    return comp, ncomp


def _has_cycle(nodes, adj, names, skip):
    """Whether the graph on ``nodes`` (adj: node -> [(node, text, kind)])
    still has a cycle once every edge in ``skip`` -- (source name, kind)
    pairs -- is removed."""
    state = dict.fromkeys(nodes, 0)       # 0 new, 1 on the path, 2 done
    for root in nodes:
        if state[root]:
            continue
        state[root] = 1
        work = [(root, iter(adj.get(root, ())))]
        while work:
            v, edges = work[-1]
            for w, _, kind in edges:
                if w not in state or (names[v], kind) in skip:
                    continue
                if state[w] == 1:
                    return True
                if state[w] == 0:
                    state[w] = 1
                    work.append((w, iter(adj.get(w, ()))))
                    break
            else:
                state[v] = 2
                work.pop()
    return False


def _shortest_cycle(start, adj, members, first_kind=None):
    """A shortest cycle through ``start`` (leaving it by an edge of kind
    ``first_kind`` if given): [(node, text)] steps, each the node and the
    label of the edge leaving it, ending back at start."""
    parent = {}
    queue = collections.deque()
    for w, text, kind in adj.get(start, ()):
        if first_kind is not None and kind != first_kind:
            continue
        if w == start:
            return [(start, text)]
        if w in members and w not in parent:
            parent[w] = (start, text)
            queue.append(w)
    while queue:
        v = queue.popleft()
        for w, text, _ in adj.get(v, ()):
            if w == start:
                steps = [(v, text)]
                while v != start:
                    v, t = parent[v]
                    steps.append((v, t))
                steps.reverse()
                return steps
            if w in members and w not in parent and w != start:
                parent[w] = (v, text)
                queue.append(w)
    return [(start, "")]


_MAX_PATH_STEPS = 10


def _render_path(steps, names, containers):
    """``Node.parent -> Node.children[3] -> Node``: builtin containers are
    shown inside the step that reaches them, not as steps of their own."""
    if len(steps) > _MAX_PATH_STEPS:
        head, tail = steps[:6], steps[-3:]
        hidden = len(steps) - 9
    else:
        head, tail, hidden = steps, [], 0
    pieces = []
    for part, chunk in ((0, head), (1, tail)):
        if part == 1:
            if not chunk:
                break
            pieces.append(f"... ({hidden} more) ...")
        for i, (node, text) in enumerate(chunk):
            if pieces and i and node in containers and not pieces[-1].startswith("..."):
                pieces[-1] += text
            else:
                pieces.append(names[node] + text)
    pieces.append(names[steps[0][0]])
    return " -> ".join(pieces)


# ------------------------------------------------------------------------------
# Suggestions.

# Words that name a reference back to an owner ("parent", "prev_node",
# "ownerRef"): such an attribute is the likeliest to be made weak.
_BACK_POINTER_WORDS = frozenset((
    "parent", "parents", "owner", "owners", "container", "prev", "previous", "back",
    "outer", "up", "root", "master", "manager", "context", "ctx", "origin", "holder",
    "host", "app", "registry", "self", "pool", "supervisor", "enclosing"))


def _back_pointer_score(kind):
    words = re.findall(r"[a-z]+|[A-Z][a-z]*", kind)
    return 0 if any(word.lower() in _BACK_POINTER_WORDS for word in words) else 1


_PATH_STARTS = 8    # sources of the suggested edge tried for the example path


def _suggest(nodes, adj, names, program_types, objs):
    """The attributes that weak references could replace to break every
    cycle of the group: one attribute kind (``Node.parent``) or all the
    attributes one type points back into the group with (``Handler.owner``
    and ``Handler.callback``); None if none breaks every cycle.  Only
    attributes of instances of the program's own classes are candidates (a
    weak reference cannot replace a frame's locals or a function's
    closure).  Ranked, best first, by:

    1. whether a weak reference there works as it stands: its targets can
       be weakly referenced (or are bound methods: weakref.WeakMethod); an
       edge to a list or a dict is proposed only when no other edge does.
       An exception kept alive through its own traceback's frames is never
       proposed: a weak reference to it is dead when the method returns
       (the hint says what to do instead);
    2. the graph: a back-pointer points at the node many paths of the group
       converge on (children -> parent, a callback and a handler -> owner):
       the highest in-degree among its targets; removing it leaves a tree;
    3. the attribute's name, when it names an owner ("parent", "owner");
    4. the fewest attributes, then the most edges broken."""
    counts = collections.Counter()
    targets = {}
    hit = collections.defaultdict(set)
    sources = collections.defaultdict(list)
    for v in nodes:
        if v not in program_types:
            continue
        for w, text, kind in adj.get(v, ()):
            if kind.startswith(".") and kind != ".?" and not kind.startswith(".__"):
                counts[names[v], kind] += 1
                targets.setdefault((names[v], kind), (v, w))
                hit[names[v], kind].add(w)
                sources[names[v], kind].append(v)
    if not counts:
        return None
    indegree = collections.Counter(w for v in nodes for w, _, _ in adj.get(v, ()))
    through_traceback = any(names[v].split(" ", 1)[0] in ("traceback", "frame")
                            for v in nodes)

    def hopeless(edge):
        return through_traceback and any(isinstance(objs[w], BaseException)
                                         for w in hit[edge])

    def unweakrefable(edge):
        return any(not isinstance(objs[w], types.MethodType)
                   and not _weakrefable(type(objs[w])) for w in hit[edge])

    def fan_in(edge):
        """How many edges of the group its targets receive, on average."""
        return sum(indegree[w] for w in hit[edge]) / len(hit[edge])

    usable = [edge for edge in counts if not hopeless(edge)]
    candidates = [frozenset([edge]) for edge in usable]
    by_type = collections.defaultdict(set)
    for src, kind in usable:
        by_type[src].add((src, kind))
    candidates += [frozenset(edges) for edges in by_type.values() if len(edges) > 1]

    def rank(edges):
        return (any(unweakrefable(e) for e in edges),
                -max(fan_in(e) for e in edges),
                min(_back_pointer_score(kind) for _, kind in edges),
                len(edges), -sum(counts[e] for e in edges), sorted(edges))

    for edges in sorted(candidates, key=rank):
        if not _has_cycle(nodes, adj, names, edges):
            ordered = sorted(edges, key=lambda e: (-fan_in(e), _back_pointer_score(e[1]), e))
            first = ordered[0]
            parts = []
            for src, kind in ordered:
                _, w = targets[src, kind]
                parts.append(_weakref_advice(f"{src}{kind}", names[w], type(objs[w])))
            return {"edge": " and ".join(f"{src}{kind}" for src, kind in ordered),
                    "edges": [f"{src}{kind}" for src, kind in ordered],
                    "advice": "make " + " and ".join(parts),
                    "kind": first[1],
                    "starts": sources[first][:_PATH_STARTS]}
    return None


def _weakref_advice(edge, target, target_type):
    """How to make the attribute ``edge`` (pointing at a ``target``) weak."""
    if target.startswith("method "):
        how = "weakref.WeakMethod"
    elif not _weakrefable(target_type):
        if _type_flags(target_type) & _TPFLAGS_HEAPTYPE:
            how = (f"weakref.ref; {target} needs '__weakref__' in its __slots__ "
                   "to be weakly referenced")
        else:
            how = (f"{target} cannot be weakly referenced: keep an id or a key "
                   "instead, or use a weakref.WeakValueDictionary/WeakSet")
    else:
        how = "weakref.ref or weakref.proxy"
    return f"{edge} a weak reference ({how})"


def _weakrefable(tp):
    return bool(_type_flags(tp) & _TPFLAGS_MANAGED_WEAKREF
                or type.__dict__["__weakrefoffset__"].__get__(tp))


def _hint(names):
    """Advice for well-known shapes, or None."""
    types_in = {name.split(" ", 1)[0] for name in names}
    if "traceback" in types_in and "frame" in types_in:
        return ("an exception kept alive by a frame in its own traceback (e.g. in "
                "a local variable after `except`, stored on an attribute, or "
                "`pytest.raises(...) as info`): keep only what you need (str(e), "
                "the type), store `e.with_traceback(None)`, call "
                "`traceback.clear_frames(e.__traceback__)`, or delete the variable "
                "when done")
    if "class" in types_in:
        return ("a class: every class is in a cycle with its __mro__ and __dict__, "
                "so a class created at run time becomes cyclic garbage when dropped")
    if "cell" in types_in and "function" in types_in:
        return ("a closure that refers to itself (a nested function calling itself "
                "by name, or stored in a variable of its enclosing function)")
    return None


# ------------------------------------------------------------------------------
# Analysing one collection's garbage.

class _Example:
    """One group's description, in strings (the first group of a shape)."""
    __slots__ = ("path", "types", "suggestion", "hint", "edges", "traceback")


def _analyze(collectable, uncollectable, tracemalloc_on):
    """Return (groups, examples, totals) describing the garbage, keeping no
    reference to any of it: groups is {shape key: [groups, objects, held,
    uncollectable, min size, max size, sites Counter, held types Counter]}."""
    objs = list(collectable) + list(uncollectable)
    n_collectable = len(collectable)
    index = {id(o): i for i, o in enumerate(objs)}
    succ = []
    get_referents = _gcx.get_referents
    for o in objs:
        targets = []
        for r in get_referents((o,)):
            j = index.get(id(r))
            if j is not None:
                targets.append(j)
        succ.append(targets)
    comp, ncomp = _tarjan(succ)
    members = [[] for _ in range(ncomp)]
    for i, c in enumerate(comp):
        members[c].append(i)
    cyclic = [c for c in range(ncomp)
              if len(members[c]) > 1 or members[c][0] in succ[members[c][0]]]

    # What the cycles hold without being in one: attribute each such object
    # to the first group that reaches it.
    owner = [-1] * len(objs)
    queue = collections.deque()
    for c in cyclic:
        for i in members[c]:
            owner[i] = c
            queue.append(i)
    while queue:
        v = queue.popleft()
        for w in succ[v]:
            if owner[w] == -1:
                owner[w] = owner[v]
                queue.append(w)
    in_cycle = set(cyclic)
    held = collections.Counter()
    held_types = collections.defaultdict(collections.Counter)
    for i, c in enumerate(owner):
        if c != -1 and comp[i] not in in_cycle:
            held[c] += 1
            held_types[c][_display(_type_key(type(objs[i])))] += 1

    infos = {}
    groups = {}
    examples = {}
    for c in cyclic:
        nodes_in = members[c]
        key, example = _describe_group(objs, succ, nodes_in, examples, infos)
        record = groups.get(key)
        if record is None:
            record = groups[key] = [0, 0, 0, 0, None, 0, collections.Counter(),
                                    collections.Counter()]
        size = len(nodes_in)
        record[0] += 1
        record[1] += size
        record[2] += held[c]
        record[3] += sum(1 for i in nodes_in if i >= n_collectable)
        record[4] = size if record[4] is None else min(record[4], size)
        record[5] = max(record[5], size)
        record[7].update(held_types[c])
        if example is not None:
            examples[key] = example
        if tracemalloc_on:
            site = _allocation_site(objs[_representative(objs, nodes_in)], key, examples)
            if site is not None:
                record[6][site] += 1
    totals = {"objects": len(objs), "uncollectable": len(objs) - n_collectable,
              "in_cycles": sum(len(members[c]) for c in cyclic)}
    return groups, examples, totals


def _representative(objs, nodes_in, names=None):
    """The member a path starts from: an instance of a class of the
    program's if there is one, else a function or method, else anything but
    a builtin container; of those, the first by name (so that the same
    shape gets the same path whatever the members' addresses)."""
    best, best_rank = nodes_in[0], (9, "")
    for i in nodes_in:
        tp = type(objs[i])
        if issubclass(tp, _INLINED):
            rank = 3
        elif _type_flags(tp) & _TPFLAGS_HEAPTYPE and not issubclass(tp, type):
            rank = 0
        elif tp in (types.FunctionType, types.MethodType):
            rank = 1
        else:
            rank = 2
        rank = (rank, names[i] if names is not None else "")
        if rank < best_rank:
            best, best_rank = i, rank
    return best


def _describe_group(objs, succ, nodes_in, examples, infos):
    """(shape key, _Example or None if the shape was described already)."""
    in_group = set(nodes_in)
    raw = {}
    absorbed = {}
    for i in nodes_in:
        wanted = {id(objs[j]): j for j in succ[i] if j in in_group}
        edges = _labels(objs[i], wanted, objs, infos) if wanted else []
        raw[i] = edges
        for j, text, kind, owned in edges:
            if owned and j != i:
                absorbed[j] = i
    # The merged graph: an instance's own __dict__ is part of the instance.
    adj = {}
    for i in nodes_in:
        if i in absorbed:
            continue
        out = []
        for j, text, kind, owned in raw[i]:
            if j in absorbed and absorbed[j] == i:
                for k, t2, k2, _ in raw[j]:
                    out.append((absorbed.get(k, k), *_through_dict(t2, k2)))
            else:
                out.append((absorbed.get(j, j), text, kind))
        adj[i] = out
    nodes = [i for i in nodes_in if i not in absorbed]
    names = {}
    for i in nodes:
        info = _type_info(infos, type(objs[i]))
        names[i] = info.key if info.plain else _node_key(objs[i])
    kinds = set()
    for v in nodes:
        for w, _, kind in adj[v]:
            kinds.add((names[v], kind, names[w]))
    key = tuple(sorted(kinds))
    if key in examples:
        return key, None
    example = _Example()
    containers = {i for i in nodes if type(objs[i]) in _INLINED}
    display = {i: _node_display(names[i]) for i in nodes}
    program_types = {i for i in nodes
                     if _type_flags(type(objs[i])) & _TPFLAGS_HEAPTYPE
                     and not issubclass(type(objs[i]), type)}
    suggestion = _suggest(nodes, adj, display, program_types, objs)
    if suggestion is not None:
        # the example path starts with the (first) edge to replace; of the
        # paths from its first few sources, the first in sorted order, so
        # that the same shape reads the same whatever the objects' addresses
        starts, first_kind = suggestion.pop("starts"), suggestion.pop("kind")
    else:
        starts, first_kind = [_representative(objs, nodes, names)], None
    members = set(nodes)
    example.path = min(_render_path(_shortest_cycle(start, adj, members, first_kind),
                                    display, containers) for start in starts)
    example.types = collections.Counter(_node_display(names[i]) for i in nodes)
    example.edges = [[_node_display(s), k, _node_display(d)] for s, k, d in key]
    example.suggestion = suggestion
    example.hint = _hint(set(names.values()))
    example.traceback = None
    return key, example


def _through_dict(text, kind):
    """The label of an edge leaving an instance's __dict__, as an attribute."""
    if text.startswith("['") and text.endswith("']"):
        name = text[2:-2]
        if _is_identifier(name):
            return "." + name, "." + name
    return ".__dict__" + text, ".__dict__" + kind


def _allocation_site(obj, key, examples):
    """Where tracemalloc saw obj allocated: 'file:line' of the innermost
    frame; the whole traceback goes into the shape's example."""
    import tracemalloc
    tb = tracemalloc.get_object_traceback(obj)
    if tb is None:
        return None
    site = f"{tb[0].filename}:{tb[0].lineno}"
    example = examples.get(key)
    if example is not None and example.traceback is None:
        example.traceback = tb.format()
    return site


# ------------------------------------------------------------------------------
# Reports.

class Shape:
    """One shape of cycle, aggregated over every group of that shape seen.

    key            the shape: sorted (source, edge kind, target) triples
    path           a shortest cycle of the first group seen, e.g.
                   ``Node.parent -> Node.children[3] -> Node``
    edges          the key for people: [source, label, target] lists
    types          members of the first group by type
    groups         groups of this shape
    objects        objects in them
    held           objects not in a cycle that only these groups kept alive
    held_types     their types
    uncollectable  members that were uncollectable (legacy tp_del objects)
    min_size, max_size   group sizes
    collections    collections that found at least one such group
    generations    {generation: groups}
    suggestion     {"edge", "edges", "advice"}: the attribute (or the
                   attributes of one type, "edges") that weak references
                   could replace to break every cycle of the first group,
                   and how; or None
    hint           advice for well-known shapes (exceptions and frames,
                   classes, closures), or None
    traceback      where tracemalloc saw a member of the first group allocated
                   (lines of tracemalloc.Traceback.format()), or None
    sites          {"file:line": groups} of those allocation sites
    """

    def __init__(self, key, example):
        self.key = key
        self.path = example.path
        self.edges = example.edges
        self.types = dict(example.types)
        self.suggestion = example.suggestion
        self.hint = example.hint
        self.traceback = example.traceback
        self.groups = self.objects = self.held = self.uncollectable = 0
        self.min_size = self.max_size = 0
        self.collections = 0
        self.generations = collections.Counter()
        self.sites = collections.Counter()
        self.held_types = collections.Counter()

    def _add(self, record, generation):
        count, objects, held, uncollectable, lo, hi, sites, held_types = record
        self.min_size = lo if not self.groups else min(self.min_size, lo)
        self.max_size = max(self.max_size, hi)
        self.groups += count
        self.objects += objects
        self.held += held
        self.uncollectable += uncollectable
        self.collections += 1
        if generation is not None:
            self.generations[generation] += count
        self.sites.update(sites)
        self.held_types.update(held_types)

    @property
    def name(self):
        """A short name for the shape (its example path)."""
        return self.path

    def sizes(self):
        if self.min_size == self.max_size:
            return f"{self.min_size} object{'s' if self.min_size != 1 else ''}"
        return f"{self.min_size}-{self.max_size} objects"

    def as_dict(self):
        return {
            "path": self.path, "edges": self.edges, "types": self.types,
            "groups": self.groups, "objects": self.objects,
            "min_size": self.min_size, "max_size": self.max_size,
            "held": self.held, "held_types": dict(self.held_types.most_common(5)),
            "uncollectable": self.uncollectable, "collections": self.collections,
            "generations": {str(g): n for g, n in sorted(self.generations.items())},
            "suggestion": self.suggestion, "hint": self.hint,
            "traceback": self.traceback,
            "sites": dict(self.sites.most_common(5)),
        }


class CycleReport:
    """Cyclic garbage, grouped by shape, over the collections it was fed.

    collections      collections that found garbage
    objects          garbage objects seen, in cycles or held by them
    in_cycles        of which in a cycle
    uncollectable    of which uncollectable
    groups           cycles (strongly connected groups)
    shapes           {key: Shape}
    stdlib_collected objects the stdlib collector collected meanwhile
                     (no_cycles() counts them: their shapes are unknown)
    errors           what went wrong while analysing (never raised: the
                     analysis runs inside a collection)

    ``bool(report)`` is true when any cyclic garbage was seen.
    """

    def __init__(self):
        self.collections = 0
        self.objects = self.in_cycles = self.uncollectable = self.groups = 0
        self.shapes = {}
        self.stdlib_collected = 0
        self.ignored = 0
        self.errors = []
        self._lock = threading.Lock()

    def __bool__(self):
        return bool(self.objects or self.stdlib_collected)

    def __repr__(self):
        return (f"<CycleReport: {self.groups} groups of {len(self.shapes)} shapes, "
                f"{self.objects} objects in {self.collections} collections>")

    def _add(self, generation, groups, examples, totals, errors=()):
        with self._lock:
            if totals["objects"]:
                self.collections += 1
            self.objects += totals["objects"]
            self.in_cycles += totals["in_cycles"]
            self.uncollectable += totals["uncollectable"]
            for key, record in groups.items():
                shape = self.shapes.get(key)
                if shape is None:
                    example = examples.get(key)
                    if example is None:
                        continue
                    shape = self.shapes[key] = Shape(key, example)
                elif shape.traceback is None and key in examples:
                    shape.traceback = examples[key].traceback
                shape._add(record, generation)
                self.groups += record[0]
            self.errors.extend(errors)

    def top(self, n=None):
        """The shapes, most groups first (then most objects)."""
        ranked = sorted(self.shapes.values(),
                        key=lambda s: (-s.groups, -s.objects, s.path))
        return ranked if n is None else ranked[:n]

    def summary(self):
        if not self.groups and not self.objects and self.stdlib_collected:
            return (f"the stdlib collector collected {self.stdlib_collected} objects "
                    "(an explicit gc.collect(); shapes unknown: install gcx, "
                    "e.g. with gcx.installed(), to see them)")
        shapes = len(self.shapes)
        text = (f"{self.in_cycles} objects in {self.groups} cycle"
                f"{'s' if self.groups != 1 else ''} of {shapes} shape"
                f"{'s' if shapes != 1 else ''}")
        extra = self.objects - self.in_cycles
        if extra:
            text += f", holding {extra} more"
        if self.uncollectable:
            text += f", {self.uncollectable} uncollectable"
        text += f", in {self.collections} collection{'s' if self.collections != 1 else ''}"
        if self.ignored:
            text += f" ({self.ignored} cycles of classes or ignored types left out)"
        if self.stdlib_collected:
            text += (f"; the stdlib collector collected {self.stdlib_collected} "
                     "objects meanwhile (shapes unknown: install gcx to see them)")
        return text

    def text(self, top=10, tracebacks=True):
        """The report for people."""
        lines = [f"gcx cycle report: {self.summary()}"]
        for rank, shape in enumerate(self.top(top), 1):
            lines.append("")
            lines.append(f"#{rank}  {shape.groups} group{'s' if shape.groups != 1 else ''}"
                         f" of {shape.sizes()} ({shape.objects} objects) in "
                         f"{shape.collections} collection"
                         f"{'s' if shape.collections != 1 else ''}")
            lines.append(f"    {shape.path}")
            members = ", ".join(f"{n} {t}" for t, n in
                                sorted(shape.types.items(), key=lambda x: (-x[1], x[0])))
            lines.append(f"    members: {members}")
            if shape.held:
                held = ", ".join(f"{n} {t}" for t, n in shape.held_types.most_common(3))
                lines.append(f"    also kept alive: {shape.held} objects ({held})")
            if shape.uncollectable:
                lines.append(f"    uncollectable members: {shape.uncollectable}")
            if shape.suggestion is not None:
                lines.append(f"    break it: {shape.suggestion['advice']}")
            if shape.hint:
                lines.append(f"    note: {shape.hint}")
            if tracebacks and shape.traceback:
                lines.append("    allocated at (tracemalloc):")
                lines.extend("    " + line for line in shape.traceback)
        hidden = len(self.shapes) - min(len(self.shapes), top or len(self.shapes))
        if hidden:
            lines.append("")
            lines.append(f"... and {hidden} more shapes")
        if self.errors:
            lines.append("")
            lines.extend(f"error while analysing: {e}" for e in self.errors[:5])
        return "\n".join(lines)

    def __str__(self):
        return self.text()

    def as_dict(self, top=None):
        """The report for tools (what json() writes)."""
        return {
            "collections": self.collections, "objects": self.objects,
            "in_cycles": self.in_cycles, "uncollectable": self.uncollectable,
            "groups": self.groups, "stdlib_collected": self.stdlib_collected,
            "ignored": self.ignored,
            "shapes": [shape.as_dict() for shape in self.top(top)],
            "errors": list(self.errors),
        }

    def json(self, top=None, **kwargs):
        return json.dumps(self.as_dict(top), **kwargs)


# ------------------------------------------------------------------------------
# The hook and who listens to it.

_listeners = []          # CycleReports recording now
_debug = None            # the DEBUG_CYCLES report, while the flag is set
_debug_report = CycleReport()
_hook_lock = threading.RLock()


def _hook(generation, collectable, uncollectable):
    """The garbage hook: analyse once, feed every listener.  Runs inside a
    gcx collection; must not raise, nor keep any of the garbage."""
    listeners = list(_listeners)
    if not listeners:
        return
    # No stdlib collection in the middle of this one (the analysis allocates).
    stdlib_on = _stdlib.isenabled()
    if stdlib_on:
        _stdlib.disable()
    errors = []
    groups, examples, totals = {}, {}, {"objects": 0, "uncollectable": 0, "in_cycles": 0}
    try:
        import tracemalloc
        tracing = tracemalloc.is_tracing()
        groups, examples, totals = _analyze_guarded(collectable, uncollectable, tracing)
    except Exception as exc:          # never let one escape into the collector
        errors.append(f"{type(exc).__name__}: {exc}")
        exc.__traceback__ = None
        del exc
    finally:
        if stdlib_on:
            _stdlib.enable()
    for listener in listeners:
        listener._add(generation, groups, examples, totals, errors)


def _analyze_guarded(collectable, uncollectable, tracing):
    # a separate frame: the garbage referenced from locals here is gone
    # when it returns, even if the caller keeps running
    return _analyze(collectable, uncollectable, tracing)


def _update_hook():
    _gcx.set_garbage_hook(_hook if _listeners else None)


def _listen(report):
    with _hook_lock:
        _listeners.append(report)
        _update_hook()


def _unlisten(report):
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

    def __init__(self, report=None, collect=False):
        self.report = report if report is not None else CycleReport()
        self._collect = collect

    def __enter__(self):
        _listen(self.report)
        return self.report

    def __exit__(self, *exc_info):
        try:
            if self._collect:
                _gcx.collect(2)
        finally:
            _unlisten(self.report)
        return False


def analyze(objects):
    """A CycleReport of the objects given (e.g. gc.garbage after
    DEBUG_SAVEALL): cycles among them, as one collection."""
    objects = list(objects)
    report = CycleReport()
    try:
        import tracemalloc
        groups, examples, totals = _analyze_guarded(objects, (), tracemalloc.is_tracing())
        report._add(None, groups, examples, totals)
    finally:
        del objects
    return report


def debug_report():
    """The CycleReport of every collection since gcx.set_debug() was last
    given DEBUG_CYCLES (kept after the flag is cleared, until it is set
    again)."""
    return _debug_report


class _DebugPrinter(CycleReport):
    """DEBUG_CYCLES: each collection's cycles to stderr, as DEBUG_COLLECTABLE
    prints its objects, and into debug_report()."""

    def _add(self, generation, groups, examples, totals, errors=()):
        _debug_report._add(generation, groups, examples, totals, errors)
        if not groups and not errors:
            return
        one = CycleReport()
        one._add(generation, groups, examples, totals, errors)
        out = sys.stderr
        if out is None:
            return
        try:
            out.write(f"gcx: cycles in generation {generation}: {one.summary()}\n")
            for shape in one.top(5):
                out.write(f"gcx:   {shape.groups} x {shape.sizes()}: {shape.path}\n")
            if len(one.shapes) > 5:
                out.write(f"gcx:   ... and {len(one.shapes) - 5} more shapes\n")
            for error in errors:
                out.write(f"gcx:   error while analysing: {error}\n")
        except Exception:
            pass


def _set_debug_cycles(flag):
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
