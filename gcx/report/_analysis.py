"""The analysis of one collection's garbage: split it into strongly
connected groups (the cycles), describe each group (its shape, an example
path, the advice) and tally the groups by shape, keeping no reference to
any of the garbage.

gcx's own frames are never part of a group: a frame whose code is gcx's
(the gcx package, the gcx_pytest plugin) or runpy's (which runs a program
for ``gcx report`` and ``gcx run``) is left out of the graph with
everything that only it made garbage, so a cycle that exists only through
such a frame is not reported, and a cycle of the program's own that passes
by one (``frame <module>.f_back -> frame _run_code``) is reported without
it.
"""

import collections
import os
import sys
import types
from collections.abc import Sequence

from .. import _gcx
from . import _advice, _graph, _labels, _names, _render
from ._model import Analysis, Edge, EdgeKind, Example, GroupTally, ShapeKey, Totals
from ._names import TPFLAGS_HEAPTYPE, type_flags

# The modules whose frames are gcx's own, not the program's.
_OWN_MODULES = ("gcx", "gcx_pytest", "runpy")


def _is_own_module_name(name: object) -> bool:
    return type(name) is str and (name in _OWN_MODULES or name.startswith("gcx."))


def own_code_files() -> set[str]:
    """The source files of gcx's modules and runpy's, as code objects name
    them: the modules in sys.modules whose name, or whose spec's name
    (``python -m gcx`` runs gcx/__main__.py as ``__main__``), is gcx's.
    Read at each call, running no import and no program code.  A program
    run as a file (the bundled demo, gcx/_demo.py) is never imported as a
    gcx module, so its frames stay the program's."""
    files = {"<frozen runpy>"}
    for name, module in list(sys.modules.items()):
        if not issubclass(type(module), types.ModuleType):
            continue
        namespace = _names.module_dict(module)
        if not _is_own_module_name(name):
            spec = namespace.get("__spec__")
            try:
                if spec is None or not _is_own_module_name(object.__getattribute__(spec, "name")):
                    continue
            except Exception:
                continue
        path = namespace.get("__file__")
        if type(path) is str:
            files.add(path)
            files.add(os.path.abspath(path))
    return files


def is_own_frame(obj: object, files: set[str]) -> bool:
    """Whether obj is a frame running code of one of ``files``."""
    if type(obj) is not types.FrameType:
        return False
    try:
        return obj.f_code.co_filename in files
    except Exception:
        return False


def analyze_garbage(collectable: Sequence[object], uncollectable: Sequence[object],
                    tracemalloc_on: bool) -> Analysis:
    """Describe the garbage, keeping no reference to any of it."""
    objs = [*collectable, *uncollectable]
    n_collectable = len(collectable)
    index = {id(o): i for i, o in enumerate(objs)}
    own = _own_frames(objs)
    succ = _successors(objs, index, set(own))
    components = _graph.tarjan(succ)
    members: list[list[int]] = [[] for _ in range(components.count)]
    for i, c in enumerate(components.of):
        members[c].append(i)
    cyclic = [c for c in range(components.count)
              if len(members[c]) > 1 or members[c][0] in succ[members[c][0]]]
    owner = _owners(succ, cyclic, members)

    # What each group holds without it being in a cycle.
    in_cycle = set(cyclic)
    held: collections.Counter[int] = collections.Counter()
    held_types: collections.defaultdict[int, collections.Counter[str]] = \
        collections.defaultdict(collections.Counter)
    for i, c in enumerate(owner):
        if c != -1 and components.of[i] not in in_cycle:
            held[c] += 1
            held_types[c][_names.display(_names.type_key(type(objs[i])))] += 1

    infos: _labels.TypeInfos = {}
    analysis = Analysis()
    for c in cyclic:
        nodes_in = members[c]
        key = _describe_group(objs, succ, nodes_in, analysis.examples, infos)
        tally = analysis.tallies.get(key)
        if tally is None:
            tally = analysis.tallies[key] = GroupTally()
        tally.add_group(len(nodes_in), held[c],
                        sum(1 for i in nodes_in if i >= n_collectable), held_types[c])
        if tracemalloc_on:
            site = _allocation_site(objs[_representative(objs, nodes_in)], analysis.examples[key])
            if site is not None:
                tally.sites[site] += 1
    gone = _made_garbage_by(own, objs, owner, index) if own else set()
    analysis.totals = Totals(
        objects=len(objs) - len(gone),
        uncollectable=sum(1 for i in range(n_collectable, len(objs)) if i not in gone),
        in_cycles=sum(len(members[c]) for c in cyclic))
    return analysis


def _own_frames(objs: Sequence[object]) -> list[int]:
    """The garbage's frames of gcx's and runpy's code."""
    frames = [i for i, o in enumerate(objs) if type(o) is types.FrameType]
    if not frames:
        return []
    files = own_code_files()
    return [i for i in frames if is_own_frame(objs[i], files)]


def _successors(objs: Sequence[object], index: dict[int, int],
                excluded: set[int]) -> list[list[int]]:
    """The graph of the garbage: each object's referents among it, with no
    edge from or to an ``excluded`` object."""
    succ: list[list[int]] = []
    get_referents = _gcx.referents_of
    for i, o in enumerate(objs):
        targets = []
        if i not in excluded:
            for r in get_referents((o,)):
                j = index.get(id(r))
                if j is not None and j not in excluded:
                    targets.append(j)
        succ.append(targets)
    return succ


def _owners(succ: Sequence[Sequence[int]], cyclic: Sequence[int],
            members: Sequence[Sequence[int]]) -> list[int]:
    """For each object, the group that holds it: its own if it is in a
    cycle, else the first group that reaches it (breadth first); -1 if
    none does."""
    owner = [-1] * len(succ)
    queue: collections.deque[int] = collections.deque()
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
    return owner


def _made_garbage_by(own: list[int], objs: Sequence[object], owner: list[int],
                     index: dict[int, int]) -> set[int]:
    """gcx's own frames, and the garbage reachable from them that no cycle
    of the program's holds: not counted in the totals."""
    gone = set(own)
    stack = list(own)
    while stack:
        v = stack.pop()
        for r in _gcx.referents_of((objs[v],)):
            j = index.get(id(r))
            if j is not None and j not in gone and owner[j] == -1:
                gone.add(j)
                stack.append(j)
    return gone


def _representative(objs: Sequence[object], nodes_in: Sequence[int],
                    names: dict[int, str] | None = None) -> int:
    """The member a path starts from: an instance of a class of the
    program's if there is one, else a function or method, else anything but
    a builtin container; of those, the first by name (so that the same
    shape gets the same path whatever the members' addresses)."""
    best, best_rank = nodes_in[0], (9, "")
    for i in nodes_in:
        tp = type(objs[i])
        if issubclass(tp, _labels.INLINED):
            rank = 3
        elif type_flags(tp) & TPFLAGS_HEAPTYPE and not issubclass(tp, type):
            rank = 0
        elif tp in (types.FunctionType, types.MethodType):
            rank = 1
        else:
            rank = 2
        ranked = (rank, names[i] if names is not None else "")
        if ranked < best_rank:
            best, best_rank = i, ranked
    return best


def _describe_group(objs: Sequence[object], succ: Sequence[Sequence[int]],
                    nodes_in: Sequence[int], examples: dict[ShapeKey, Example],
                    infos: _labels.TypeInfos) -> ShapeKey:
    """The group's shape key; describes the group in ``examples`` if its
    shape has no example yet."""
    in_group = set(nodes_in)
    raw: dict[int, list[Edge]] = {}
    absorbed: dict[int, int] = {}
    for i in nodes_in:
        wanted = {id(objs[j]): j for j in succ[i] if j in in_group}
        edges = _labels.labels(objs[i], wanted, objs, infos) if wanted else []
        raw[i] = edges
        for edge in edges:
            if edge.owned and edge.target != i:
                absorbed[edge.target] = i
    # The merged graph: an instance's own __dict__ is part of the instance.
    adj: dict[int, list[Edge]] = {}
    for i in nodes_in:
        if i in absorbed:
            continue
        out = []
        for edge in raw[i]:
            if absorbed.get(edge.target) == i:
                for inner in raw[edge.target]:
                    out.append(Edge(absorbed.get(inner.target, inner.target),
                                    _labels.through_dict(inner.name)))
            elif edge.target in absorbed:
                out.append(Edge(absorbed.get(edge.target, edge.target), edge.name))
            else:
                out.append(edge)
        adj[i] = out
    nodes = [i for i in nodes_in if i not in absorbed]
    names: dict[int, str] = {}
    for i in nodes:
        info = _labels.type_info(infos, type(objs[i]))
        names[i] = info.key if info.plain else _names.node_key(objs[i])
    kinds = {(names[v], edge.name.kind, names[edge.target]) for v in nodes for edge in adj[v]}
    key: ShapeKey = tuple(EdgeKind(*kind) for kind in sorted(kinds))
    if key not in examples:
        examples[key] = _example(objs, nodes, adj, names, key)
    return key


def _example(objs: Sequence[object], nodes: list[int], adj: dict[int, list[Edge]],
             names: dict[int, str], key: ShapeKey) -> Example:
    """The description of one group, in strings."""
    containers = {i for i in nodes if type(objs[i]) in _labels.INLINED}
    display = {i: _names.node_display(names[i]) for i in nodes}
    program_types = {i for i in nodes
                     if type_flags(type(objs[i])) & TPFLAGS_HEAPTYPE
                     and not issubclass(type(objs[i]), type)}
    suggestion = _advice.suggest(nodes, adj, display, program_types, objs)
    starts: Sequence[int]
    if suggestion is not None:
        # the example path starts with the (first) edge to replace; of the
        # paths from its first few sources, the first in sorted order, so
        # that the same shape reads the same whatever the objects' addresses
        starts, first_kind = suggestion.sources, suggestion.attributes[0].kind
    else:
        starts, first_kind = [_representative(objs, nodes, names)], None
    members = set(nodes)
    path = min(_render.render_path(_graph.shortest_cycle(start, adj, members, first_kind),
                                   display, containers) for start in starts)
    return Example(
        path=path,
        types=collections.Counter(display[i] for i in nodes),
        edges=[[_names.node_display(k.source), k.label, _names.node_display(k.target)]
               for k in key],
        suggestion=suggestion.as_dict() if suggestion is not None else None,
        hint=_advice.hint(sorted(set(display.values()))))


def _allocation_site(obj: object, example: Example) -> str | None:
    """Where tracemalloc saw obj allocated: 'file:line' of the innermost
    frame; the whole traceback goes into the shape's example (if it has
    none yet)."""
    import tracemalloc
    tb = tracemalloc.get_object_traceback(obj)
    if tb is None:
        return None
    if example.traceback is None:
        example.traceback = tb.format()
    return f"{tb[0].filename}:{tb[0].lineno}"

