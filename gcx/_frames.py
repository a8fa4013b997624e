"""The depth of a running frame's value stack, from its bytecode (3.12, 3.13).

PauseBudget's marking reads every thread's running frames (src/frames.c).
3.14+ keeps each frame's stack top whenever the frame can be interrupted,
so the core reads the value stacks alone.  3.12 and 3.13 keep it only
while a frame calls a Python function: the frame that is running (the one
the scheduler interrupted, where a comprehension may be building a list
that nothing else holds) or calling C has no saved top.  Its depth at its
current instruction is fixed by the bytecode, as the compiler computed it:
this module walks the code's control flow (jumps and exception handlers,
with dis's stack effects) once per code object and hands the core each such
frame with its depth (``_gcx.incr_frame``), which reads no slot past it
and none past the frame's extent.

A depth that is wrong only marks more or less: marks choose what the sweep
need not decide, and a step is exact whatever was marked.
"""

from __future__ import annotations

import bisect
import sys
import time
import types

from . import _gcx

__all__ = ["mark_value_stacks", "prepare"]

NEEDED = sys.version_info < (3, 14)
_CACHE_LIMIT = 4096
_depths: dict[types.CodeType, tuple[list[int], list[int]]] = {}
_dis: types.ModuleType | None = None          # imported by prepare()
_jumps: frozenset[int] = frozenset()
_stops: frozenset[int] = frozenset()
_generator_op = -1


def _jump_target(op: int, arg: int, offset: int) -> int | None:
    d = _dis
    assert d is not None
    if hasattr(d, "_get_jump_target"):          # 3.13
        return d._get_jump_target(op, arg, offset)  # type: ignore[no-any-return]
    if op in d.hasjrel:                         # 3.12, as its dis computes argval
        signed = -arg if d._is_backward_jump(op) else arg
        return offset + 2 + signed * 2 + 2 * d._inline_cache_entries[op]  # type: ignore[no-any-return]
    return arg * 2 if op in d.hasjabs else None


def prepare() -> None:
    """Import dis and read its tables: at PauseBudget's construction, so
    that neither gcx's import nor a cycle's first slice pays for it."""
    global _dis, _jumps, _stops, _generator_op
    if _dis is not None or not NEEDED:
        return
    import dis
    _generator_op = dis.opmap["RETURN_GENERATOR"]
    _jumps = frozenset(getattr(dis, "hasjump", ())) | frozenset(dis.hasjrel) \
        | frozenset(dis.hasjabs)
    _stops = frozenset(dis.opmap[name] for name in (
        "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "RETURN_VALUE",
        "RETURN_CONST", "RAISE_VARARGS", "RERAISE") if name in dis.opmap)
    _dis = dis


def _analyse(code: types.CodeType) -> tuple[list[int], list[int]]:
    """(offsets, depths): the value stack's depth before each instruction
    the control flow reaches, in offset order.  Reads the raw (deoptimised)
    bytecode with dis's decoder of 3.12 and 3.13, several times faster than
    building dis.Instruction objects."""
    if _dis is None:
        prepare()
    d = _dis
    assert d is not None
    units = [(t[0], t[-2], t[-1]) for t in d._unpack_opargs(code.co_code)]
    index = {offset: n for n, (offset, _, _) in enumerate(units)}
    effect = d.stack_effect
    depth: dict[int, int] = {}
    todo = [(0, 0)]
    for entry in d._parse_exception_table(code):
        # a handler starts with the entry's depth, lasti if asked, the exception
        todo.append((entry.target, entry.depth + int(entry.lasti) + 1))
    while todo:
        offset, n_depth = todo.pop()
        n = index.get(offset)
        while n is not None and n < len(units):
            at, op, arg = units[n]
            if at in depth:
                break
            depth[at] = n_depth
            if op in _jumps:
                target = _jump_target(op, arg, at)
                if target is not None:
                    todo.append((target, n_depth + effect(op, arg, jump=True)))
            if op in _stops:
                break
            # 3.12's dis gives RETURN_GENERATOR 0, but the generator's frame
            # starts with the value sent to it pushed (3.13's dis says 1)
            n_depth += 1 if op == _generator_op else effect(op, arg, jump=False)
            n += 1
    offsets = sorted(depth)
    return offsets, [depth[o] for o in offsets]


def depth_at(code: types.CodeType, lasti: int, analyse: bool = True) -> int | None:
    """The value stack's depth before the instruction at byte offset lasti
    (or the last one before it: lasti may point into inline caches); None
    when unknown (or not analysed yet and analyse is false)."""
    found = _depths.get(code)
    if found is None:
        if not analyse:
            return None
        try:
            found = _analyse(code)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            found = ([], [])          # unknown, and not analysed again
        if len(_depths) >= _CACHE_LIMIT:
            _depths.clear()
        _depths[code] = found
    offsets, depths = found
    i = bisect.bisect_right(offsets, lasti) - 1
    return depths[i] if i >= 0 and depths[i] > 0 else None


_HERE = __file__.rsplit("/", 1)[0] + "/"
_OWN = frozenset(_HERE + name for name in ("_frames.py", "_budget.py", "policy.py"))


def mark_value_stacks(seconds: float) -> bool:
    """Hand the core every thread's running frames whose stack top CPython
    did not save, with their depths (3.12, 3.13; nothing to do on 3.14+):
    the frame each thread is running and those calling C.  The core read
    the others' value stacks itself.  The policy's own frames (deciding)
    are passed over.  Code objects not seen before are analysed only while
    the call has taken less than ``seconds`` (0.1-1 ms each): the frames it
    could not analyse yet are read without their value stacks this time,
    and it returns False (True when every frame's stack was read)."""
    if not NEEDED:
        return True
    deadline = time.perf_counter() + seconds
    complete = True
    for top in sys._current_frames().values():
        f: types.FrameType | None = top
        while f is not None:
            code = f.f_code
            if code.co_filename not in _OWN and not _gcx.frame_top_saved(f):
                analyse = code in _depths or time.perf_counter() < deadline
                complete = complete and analyse
                d = depth_at(code, f.f_lasti, analyse)
                if d:
                    _gcx.incr_frame(f, d)
            f = f.f_back
    return complete
