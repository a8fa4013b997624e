"""When to collect: the policies of gcx's scheduler.

gcx's automatic collection decides as CPython 3.13 does (net container
allocations past threshold 0, generation 1 every threshold 1 young
collections, a full collection every threshold 2 generation-1 ones once the
long-lived ratio is met) until a policy is set.  A policy replaces that
decision, not the collector: the core still counts, still asks at the same
trigger, and a policy's collections go through the one entry point every
collection takes (src/collection.c).

How it fits (src/schedule.c, invariants G4 and G5): when the young count
passes the *trigger* the core queues a pending call, which runs at the next
eval-breaker check of a thread holding the GIL; with a policy set, that call
comes here (``_on_due``) with the generation the stdlib's rule would collect
and the one it would collect without the oldest.  The policy answers which
generation to collect, or None; it may move the trigger.

One class, :class:`Policy`, holds every control; its defaults are the
stdlib's rule, so ``Policy()`` changes nothing.  Subclass it and override
:meth:`Policy.decide` (and :meth:`Policy.collected`) to write your own.
Set one with ``gcx.set_policy(p)`` (which returns the one it replaces),
``with gcx.using_policy(p):`` (restored at the end of the block), or
``gcx.install(policy=p)``.  The other controls of this module are
scoped or one-shot: ``no_gc()`` regions, ``safe_point()``, ``warmup()``,
``add_memory_pressure()``.

Threads: a policy's methods run with the GIL, from the thread that reached
the pending call (as the stdlib's automatic collections do), from a
``safe_point()`` caller, or from the time backstop's thread.  Setting a
policy and entering or leaving a no-GC region are safe from any thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from . import _gcx, _install

# A policy's calls come at any allocation of the program's, inside code
# that may have patched builtins or the clock for its own ends
# (mock.patch("builtins.int") counting its calls, freezegun stopping
# time.perf_counter): what this module calls is bound here, at import, so
# that such patches neither see its calls nor change its decisions.
from builtins import (abs, any, callable, dict, enumerate, float, hasattr, int,
                      isinstance, len, list, max, min, range, type)

_clock = time.perf_counter

if TYPE_CHECKING:
    from ._gcx import _ScheduleState

__all__ = ["Policy", "set_policy", "get_policy", "using_policy", "safe_point",
           "full_collection_due", "warmup", "no_gc", "NoGCRegion",
           "add_memory_pressure", "memory_held"]

_NGENS = 3
_Intervals = tuple[float | None, float | None, float | None]


_FULL = _NGENS - 1

# max_interval's shortest interval, seconds: the backstop collects at most a
# hundred times a second (generation 0 every 10 ms, the quickest cadence gcx
# aims for).
MIN_MAX_INTERVAL = 0.01
_GUARDS = ("growth", "memory", "limit")    # reasons that override deferral


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: seconds must be a number, not {type(value).__name__}")
    if not 0 < value < float("inf"):
        raise ValueError(f"{name}: seconds must be finite and > 0, not {value!r}")
    return float(value)


def _as_intervals(name: str, value: object) -> _Intervals:
    """None, a number of seconds (every generation) or three (None or
    seconds), one per generation."""
    if value is None:
        return (None, None, None)
    if isinstance(value, (tuple, list)):
        if len(value) != _NGENS:
            raise ValueError(f"{name} takes one value per generation (3), not {len(value)}")
        g0, g1, g2 = (None if v is None else _seconds(name, v) for v in value)
        return (g0, g1, g2)
    one = _seconds(name, value)
    return (one, one, one)


def _count(name: str, value: object) -> int | None:
    """None or an int > 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, not {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, not {value!r}")
    return value


def _number(name: str, value: object, top: float | None = None,
            kind: str = "a number", least: float | None = None) -> float:
    """A finite number > 0, or >= least if given (and <= top)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be {kind}, not {type(value).__name__}")
    low_ok = 0 < value if least is None else least <= value
    if not (low_ok and value < float("inf")) or (top is not None and value > top):
        low = "> 0" if least is None else f">= {least}"
        bound = f" and <= {top}" if top is not None else ""
        raise ValueError(f"{name} must be {low}{bound}, not {value!r}")
    return float(value)


def _fraction(name: str, value: object, top: float | None = None) -> float | None:
    """None or a number > 0 (and <= top)."""
    return None if value is None else _number(name, value, top, "a number or None")


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def _newest(last: tuple[float | None, ...], generation: int) -> float | None:
    """When generation `generation` was last collected: by a collection of
    it or of an older one."""
    times = [t for t in last[generation:] if t is not None]
    return max(times) if times else None


class Policy:
    """When gcx's automatic collection collects, and how much.

    Every control is off by default: ``Policy()`` is the stdlib's rule.

    full            "auto": full collections when the stdlib's rule says;
                    "deferred": automatic collection never runs one by
                    itself (it collects generation 1 instead); safe_point()
                    runs it when it is due, and the memory guard
                    (max_growth, max_bytes) runs it anyway past its limit
    max_growth      deferred: run the full collection anyway once what
                    survived into generation 2 since the last full
                    collection exceeds this fraction of what survived that
                    one (or of 100 x threshold 0, before the first): 1.0,
                    the default, is the old heap doubled.  None: no guard
    max_bytes       deferred: run it anyway once the Python allocators hold
                    more than this many bytes (memory_held())
    adaptive        raise the young trigger (doubling, up to young_max)
                    while young collections find no garbage, lower it
                    (down to threshold 0) when over 1% of a batch is garbage
    young_max       the adaptive trigger's ceiling (default 32 x threshold 0)
    memory_limit    a soft limit in bytes on memory_held(): young
                    collections come up to 8 times sooner in the last
                    quarter before it; past it the next automatic collection
                    is the one due (at least a young one), and if the
                    memory is still held at the one after, a full one (and
                    again only once the holding grew by 1/16 of the limit,
                    so that a live heap over the limit is not collected
                    without end)
    cpu_cap         the largest share of wall time (0 < cap <= 1) collections
                    may take over the last cpu_window seconds; past it,
                    automatic collections of generations 1 and 2 wait (young
                    ones, cheap and what keeps young garbage bounded, still
                    run), and state() says so
    cpu_window      the cap's window in seconds (default 1.0)
    auto_freeze     freeze after freeze_after full collections in a row
                    found generation 2 stable (its size within 5%) and
                    mostly live (under 2% of it garbage); unfreeze once the
                    frozen objects dropped by more than 10% (they are dying:
                    cycles may hide among them)
    freeze_after    default 3
    min_interval    collect each generation automatically at most every T
                    seconds: None, seconds for all generations, or one value
                    (None or seconds) per generation; a collection due sooner
                    takes the next younger generation, or none
    max_interval    collect each generation at least every T seconds, the
                    same forms (T at least MIN_MAX_INTERVAL, 0.01): a backstop
                    for idle and slowly allocating processes (a daemon thread
                    that waits without the GIL and collects with it)
    """

    _growth: str | None
    _limit_young_tried: bool
    _timed: bool

    def __init__(self, *, full: Literal["auto", "deferred"] = "auto",
                 max_growth: float | None = 1.0, max_bytes: int | None = None,
                 adaptive: bool = False, young_max: int | None = None,
                 memory_limit: int | None = None, cpu_cap: float | None = None,
                 cpu_window: float = 1.0, auto_freeze: bool = False,
                 freeze_after: int = 3,
                 min_interval: float | tuple[float | None, ...] | None = None,
                 max_interval: float | tuple[float | None, ...] | None = None) -> None:
        if full not in ("auto", "deferred"):
            raise ValueError(f"full must be 'auto' or 'deferred', not {full!r}")
        self.full = full
        self.max_growth = _fraction("max_growth", max_growth)
        self.max_bytes = _count("max_bytes", max_bytes)
        self.adaptive = _flag("adaptive", adaptive)
        self.young_max = _count("young_max", young_max)
        self.memory_limit = _count("memory_limit", memory_limit)
        self.cpu_cap = _fraction("cpu_cap", cpu_cap, top=1.0)
        self.cpu_window = _seconds("cpu_window", cpu_window)
        self.auto_freeze = _flag("auto_freeze", auto_freeze)
        if isinstance(freeze_after, bool) or not isinstance(freeze_after, int):
            raise TypeError(f"freeze_after must be an int, not {type(freeze_after).__name__}")
        if freeze_after <= 0:
            raise ValueError(f"freeze_after must be > 0, not {freeze_after!r}")
        self.freeze_after = freeze_after
        self.min_interval = _as_intervals("min_interval", min_interval)
        self.max_interval = _as_intervals("max_interval", max_interval)
        for g, interval in enumerate(self.max_interval):
            if interval is not None and interval < MIN_MAX_INTERVAL:
                raise ValueError(f"max_interval must be >= {MIN_MAX_INTERVAL} seconds "
                                 f"(generation {g}: {interval!r})")
        for g in range(_NGENS):
            lo, hi = self.min_interval[g], self.max_interval[g]
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"generation {g}: min_interval {lo} > max_interval {hi}")
        self._reset_state()

    # ---- what users and compare read --------------------------------------------

    def parameters(self) -> dict[str, object]:
        """The settings, as the constructor takes them."""
        return {"full": self.full, "max_growth": self.max_growth,
                "max_bytes": self.max_bytes, "adaptive": self.adaptive,
                "young_max": self.young_max, "memory_limit": self.memory_limit,
                "cpu_cap": self.cpu_cap, "cpu_window": self.cpu_window,
                "auto_freeze": self.auto_freeze, "freeze_after": self.freeze_after,
                "min_interval": self.min_interval, "max_interval": self.max_interval}

    def state(self) -> dict[str, object]:
        """What the policy has done since it was set: collections by cause
        ("auto0".."auto2", a guard's reason, "safe_point", "periodic0"..,
        "no_gc_exit"; empty for a Policy() with nothing changed, which
        the core decides for without calling it: get_stats() counts those),
        full collections deferred, CPU-cap waits and
        whether the cap binds now, the young trigger, freezes; and whether
        a full collection is due now, and why."""
        return {"policy": type(self).__name__, "collections": dict(self._causes),
                "full_due": self.full_due(_gcx.schedule_state()),
                "deferred_full": self._deferred, "cpu_cap_waits": self._cap_waits,
                "cpu_cap_binding": self._cap_binding,
                "young_trigger": _gcx.schedule_state()["trigger"],
                "freezes": self._freezes, "unfreezes": self._unfreezes}

    def needs_memory(self) -> bool:
        """Whether the policy reads memory_held()."""
        return self.memory_limit is not None or self.max_bytes is not None

    def __repr__(self) -> str:
        defaults = Policy().parameters()
        changed = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items()
                            if defaults[k] != v)
        return f"{type(self).__name__}({changed})"

    # ---- the decision: override these to write a policy -------------------------

    def decide(self, due: int, due_young: int) -> int | None:
        """The generation an automatic collection takes now, or None.

        ``due`` is what the stdlib's rule would collect (-1: nothing),
        ``due_young`` what it would collect without generation 2.  Called
        with the GIL, each time the young count passes the trigger: from a
        pending call, or, where CPython's own collector serves as gcx's
        trigger (installed, 3.13.3+), from the start of the collection it
        asks for, at the same point of the program (an eval-breaker
        check), with the thread's tracing suspended (no tracer, profiler
        or sys.monitoring tool sees it; the collections it runs are seen
        as the stdlib's are).  An error is reported as unraisable."""
        if self._frozen_at is not None:
            self._unfreeze_if_unstable()
        reason = self._guard_reason()
        g = due
        if reason == "limit" and not self._limit_young_tried:
            # past the limit: first what is due (at least a young
            # collection), which is cheap; the full one only if the memory
            # is still held at the next decision
            self._limit_young_tried = True
            g = max(due_young, 0)
        elif reason is not None:
            g = _FULL
        elif self.full == "deferred" and g == _FULL:
            self._deferred += 1
            g = due_young
        if g < 0:
            return None
        if not self._timed:
            return g
        state = _gcx.schedule_state()
        now = _clock()
        g = self._respect_min_interval(g, state, now)
        if g >= 1 and self.cpu_cap is not None and self._over_cap(state, now):
            self._cap_waits += 1
            g = 0                            # the older generations wait
        return g if g >= 0 else None

    def full_due(self, state: _ScheduleState) -> str | None:
        """Why a full collection is due now, or None: "limit" (past the
        memory limit), "memory" or "growth" (the deferral's guard), "count"
        (the stdlib's rule)."""
        reason = self._guard_reason()
        if reason is None and self.full == "deferred" and self.max_growth is not None:
            reason = self._growth_reason(state)
        if reason is None and state["due"] == _FULL:
            reason = "count"
        return reason

    def collected(self, generation: int, found: int, seconds: float) -> None:
        """Told after each collection the scheduler ran, with what it found
        and how long it took."""
        if self.memory_limit is None:
            # the common cases: nothing to update
            if generation == 0 and not self.adaptive:
                return
            if generation == 1 and not (self.full == "deferred" and self.max_growth is not None):
                return
        state = _gcx.schedule_state()
        if generation >= 1 and self.full == "deferred" and self.max_growth is not None:
            self._growth = self._growth_reason(state)
        if generation == _FULL:
            self._after_full(state, found)
        if self.adaptive and generation == 0:
            self._adapt(found, state)
        elif self.memory_limit is not None:
            self._set_trigger(self._limit_trigger(state, state["trigger"]))

    # ---- the controls' workings --------------------------------------------------

    def _reset_state(self) -> None:
        """Forget what an earlier use of this policy did (set_policy)."""
        self._causes: dict[str, int] = {}
        self._deferred = 0
        self._cap_waits = 0
        self._cap_binding = False
        self._window: deque[tuple[float, float]] = deque()   # (when, seconds collecting)
        self._stable = 0
        self._last_survivors: int | None = None
        self._frozen_at: int | None = None
        self._freezes = self._unfreezes = 0
        self._limit_full_at: int | None = None
        self._limit_young_tried = False
        self._growth = None                  # "growth" once the guard is past
        self._timed = self.cpu_cap is not None or self.min_interval != (None, None, None)

    def _guard_reason(self) -> str | None:
        """A reason that runs a full collection whatever the deferral:
        past the memory limit, past max_bytes, or the old generation grown
        past max_growth (decided after the last collection that changed
        it, so no state is read here)."""
        if self.memory_limit is not None or self.max_bytes is not None:
            held = memory_held()
            limit = self.memory_limit
            if limit is not None and held > limit and (
                    self._limit_full_at is None or held > self._limit_full_at + limit // 16):
                return "limit"
            self._limit_young_tried = False
            if self.full == "deferred" and self.max_bytes is not None \
                    and held > self.max_bytes:
                return "memory"
        if self._growth is not None:
            # rare; and an explicit collect() may have reset the counts since
            self._growth = self._growth_reason(_gcx.schedule_state())
        return self._growth

    def _growth_reason(self, state: _ScheduleState) -> str | None:
        assert self.max_growth is not None
        base = max(state["long_lived_total"], 100 * state["threshold"][0])
        return "growth" if state["long_lived_pending"] > self.max_growth * base else None

    def _note(self, cause: str) -> None:
        self._causes[cause] = self._causes.get(cause, 0) + 1

    def _respect_min_interval(self, g: int, state: _ScheduleState, now: float) -> int:
        while g >= 0:
            lo = self.min_interval[g]
            newest = _newest(state["last_start"], g)
            if lo is None or newest is None or now - newest >= lo:
                return g
            g -= 1
        return g

    def _over_cap(self, state: _ScheduleState, now: float) -> bool:
        assert self.cpu_cap is not None
        window = self._window
        window.append((now, state["seconds"]))
        while len(window) > 1 and window[1][0] <= now - self.cpu_window:
            window.popleft()
        since, spent = window[0]
        share = (state["seconds"] - spent) / max(now - since, self.cpu_window)
        self._cap_binding = share >= self.cpu_cap
        return self._cap_binding

    def _after_full(self, state: _ScheduleState, found: int) -> None:
        self._growth = None
        if self.memory_limit is not None:
            held = memory_held()
            self._limit_full_at = held if held > self.memory_limit else None
        if not self.auto_freeze or self._frozen_at is not None:
            return
        survivors = state["long_lived_total"]
        last = self._last_survivors
        self._last_survivors = survivors
        stable = (last is not None and survivors > 0
                  and abs(survivors - last) <= 0.05 * survivors
                  and found <= 0.02 * survivors)
        self._stable = self._stable + 1 if stable else 0
        if self._stable >= self.freeze_after:
            _gcx.freeze()
            self._frozen_at = _gcx.get_freeze_count()
            self._freezes += 1
            self._stable = 0

    def _unfreeze_if_unstable(self) -> None:
        if self._frozen_at is not None and _gcx.get_freeze_count() < 0.9 * self._frozen_at:
            _gcx.unfreeze()
            self._frozen_at = None
            self._last_survivors = None
            self._unfreezes += 1

    def _adapt(self, found: int, state: _ScheduleState) -> None:
        base = state["threshold"][0]
        if base <= 0:
            return
        top = self.young_max if self.young_max is not None else 32 * base
        current = state["trigger"]
        if found == 0:
            current = min(current * 2, max(top, base))
        elif found * 100 > current:
            current = max(current // 2, base)
        self._set_trigger(self._limit_trigger(state, current))

    def _limit_trigger(self, state: _ScheduleState, current: int) -> int:
        """`current`, or sooner in the last quarter before the memory limit
        (down to an eighth of threshold 0)."""
        base = state["threshold"][0]
        if self.memory_limit is None or base <= 0:
            return current
        room = (self.memory_limit - memory_held()) / (self.memory_limit / 4)
        if room >= 1:
            return current if self.adaptive else base
        return max(1, min(current, int(base * max(room, 1 / 8))))

    def _set_trigger(self, n: int) -> None:
        _gcx.set_trigger(0 if n == _gcx.get_threshold()[0] else n)


# ------------------------------------------------------------------------------
# The scheduler: the policy in force, the hook the core calls, the backstop.

_lock = threading.RLock()
_policy: Policy | None = None          # None: the core's own rule, no hook
_policy_decides = False                # _policy is not the core's own rule
_regions: list[NoGCRegion] = []        # open no-GC regions
_deferred_collect = -1                 # the oldest gc.collect() asked in a region
_backstop: _Backstop | None = None


def _on_due(due: int, due_young: int) -> None:
    """The core's pending call while a policy or a region with a budget is
    set (src/schedule.c G4, G5)."""
    if _regions:
        for region in list(_regions):
            region._check()
    if _gcx.hold(0) > 0:
        return                         # G5: nothing collects in a region
    policy = _policy
    if policy is None:
        if due >= 0:
            _run(due, "auto", None)
        return
    g = policy.decide(due, due_young)
    if g is None:
        return
    if isinstance(g, bool) or not isinstance(g, int):
        raise TypeError(f"{type(policy).__name__}.decide() returned {g!r}, "
                        f"not a generation (an int) or None")
    if not 0 <= g < _NGENS:
        raise ValueError(f"{type(policy).__name__}.decide() returned {g!r}, "
                         f"not a generation (0, 1 or 2) or None")
    cause = "auto"
    if g == _FULL:
        reason = policy.full_due(_gcx.schedule_state())
        cause = reason if reason in _GUARDS else cause
    _run(g, cause, policy)


def _run(generation: int, cause: str, policy: Policy | None) -> int:
    """A collection the scheduler decided on, told to the policy; what it
    found, or -1 when none ran: another thread's collection (or the
    stdlib's) was under way, and gc.collect() returns 0 there as the
    stdlib's does.  Nothing is told of a collection that did not run.
    (The core times a collection's start by the clock _clock reads: one
    that ran started at or after `start`.)"""
    start = _clock()
    found = _gcx.collect(generation)
    seconds = _clock() - start
    if found == 0:
        began = _gcx.schedule_state()["last_start"][generation]
        if began is None or began < start:
            return -1
    if policy is not None:
        policy._note(f"{cause}{generation}" if cause in ("auto", "periodic") else cause)
        policy.collected(generation, found, seconds)
    return found


def _is_stdlib_rule(policy: Policy) -> bool:
    """A Policy() with nothing changed decides as the core's own rule does:
    the core decides for it, without a call into Python."""
    return (type(policy).decide is Policy.decide
            and type(policy).collected is Policy.collected
            and policy.parameters() == _DEFAULT.parameters())


def _update_hook() -> None:
    """The core calls _on_due only while something here needs it."""
    needed = _policy_decides or any(r.max_bytes is not None for r in _regions)
    _gcx.set_policy_hook(_on_due if needed else None)


def _check_policy(caller: str, policy: object) -> None:
    """TypeError unless ``policy`` is a gcx.Policy or None (the argument
    check of every function that takes one)."""
    if policy is not None and not isinstance(policy, Policy):
        raise TypeError(f"{caller} takes a gcx.Policy or None, not {type(policy).__name__}")


def set_policy(policy: Policy | None) -> Policy | None:
    """Make ``policy`` decide gcx's automatic collections (None: the
    stdlib's rule).  Returns the policy it replaces, which set_policy takes
    back: a token that restores."""
    global _policy, _policy_decides, _backstop
    _check_policy("set_policy()", policy)
    with _lock:
        old = _policy
        if policy is old:
            return old
        if _backstop is not None:
            _backstop.stop()
            _backstop = None
        _gcx.set_trigger(0)
        _gcx.set_young_limit(0, 0)
        if policy is not None:
            policy._reset_state()
            if policy.needs_memory():
                _gcx.memory(True)
        _policy = policy
        _policy_decides = policy is not None and not _is_stdlib_rule(policy)
        _update_hook()
        if policy is not None and any(t is not None for t in policy.max_interval):
            _backstop = _Backstop(policy)
        return old


def get_policy() -> Policy | None:
    """The policy in force, or None for the stdlib's rule.  Its
    ``parameters()`` are its settings, its ``state()`` what it has done."""
    return _policy


class using_policy:
    """Context manager: ``policy`` in force for the block, the previous one
    back at its end (for a library that must not change the process for
    good)."""

    def __init__(self, policy: Policy | None) -> None:
        _check_policy("using_policy()", policy)
        self._policy = policy
        self._previous: list[Policy | None] = []

    def __enter__(self) -> Policy | None:
        self._previous.append(set_policy(self._policy))
        return self._policy

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc_value: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        set_policy(self._previous.pop())
        return False


# ------------------------------------------------------------------------------
# Safe points and warm-up.

def full_collection_due() -> str | None:
    """Why a full collection is due now, or None: "count" (the stdlib's
    rule would run one; deferred by the policy), "growth" or "memory"
    (the deferral's guard), "limit" (past the memory limit) or "time"
    (past the policy's max_interval for generation 2).  Cheap: no
    collection, no walk of the heap."""
    state = _gcx.schedule_state()
    policy = _policy if _policy is not None else _DEFAULT
    reason = policy.full_due(state)
    interval = policy.max_interval[_FULL]
    if reason is None and interval is not None:
        last = _newest(state["last_start"], _FULL)
        backstop = _backstop
        if last is None and backstop is not None:
            last = backstop.since
        if last is not None and _clock() - last >= interval:
            reason = "time"
    return reason


def safe_point() -> int | None:
    """Run a full collection if one is due (full_collection_due()), else
    nothing.  Returns what it found, or None when nothing was due,
    collection is held (a no-GC region) or automatic collection is off.
    Call it where a pause does no harm: between requests, every N training
    steps, when an event loop goes idle."""
    if _gcx.hold(0) > 0 or not _gcx.isenabled():
        return None
    if full_collection_due() is None:
        return None
    return max(_run(_FULL, "safe_point", _policy), 0)


def warmup() -> int:
    """The end of a program's warm-up (Ruby's Process.warmup): a full
    collection, then freeze what survived, so that later collections do
    not examine it again and, in a pre-fork server, children share it.
    gcx's generations always; the stdlib's too while gcx is not the
    process's collector (install()).  Returns what gcx's collection
    found."""
    from . import _stdlib
    found = _gcx.collect(_FULL)
    _gcx.freeze()
    if not _install.is_installed():
        _stdlib.gc_module.collect()
        _stdlib.gc_module.freeze()
    return found


# ------------------------------------------------------------------------------
# Memory.

def memory_held() -> int:
    """Bytes the Python allocators hold, plus declared native memory
    (add_memory_pressure): pymalloc's arenas (since gcx was imported) and
    the C library's malloc blocks Python allocated (from the first call of
    this function or of a policy that reads it).  Counted at the
    allocators, never read from RSS."""
    return _gcx.memory(True)["held"]


def add_memory_pressure(nbytes: int) -> None:
    """Declare ``nbytes`` of native memory that Python objects own (a
    tensor, a mapped buffer): memory_held() and the policies count it.
    Declare its release with a negative number."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, int):
        raise TypeError(f"nbytes must be an int, not {type(nbytes).__name__}")
    _gcx.add_pressure(nbytes)
    policy = _policy
    if policy is not None and policy.memory_limit is not None:
        state = _gcx.schedule_state()
        policy._set_trigger(policy._limit_trigger(state, state["trigger"]))


# ------------------------------------------------------------------------------
# No-GC regions.

class NoGCRegion:
    """``with gcx.no_gc(max_bytes=None, on_exceed="collect"):``

    Inside the block no collection, no finalizer and no weakref callback
    runs from gcx: automatic collection is held, and gc.collect() in the
    block collects nothing (it returns 0) and runs when the last region
    ends.  Regions nest and may be open in several threads at once; the
    collector is the process's, so collection stays held until every open
    region has ended.

    max_bytes   an allocation budget: how much memory_held() may grow in
                the block; checked whenever a collection would have been
                due and at the end of the block (``exceeded`` says)
    on_exceed   "collect": when the budget was exceeded, a collection runs
                as the region ends (the generation due, at least 0);
                a callable: called once, with the region, when the budget is
                found exceeded; None: only ``exceeded`` says so
    """

    def __init__(self, max_bytes: int | None = None,
                 on_exceed: Literal["collect"] | Callable[[NoGCRegion], object] | None
                 = "collect") -> None:
        self.max_bytes = _count("max_bytes", max_bytes)
        if on_exceed is not None and on_exceed != "collect" and not callable(on_exceed):
            raise TypeError(f"on_exceed must be 'collect', a callable or None, "
                            f"not {on_exceed!r}")
        self.on_exceed = on_exceed
        self.exceeded = False
        self._start_held = 0
        self._open = False
        self._thread = 0

    def __enter__(self) -> NoGCRegion:
        with _lock:
            if self._open:
                raise RuntimeError("this no-GC region is open already")
            if self.max_bytes is not None:
                self._start_held = memory_held()
            self.exceeded = False
            self._open = True
            self._thread = threading.get_ident()
            _regions.append(self)
            _gcx.hold(1)
            _update_hook()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc_value: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        global _deferred_collect
        with _lock:
            if not self._open:
                raise RuntimeError("this no-GC region is not open")
        try:
            self._check()
        finally:
            with _lock:
                self._open = False
                _regions.remove(self)
                _update_hook()
                if self.exceeded and self.on_exceed == "collect":
                    due = _gcx.schedule_state()["due"]
                    _deferred_collect = max(_deferred_collect, due, 0)
                run = -1
                if _gcx.hold(-1) == 0:
                    run, _deferred_collect = _deferred_collect, -1
            if run >= 0:
                _run(run, "no_gc_exit", _policy)
        return False

    def used(self) -> int:
        """How much memory_held() grew since the region began (0 without
        a budget)."""
        return memory_held() - self._start_held if self.max_bytes is not None else 0

    def _check(self) -> None:
        if self.max_bytes is None or self.exceeded or not self._open:
            return
        if self.used() > self.max_bytes:
            self.exceeded = True
            if callable(self.on_exceed):
                self.on_exceed(self)


no_gc = NoGCRegion


def collect_held(generation: int) -> bool:
    """gc.collect(generation) called inside a no-GC region: remember it for
    the region's end.  Whether collection is held (gcx/__init__.py)."""
    global _deferred_collect
    with _lock:
        if _gcx.hold(0) == 0:
            return False
        _deferred_collect = max(_deferred_collect, generation)
        return True


# ------------------------------------------------------------------------------
# The time backstop.

_RETRY = 0.05   # seconds between the backstop's tries while collections are refused


class _Backstop:
    """A daemon thread that collects generation g when it was not collected
    for the policy's max_interval[g] seconds.  It waits without the GIL and
    collects with it, never inside a no-GC region or while automatic
    collection is off."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.since = _clock()     # "never collected" counts from here
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gcx-backstop", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def stop_and_wait(self, timeout: float) -> None:
        """Stop, and wait (at most timeout seconds) for a collection the
        thread has under way to end."""
        self.stop()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _overdue(self) -> tuple[int, float]:
        """The oldest generation overdue (-1: none), and how long until the
        next one is."""
        last = _gcx.schedule_state()["last_start"]
        now = _clock()
        wait = 3600.0
        for g in range(_FULL, -1, -1):
            interval = self.policy.max_interval[g]
            if interval is None:
                continue
            newest = _newest(last, g)
            left = (self.since if newest is None else newest) + interval - now
            if left <= 0:
                return g, 0.0
            wait = min(wait, left)
        return -1, wait

    def _loop(self) -> None:
        shortest = min(t for t in self.policy.max_interval if t is not None)
        wait = shortest
        while not self._stop.wait(wait):
            g, wait = self._overdue()
            if g < 0:
                continue
            # the check and the collection under the scheduler's lock: once
            # quiesce() returns, no collection of this thread is under way
            # or begins while collection stays off
            with _lock:
                if _gcx.hold(0) > 0 or not _gcx.isenabled() or _policy is not self.policy:
                    wait = shortest
                    continue
                ran = _run(g, "periodic", self.policy) >= 0
            # refused (another thread's collection is under way, its
            # finalizers perhaps waiting on something): look again soon,
            # not at once; it was not collected, and is not counted
            wait = self._overdue()[1] if ran else min(shortest, _RETRY)


def quiesce() -> None:
    """Turn automatic collection off and wait out a collection the time
    backstop has under way: from its return, the policy's counts and the
    collections gc.callbacks saw change only by what the caller does."""
    _gcx.disable()
    with _lock:
        pass


def _stop_backstop_at_exit() -> None:
    """At exit (atexit, which runs before the interpreter finalizes): the
    backstop's daemon thread stops and its collection under way ends.  A
    daemon thread still collecting while the interpreter finalizes runs
    Python code (callbacks, finalizers) as CPython frees the threads'
    states: valgrind saw it read its freed state in drop_gil."""
    backstop = _backstop
    if backstop is not None:
        backstop.stop_and_wait(2.0)


def _after_fork_child() -> None:
    """In the child of fork(), only the forking thread lives on: the
    backstop's thread is started again, and the regions other threads had
    open are closed (they would hold collection for good)."""
    global _backstop
    if _backstop is not None and _policy is not None:
        _backstop = _Backstop(_policy)
    me = threading.get_ident()
    for region in [r for r in _regions if r._thread != me]:
        region._open = False
        _regions.remove(region)
        _gcx.hold(-1)
    _update_hook()


_DEFAULT = Policy()


def _register_at_fork() -> None:
    import os      # loaded at start-up already (site)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_child)
    import atexit  # loaded by gcx's core already
    atexit.register(_stop_backstop_at_exit)


_register_at_fork()
