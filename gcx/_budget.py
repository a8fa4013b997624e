"""A pause budget: full collections in slices (issue 14).

``gcx.install(policy=gcx.PauseBudget(ms=1.0))`` or ``gcx.set_policy(...)``.

Where the stdlib's rule runs a full collection, PauseBudget runs an
incremental cycle (src/incremental.c), a slice of at most ``ms``
milliseconds at each of the scheduler's calls.  Young collections run as
the stdlib's rule says, except that, at the cost per page of the table
the last young collections of each generation took (a young
collection's time follows its pages, not its records):

* generation 1 is collected as soon as one more young collection would
  make its collection overrun 60% of the budget;
* generation 0 is collected before threshold 0 (but not before a quarter
  of it) once its pages would take 30% of the budget: new containers fill
  holes all over the allocator's pools, and late in the HTTP loop 2,000
  of them spanned 600 pages, 2 ms;
* what the young generations hold when the policy takes over (right
  after install, what the interpreter's own young generation held: 580
  pages) is moved into the old generation unexamined
  (``state()["aged"]``), a cycle's work like the rest of it.

A slice gets what is left of the budget after them, and the analysis of
code objects' stack depths on 3.12 and 3.13 a tenth of it:

* marking: from roots (``sys.modules`` and the locals of every thread's
  frames) it marks what is alive;
* the sweep: what marking did not reach in the old generation (mostly
  garbage, plus what only C code or objects made during the cycle hold) is
  decided a step at a time; a step is an ordinary gcx collection of a set of
  old objects closed under references (finalizers, weakref callbacks,
  resurrection and gc.garbage as the stdlib's full collection handles the
  same garbage), with everything outside it counting as references from
  outside, so it is exact whatever the program did between slices;
* the end: counted as the full collection (its statistics include what
  the sweep found and its time); it examines nothing more, the young
  generations waiting for their own collections.

When a cycle starts: where the stdlib's rule would run a full collection
(both halves of it: the old generation grown by a quarter, and generation
1 collected threshold[2] + 1 times, counted in the young collections the
stdlib's rule would have run for the same allocations, since PauseBudget
collects generations 0 and 1 early), earlier by what the last cycle
let into the old generation and the young collections it took, so that
it ends about when the stdlib's full collection would run and the
garbage held is about the stdlib's.
Pacing: slices are asked for by allocation.  While the cycle's progress
(objects traversed and swept / the old generations at its start) lags what
entered the old generations meanwhile (as a share of 5% of them), the
interval between slices halves (down to 1/16 of threshold 0), so slices
come more often; it doubles back when the cycle is ahead.  Young
collections still come as above.  The memory guard: once generations 1
and 2 have grown by ``guard`` (a fraction of their size at the start; and
by 50,000 records at least, which a heap being built outgrows a small old
generation by before a cycle can mark it) the cycle ends at once,
whatever marking or the sweep still had to do, and state() counts it as
a fallback.

Marking also starts from the slots of every thread's running frames, value
stacks included (``gcx.info()["frame_roots"]``), at the cycle's start and
again before the sweep: a list a comprehension is building is reached
there.  3.14+ keeps each frame's stack top whenever the frame can be
interrupted; 3.12 and 3.13 keep it only while a frame calls a Python
function, and for the frame that is running (or calling C) gcx/_frames.py
works the depth out from its bytecode.

What a slice cannot bound: a structure that only C code holds, or that the
frames held only while the cycle could not see them, which marking cannot
reach, is decided by one step whatever its size.

In safe mode (records may dangle, so nothing may be read between
slices) PauseBudget runs stop-the-world full collections, and state() says
so (``"mode": "stop-the-world (safe mode)"``).
"""

from __future__ import annotations

import collections
import sys
import time
import types

from . import _frames, _gcx
from .policy import Policy, _number

# Bound at import, as in policy.py: the program's patches of builtins and
# of the clock do not reach the policy's calls.
from builtins import int, len, max, min, range, sorted, super

_clock = time.perf_counter

# budget_view()'s figures, in its order: generation 0's count and
# threshold, the young and middle generations' pages and records, the old
# generations' records (1 and 2) now and at the cycle's start, what the
# cycle traversed, swept and promoted, marking left (gray), and whether it
# is active, sweeping, and read the frames again before its sweep
(_COUNT, _BASE, _YOUNG_PAGES, _MIDDLE_PAGES, _YOUNG_RECORDS, _MIDDLE_RECORDS, _OLD,
 _OLD_AT_START, _TRAVERSED, _SWEPT, _PROMOTED, _GRAY, _ACTIVE, _SWEEPING,
 _RESCANNED) = range(15)

__all__ = ["PauseBudget"]

_FULL = 2
_RECENT = 10_000          # slice durations kept for the percentiles
_MARGIN = 0.8             # of the budget, a slice may plan to use
_PER_PAGE = 1e-6          # generation 1's collection's cost per page, until measured
_YOUNG_PER_PAGE = 3e-6    # generation 0's, until measured (the first ones took
                          # 1.2-3 us a page on 3.13.5's demo)
_ANALYSIS = 0.1           # of the budget, analysing new code's stack depths may take
_YOUNG_SHARE = 0.6        # of the budget, a collection of generation 1 may take
_YOUNG_ALONE = 0.3        # of the budget, generation 0's before threshold 0 (half
                          # the share: its survivors must leave room for generation 1's)
_YOUNG_FLOOR = 4          # generation 0 waits for 1/this of threshold 0 at least
_RATE_MIN = 32            # pages below which a collection's time is mostly fixed cost
_RECORDS_PER_PAGE = 64    # records that cost a collection as much as a page (_weight)
_GUARD_MIN = 50_000       # records the old generations may always grow by in a cycle
_GOAL = 0.05              # a cycle should end before this share of the old
                          # generations at its start has entered them


def _roots() -> list[object]:
    """What marking starts from besides the running frames' slots, which the
    core reads itself (frames.c): every module; and where the frames'
    layout did not prove readable, the locals of every thread's frames (a
    heap held only by a local of main() would otherwise be left to the
    sweep)."""
    roots: list[object] = [sys.modules]
    if _gcx.info()["frame_roots"]:
        return roots
    for frame in sys._current_frames().values():
        f: types.FrameType | None = frame
        while f is not None:
            roots.append(f)
            roots.extend(f.f_locals.values())
            f = f.f_back
    return roots


def _between_fulls(sched: _gcx._ScheduleState) -> int:
    """The young collections the stdlib's rule runs between two full
    ones: threshold[1] + 1 of generation 0 and one of generation 1, until
    generation 1 has been collected threshold[2] + 1 times."""
    _, t1, t2 = sched["threshold"]
    return (t1 + 2) * (t2 + 1)


def _young_collections(sched: _gcx._ScheduleState, count: int) -> float:
    """Generation 0's count `count`, in the young collections the stdlib's
    rule would have taken for it (one per threshold 0)."""
    return count / max(sched["threshold"][0], 1)


def _cautious(estimate: float, measured: float) -> float:
    """An estimate that follows a measurement up at once, down by eighths."""
    return max(measured, estimate + (measured - estimate) / 8)


def _weight(pages: float, records: float) -> float:
    """What a young collection costs, in pages: a page's fixed cost (the
    table's and the region's entries, the objects' cache lines: about
    1 us) and each record's (traversal: about 1/64 of that; fitted over
    the demo's and the HTTP loop's young collections, 3.13.5).  A page
    holds up to 256 records."""
    return pages + records / _RECORDS_PER_PAGE


def _percentile(values: collections.deque[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# The smallest budget PauseBudget takes, milliseconds.
MIN_MS = 0.05


class PauseBudget(Policy):
    """Full collections as incremental cycles: marking and then the sweep
    of what marking did not reach, in slices of at most ``ms`` milliseconds.

    ms      the budget of one scheduler call (a young collection, if one is
            due, and a slice), in milliseconds (MIN_MS, 0.05, <= ms <= 1000:
            a smaller slice does too little to keep up, and the memory guard
            ends every cycle in one long pause)
    guard   end the cycle at once when generations 1 and 2 have grown by
            this fraction of their size at its start, and by 50,000
            records at least (0 < guard <= 10): the memory guard, counted
            in state()["fallbacks"]
    """

    def __init__(self, ms: float = 1.0, *, guard: float = 0.25) -> None:
        self.ms = _number("ms", ms, 1000.0, least=MIN_MS)
        self.guard = _number("guard", guard, 10.0)
        _frames.prepare()
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
        self._safe = _gcx.info()["mode"] == "safe"
        self._aged = 0
        if self._ready:
            _gcx.incr_abandon()  # set_policy(): a cycle of an earlier use is not ours
            if not self._safe:
                # what the young generations hold when the policy takes
                # over (right after install: the interpreter's own, 580
                # pages, a 1.3-2 ms collection) is a cycle's work, in
                # slices: its garbage waits for the first cycle
                self._aged = _gcx.age()
        self._slices = 0
        self._skipped_last = False             # the last call of the cycle ran no slice
        self._slice_max = 0.0
        self._recent: collections.deque[float] = collections.deque(maxlen=_RECENT)
        self._cycles = 0
        self._lead = 0                         # the last cycle's promotions
        self._lead_young = 0.0                 # the last cycle's young collections (in thresholds 0)
        self._young_at_start = 0              # young_count_since_full at a cycle's start
        self._interval = 0                     # the pacing's allocations between slices
        self._fallbacks = 0
        self._stop_the_world = 0
        self._ends: collections.deque[float] = collections.deque(maxlen=_RECENT)
        self._garbage = 0                      # found by the ends, in all
        self._last_garbage = 0
        self._last_unmarked = 0
        self._last_marked = 0
        self._abandoned_at_set = _gcx.incr_state()["abandoned"]
        self._largest_step = 0                 # records, of any cycle's sweep
        self._deferred = 0                     # steps decided a slice later, ended cycles
        self._per_page = _PER_PAGE             # seconds generation 1's collection takes per page (_weight)
        self._young_per_page = _YOUNG_PER_PAGE  # ... generation 0's alone
        self._survivor_weight = 0.0            # what a young collection adds to generation 1 (_weight)
        self._pages_per_count = 0.0            # young pages per unit of generation 0's count

    def state(self) -> dict[str, object]:
        """Slices and their durations (seconds: max, p99 of the last 10,000),
        cycles completed, fallbacks (the memory guard ended a cycle early),
        stop-the-world full collections (safe mode), the records of the
        young generations aged into the old one as the policy took over
        (set_policy, install), cycles abandoned for a
        full collection that overtook them (gc.collect(2)), what the cycles'
        ends found with their sweeps (garbage, in all and the last) and
        examined (unmarked: their regions; marked: what the end left out),
        and the cycle running: marked, sweeping, its sweep's steps, what
        they decided and found, its largest step (records); the largest
        step of any cycle, and the steps of all cycles decided in the slice
        after their gathering's (steps_deferred: a closure larger than the
        step's target whose gathering took half the slice)."""
        core = _gcx.incr_state()
        out = super().state()
        out.update({
            "mode": ("stop-the-world (safe mode)" if _gcx.info()["mode"] == "safe"
                     else "incremental"),
            "slices": self._slices, "slice_max": self._slice_max,
            "slice_p99": _percentile(self._recent, 0.99),
            "cycles": self._cycles, "fallbacks": self._fallbacks,
            "stop_the_world": self._stop_the_world, "aged": self._aged,
            "abandoned": core["abandoned"] - self._abandoned_at_set,
            "end_max": max(self._ends, default=0.0),
            "end_p99": _percentile(self._ends, 0.99),
            "garbage_found": self._garbage, "last_garbage": self._last_garbage,
            "last_unmarked": self._last_unmarked, "last_marked": self._last_marked,
            "active": core["active"], "gray": core["gray"], "marked": core["marked"],
            "sweeping": core["sweeping"], "sweep_steps": core["steps"],
            "swept": core["swept"], "swept_found": core["swept_found"],
            "sweep_step_max": core["step_max"],
            # (the core keeps an ended cycle's figures until the next starts;
            # _end added them to _deferred)
            "steps_deferred": self._deferred + (core["deferred"] if core["active"] else 0),
            "largest_step": max(self._largest_step, core["step_max"]),
            "bytes": core["bytes"],
        })
        return out

    # ---- the decision ---------------------------------------------------------------

    def decide(self, due: int, due_young: int) -> int | None:
        # Called right after the program ran, or a slice did: on cold
        # caches, where each Python frame and each call into the core is a
        # run of misses (27 us a call on the 3M heap against 3 warm).  So
        # the usual call reads the core once (budget_view), runs at most
        # one young collection (_collect_young) and a slice, and aims once
        # (_aim), without other frames; the rest is rare.
        start = _clock()
        v = _gcx.budget_view()
        # a trigger lowered for pacing or for the young limit asks for a
        # look, not for a young collection: one comes past threshold 0 (as
        # the stdlib's rule says, which asks only once generation 0's count
        # passes it); or, once generation 0's count has reached a quarter
        # of threshold 0, as soon as its pages would take more than
        # _YOUNG_ALONE of the budget (the young limit, _young_limit).  New
        # containers fill holes all over the allocator's pools: late in the
        # HTTP loop 2,000 of them span 250-600 pages, up to 2 ms on 3.15.2;
        # right after install generation 0 holds what the interpreter's own
        # did, 580 pages.  Not in safe mode, where every collection first
        # resyncs the whole table.
        young = due_young >= 0 and (
            v[_COUNT] > v[_BASE]
            or (not self._safe and v[_COUNT] >= v[_BASE] // _YOUNG_FLOOR
                and v[_YOUNG_PAGES] >= self._young_limit()))
        if not v[_ACTIVE]:
            sched = _gcx.schedule_state()
            if not self._cycle_due(due, sched):
                self._aim(self._collect_young(due_young, v) if young else v)
                return None
            if self._safe:
                self._stop_the_world += 1
                return _FULL
            self._young_at_start = sched["young_count_since_full"]
            self._interval = v[_BASE]
            _gcx.incr_start(_roots())
            _frames.mark_value_stacks(self.ms / 1000 * _ANALYSIS)
            v = _gcx.budget_view()
        else:
            # at least _GUARD_MIN records: a heap being built grows by a
            # quarter of a small old generation before a cycle can mark it,
            # and the fallback's end is the longest pause there (2-3 ms)
            allowed = max(self.guard * v[_OLD_AT_START], _GUARD_MIN)
            if v[_OLD] - v[_OLD_AT_START] > allowed:
                self._fallbacks += 1
                self._end()
                return None
            if v[_GRAY] == 0 and not v[_SWEEPING]:
                self._end()                   # swept: the end examines nothing more
                return None
        after = self._collect_young(due_young, v) if young else v
        # what the young collection left of the budget, less a margin for
        # the overrun (marking reads the clock every ~1,000 edges, a sweep
        # step is sized by the rate of the last ones) and this call's own
        # cost; nothing when a young collection took it all (the pacing
        # asks again sooner), but not twice in a row: where every call
        # brings a young collection that seems to take it all (a loaded
        # machine stretches the clock), the cycle would never advance, and
        # one run of a test starved after 2 slices in 117 calls; an eighth
        # of it at least otherwise
        left = self.ms / 1000 * _MARGIN - (_clock() - start)
        if left < self.ms / 1000 / 8:
            if young and not self._skipped_last:
                self._skipped_last = True
                self._aim(after)
                return None
            left = self.ms / 1000 / 8
        self._skipped_last = False
        t0 = _clock()
        if v[_GRAY] > 0:
            _gcx.incr_slice(left)
        else:
            # what the frames hold as the sweep begins; not before every
            # frame's stack could be read: a structure only a value stack
            # holds (a list a comprehension is building) would be one step
            # of the sweep, 18 ms for the 3M heap's first cycle.  The code
            # analysed stays known, so the next slice gets further.
            if (v[_RESCANNED]
                    or _frames.mark_value_stacks(self.ms / 1000 * _ANALYSIS)):
                _gcx.incr_sweep(left)
        took = _clock() - t0
        self._slices += 1
        if took > self._slice_max:
            self._slice_max = took
        self._recent.append(took)
        self._aim(_gcx.budget_view())
        return None

    def _collect_young(self, due_young: int, v: tuple[int, ...]) -> tuple[int, ...]:
        """A young collection, timed, of the stdlib's rule's generation,
        except that generation 1 is collected before it outgrows the
        budget (the stdlib's rule waits for ten young collections, whatever
        they left in it: 29,000 records, 4 ms, on the 3M heap).  Each
        record is examined by one collection of generation 1 either way;
        they just come more often, each over less.  Were generation 1 left
        for one more young collection, it would hold what it holds and the
        survivors of this one, and the next one's young pages would be
        about this one's.

        A young collection's cost is about its pages' (the young and middle
        lists of the table), not its records': 0.9 us a page, 2 to 60
        records on each, on the 3M heap; but pages full of records, as a
        heap being built leaves them, cost up to five times as much
        (_weight).  The cost per page it took (of each generation apart),
        the young pages per unit of generation 0's count it found, and what
        generation 0's survivors add to generation 1 are what the young
        limit and _aim() predict from.  The core's view after it."""
        young, middle = v[_YOUNG_PAGES], v[_MIDDLE_PAGES]
        weight = _weight(young + middle, v[_YOUNG_RECORDS] + v[_MIDDLE_RECORDS])
        count = v[_COUNT]
        generation = due_young
        if due_young == 0 and ((weight + self._survivor_weight) * self._per_page
                               > self.ms / 1000 * _YOUNG_SHARE):
            generation = 1
        start = _clock()
        found = _gcx.collect(generation)
        took = _clock() - start
        self._note("auto0" if generation == 0 else "auto1")
        self.collected(generation, found, took)
        # up at once, down by eighths: the cost per page varies by 2x from
        # one collection to the next, and an overrun is what it prevents.
        # Apart for each generation: a collection of generation 0 alone
        # costs more per page (its fixed costs over fewer pages), and at
        # its rate generation 1 would be collected early far more often
        # (the 3M heap: 4% more time in collections)
        if generation == 1 and young + middle >= _RATE_MIN:
            self._per_page = _cautious(self._per_page, took / weight)
        elif generation == 0 and young >= _RATE_MIN:
            self._young_per_page = _cautious(self._young_per_page, took / young)
        # only when to look again (_aim): an average
        if count > 0:
            ratio = young / count
            self._pages_per_count += (ratio - self._pages_per_count) / (
                4 if self._pages_per_count else 1)
        after = _gcx.budget_view()
        if generation == 0:
            grew = _weight(after[_MIDDLE_PAGES] - middle,
                           after[_MIDDLE_RECORDS] - v[_MIDDLE_RECORDS])
            self._survivor_weight = _cautious(self._survivor_weight, max(grew, 0.0))
        return after

    def _young_limit(self) -> int:
        """The young pages whose collection would take _YOUNG_ALONE of the
        budget; at least twice _RATE_MIN, so that the collections the limit
        brings measure the cost per page again (an overrun that raised it
        would otherwise keep it up: a limit under _RATE_MIN, collections
        too small to measure, generation 0 collected 2.6 times as often
        for good)."""
        limit = self.ms / 1000 * _YOUNG_ALONE / self._young_per_page
        return max(int(limit) + 1, 2 * _RATE_MIN)

    def _aim(self, v: tuple[int, ...]) -> None:
        """The pacing, then the count of generation 0 at which the scheduler
        asks next.

        Pacing: during a cycle, slices come more often while it lags what
        enters the old generations.  Every record of generation 2 at the
        start is either traversed by marking or decided by the sweep: that
        is the cycle's work; what entered the old generation meanwhile is
        what it has used.

        The count: threshold 0; sooner where generation 0's pages are
        expected to reach the young limit, at the pages per count they grew
        by since the last young collection (right after one, at what the
        last ones found), but not within an eighth of threshold 0 (in lists
        mode the pages are read with the births, at most every 1,024
        objects); during a cycle, sooner still if the pacing's interval
        says so.  The young limit in pages goes to the core, which answers
        the looks that find generation 0 short of it."""
        base = v[_BASE]
        if base <= 0:
            return
        active = v[_ACTIVE]
        if active:
            at_start = max(v[_OLD_AT_START], 1)
            done = min((v[_TRAVERSED] + v[_SWEPT]) / at_start, 1.0)
            used = v[_PROMOTED] / (_GOAL * at_start)
            if used > done * 0.8:
                self._interval = max(self._interval // 2, max(base // 16, 1))
            elif used < done * 0.4:
                self._interval = min(self._interval * 2, base)
        count = max(v[_COUNT], 0)
        young = v[_YOUNG_PAGES]
        limit = self._young_limit()
        ask = base
        per_count = young / count if count > 0 and young > 0 else self._pages_per_count
        if not self._safe and per_count > 0:
            ask = min(ask, max(count + int((limit - young) / per_count), count + base // 8,
                               base // _YOUNG_FLOOR))
        if active:
            if self._interval > 0:
                ask = min(ask, count + self._interval)
            # every call may bring a slice
            pages, floor = 0, 0
        else:
            # the looks that find generation 0 short of the limit are
            # answered in the core (schedule.c G7), without this call
            pages, floor = (0 if self._safe else limit), base // _YOUNG_FLOOR
        trigger = 0 if ask >= base else max(ask, count + 1)
        _gcx.budget_aim(pages, floor, 0 if trigger == base else trigger)

    def _cycle_due(self, due: int, sched: _gcx._ScheduleState) -> bool:
        """Start a cycle where the stdlib's rule would run a full collection,
        earlier by what the last cycle took, so that it ends about when the
        stdlib's full collection would run: what it frees is then what the
        stdlib's would, and the garbage held no more.  Both halves of the
        rule:

        * the old generation has grown by a quarter (long_lived_pending),
          less what the last cycle let into it (or the rule says so itself:
          ``due``);
        * generation 1 has been collected threshold[2] + 1 times since the
          last full collection, each time after threshold[1] + 1
          collections of generation 0: counted in young collections as the
          stdlib's rule would have taken them (generation 0's count at each
          collection since the last full one, in thresholds 0), less what
          the last cycle took.  The core's own count of generation 2 comes
          3-4 times sooner under PauseBudget (_young collects generation 1
          early), and without this a heap being built paid a cycle for
          every quarter it grew by: 16 cycles where the stdlib ran 3 full
          collections while the HTTP loop's catalogue was built.  Counted
          in young collections instead, a young limit that collected
          generation 0 at a sixteenth of threshold 0 started cycles 16
          times as often."""
        pending, total = sched["long_lived_pending"], sched["long_lived_total"]
        grown = due == _FULL or (pending > 0 and pending + self._lead > total // 4)
        counted = (_young_collections(sched, sched["young_count_since_full"])
                   + self._lead_young >= _between_fulls(sched))
        return grown and counted

    def _end(self) -> None:
        core = _gcx.incr_state()
        # at most what the pacing lets a cycle admit: a cycle during the
        # heap's build admits far more, which would start the next one at once
        self._lead = min(core["promoted"], int(2 * _GOAL * core["old_at_start"]))
        # the young collections the cycle took, at most half of those the
        # stdlib's rule counts between full collections
        sched = _gcx.schedule_state()
        young = _young_collections(sched, sched["young_count_since_full"] - self._young_at_start)
        self._lead_young = min(young, _between_fulls(sched) // 2)
        self._largest_step = max(self._largest_step, core["step_max"])
        self._deferred += core["deferred"]
        t0 = _clock()
        found = _gcx.incr_finish()
        took = _clock() - t0
        self._interval = 0
        self._aim(_gcx.budget_view())
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
