"""Advice: which attribute a weak reference could replace to break every
cycle of a group, how to make it weak, and notes for well-known shapes
(an exception kept by its own traceback, classes, closures, an lru_cache on
a method).

The attribute is chosen by the graph (see suggest()); a name only breaks
ties.  Nothing here keeps an object: the advice is strings.
"""

import collections
import re
import types
from collections.abc import Mapping, Sequence

from . import _graph
from ._model import Attribute, Edge, Suggestion
from ._names import TPFLAGS_HEAPTYPE, TPFLAGS_MANAGED_WEAKREF, type_flags, type_weakrefoffset

# Words that name a reference back to an owner ("parent", "prev_node",
# "ownerRef"): such an attribute is the likeliest to be made weak.
_BACK_POINTER_WORDS = frozenset((
    "parent", "parents", "owner", "owners", "container", "prev", "previous", "back",
    "outer", "up", "root", "master", "manager", "context", "ctx", "origin", "holder",
    "host", "app", "registry", "self", "pool", "supervisor", "enclosing"))

_PATH_STARTS = 8    # sources of the suggested edge tried for the example path


def _back_pointer_score(kind: str) -> int:
    words = re.findall(r"[a-z]+|[A-Z][a-z]*", kind)
    return 0 if any(word.lower() in _BACK_POINTER_WORDS for word in words) else 1


def suggest(nodes: Sequence[int], adj: Mapping[int, Sequence[Edge]], names: Mapping[int, str],
            program_types: set[int], objs: Sequence[object]) -> Suggestion | None:
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
    counts: collections.Counter[Attribute] = collections.Counter()
    targets: dict[Attribute, tuple[int, int]] = {}
    hit: collections.defaultdict[Attribute, set[int]] = collections.defaultdict(set)
    sources: collections.defaultdict[Attribute, list[int]] = collections.defaultdict(list)
    for v in nodes:
        if v not in program_types:
            continue
        for edge in adj.get(v, ()):
            kind = edge.name.kind
            if kind.startswith(".") and kind != ".?" and not kind.startswith(".__"):
                attribute = Attribute(names[v], kind)
                counts[attribute] += 1
                targets.setdefault(attribute, (v, edge.target))
                hit[attribute].add(edge.target)
                sources[attribute].append(v)
    if not counts:
        return None
    indegree = collections.Counter(edge.target for v in nodes for edge in adj.get(v, ()))
    through_traceback = any(names[v].split(" ", 1)[0] in ("traceback", "frame")
                            for v in nodes)

    def hopeless(attribute: Attribute) -> bool:
        return through_traceback and any(isinstance(objs[w], BaseException)
                                         for w in hit[attribute])

    def unweakrefable(attribute: Attribute) -> bool:
        return any(not isinstance(objs[w], types.MethodType)
                   and not weakrefable(type(objs[w])) for w in hit[attribute])

    def fan_in(attribute: Attribute) -> float:
        """How many edges of the group its targets receive, on average."""
        return sum(indegree[w] for w in hit[attribute]) / len(hit[attribute])

    usable = [attribute for attribute in counts if not hopeless(attribute)]
    candidates = [frozenset([attribute]) for attribute in usable]
    by_type: collections.defaultdict[str, set[Attribute]] = collections.defaultdict(set)
    for attribute in usable:
        by_type[attribute.source].add(attribute)
    candidates += [frozenset(attrs) for attrs in by_type.values() if len(attrs) > 1]

    def rank(attrs: frozenset[Attribute]) -> tuple[bool, float, int, int, int, list[Attribute]]:
        return (any(unweakrefable(a) for a in attrs),
                -max(fan_in(a) for a in attrs),
                min(_back_pointer_score(a.kind) for a in attrs),
                len(attrs), -sum(counts[a] for a in attrs), sorted(attrs))

    for attrs in sorted(candidates, key=rank):
        if not _graph.has_cycle(nodes, adj, names, attrs):
            ordered = sorted(attrs, key=lambda a: (-fan_in(a), _back_pointer_score(a.kind), a))
            parts = []
            for attribute in ordered:
                w = targets[attribute][1]
                parts.append(weakref_advice(str(attribute), names[w], type(objs[w])))
            return Suggestion(tuple(ordered), "make " + " and ".join(parts),
                              tuple(sources[ordered[0]][:_PATH_STARTS]))
    return None


def weakref_advice(edge: str, target: str, target_type: type) -> str:
    """How to make the attribute ``edge`` (pointing at a ``target``) weak."""
    if target.startswith("method "):
        how = "weakref.WeakMethod"
    elif not weakrefable(target_type):
        if type_flags(target_type) & TPFLAGS_HEAPTYPE:
            how = (f"weakref.ref; {target} needs '__weakref__' in its __slots__ "
                   "to be weakly referenced")
        else:
            how = (f"{target} cannot be weakly referenced: keep an id or a key "
                   "instead, or use a weakref.WeakValueDictionary/WeakSet")
    else:
        how = "weakref.ref or weakref.proxy"
    return f"{edge} a weak reference ({how})"


def weakrefable(tp: type) -> bool:
    return bool(type_flags(tp) & TPFLAGS_MANAGED_WEAKREF or type_weakrefoffset(tp))


def hint(names: Sequence[str]) -> str | None:
    """Advice for well-known shapes, or None; ``names`` are the group's
    members as node_display() names them."""
    heads = {name.split(" ", 1)[0] for name in names}
    if "traceback" in heads and "frame" in heads:
        return ("an exception kept alive by a frame in its own traceback (e.g. in "
                "a local variable after `except`, stored on an attribute, or "
                "`pytest.raises(...) as info`): keep only what you need (str(e), "
                "the type), store `e.with_traceback(None)`, call "
                "`traceback.clear_frames(e.__traceback__)`, or delete the variable "
                "when done")
    if "lru_cache" in heads:
        return _lru_cache_hint(names)
    if "class" in heads:
        return ("a class: every class is in a cycle with its __mro__ and __dict__, "
                "so a class created at run time becomes cyclic garbage when dropped")
    if "cell" in heads and "function" in heads:
        return ("a closure that refers to itself (a nested function calling itself "
                "by name, or stored in a variable of its enclosing function)")
    return None


def _lru_cache_hint(names: Sequence[str]) -> str:
    """An lru_cache whose cache leads back to it.  On a method (the cache
    is a class attribute, ``self`` in every key), the cache holds every
    instance it was called on for as long as the class lives: a leak while
    the program runs, cyclic garbage only once the class is dropped."""
    caches = sorted({name.split(" ", 1)[1] for name in names if name.startswith("lru_cache ")})
    members = set(names)
    methods = [q for q in caches if "." in q and q.rpartition(".")[0] in members]
    if methods:
        owners = " and ".join(sorted({q.rpartition(".")[0] for q in methods}))
        one = len(methods) == 1
        return (f"functools.lru_cache on the method{'' if one else 's'} "
                f"{', '.join(methods)}: {'its cache keeps' if one else 'their caches keep'} "
                f"every {owners} it was called on alive (self is part of each key) for as "
                "long as the class lives, so they are freed only with the class.  Cache a "
                "function of what the result depends on instead of a method, use "
                "functools.cached_property for a value per instance, or keep a cache per "
                "instance (an attribute, or a weakref.WeakKeyDictionary keyed by it)")
    return (f"the cache of {', '.join(caches)} (functools.lru_cache) holds objects that "
            "lead back to it, in its keys or results: they live as long as the cached "
            "function.  Cache on values that do not refer back to it, or call "
            "cache_clear() when done")
