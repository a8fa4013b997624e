"""Graph algorithms over the garbage of one collection: strongly connected
components (Tarjan), whether a group keeps a cycle once some edges are
removed, and a shortest cycle through a member.

Nodes are indices into the analysis's objects.  Every algorithm is
iterative, never recursive: the garbage can be one long chain.
"""

import collections
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ._model import Attribute, Edge, Step


@dataclass(frozen=True, slots=True)
class Components:
    """The strongly connected components of a graph: ``of[v]`` is node v's
    component, numbered 0 to ``count`` - 1."""
    of: list[int]
    count: int


def tarjan(succ: Sequence[Sequence[int]]) -> Components:
    """Strongly connected components of the graph ``succ`` (each node's
    successors)."""
    n = len(succ)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack: list[int] = []
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
    return Components(comp, ncomp)


def has_cycle(nodes: Iterable[int], adj: Mapping[int, Sequence[Edge]],
              names: Mapping[int, str], skip: Iterable[Attribute]) -> bool:
    """Whether the graph on ``nodes`` still has a cycle once every edge of an
    attribute in ``skip`` is removed."""
    state = dict.fromkeys(nodes, 0)       # 0 new, 1 on the path, 2 done
    removed = {(a.source, a.kind) for a in skip}
    for root in state:
        if state[root]:
            continue
        state[root] = 1
        work: list[tuple[int, Iterator[Edge]]] = [(root, iter(adj.get(root, ())))]
        while work:
            v, edges = work[-1]
            for edge in edges:
                w = edge.target
                if w not in state or (names[v], edge.name.kind) in removed:
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


def shortest_cycle(start: int, adj: Mapping[int, Sequence[Edge]], members: Container[int],
                   first_kind: str | None = None) -> list[Step]:
    """A shortest cycle through ``start`` (leaving it by an edge of kind
    ``first_kind`` if given): each step a member and the label of the edge
    leaving it, ending back at start."""
    parent: dict[int, Step] = {}
    queue: collections.deque[int] = collections.deque()
    for edge in adj.get(start, ()):
        w = edge.target
        if first_kind is not None and edge.name.kind != first_kind:
            continue
        if w == start:
            return [Step(start, edge.name.text)]
        if w in members and w not in parent:
            parent[w] = Step(start, edge.name.text)
            queue.append(w)
    while queue:
        v = queue.popleft()
        for edge in adj.get(v, ()):
            w = edge.target
            if w == start:
                steps = [Step(v, edge.name.text)]
                while v != start:
                    step = parent[v]
                    steps.append(step)
                    v = step.node
                steps.reverse()
                return steps
            if w in members and w not in parent and w != start:
                parent[w] = Step(v, edge.name.text)
                queue.append(w)
    return [Step(start, "")]
