"""Monitoring gcx: its figures as plain data, a census of the heap by type,
and a logger of slow collections.

Everything here reads what the C core records when a collection ends (a few
additions into static memory, with no lock, no allocation and no Python
code), so reading it never waits for a collection, never makes one wait, and
runs no Python code inside one.

metrics()          every figure, as a dict of plain values (shape below)
census()           tracked objects by type name, a collections.Counter,
                   counted in C over gcx's table (no list of objects is made)
growth()           the types that grew between two censuses
show_growth()      objgraph's show_growth: print the types whose count rose
                   above its peak since the last call
log_slow_pauses()  log each collection slower than a threshold through the
                   stdlib logging module, after the collection
memory()           the process's memory as the allocators see it, cheaply
watch()            print, at an interval, generation sizes, memory and the
                   types that grew most (what ``gcx run --watch`` shows)

The exporters build on metrics(): gcx.prometheus (prometheus_client) and
gcx.otel (OpenTelemetry).

The shape of metrics() (stable; new keys may be added, none removed)::

    {
      "pause_buckets": [1e-05, 2.5e-05, ..., 10.0, inf],
                          # upper bounds of the pause histogram, seconds;
                          # a pause of d seconds counts in every bucket
                          # whose bound is >= d (cumulative, as Prometheus)
      "generations": [    # index: the generation, 0 1 2
        {
          "collections": int,     # collections of this generation
          "collected": int,       # objects they freed
          "uncollectable": int,   # objects they found uncollectable
          "candidates": int,      # objects they examined (the scanned set)
          "duration": float,      # seconds spent in them
          "pause_counts": [int],  # cumulative histogram: collections that
                                  # took <= pause_buckets[i]; the last
                                  # entry equals "collections"
          "pause_seconds": [float],  # their seconds, cumulative the same
                                  # way; the last equals "duration"
          "objects": int,         # containers in this generation now
          "last": None or {"start", "duration", "collected",
                           "uncollectable", "candidates"},
                                  # the last collection of this generation:
                                  # what the latest collections found
        }, ...
      ],
      "frozen": int,              # containers in the frozen set (freeze())
      "garbage": int,             # len(gcx.garbage)
      "pauses_recorded": int,     # collections of any generation, ever
      "collecting": bool,         # read from inside a collection
      "policies": None or {       # the policy in force (gcx/policy.py),
                                  # None while the stdlib's rule decides:
          "policy": str,          # its class's name
          "parameters": {...},    # Policy.parameters()
          "collections": {cause: int},   # what it ran, by cause
          "full_due": str | None, # why a full collection is due, if one is
          "deferred_full": int, "cpu_cap_waits": int,
          "cpu_cap_binding": bool, "young_trigger": int,
          "freezes": int, "unfreezes": int,
          "memory_held": int | None,     # memory_held(), if the policy
                                         # reads it
      },
    }

Times are seconds from time.perf_counter()'s clock.  "objects" is read in
O(1) from gcx's table: it counts the containers gcx holds a record of in
that generation, which is what len(gc.get_objects(g)) counts plus the
containers CPython does not track at the moment (3.13 creates dicts
untracked and tracks them once they hold a container; gcx keeps their
record).  In safe mode (gcx.mode(); GCX_MODE=safe) gcx's records are exact only just after
a resynchronisation (every collection and census starts with one): between
them dead containers may stay counted and some new ones may not be.
census() counts exactly what get_objects() would list.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import typing

from . import _args, _gcx

if typing.TYPE_CHECKING:
    import logging
    from typing import IO

    from ._gcx import _Metrics

__all__ = ["metrics", "census", "growth", "show_growth", "Growth",
           "log_slow_pauses", "SlowPauseLog", "PAUSE_BUCKETS", "memory", "watch", "Watch"]

# The pause histogram's upper bounds, seconds, +inf last.
PAUSE_BUCKETS: tuple[float, ...] = _gcx.PAUSE_BUCKETS

_NUM_GENERATIONS = 3


def metrics() -> _Metrics:
    """Every figure gcx keeps, as plain data (the module docstring has the
    shape).  Read in one call into the core, so the figures are those of
    one moment."""
    figures = _gcx.metrics()
    if f"{__package__}.policy" in sys.modules:      # a policy may be set
        from . import policy as policies
        policy = policies.get_policy()
        if policy is not None:
            state = policy.state()
            state["parameters"] = policy.parameters()
            state["memory_held"] = policies.memory_held() if policy.needs_memory() else None
            figures["policies"] = state
    return figures


# ------------------------------------------------------------------------------
# Census.

def type_name(tp: type) -> str:
    """A type's name in a census: module.qualname, or the bare qualname for
    builtins."""
    module = getattr(tp, "__module__", None)
    qualname = getattr(tp, "__qualname__", None)
    if not isinstance(qualname, str):
        qualname = tp.__name__
    if not isinstance(module, str) or module == "builtins":
        return qualname
    return f"{module}.{qualname}"


def census(generation: typing.SupportsIndex | None = None) -> collections.Counter[str]:
    """How many objects of each type the collector tracks, as a Counter
    keyed by type name (module.qualname; builtins by their bare name, as
    objgraph names them; two types of the same name add up).

    Counts what gcx.get_objects(generation) would list (generation None:
    every generation, not the frozen set), but in C over gcx's table,
    without making that list: on a heap of a million containers it takes a
    few milliseconds (benchmarks/RESULTS.md).
    """
    # the argument and its errors as get_objects() has them
    number = _args.as_optional_ssize_t(generation, -1)
    if number >= _NUM_GENERATIONS:
        raise ValueError("generation parameter must be less than the number of "
                         f"available generations ({_NUM_GENERATIONS})")
    if number < -1:
        raise ValueError("generation parameter cannot be negative")
    pairs = _gcx.census(number)      # before the Counter exists: it is not counted
    result: collections.Counter[str] = collections.Counter()
    for tp, n in pairs:
        result[type_name(tp)] += n
    return result


class Growth(typing.NamedTuple):
    """One type in a growth report: its name, its objects now and how many
    more there are."""
    name: str
    objects: int
    delta: int


def _census_arg(name: str, value: object) -> typing.Mapping[str, int]:
    """A census given to growth(): a mapping of type names to counts."""
    if not isinstance(value, collections.abc.Mapping):
        raise TypeError(f"{name} must be a census (a mapping of type names to "
                        f"counts), not {type(value).__name__}")
    for key, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"{name} must map type names to counts (int), not "
                            f"{type(count).__name__}: {key!r}: {count!r}")
    return value


def _limit_arg(limit: object) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an int or None, not {type(limit).__name__}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, not {limit}")
    return limit


def growth(before: typing.Mapping[str, int], after: typing.Mapping[str, int] | None = None,
           limit: int | None = None) -> list[Growth]:
    """The types whose count rose from census ``before`` to census
    ``after`` (default: a new census()), most growth first (then by name),
    at most ``limit`` of them (None: all)."""
    before = _census_arg("before", before)
    limit = _limit_arg(limit)
    after = census() if after is None else _census_arg("after", after)
    rows = [Growth(name, count, count - before.get(name, 0))
            for name, count in after.items() if count > before.get(name, 0)]
    rows.sort(key=lambda g: (-g.delta, g.name))
    return rows if limit is None else rows[:limit]


_peaks: collections.Counter[str] = collections.Counter()


def show_growth(limit: int | None = 10, file: IO[str] | None = None) -> list[Growth]:
    """Print the types whose count is above its peak at the previous calls,
    with the increase, most first, at most ``limit`` of them (None: all), as
    objgraph.show_growth() does (the first call reports every type).
    Returns the rows printed."""
    limit = _limit_arg(limit)
    now = census()
    rows = growth(_peaks, now, limit)
    for name, count in now.items():
        if count > _peaks[name]:
            _peaks[name] = count
    out = sys.stdout if file is None else file
    width = max((len(r.name) for r in rows), default=0)
    for r in rows:
        print(f"{r.name:<{width}} {r.objects:>9} {r.delta:>+9}", file=out)
    return rows


# ------------------------------------------------------------------------------
# The slow-pause log.

class SlowPauseLog:
    """What log_slow_pauses() set up: a daemon thread that logs the slow
    collections the core signals.  stop() (or the end of a with block)
    turns it off."""

    def __init__(self, threshold: float, logger: logging.Logger, census_types: int) -> None:
        self.threshold = threshold          # seconds
        self.logger = logger
        self.census_types = census_types    # types listed per message; 0: no census
        self.logged = 0                     # messages emitted
        self.missed = 0                     # collections that left the ring unseen
        self._next, _ = _gcx.pauses_since(2**64 - 1)
        self._read = self._write = -1
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return _current is self

    def _start(self) -> None:
        """A pipe whose write end the core signals (S4 of src/stats.c), and
        the thread that reads it."""
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._read, self._write = read, write
        self._thread = threading.Thread(target=self._run, args=(read,),
                                        name="gcx-slow-pauses", daemon=True)
        self._thread.start()
        _gcx.set_slow_pause_fd(write, self.threshold)

    def _end(self) -> None:
        """Stop the signals and the thread (it sees the pipe close)."""
        _gcx.set_slow_pause_fd(-1, 0.0)
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def stop(self) -> None:
        """Stop logging; slow collections signalled before are still logged
        (nothing happens if another log_slow_pauses() call replaced this
        one already)."""
        global _current
        if _current is self:
            self._end()
            _current = None
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join()

    def __enter__(self) -> SlowPauseLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"<gcx.SlowPauseLog threshold={self.threshold * 1e3:g} ms "
                f"logger={self.logger.name!r} "
                f"{'active' if self.active else 'stopped'}, {self.logged} logged>")

    def _run(self, read: int) -> None:
        # The thread: a byte per signal, b"" when the write end is closed.
        # It logs as any thread logs: never inside a collection, and never
        # in the middle of code a collection interrupted, so handlers may
        # take their locks, allocate and collect.
        try:
            while os.read(read, 512):
                self._deliver()
            self._deliver()
        finally:
            os.close(read)

    def _deliver(self) -> None:
        total, pauses = _gcx.pauses_since(self._next)
        self.missed += total - self._next - len(pauses)
        self._next = total
        from . import Pause
        censuses: dict[int, list[tuple[str, int]]] = {}
        for raw in pauses:
            pause = Pause(*raw)
            if pause.duration >= self.threshold:
                self._log(pause, censuses)

    def _log(self, pause: typing.Any, censuses: dict[int, list[tuple[str, int]]]) -> None:
        msg = ("gcx: collection of generation %d took %.3f ms (threshold %g ms): "
               "%d objects scanned, %d collected, %d uncollectable")
        args: list[object] = [pause.generation, pause.duration * 1e3, self.threshold * 1e3,
                              pause.candidates, pause.collected, pause.uncollectable]
        top: list[tuple[str, int]] | None = None
        if self.census_types:
            # The survivors of the scanned generations 0..g now sit in
            # generation g+1 (the oldest stays put); the census counts
            # generations 0..g+1 as they are after the collection.
            upto = min(pause.generation + 1, _NUM_GENERATIONS - 1)
            if upto not in censuses:
                counts: collections.Counter[str] = collections.Counter()
                for g in range(upto + 1):
                    counts += census(g)
                censuses[upto] = counts.most_common(self.census_types)
            top = censuses[upto]
            msg += "; largest types in generations 0-%d after it: %s"
            args += [upto, ", ".join(f"{name} {n}" for name, n in top)]
        self.logger.warning(msg, *args, extra={"gcx_pause": pause, "gcx_census": top})
        self.logged += 1


_current: SlowPauseLog | None = None


def _after_fork_in_child() -> None:
    # The thread did not survive the fork, and the pipe is the parent's:
    # the child closes its copies and gets its own.
    if _current is not None:
        _gcx.set_slow_pause_fd(-1, 0.0)
        for fd in (_current._read, _current._write):
            try:
                os.close(fd)
            except OSError:
                pass
        _current._start()


os.register_at_fork(after_in_child=_after_fork_in_child)


def log_slow_pauses(threshold_ms: float | None, logger: logging.Logger | None = None,
                    census: bool | int = False) -> SlowPauseLog | None:
    """Log every gcx collection that takes threshold_ms milliseconds or more,
    as a WARNING of ``logger`` (default: logging.getLogger("gcx")).

    The message gives the generation, the duration, the objects scanned
    (the collection's candidates), collected and uncollectable.  census=True
    adds the ten largest types (census=N: the N largest) of the generations
    the collection scanned, counted after it: generations 0..g+1, where the
    survivors of generations 0..g were promoted (so it also counts what
    generation g+1 held before).  The record carries the pause as
    ``record.gcx_pause`` (a gcx.Pause) and the census as
    ``record.gcx_census`` (a list of (type name, count), or None).

    Nothing runs inside the collection: the core compares the pause with
    the threshold and, when the collection is over, wakes a daemon thread
    (a byte into a pipe), which logs.  Handlers run in that thread as they
    would in any other (logging is thread-safe), never inside a collection
    and never in the middle of the code a collection interrupted, so they
    may take locks, allocate and collect.  A collection that is not slow
    costs one comparison.

    One log is active at a time: a new call replaces the previous one.
    Returns the SlowPauseLog (stop() turns it off; it is also a context
    manager); log_slow_pauses(None) turns logging off and returns None.
    """
    global _current
    if threshold_ms is None:
        if _current is not None:
            _current.stop()
        return None
    if isinstance(threshold_ms, bool) or not isinstance(threshold_ms, (int, float)):
        raise TypeError("threshold_ms must be a number of milliseconds or None, not "
                        + type(threshold_ms).__name__)
    if not 0 <= threshold_ms < float("inf"):
        raise ValueError(f"threshold_ms must be finite and >= 0, not {threshold_ms!r}")
    if isinstance(census, bool):
        census_types = 10 if census else 0
    elif isinstance(census, int):
        if census < 0:
            raise ValueError(f"census must be a bool or a number of types >= 0, not {census}")
        census_types = census
    else:
        raise TypeError("census must be a bool or an int, not " + type(census).__name__)
    import logging
    if logger is None:
        logger = logging.getLogger("gcx")
    elif not isinstance(logger, logging.Logger):
        raise TypeError("logger must be a logging.Logger or None, not "
                        + type(logger).__name__)
    if _current is not None:
        _current.stop()
    log = SlowPauseLog(threshold_ms / 1e3, logger, census_types)
    _current = log
    log._start()
    return log


# ------------------------------------------------------------------------------
# Memory, and watching it.

class Memory(typing.TypedDict):
    rss: int | None               # resident set size, bytes (/proc/self/statm)
    pymalloc_blocks: int          # sys.getallocatedblocks()
    malloc_in_use: int | None     # bytes malloc handed out and not freed


def _malloc_in_use_reader() -> typing.Callable[[], int | None] | None:
    """glibc's mallinfo2(), through ctypes: uordblks + hblkhd, the bytes
    malloc has handed out (from its heap, and mmapped) and not had back.
    None where there is no mallinfo2 (other C libraries, glibc < 2.33)."""
    try:
        import ctypes
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (ImportError, OSError, AttributeError):
        return None

    class Mallinfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]
    mallinfo2.restype = Mallinfo2
    mallinfo2.argtypes = []

    def read() -> int | None:
        info = mallinfo2()
        # 0: not glibc's malloc answering (AddressSanitizer's stands in
        # for it and answers zeros)
        return int(info.uordblks + info.hblkhd) or None
    return read


_malloc_reader: list[typing.Callable[[], int | None] | None] = []


def _rss() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def memory() -> Memory:
    """The process's memory, from numbers that cost microseconds to read
    (sys._debugmallocstats() walks every pool and prints; tracemalloc costs
    every allocation):

    rss              resident set size in bytes (Linux: /proc/self/statm),
                     or None
    pymalloc_blocks  blocks Python's small-object allocator (pymalloc, for
                     requests of up to 512 bytes) has handed out and not had
                     back: sys.getallocatedblocks().  A count: pymalloc keeps
                     no total of their bytes
    malloc_in_use    bytes the C library's malloc has handed out and not had
                     back (glibc's mallinfo2(): uordblks + hblkhd): objects
                     over 512 bytes, list and dict storage, buffers, and
                     extension modules' memory; pymalloc's arenas are mapped
                     directly and are not in it.  None where the C library
                     has no mallinfo2 (or another malloc answers zeros)
    """
    if not _malloc_reader:
        _malloc_reader.append(_malloc_in_use_reader())
    reader = _malloc_reader[0]
    return {"rss": _rss(), "pymalloc_blocks": sys.getallocatedblocks(),
            "malloc_in_use": reader() if reader is not None else None}


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.1f} MB"


class Watch:
    """What watch() started: a daemon thread printing a line every
    ``interval`` seconds.  stop() ends it."""

    def __init__(self, interval: float, file: IO[str] | None, top: int) -> None:
        import time
        self.interval = interval
        self.top = top
        self._file = file
        self._clock = time.monotonic
        self._start = self._clock()
        self._census = census()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gcx-watch", daemon=True)

    def line(self) -> str:
        """One report, and the census it grew from becomes this one."""
        m = metrics()
        mem = memory()
        now = census()
        grew = growth(self._census, now, self.top)
        self._census = now
        sizes = "/".join(str(g["objects"]) for g in m["generations"])
        return (f"gcx watch +{self._clock() - self._start:.1f}s: objects {sizes} "
                f"(generations 0/1/2), {m['frozen']} frozen; "
                f"pymalloc {mem['pymalloc_blocks']} blocks; "
                f"malloc {_mb(mem['malloc_in_use'])}; RSS {_mb(mem['rss'])}; grew: "
                + (", ".join(f"{g.name} +{g.delta}" for g in grew) or "nothing"))

    def _print(self) -> None:
        # one write, the newline with it: print() writes the two apart, and
        # the program's own output could land between them (or a line of
        # its own, printed the same way, be split by this one)
        out = sys.stderr if self._file is None else self._file
        out.write(self.line() + "\n")
        out.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._print()

    def stop(self, final: bool = False) -> None:
        """Stop the thread; final=True prints one more line first."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        if final:
            self._print()


# watch()'s interval, seconds: at most 10 lines a second (each line takes
# two censuses), at least one a day.
WATCH_MIN_SECONDS = 0.1
WATCH_MAX_SECONDS = 86400.0


def watch(seconds: float, file: IO[str] | None = None, top: int = 5) -> Watch:
    """Every ``seconds`` (WATCH_MIN_SECONDS, 0.1, to WATCH_MAX_SECONDS, a
    day), print one line to ``file`` (default: sys.stderr
    as it is then): the containers in each generation and the frozen set
    (metrics(), O(1)), memory() (pymalloc blocks, malloc bytes, RSS) and
    the ``top`` types that grew most since the previous line (two
    censuses: a few milliseconds per million objects).  Returns the Watch;
    its stop() ends it."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("seconds must be a number, not " + type(seconds).__name__)
    if not WATCH_MIN_SECONDS <= seconds <= WATCH_MAX_SECONDS:
        raise ValueError(f"seconds must be from {WATCH_MIN_SECONDS:g} to "
                         f"{WATCH_MAX_SECONDS:g}, not {seconds!r}")
    if isinstance(top, bool) or not isinstance(top, int):
        raise TypeError("top must be an int, not " + type(top).__name__)
    if top < 0:
        raise ValueError(f"top must be >= 0, not {top}")
    w = Watch(float(seconds), file, top)
    w._thread.start()
    return w
