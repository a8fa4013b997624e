"""Rendering: cycle reports as text for people and as dicts/JSON for tools,
and a cycle as a path (``Node.parent -> Node.children[3] -> Node``).

Nothing here looks at objects: it formats what the model holds.
"""

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._model import CycleReport, Shape, Step

_MAX_PATH_STEPS = 10


def render_path(steps: "Sequence[Step]", names: dict[int, str], containers: set[int]) -> str:
    """``Node.parent -> Node.children[3] -> Node``: builtin containers are
    shown inside the step that reaches them, not as steps of their own."""
    if len(steps) > _MAX_PATH_STEPS:
        head, tail = steps[:6], steps[-3:]
        hidden = len(steps) - 9
    else:
        head, tail, hidden = steps, [], 0
    pieces: list[str] = []
    for part, chunk in ((0, head), (1, tail)):
        if part == 1:
            if not chunk:
                break
            pieces.append(f"... ({hidden} more) ...")
        for i, step in enumerate(chunk):
            if pieces and i and step.node in containers and not pieces[-1].startswith("..."):
                pieces[-1] += step.text
            else:
                pieces.append(names[step.node] + step.text)
    pieces.append(names[steps[0].node])
    return " -> ".join(pieces)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def summary(report: "CycleReport") -> str:
    """The report in one line."""
    if not report.groups and not report.objects and report.stdlib_collected:
        return (f"the stdlib collector collected {report.stdlib_collected} objects "
                "(an explicit gc.collect(); shapes unknown: install gcx, "
                "e.g. with gcx.installed(), to see them)")
    text = (f"{report.in_cycles} objects in {_plural(report.groups, 'cycle')} of "
            f"{_plural(len(report.shapes), 'shape')}")
    extra = report.objects - report.in_cycles
    if extra:
        text += f", holding {extra} more"
    if report.uncollectable:
        text += f", {report.uncollectable} uncollectable"
    text += f", in {_plural(report.collections, 'collection')}"
    if report.ignored:
        text += f" ({report.ignored} cycles of classes or ignored types left out)"
    if report.stdlib_collected:
        text += (f"; the stdlib collector collected {report.stdlib_collected} "
                 "objects meanwhile (shapes unknown: install gcx to see them)")
    return text


def _shape_lines(rank: int, shape: "Shape", tracebacks: bool) -> list[str]:
    lines = [f"#{rank}  {_plural(shape.groups, 'group')} of {shape.sizes()} "
             f"({shape.objects} objects) in {_plural(shape.collections, 'collection')}",
             f"    {shape.path}"]
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
    return lines


def _body_lines(report: "CycleReport", top: int | None, tracebacks: bool) -> list[str]:
    """The shapes (the best ``top``), and the errors."""
    lines: list[str] = []
    for rank, shape in enumerate(report.top(top), 1):
        lines.append("")
        lines.extend(_shape_lines(rank, shape, tracebacks))
    hidden = len(report.shapes) - min(len(report.shapes), top or len(report.shapes))
    if hidden:
        lines.append("")
        lines.append(f"... and {hidden} more shapes")
    if report.errors:
        lines.append("")
        lines.extend(f"error while analysing: {e}" for e in report.errors[:5])
    return lines


def report_text(report: "CycleReport", top: int | None = 10, tracebacks: bool = True) -> str:
    """The report for people."""
    return "\n".join([f"gcx cycle report: {summary(report)}",
                      *_body_lines(report, top, tracebacks)])


# What a program's report says of the groups freed at its end.
AT_EXIT = ("classes and module globals (with their functions), each in a cycle for as "
           "long as its module lives, freed after the program ended; python frees them "
           "only as it exits")


def program_text(run: "CycleReport", at_exit: "CycleReport", show_at_exit: bool,
                 top: int | None = 10, tracebacks: bool = True) -> str:
    """A whole program's report: what it made, then the definitions freed
    after it ended, under their own heading with ``show_at_exit``, else one
    line saying how many were left out."""
    text = report_text(run, top, tracebacks)
    if show_at_exit:
        return "\n".join([text, "", f"at exit: {summary(at_exit)}", f"    ({AT_EXIT})",
                          *_body_lines(at_exit, top, tracebacks)])
    if at_exit.groups:
        text += (f"\n\n(left out: {_plural(at_exit.groups, 'group')} of "
                 f"{_plural(len(at_exit.shapes), 'shape')} freed at exit: {AT_EXIT}; "
                 "--at-exit shows them)")
    return text


def shape_dict(shape: "Shape") -> dict[str, Any]:
    return {
        "path": shape.path, "edges": shape.edges, "types": shape.types,
        "groups": shape.groups, "objects": shape.objects,
        "min_size": shape.min_size, "max_size": shape.max_size,
        "held": shape.held, "held_types": dict(shape.held_types.most_common(5)),
        "uncollectable": shape.uncollectable, "collections": shape.collections,
        "generations": {str(g): n for g, n in sorted(shape.generations.items())},
        "suggestion": shape.suggestion, "hint": shape.hint,
        "traceback": shape.traceback,
        "sites": dict(shape.sites.most_common(5)),
    }


def report_dict(report: "CycleReport", top: int | None = None) -> dict[str, Any]:
    """The report for tools (what json() writes)."""
    return {
        "collections": report.collections, "objects": report.objects,
        "in_cycles": report.in_cycles, "uncollectable": report.uncollectable,
        "groups": report.groups, "stdlib_collected": report.stdlib_collected,
        "ignored": report.ignored,
        "shapes": [shape.as_dict() for shape in report.top(top)],
        "errors": list(report.errors),
    }


def program_dict(run: "CycleReport", at_exit: "CycleReport", show_at_exit: bool,
                 top: int | None = None) -> dict[str, Any]:
    """A whole program's report for tools: the report of what it made while
    it ran, with the groups freed after it ended under "at_exit" if shown."""
    result = report_dict(run, top)
    if show_at_exit:
        result["at_exit"] = report_dict(at_exit, top)
    return result


def to_json(data: dict[str, Any], **kwargs: Any) -> str:
    return json.dumps(data, **kwargs)


def debug_lines(one: "CycleReport", generation: int | None) -> list[str]:
    """DEBUG_CYCLES: one collection's report, as lines for stderr."""
    lines = [f"gcx: cycles in generation {generation}: {summary(one)}"]
    lines.extend(f"gcx:   {shape.groups} x {shape.sizes()}: {shape.path}"
                 for shape in one.top(5))
    if len(one.shapes) > 5:
        lines.append(f"gcx:   ... and {len(one.shapes) - 5} more shapes")
    lines.extend(f"gcx:   error while analysing: {error}" for error in one.errors)
    return lines
