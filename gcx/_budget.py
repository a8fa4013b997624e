"""A pause budget: full collections in slices (issue 14).

``gcx.install(policy=gcx.PauseBudget(ms=1.0))`` or ``gcx.set_policy(...)``.

When the stdlib's rule would run a full collection, PauseBudget starts an
incremental cycle instead (src/incremental.c): from roots (``sys.modules``
and the locals of every thread's frames) it marks what is alive, a slice of
at most ``ms`` milliseconds at each of the scheduler's calls (young and
generation-1 collections run as usual; a slice gets what is left of the
budget after them).  When marking is done, one atomic collection, at the
next call, decides generations 0 and 1 and whatever of generation 2
marking did not reach: mostly garbage, plus what only C code or objects
made during the cycle hold.  That end is an ordinary gcx collection over
its region, with the marked objects counting as references from outside,
so it frees exactly what a stop-the-world collection of that region would
(finalizers, weakref callbacks, resurrection and gc.garbage included)
whatever the program did between slices.

Pacing: slices are asked for by allocation.  While the cycle's progress
(marked / the old generations at its start) lags the old generations'
growth (as a share of what the guard allows), the young trigger halves
(down to 1/16 of threshold 0), so slices come more often; it doubles back
when marking is ahead.  The memory guard: once generations 1 and 2 have
grown by ``guard`` (a fraction of their size at the start) the cycle ends
at once, whatever marking still had to do, and state() counts it as a
fallback.  Garbage held is thereby bounded by what was garbage at the
start plus ``guard`` times the old generations then.

In safe mode (records may dangle, so nothing may be read between
slices) PauseBudget runs stop-the-world full collections, and state() says
so (``"mode": "stop-the-world (safe mode)"``).
"""

from __future__ import annotations

import collections
import sys
import time
import types

from . import _gcx
from .policy import Policy, _number, _run

__all__ = ["PauseBudget"]

_FULL = 2
_RECENT = 10_000          # slice durations kept for the percentiles


def _roots() -> list[object]:
    """What marking starts from: every module, and the locals of every
    thread's frames (a heap held only by a local of main() would otherwise
    be left to the end)."""
    roots: list[object] = [sys.modules]
    for frame in sys._current_frames().values():
        f: types.FrameType | None = frame
        while f is not None:
            roots.append(f)
            roots.extend(f.f_locals.values())
            f = f.f_back
    return roots


def _percentile(values: collections.deque[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class PauseBudget(Policy):
    """Full collections as incremental cycles: marking in slices of at most
    ``ms`` milliseconds, then one collection of what marking did not reach.

    ms      the budget of one scheduler call (a young collection, if one is
            due, and a slice), in milliseconds (0 < ms <= 1000)
    guard   end the cycle at once when generations 1 and 2 have grown by
            this fraction of their size at its start (0 < guard <= 10):
            the memory guard, counted in state()["fallbacks"]
    """

    def __init__(self, ms: float = 1.0, *, guard: float = 0.25) -> None:
        self.ms = _number("ms", ms, 1000.0)
        self.guard = _number("guard", guard, 10.0)
        self._ready = False
        super().__init__()
        self._ready = True

    def parameters(self) -> dict[str, object]:
        return {"ms": self.ms, "guard": self.guard}

    def __repr__(self) -> str:
        return f"PauseBudget(ms={self.ms!r}, guard={self.guard!r})"

    # ---- what state() says ----------------------------------------------------------

    def _reset_state(self) -> None:
        super()._reset_state()
        if self._ready:
            _gcx.incr_abandon()  # set_policy(): a cycle of an earlier use is not ours
        self._slices = 0
        self._slice_max = 0.0
        self._recent: collections.deque[float] = collections.deque(maxlen=_RECENT)
        self._cycles = 0
        self._fallbacks = 0
        self._stop_the_world = 0
        self._ends: collections.deque[float] = collections.deque(maxlen=_RECENT)
        self._garbage = 0                      # found by the ends, in all
        self._last_garbage = 0
        self._last_unmarked = 0
        self._last_marked = 0
        self._abandoned_at_set = _gcx.incr_state()["abandoned"]

    def state(self) -> dict[str, object]:
        """Slices and their durations (seconds: max, p99 of the last 10,000),
        cycles completed, fallbacks (the memory guard ended a cycle early),
        stop-the-world full collections (safe mode), cycles abandoned for a
        full collection that overtook them (gc.collect(2)), what the cycles'
        ends found (garbage, in all and the last) and examined (unmarked:
        their region; marked: what they left out), and the cycle running."""
        core = _gcx.incr_state()
        out = super().state()
        out.update({
            "mode": ("stop-the-world (safe mode)" if _gcx.info()["mode"] == "safe"
                     else "incremental"),
            "slices": self._slices, "slice_max": self._slice_max,
            "slice_p99": _percentile(self._recent, 0.99),
            "cycles": self._cycles, "fallbacks": self._fallbacks,
            "stop_the_world": self._stop_the_world,
            "abandoned": core["abandoned"] - self._abandoned_at_set,
            "end_max": max(self._ends, default=0.0),
            "end_p99": _percentile(self._ends, 0.99),
            "garbage_found": self._garbage, "last_garbage": self._last_garbage,
            "last_unmarked": self._last_unmarked, "last_marked": self._last_marked,
            "active": core["active"], "gray": core["gray"], "marked": core["marked"],
            "bytes": core["bytes"],
        })
        return out

    # ---- the decision ---------------------------------------------------------------

    def decide(self, due: int, due_young: int) -> int | None:
        start = time.perf_counter()
        core = _gcx.incr_state()
        if not core["active"]:
            if due != _FULL:
                return due if due >= 0 else None
            if _gcx.info()["mode"] == "safe":
                self._stop_the_world += 1
                return _FULL
            _gcx.incr_start(_roots())
            core = _gcx.incr_state()
        elif core["gray"] == 0:
            self._end()                       # its own pause
            return None
        else:
            allowed = self.guard * max(core["old_at_start"], 1)
            if core["old"] - core["old_at_start"] > allowed:
                self._fallbacks += 1
                self._end()
                return None
        if due_young >= 0:
            _run(due_young, "auto", self)
        left = self.ms / 1000 - (time.perf_counter() - start)
        t0 = time.perf_counter()
        _gcx.incr_slice(max(left, self.ms / 4000))
        took = time.perf_counter() - t0
        self._slices += 1
        self._slice_max = max(self._slice_max, took)
        self._recent.append(took)
        self._pace(_gcx.incr_state())
        return None

    def _pace(self, core: _gcx._IncrState) -> None:
        """Slices more often while marking lags the old generations' growth."""
        if not core["active"]:
            return
        base = _gcx.get_threshold()[0]
        if base <= 0:
            return
        at_start = max(core["old_at_start"], 1)
        done = min(core["marked"] / at_start, 1.0)
        used = max(core["old"] - core["old_at_start"], 0) / (self.guard * at_start)
        trigger = _gcx.schedule_state()["trigger"]
        if used > done * 0.8:
            trigger = max(trigger // 2, max(base // 16, 1))
        elif used < done * 0.4:
            trigger = min(trigger * 2, base)
        self._set_trigger(trigger)

    def _end(self) -> None:
        t0 = time.perf_counter()
        found = _gcx.incr_finish()
        took = time.perf_counter() - t0
        _gcx.set_trigger(0)
        if found < 0:
            return                            # no cycle: a full collection overtook it
        self._note("incremental2")
        self._cycles += 1
        self._ends.append(took)
        self._garbage += found
        self._last_garbage = found
        last = _gcx.recent_pauses()
        self._last_unmarked = last[-1][5] if last else 0
        self._last_marked = _gcx.incr_state()["kept"]
        self.collected(_FULL, found, took)
