"""The report of ``gcx`` with no command: both collectors' view of this
interpreter, side by side.

For the stdlib collector and for gcx: the interpreter, gcx's mode, what each
collector tracks (per generation, and the ten commonest types), then one
collection of the same heap by each.  The collection: for each collector in
turn, build the same heap (live containers, some in reachable cycles, plus
garbage cycles of instances and dicts, some with __del__, some watched by
weakrefs with callbacks) with both collectors' automatic collection off,
then time one full collection by that collector alone.  Both must find the
same garbage.
"""
from __future__ import annotations

import collections
import platform
import sys
import time
import weakref
from typing import IO, Any, Iterator, List, NamedTuple, Optional, Tuple

import gcx
from gcx import _stdlib as gc    # the stdlib collector's own functions, whatever gc points at
from gcx import _table
from gcx._version import __version__

LABEL_WIDTH = 34
COLUMN_WIDTH = 14
COLUMNS = ("stdlib gc", "gcx")


def report(live: int = 50_000, cycles: int = 20_000, best_of: int = 1,
           file: Optional[IO[str]] = None) -> int:
    """Print the side-by-side report; returns 0."""
    out = file or sys.stdout
    reinstall = gcx.is_installed()
    gcx.uninstall()        # the stdlib column must show the stdlib collector
    try:
        for line in _report_lines(live, cycles, best_of):
            print(line, file=out)
    finally:
        if reinstall:
            gcx.install()
    return 0


def _report_lines(live: int, cycles: int, repeat: int) -> Iterator[str]:
    info = gcx.info()
    yield f"gcx {__version__} beside the stdlib cycle collector"
    yield ""
    yield from _interpreter_lines()
    yield ""
    yield _row("", *COLUMNS)
    yield "collector"
    yield _row("  mode", "-", info["mode"])
    yield _row("  owns the reference tracer", "-", _yes_no(info["owner"]))
    yield _row("  automatic collection", _on_off(gc.isenabled()), _on_off(gcx.isenabled()))
    yield _row("  thresholds", _joined(gc.get_threshold()), _joined(gcx.get_threshold()))
    yield _row("  counts", _joined(gc.get_count()), _joined(gcx.get_count()))
    yield "tracked objects"
    yield from _generation_rows()
    yield "tracked objects by type (top 10)"
    yield from _type_rows(10)
    yield (f"one full collection of the same heap ({live} live containers, "
           f"{cycles} garbage cycles, best of {repeat})")
    yield from _collection_rows(live, cycles, repeat)
    if info["mode"] == "safe":
        yield ""
        yield ("gcx is in safe mode: it does not trust this interpreter's "
               "reference tracer,")
        yield "so each of its collections starts by resynchronising with the live heap."


def _interpreter_lines() -> Iterator[str]:
    build = ", ".join(platform.python_build())
    kind = "debug build" if hasattr(sys, "gettotalrefcount") else "release build"
    gil = "GIL" if getattr(sys, "_is_gil_enabled", lambda: True)() else "no GIL"
    yield (f"interpreter  {platform.python_implementation()} "
           f"{platform.python_version()} ({build}) [{platform.python_compiler()}]")
    yield f"             {kind}, {gil}, {sys.executable}"


def _row(label: str, *values: object) -> str:
    return _table.row(label, *values, label_width=LABEL_WIDTH, cell_width=COLUMN_WIDTH)


def _yes_no(flag: object) -> str:
    return "yes" if flag else "no"


def _on_off(flag: bool) -> str:
    return "enabled" if flag else "disabled"


def _joined(numbers: Tuple[int, ...]) -> str:
    return "/".join(map(str, numbers))


def _generation_rows() -> Iterator[str]:
    totals = [0, 0]
    for generation in range(3):
        sizes = [len(collector.get_objects(generation)) for collector in (gc, gcx)]
        totals = [t + s for t, s in zip(totals, sizes)]
        yield _row(f"  generation {generation}", *sizes)
    yield _row("  total", *totals)
    yield _row("  frozen (permanent generation)",
               gc.get_freeze_count(), gcx.get_freeze_count())


def _type_rows(top: int) -> Iterator[str]:
    # Both snapshots before any counting: counting creates objects (ABC caches).
    stdlib_objects = gc.get_objects()
    gcx_objects = [obj for obj in gcx.get_objects() if obj is not stdlib_objects]
    stdlib_counts = collections.Counter(map(type, stdlib_objects))
    gcx_counts = collections.Counter(map(type, gcx_objects))
    del stdlib_objects, gcx_objects
    union = stdlib_counts + gcx_counts
    for tp, _ in sorted(union.items(), key=lambda item: (-item[1], _type_name(item[0])))[:top]:
        yield _row(f"  {_type_name(tp)}", stdlib_counts[tp], gcx_counts[tp])


def _type_name(tp: type) -> str:
    if tp.__module__ == "builtins":
        return tp.__qualname__
    return f"{tp.__module__}.{tp.__qualname__}"


# ------------------------------------------------------------------------------
# The heap both collectors collect.

class _Tally:
    """What the garbage did while it was collected."""

    def __init__(self) -> None:
        self.finalized = 0
        self.callbacks = 0

    def reset(self) -> None:
        self.finalized = 0
        self.callbacks = 0

    def weakref_cleared(self, ref: object) -> None:
        self.callbacks += 1


class _Node:
    peer: "_Node"
    payload: object


class _Finalized(_Node):
    def __del__(self) -> None:
        _tally.finalized += 1


_tally = _Tally()


def _build_heap(live: int, cycles: int) -> Tuple[List[Any], List[Any]]:
    """Return what keeps the live part alive.  The garbage: ``cycles`` pairs
    of instances pointing at each other, each with a dict and a list; every
    4th pair has a __del__, every 5th is watched by a weakref with a callback
    (the weakref itself stays alive, so the callback must run), every 2nd has
    its instance dict materialised.  The live part: ``live`` lists, dicts and
    tuples, every 10th a list that contains itself."""
    keep: List[Any] = []
    for i in range(live):
        kind = i % 3
        item: Any
        if kind == 0:
            item = [i]
            if i % 10 == 0:
                item.append(item)
        elif kind == 1:
            item = {"i": [i]}
        else:
            item = (i, [i])
        keep.append(item)
    watchers: List[Any] = []
    a: Any = None        # (no pair at all when cycles is 0)
    b: Any = None
    for i in range(cycles):
        a = _Finalized() if i % 4 == 0 else _Node()
        b = _Node()
        a.peer, b.peer = b, a
        a.payload = {"n": i, "back": [b]}
        if i % 2 == 0:
            vars(b)
        if i % 5 == 0:
            watchers.append(weakref.ref(b, _tally.weakref_cleared))
    del a, b
    return keep, watchers


class _Outcome(NamedTuple):
    collected: int
    uncollectable: int
    finalized: int
    callbacks: int
    ms: float


def _collect_heap(collector: Any, live: int, cycles: int) -> _Outcome:
    """Build the heap with both collectors quiet, then time one full
    collection by ``collector`` (gc or gcx) alone."""
    gc.collect()
    gcx.collect()
    heap = _build_heap(live, cycles)
    _tally.reset()
    before = collector.get_stats()
    start = time.perf_counter()
    collector.collect()
    ms = (time.perf_counter() - start) * 1000
    after = collector.get_stats()
    del heap
    return _Outcome(
        sum(a["collected"] - b["collected"] for a, b in zip(after, before)),
        sum(a["uncollectable"] - b["uncollectable"] for a, b in zip(after, before)),
        _tally.finalized, _tally.callbacks, ms)


def _collection_rows(live: int, cycles: int, repeat: int) -> Iterator[str]:
    enabled = gc.isenabled(), gcx.isenabled()
    gc.disable()
    gcx.disable()
    try:
        outcomes: List[_Outcome] = []
        for collector in (gc, gcx):
            runs = [_collect_heap(collector, live, cycles) for _ in range(repeat)]
            outcomes.append(min(runs, key=lambda run: run.ms))
    finally:
        (gc.enable if enabled[0] else gc.disable)()
        (gcx.enable if enabled[1] else gcx.disable)()
    stdlib, ours = outcomes
    yield _row("  collected", stdlib.collected, ours.collected)
    yield _row("  uncollectable", stdlib.uncollectable, ours.uncollectable)
    yield _row("  finalizers run (__del__)", stdlib.finalized, ours.finalized)
    yield _row("  weakref callbacks run", stdlib.callbacks, ours.callbacks)
    yield _row("  time (ms)", f"{stdlib.ms:.2f}", f"{ours.ms:.2f}")
    ratio = ours.ms / stdlib.ms if stdlib.ms else float("nan")
    yield _row("  time relative to stdlib gc", "1.00x", f"{ratio:.2f}x")


