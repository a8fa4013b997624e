# Stub for gcx._gcx, the C core.  Arguments arrive already validated by the
# gcx package (gcx/__init__.py), which is the public interface; this module
# is private.
import types
from collections.abc import Callable
from typing import Any, Final, Literal, NotRequired, TypedDict

_Callback = Callable[[Literal["start", "stop"], dict[str, int]], object]

class _GenerationStats(TypedDict):
    collections: int
    collected: int
    uncollectable: int
    # 3.15's keys, which 3.13's gc.get_stats() does not have (gcx gives the
    # running interpreter's keys; metrics() has them on every version)
    candidates: NotRequired[int]     # objects examined
    duration: NotRequired[float]     # seconds

class _ScheduleState(TypedDict):
    last_start: tuple[float | None, float | None, float | None]   # perf_counter
    seconds: float           # spent in collections, all generations
    count: tuple[int, int, int]
    young_count_since_full: int   # generation 0's count at each young collection
                                  # (past threshold 0, in whole thresholds) since
                                  # the last full one or cycle's end, in all
    threshold: tuple[int, int, int]
    trigger: int             # the young count that asks for a collection
    long_lived_pending: int
    long_lived_total: int
    due: int                 # what the stdlib's rule collects now, -1 nothing
    due_young: int           # ... without generation 2
    held: int                # open no-GC regions
    held_requests: int
    collecting: bool

class _IncrState(TypedDict):
    active: bool             # an incremental cycle is marking
    failed: bool             # an allocation failed in it (marks lost: safe)
    gray: int                # marking left: objects on the gray stack and pages to scan
    marked: int              # marks set this cycle
    traversed: int
    skipped: int             # marked objects found dead or moved
    old_at_start: int        # records of generations 1 and 2 at its start
    kept: int                # marked records the last end left out
    abandoned: int           # cycles a full collection overtook, ever
    bytes: int               # the gray stack's and the marks' memory
    old: int                 # records of generations 1 and 2 now
    young_pages: int         # pages on the young list (records of generation 0)
    middle_pages: int        # ... on the middle list (of generation 1)
    young_records: int       # records of generation 0
    middle_records: int      # ... of generation 1
    sweeping: bool           # marking done, pages left to sweep
    steps: int               # sweep steps this cycle
    swept: int               # records they decided
    swept_found: int         # garbage they found
    step_max: int            # records of the largest step
    promoted: int            # records that entered generation 2 during the cycle
    rejoined: int            # records a sweep step decided again (an earlier one found them alive)
    waited: int              # garbage sweep steps left for later: a weakref to it may have been garbage too
    passes: int              # the sweep's passes over the table (more than one after a deferred step)
    rescanned: bool          # the running frames were read again before the sweep
    deferred: int            # sweep steps decided in the slice after their gathering's
    pending: int             # members of the step gathered and not yet decided (0: none)

class _Memory(TypedDict):
    held: int                # arenas + blocks + pressure
    arenas: int
    blocks: int
    pressure: int
    counting: bool           # the block counts have started
    raw_counted: bool
    objects_counted: bool

class _Info(TypedDict):
    mode: Literal["tracer", "alloc", "lists", "safe"]
    owner: bool              # gcx holds the reference tracer slot
    selftest: bool           # the import-time tracer self-test passed
    # the allocator wrapper's self-test (run where alloc mode may be used):
    # passed, failed, or None (not run)
    alloc_selftest: bool | None
    allocator_wraps: int     # alloc/lists mode: times the allocator wrapper was put on top
    births: int              # lists mode: containers found new in CPython's lists
    looks: int               # lists mode: allocations that looked whether a read or collection was due
    header_readable: bool    # the "tracked" bit is read inline (layout checked)
    lists_readable: bool     # CPython's generation lists are read directly (layout checked)
    interp_head_readable: bool   # main interpreter found via the debugger offsets
    resyncs: int             # table rebuilds from CPython's own object list
    adopted: int             # objects the table learnt of at a resync
    tracked: list[int]       # records per generation, 3 ints
    frozen: int              # records in the frozen set
    pages: int               # table pages
    bookkeeping_bytes: int
    collecting: bool         # a gcx collection is running
    long_lived_total: int
    long_lived_pending: int
    page_bytes: int
    unaligned: int           # containers given no record: address not a multiple of 16
    build: str               # release, debug or asan (setup.py)
    unsure: bool             # live containers may lack records (next use resyncs)
    suspects: int            # deaths that may have been resurrections
    # borrowed references on suspended generators' stacks (3.14+): "exact"
    # (none before 3.14), "compensated", or "conservative" (layout unproven:
    # generators and all they reach survive their collections)
    generator_frames: Literal["exact", "compensated", "conservative"]
    frame_roots: bool
    trigger: str
    cpython_triggered: int
    version: NotRequired[str]    # added by gcx.info(), not by the core

class _LastCollection(TypedDict):
    start: float             # perf-counter seconds
    duration: float          # seconds
    collected: int
    uncollectable: int
    candidates: int          # objects examined

class _GenerationMetrics(TypedDict):
    collections: int
    collected: int
    uncollectable: int
    candidates: int
    duration: float          # seconds in collections of this generation
    pause_counts: list[int]  # cumulative histogram over _Metrics["pause_buckets"]
    pause_seconds: list[float]   # their seconds, cumulative the same way
    objects: int             # records in the generation (O(1))
    last: _LastCollection | None

class _Metrics(TypedDict):
    pause_buckets: list[float]   # upper bounds, seconds, +inf last
    generations: list[_GenerationMetrics]
    frozen: int
    garbage: int             # len(garbage)
    pauses_recorded: int     # collections ever
    collecting: bool
    policies: dict[str, Any] | None   # the policy in force (gcx/policy.py), or None

garbage: Final[list[Any]]
DEBUG_STATS: Final[int]
DEBUG_COLLECTABLE: Final[int]
DEBUG_UNCOLLECTABLE: Final[int]
DEBUG_SAVEALL: Final[int]
DEBUG_LEAK: Final[int]
DEFAULT_THRESHOLDS: Final[tuple[int, int, int]]   # CPython's (2000, 10, 10)
LONG_LIVED_RATIO: Final[int]   # a full collection waits for pending > total / this
SAFE_SPACING: Final[int]       # safe mode: young collections >= survivors / this apart
PAUSE_BUCKETS: Final[tuple[float, ...]]   # the pause histogram's upper bounds, +inf last
callbacks: Final[list[_Callback]]

def collect(generation: int, /) -> int: ...
# collect(), survivors staying in `generation` (the pytest plugin's SpanWatch)
def collect_unpromoted(generation: int, /) -> int: ...
def enable() -> None: ...
def disable() -> None: ...
def isenabled() -> bool: ...
def get_count() -> tuple[int, int, int]: ...
def get_threshold() -> tuple[int, int, int]: ...
def set_threshold(threshold0: int, threshold1: int, threshold2: int, /) -> None: ...
def set_threshold_builtin(impl: Callable[..., None], module: types.ModuleType, module_name: str,
                          doc: str | None, /) -> Callable[..., None]: ...
def get_debug() -> int: ...
def set_debug(flags: int, /) -> None: ...
def get_objects(generation: int, /) -> list[Any]: ...   # -1: every generation
def is_tracked(obj: object, /) -> bool: ...
def is_finalized(obj: object, /) -> bool: ...
def referents_of(objs: tuple[object, ...], /) -> list[Any]: ...
def get_referents(*objs: object) -> list[Any]: ...
def get_referrers(*objs: object) -> list[Any]: ...
def freeze() -> None: ...
def unfreeze() -> None: ...
# generations 0 and 1 moved into 2, unexamined (a cycle running abandoned);
# the records moved, 0 while a collection runs
def age() -> int: ...
def get_freeze_count() -> int: ...
def get_stats() -> list[_GenerationStats]: ...
def info() -> _Info: ...
# install()/uninstall() on 3.12: gcx moves what CPython lists into its
# permanent generation after reading it (no-op where a tracer reports births)
def check() -> None: ...                              # AssertionError if broken
def stdlib_hook(phase: str, info: dict[str, int], /) -> None: ...
# in the child of a fork(): forget pending calls the parent queued, ask again
def after_fork_child() -> None: ...
# install()/uninstall(): count generation 0 as CPython does (its own counter)
def count_as_cpython(flag: bool, /) -> None: ...
def adopt_counts(count0: int, count1: int, count2: int, /) -> None: ...
def resync() -> None: ...
def shutdown() -> None: ...   # registered with atexit: gives the tracer slot back
# lend the reference tracer slot to a tracer that does nothing (bench_tracking)
def noop_tracer() -> None: ...
# (start, duration, generation, collected, uncollectable, candidates), oldest first
def recent_pauses() -> list[tuple[float, float, int, int, int, int]]: ...
# (collections ever, the pauses numbered since and later that the ring holds)
def pauses_since(since: int, /) -> tuple[int, list[tuple[float, float, int, int, int, int]]]: ...
def metrics() -> _Metrics: ...
# tracked objects of a generation (-1: all three) by type, in no order
def census(generation: int, /) -> list[tuple[type, int]]: ...
# a byte to fd (a non-blocking pipe) after a collection of threshold seconds
# or more, once it is over; fd -1: off
def set_slow_pause_fd(fd: int, threshold: float, /) -> None: ...
# hook(generation, collectable, uncollectable), before the garbage is touched
def set_garbage_hook(hook: Callable[[int, list[Any], list[Any]], object] | None, /) -> None: ...
MODE_TRACER: Final[str]       # info()["mode"] in tracer mode: "tracer"
def set_policy_hook(hook: Callable[[int, int], object] | None, /) -> None: ...
def set_trigger(n: int, /) -> None: ...
# a pending call is handed to the policy, while no region is open, no full
# collection is due and generation 0's count is at most threshold 0, only
# once the young list holds `pages` pages and that count has reached
# from_count (pages 0: always; schedule.c G7)
def set_young_limit(pages: int, from_count: int, /) -> None: ...
def hold(delta: int, /) -> int: ...
def schedule_state() -> _ScheduleState: ...
# the incremental cycle (src/incremental.c; gcx/_budget.py drives it)
def incr_start(roots: list[object], /) -> None: ...
def incr_slice(seconds: float, /) -> int: ...   # marking left (gray objects, pages to scan)
def incr_frame(frame: types.FrameType, depth: int, /) -> bool: ...   # read; marks what it holds
# the running frame saved its value stack's top (incr_start reads that stack itself)
def frame_top_saved(frame: types.FrameType, /) -> bool: ...
def incr_sweep(seconds: float, /) -> int: ...   # 1 while pages are left to sweep
def incr_finish() -> int: ...                   # what the end found; -1 no cycle
def incr_abandon() -> None: ...
def incr_state() -> _IncrState: ...
# PauseBudget's view (gcx/_budget.py names the 15 figures) and its aim:
# set_young_limit(pages, from_count) and set_trigger(trigger) in one call
def budget_view() -> tuple[int, ...]: ...
def budget_aim(pages: int, from_count: int, trigger: int, /) -> None: ...
def memory(start: bool, /) -> _Memory: ...
def add_pressure(nbytes: int, /) -> None: ...
