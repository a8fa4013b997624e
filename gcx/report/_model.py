"""The data model of cycle reports: what the analysis of one collection's
garbage yields (edges, groups tallied by shape, one example per shape,
totals), and what a report aggregates over collections (Shape,
CycleReport).

Everything here holds strings and numbers only, never an object of the
garbage: a report outlives the collection that fed it.  Indices (``Edge.target``,
``Step.node``) number the garbage of one analysis and are never kept in a
report.
"""

import threading
from collections import Counter
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, NamedTuple

from . import _render


# EdgeName, Edge and Step are made once per reference of the garbage: plain
# (not frozen) slotted dataclasses, whose __init__ is cheaper; never changed.

@dataclass(slots=True)
class EdgeName:
    """How one reference is named: ``text`` is what a path shows ("[3]",
    ".parent", "['name']"), ``kind`` what a shape keeps ("[]", ".parent",
    "['name']")."""
    text: str
    kind: str


@dataclass(slots=True)
class Edge:
    """A reference from one member of a group to ``target`` (an index into
    the analysis's objects).  ``owned``: the target is the source's own
    ``__dict__`` (merged into the source in shapes)."""
    target: int
    name: EdgeName
    owned: bool = False


@dataclass(frozen=True, slots=True, order=True)
class Attribute:
    """One attribute of one type, as the advice names it: ``Node`` +
    ``.parent``."""
    source: str
    kind: str

    def __str__(self) -> str:
        return self.source + self.kind


class EdgeKind(NamedTuple):
    """One element of a shape's key: (source type, label, target type).  A
    tuple, as ``Shape.key`` has always been made of."""
    source: str
    label: str
    target: str


ShapeKey = tuple[EdgeKind, ...]


@dataclass(slots=True)
class Step:
    """One step of a cycle's path: a member and the label of the edge that
    leaves it."""
    node: int
    text: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The attributes that weak references could replace to break every
    cycle of a group (the first is the one paths start with), the advice
    in words, and the members holding the first one (where example paths
    start)."""
    attributes: tuple[Attribute, ...]
    advice: str
    sources: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        """The public form (``Shape.suggestion``)."""
        return {"edge": " and ".join(map(str, self.attributes)),
                "edges": [str(a) for a in self.attributes],
                "advice": self.advice}


@dataclass(slots=True)
class Example:
    """The description of the first group of a shape, in strings.
    ``suggestion`` is in its public form (Suggestion.as_dict())."""
    path: str
    types: Counter[str]
    edges: list[list[str]]
    suggestion: dict[str, Any] | None
    hint: str | None
    traceback: list[str] | None = None


@dataclass(slots=True)
class GroupTally:
    """The groups of one shape found in one collection."""
    groups: int = 0
    objects: int = 0
    held: int = 0              # objects not in a cycle that only these groups kept alive
    uncollectable: int = 0
    min_size: int = 0
    max_size: int = 0
    sites: Counter[str] = field(default_factory=Counter)
    held_types: Counter[str] = field(default_factory=Counter)

    def add_group(self, size: int, held: int, uncollectable: int,
                  held_types: Counter[str]) -> None:
        self.min_size = size if not self.groups else min(self.min_size, size)
        self.max_size = max(self.max_size, size)
        self.groups += 1
        self.objects += size
        self.held += held
        self.uncollectable += uncollectable
        self.held_types.update(held_types)


@dataclass(frozen=True, slots=True)
class Totals:
    """One collection's garbage: all of it that the report accounts for,
    of which uncollectable, of which in a cycle."""
    objects: int = 0
    uncollectable: int = 0
    in_cycles: int = 0


@dataclass(slots=True)
class Analysis:
    """One collection's garbage, described: the groups by shape, an example
    of each shape, the totals, and what went wrong."""
    tallies: dict[ShapeKey, GroupTally] = field(default_factory=dict)
    examples: dict[ShapeKey, Example] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    errors: list[str] = field(default_factory=list)


def split_analysis(analysis: Analysis,
                   first: Callable[[ShapeKey], bool]) -> tuple[Analysis, Analysis]:
    """The groups of the shapes ``first`` picks, and the others, each with
    its totals (garbage that neither part's groups account for counts in
    the second); the errors go with the first."""
    parts = (Analysis(errors=list(analysis.errors)), Analysis())
    for key, tally in analysis.tallies.items():
        part = parts[0] if first(key) else parts[1]
        part.tallies[key] = tally
        if key in analysis.examples:
            part.examples[key] = analysis.examples[key]
    tallies = parts[0].tallies.values()
    chosen = parts[0].totals = Totals(objects=sum(t.objects + t.held for t in tallies),
                                      uncollectable=sum(t.uncollectable for t in tallies),
                                      in_cycles=sum(t.objects for t in tallies))
    whole = analysis.totals
    parts[1].totals = Totals(objects=whole.objects - chosen.objects,
                             uncollectable=whole.uncollectable - chosen.uncollectable,
                             in_cycles=whole.in_cycles - chosen.in_cycles)
    return parts


def is_module_shape(key: ShapeKey) -> bool:
    """Whether a shape is made of a module's definitions: a class, or a
    module's globals (a function's ``__globals__``, a frame's ``f_globals``),
    each in a cycle as long as the module lives."""
    return any(kind.source.startswith("class ") or kind.target.startswith("class ")
               or kind.label in (".__globals__", ".f_globals") for kind in key)


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
                   classes, closures, lru_cache on a method), or None
    traceback      where tracemalloc saw a member of the first group allocated
                   (lines of tracemalloc.Traceback.format()), or None
    sites          {"file:line": groups} of those allocation sites
    """

    key: ShapeKey
    path: str
    edges: list[list[str]]
    types: dict[str, int]
    suggestion: dict[str, Any] | None
    hint: str | None
    traceback: list[str] | None
    groups: int
    objects: int
    held: int
    uncollectable: int
    min_size: int
    max_size: int
    collections: int
    generations: Counter[int]
    sites: Counter[str]
    held_types: Counter[str]

    def __init__(self, key: ShapeKey, example: Example) -> None:
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
        self.generations = Counter()
        self.sites = Counter()
        self.held_types = Counter()

    def _add(self, tally: GroupTally, generation: int | None) -> None:
        self.min_size = tally.min_size if not self.groups else min(self.min_size, tally.min_size)
        self.max_size = max(self.max_size, tally.max_size)
        self.groups += tally.groups
        self.objects += tally.objects
        self.held += tally.held
        self.uncollectable += tally.uncollectable
        self.collections += 1
        if generation is not None:
            self.generations[generation] += tally.groups
        self.sites.update(tally.sites)
        self.held_types.update(tally.held_types)

    @property
    def name(self) -> str:
        """A short name for the shape (its example path)."""
        return self.path

    def sizes(self) -> str:
        if self.min_size == self.max_size:
            return f"{self.min_size} object{'s' if self.min_size != 1 else ''}"
        return f"{self.min_size}-{self.max_size} objects"

    def as_dict(self) -> dict[str, Any]:
        return _render.shape_dict(self)


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
    ignored          groups left out (no_cycles(): classes, ignored types)
    errors           what went wrong while analysing (never raised: the
                     analysis runs inside a collection)

    ``bool(report)`` is true when any cyclic garbage was seen.
    """

    collections: int
    objects: int
    in_cycles: int
    uncollectable: int
    groups: int
    shapes: dict[ShapeKey, Shape]
    stdlib_collected: int
    ignored: int
    errors: list[str]

    def __init__(self) -> None:
        self.collections = 0
        self.objects = self.in_cycles = self.uncollectable = self.groups = 0
        self.shapes = {}
        self.stdlib_collected = 0
        self.ignored = 0
        self.errors = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.objects or self.stdlib_collected)

    def __repr__(self) -> str:
        return (f"<CycleReport: {self.groups} groups of {len(self.shapes)} shapes, "
                f"{self.objects} objects in {self.collections} collections>")

    def _add(self, generation: int | None, analysis: Analysis) -> None:
        """Add one collection's analysis."""
        with self._lock:
            totals = analysis.totals
            if totals.objects:
                self.collections += 1
            self.objects += totals.objects
            self.in_cycles += totals.in_cycles
            self.uncollectable += totals.uncollectable
            for key, tally in analysis.tallies.items():
                shape = self.shapes.get(key)
                example = analysis.examples.get(key)
                if shape is None:
                    if example is None:
                        continue
                    shape = self.shapes[key] = Shape(key, example)
                elif shape.traceback is None and example is not None:
                    shape.traceback = example.traceback
                shape._add(tally, generation)
                self.groups += tally.groups
            self.errors.extend(analysis.errors)

    def top(self, n: int | None = None) -> list[Shape]:
        """The shapes, most groups first (then most objects)."""
        ranked = sorted(self.shapes.values(),
                        key=lambda s: (-s.groups, -s.objects, s.path))
        return ranked if n is None else ranked[:n]

    def summary(self) -> str:
        return _render.summary(self)

    def text(self, top: int | None = 10, tracebacks: bool = True) -> str:
        """The report for people."""
        return _render.report_text(self, top, tracebacks)

    def __str__(self) -> str:
        return self.text()

    def as_dict(self, top: int | None = None) -> dict[str, Any]:
        """The report for tools (what json() writes)."""
        return _render.report_dict(self, top)

    def json(self, top: int | None = None, **kwargs: Any) -> str:
        return _render.to_json(self.as_dict(top), **kwargs)
