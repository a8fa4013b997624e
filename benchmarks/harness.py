"""The one harness every gcx benchmark uses.

What it promises, for every number a benchmark prints:

* Only the collector call is timed.  Heaps and garbage are built outside the
  timer, by the benchmark's ``prepare`` function.
* Both collectors see the same heap, in the same process: the heap is built
  once, then collected by the stdlib (``gc.collect``) and by gcx
  (``gcx.collect``) in turn, the order flipping every repetition (ABBA) so
  neither collector always runs on a heap the other has just warmed up.
  Both automatic collectors stay off throughout, so each collector runs only
  when it is timed.
* Every timed call is checked inside the repetition loop: the count it
  returns must equal what ``prepare`` said it should collect (0 on a live
  heap), and neither collector may leave anything in its ``garbage`` list.  A
  benchmark therefore cannot quietly measure a collector that collects
  nothing, or one that collects the wrong thing.
* Each call is timed by the wall clock (perf_counter) and by this thread's
  CPU time (thread_time, steadier on a busy machine); --clock picks which
  one the tables show, --json keeps both.
* Results are medians of at least 5 repetitions, shown with their spread
  (min-max, and the interquartile range in ``--json``), and the ratio
  gcx/stdlib of the two medians, with the min-max of the per-repetition
  ratios (repetition i of gcx over repetition i of the stdlib).
* In one process the stdlib is not what a user runs: gcx imported beside it
  drops the records of what its collections free, on its time, and each
  collector runs on caches the other has just used.  Benchmarks whose
  collections free memory (young, garbage, app) and live_heap therefore
  time their cases again with each collector alone in fresh interpreters
  (two per collector, alternating; ``each_alone``: the stdlib where gcx is never imported, gcx where the
  stdlib does not collect), and report gcx/stock beside gcx/stdlib.
* It refuses to run where timings mean nothing: a debug interpreter
  (Py_DEBUG), an unoptimised one (-O0), development mode, the debug memory
  allocator, tracemalloc tracing, or a debug/ASan build of gcx.

Benchmarks that compare whole programs run them in fresh interpreters
(``run_child``), alternating stock and gcx the same way.

Nothing here imports gcx at module level: program children import this
module too and must be able to run without gcx ever being imported.
"""

import argparse
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import time

# The stdlib collector's own functions, captured before anything could
# gcx.install() (which repoints the gc module's attributes at gcx's).
STDLIB_COLLECT = gc.collect
STDLIB_ENABLE = gc.enable
STDLIB_DISABLE = gc.disable
STDLIB_ISENABLED = gc.isenabled
STDLIB_GARBAGE = gc.garbage

SIZES = ("small", "default")
MIN_REPS = 5
EXIT_FAILED = 1      # a check failed: a collector did not collect what it should
EXIT_REFUSED = 3     # not a release build: timings would mean nothing

perf_counter = time.perf_counter
thread_time = time.thread_time

# Which clock the in-process collector timings report ("wall" or "cpu": this
# thread's CPU time, less disturbed by other processes on a busy machine);
# both are always measured and the other one goes into the JSON detail.
CLOCK = "wall"


class BenchmarkError(Exception):
    """A benchmark's own check failed; its numbers must not be reported."""


# ------------------------------------------------------------------------------
# Refusing builds whose timings mean nothing.

def gcx_build_flavour(gcx):
    """"release", "debug" or "asan": how gcx._gcx was compiled.

    setup.py compiles the flavour into the extension; info() reports it.
    """
    return str(gcx.info()["build"])


def build_problems(gcx=None):
    """Why timings taken here would mean nothing (an empty list if they would
    not).  Checks gcx too when given the module."""
    problems = []
    if hasattr(sys, "gettotalrefcount"):
        problems.append("the interpreter is a debug build (Py_DEBUG)")
    if "-O0" in (sysconfig.get_config_var("OPT") or "").split():
        problems.append("the interpreter was compiled without optimisation (-O0)")
    if sys.flags.dev_mode:
        problems.append("Python development mode is on (-X dev)")
    if os.environ.get("PYTHONMALLOC", "").endswith("debug"):
        problems.append("the debug memory allocator is on (PYTHONMALLOC=%s)"
                        % os.environ["PYTHONMALLOC"])
    import tracemalloc
    if tracemalloc.is_tracing():
        problems.append("tracemalloc is tracing")
    if gcx is not None:
        flavour = gcx_build_flavour(gcx)
        if flavour != "release":
            problems.append("gcx was built with GCX_BUILD=%s (%s); reinstall it with "
                            "GCX_BUILD unset, from a clean tree (pip reuses build/)"
                            % (flavour, gcx._gcx.__file__))
    return problems


def refuse_unless_release(gcx=None):
    problems = build_problems(gcx)
    if problems:
        print("refusing to benchmark: " + "; ".join(problems), file=sys.stderr)
        sys.exit(EXIT_REFUSED)


# ------------------------------------------------------------------------------
# Where the numbers come from.

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def linked_name(binary, name):
    """The name a C function `name` of `binary` has for valgrind's
    --toggle-collect and --dump-after: a link-time-optimized build renames
    a static one (m_collect.lto_priv.0).  None if nm lists no such symbol."""
    out = subprocess.run(["nm", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        symbol = line.split()[-1] if line.split() else ""
        if symbol == name or symbol.startswith(name + "."):
            return symbol
    return None


def environment(gcx=None):
    env = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if gcx is not None:
        info = gcx.info()
        env.update({
            "gcx_version": gcx.__version__,
            "gcx_mode": info["mode"],
            "gcx_selftest": info["selftest"],
            "gcx_build": gcx_build_flavour(gcx),
            "gcx_file": gcx._gcx.__file__,
        })
    return env


# ------------------------------------------------------------------------------
# Statistics.

class Stats:
    """Median and spread of one collector's samples (seconds, bytes, ...)."""

    def __init__(self, samples):
        if not samples:
            raise ValueError("no samples")
        self.samples = list(samples)
        s = sorted(self.samples)
        self.median = statistics.median(s)
        self.min, self.max = s[0], s[-1]
        if len(s) >= 2:
            self.q1, _, self.q3 = statistics.quantiles(s, n=4, method="inclusive")
        else:
            self.q1 = self.q3 = s[0]

    def as_dict(self, scale=1.0):
        return {k: getattr(self, k) * scale for k in ("median", "min", "max", "q1", "q3")} | {
            "n": len(self.samples), "samples": [x * scale for x in self.samples]}


def ratio(a, b):
    return a / b if b else (math.inf if a else 1.0)


def geometric_mean(values):
    values = [v for v in values if v and math.isfinite(v)]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


class Comparison:
    """One measured quantity, for the stdlib ("base") and for gcx.

    base may be None for a gcx-only figure (then there is no ratio).
    unit/scale: how to print the samples (e.g. "ms", 1e3 for seconds).
    extra: {label: samples} of further variants measured beside them (shown
    in a column each, with no ratio).
    """

    def __init__(self, case, metric, unit, scale, base, gcx, detail=None, extra=None):
        self.case, self.metric, self.unit, self.scale = case, metric, unit, scale
        self.base = Stats(base) if base is not None else None
        self.gcx = Stats(gcx)
        self.detail = detail or {}
        self.extra = {label: Stats(s) for label, s in (extra or {}).items()}
        if self.base is not None:
            self.ratio = ratio(self.gcx.median, self.base.median)
            paired = [ratio(g, b) for g, b in zip(self.gcx.samples, self.base.samples)]
            self.ratio_min, self.ratio_max = min(paired), max(paired)
        else:
            self.ratio = self.ratio_min = self.ratio_max = None

    def as_dict(self):
        return {
            "case": self.case, "metric": self.metric, "unit": self.unit,
            "stdlib": self.base.as_dict(self.scale) if self.base else None,
            "gcx": self.gcx.as_dict(self.scale),
            "ratio": self.ratio, "ratio_min": self.ratio_min, "ratio_max": self.ratio_max,
            "detail": self.detail,
            "extra": {label: st.as_dict(self.scale) for label, st in self.extra.items()},
        }


# ------------------------------------------------------------------------------
# Timing the collectors in this process.

def _gcx():
    if "gcx" not in sys.modules:
        _source_tree_off_path()
    import gcx
    return gcx


def _source_tree_off_path():
    """``python -m benchmarks.x`` from the repository root puts the root
    first on sys.path, and there gcx/ is the source package (without its
    extension, or with a stale or debug one built in place).  The fresh
    interpreters the harness starts import the installed gcx; so must this
    process.  (An editable install still works: its path entry is added by
    site, not here.)"""
    first = sys.path[0] if sys.path else None
    if first in ("", os.getcwd()) and os.path.isfile(
            os.path.join(first or os.curdir, "gcx", "__init__.py")):
        del sys.path[0]


def installed_alone(gcx):
    """Is gcx installed, the stdlib collector collecting nothing of its own
    (off, or on only as gcx's trigger: src/README.md, "CPython's own
    trigger")?  (gcx._stdlib has the stdlib's own functions; gc's are
    gcx's while installed.)"""
    import gc
    return (gcx.is_installed() and gc.callbacks is gcx.callbacks
            and (not gcx._stdlib.isenabled() or gcx._gcx.info().get("trigger") == "cpython"))


@contextlib.contextmanager
def quiet_collectors():
    """Both automatic collectors off for the duration; each collector then
    runs only when a benchmark calls it."""
    gcx = _gcx()
    if gcx.is_installed():
        raise BenchmarkError("gcx is installed: gc.collect is not the stdlib's")
    was = STDLIB_ISENABLED(), gcx.isenabled()
    STDLIB_DISABLE()
    gcx.disable()
    try:
        yield
    finally:
        (STDLIB_ENABLE if was[0] else STDLIB_DISABLE)()
        (gcx.enable if was[1] else gcx.disable)()


def gcx_collect(*args):
    return _gcx().collect(*args)


def settle():
    """Collect everything there is to collect with both collectors, untimed,
    so that what is live sits in both collectors' oldest generation."""
    gcx = _gcx()
    for _ in range(2):
        STDLIB_COLLECT()
        gcx.collect()


def compare_collections(case, *, prepare, reps, generation=2, unit="ms",
                        warmup=1, detail=None):
    """Time the stdlib's and gcx's collect(generation) on the same heap.

    prepare(who) runs before each timed call, outside the timer, with who
    "stdlib" or "gcx"; it builds whatever the call should find and returns
    how many objects the call must report collected.  A mismatch raises
    BenchmarkError.  The first ``warmup`` rounds are checked but not kept.
    """
    gcx = _gcx()
    full = generation == 2
    # Full collections call collect() with no argument (the common call,
    # and each module's fastest path); younger ones pass the generation.
    runners = {"stdlib": STDLIB_COLLECT, "gcx": gcx.collect}
    wall = {"stdlib": [], "gcx": []}
    cpu = {"stdlib": [], "gcx": []}
    for rnd in range(warmup + reps):
        order = ("stdlib", "gcx") if rnd % 2 == 0 else ("gcx", "stdlib")
        for who in order:
            expected = prepare(who)
            collect = runners[who]
            if who == "stdlib":
                # gcx (imported here, not installed) reads births from its
                # hook in gc.callbacks at the stdlib collection's start
                # (src/tracer.c): read them now, untimed, so that the
                # stdlib's time is its own collection's
                gcx.get_count()
            if full:
                c0 = thread_time()
                t0 = perf_counter()
                got = collect()
                t1 = perf_counter()
                c1 = thread_time()
            else:
                c0 = thread_time()
                t0 = perf_counter()
                got = collect(generation)
                t1 = perf_counter()
                c1 = thread_time()
            if got != expected:
                raise BenchmarkError(
                    "%s: %s.collect(%d) reported %d objects collected, expected %d"
                    % (case, who, generation, got, expected))
            if STDLIB_GARBAGE or gcx.garbage:
                raise BenchmarkError("%s: %s left objects in gc.garbage/gcx.garbage"
                                     % (case, who))
            if rnd >= warmup:
                wall[who].append(t1 - t0)
                cpu[who].append(c1 - c0)
    scale, label = {"ms": (1e3, "ms"), "us": (1e6, "\u00b5s")}[unit]
    metric = "full collection" if full else "collect(%d)" % generation
    primary, other = (wall, cpu) if CLOCK == "wall" else (cpu, wall)
    c = Comparison(case, metric, label, scale, primary["stdlib"], primary["gcx"], detail)
    alt = Comparison(case, metric, label, scale, other["stdlib"], other["gcx"])
    c.detail["other_clock"] = {"clock": "cpu" if CLOCK == "wall" else "wall",
                               "stdlib_median": alt.base.median * scale,
                               "gcx_median": alt.gcx.median * scale, "ratio": alt.ratio}
    return c


def tracked_counts():
    """(containers the stdlib tracks, records gcx holds), for reports."""
    gcx = _gcx()
    info = gcx.info()
    records = sum(info["tracked"]) + info["frozen"]
    return len(gc.get_objects()), records


# ------------------------------------------------------------------------------
# Fresh interpreters.

def finish_program_child(mode, **fields):
    """The end of a whole-program child (bench_programs, bench_suite), after
    its timed part: collect, untimed, whatever garbage automatic collection
    left (left_over), check that a stock run never imported gcx and that
    nothing is uncollectable, and print the fields, its peak RSS and
    left_over as the JSON line the parent reads."""
    left_over = collect_leftovers()
    emit_child(dict(fields, rss=peak_rss_bytes(), left_over=left_over),
               without_gcx=mode == "stock")


def collect_leftovers():
    """Collect, untimed, what automatic collection left (how many), and
    refuse a run that left anything uncollectable in gc.garbage."""
    left_over = gc.collect()
    if gc.garbage:
        raise SystemExit("%d objects in gc.garbage" % len(gc.garbage))
    return left_over


def emit_child(result, without_gcx):
    """Print a child's result as the JSON line its parent reads (run_child),
    after checking that a run meant to be without gcx never imported it."""
    if without_gcx and "gcx" in sys.modules:
        raise SystemExit("gcx was imported in a run without gcx")
    print(json.dumps(result))


def run_child(script, *args, timeout=900, python=None):
    """Run ``python script args...`` in a fresh interpreter (this one's, or
    the interpreter `python` names) and return the JSON object its stdout
    ends with.  The script's directory (benchmarks/) heads sys.path there,
    not the current directory, so the child imports the same installed gcx
    whatever directory this runs from; children that import gcx report its
    path and check_same_gcx() compares it with ours."""
    proc = subprocess.run([python or sys.executable, script, *args], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise BenchmarkError("child %s %s exited %d:\n%s" % (
            os.path.basename(script), " ".join(args), proc.returncode, proc.stderr[-4000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_modes(script, modes, reps, child_args, other=None):
    """reps fresh interpreters per mode, the modes' order rotating from one
    rep to the next: {mode: [child result]}.  child_args(mode) are the
    child's arguments; mode "other" runs the child of mode "gcx" in the
    interpreter `other` (--other-gcx: a venv with another build of gcx, so
    that two builds are compared in one run)."""
    runs = {mode: [] for mode in modes}
    for rep in range(reps):
        k = rep % len(modes)
        for mode in modes[k:] + modes[:k]:
            if mode == "other":
                runs[mode].append(run_child(script, *child_args("gcx"), python=other))
            else:
                r = run_child(script, *child_args(mode))
                check_same_gcx(r)
                runs[mode].append(r)
    return runs


def other_gcx_option(p):
    p.add_argument("--other-gcx", metavar="PYTHON", default=None,
                   help="also run every program with gcx installed in this interpreter "
                        "(a venv with another build of gcx), alternating with the "
                        "others, and report its ratios to stock beside gcx's")


def note_other(report, other, runs_by_case, metrics):
    """What --other-gcx measured: per case the other build's medians over
    stock's, and their geometric means in the summary.  runs_by_case:
    {case: {"stock": [...], "other": [...]}}; metrics: (name, key)."""
    med = statistics.median
    ratios = {case: {key: med(r[key] for r in runs["other"]) / med(r[key] for r in runs["stock"])
                     for _, key in metrics} for case, runs in runs_by_case.items()}
    for name, key in metrics:
        report.summary["geometric mean other build/stock (%s), %s" % (other, name)] = \
            geometric_mean([r[key] for r in ratios.values()])
    report.notes.append(
        "the other build (%s), other/stock medians (%s): " % (
            other, ", ".join(name for name, _ in metrics))
        + ", ".join("%s %s" % (case, "/".join("%.2f" % r[key] for _, key in metrics))
                    for case, r in ratios.items()))


# ------------------------------------------------------------------------------
# Each collector alone.  compare_collections runs both collectors in one
# process, gcx imported beside the stdlib, and that is not what a user runs:
# gcx's allocator wrapper sees every block the stdlib's collection frees and
# drops the records of the containers that die there on the stdlib's time,
# and each collector runs on caches the other has just used.  So a benchmark
# whose collections free memory times its cases again in two fresh
# interpreters, one per collector: the stdlib where gcx is never imported
# ("stock"), and gcx where the stdlib never collects but untimed, to learn
# what a shape makes.

ALONE_PAIRS = 2   # processes per collector: a heap's layout moves a case by 10-15%


def each_alone(report, measured, script, args, reps):
    """Run ``script --alone-child stock|gcx`` (alone_child() there),
    ALONE_PAIRS times each, alternating, and set each comparison of
    ``measured`` against them: per case the mean of each collector's
    process medians, in ``detail["alone"]`` and a note (with the ratio of
    each pair), and the geometric mean of gcx/stock in the summary."""
    medians = {"stock": [], "gcx": []}
    for k in range(ALONE_PAIRS):
        for who in ("stock", "gcx") if k % 2 == 0 else ("gcx", "stock"):
            progress("the same cases in a fresh interpreter: %s alone (%d of %d)"
                     % (who, k + 1, ALONE_PAIRS))
            child = run_child(script, "--alone-child", who, "--size", args.size,
                              "--reps", str(reps), "--clock", args.clock)
            if child["gcx_imported"] != (who == "gcx"):
                raise BenchmarkError("the %s child %s gcx" % (
                    who, "imported" if child["gcx_imported"] else "did not import"))
            check_same_gcx(child)
            medians[who].append(child["medians"])
    ratios = []
    for c in measured:
        stocks = [m[c.case] for m in medians["stock"]]
        alones = [m[c.case] for m in medians["gcx"]]
        stock, alone = statistics.mean(stocks), statistics.mean(alones)
        r = ratio(alone, stock)
        pairs = [ratio(g, b) for g, b in zip(alones, stocks)]
        c.detail["alone"] = {"stock": stock * c.scale, "gcx": alone * c.scale,
                             "gcx/stock": r, "pairs": pairs}
        report.notes.append("%s, each alone: stock %s %s, gcx %s %s, gcx/stock %.2f [%s]"
                            % (c.case, fmt_num(stock * c.scale), c.unit,
                               fmt_num(alone * c.scale), c.unit, r,
                               " ".join("%.2f" % p for p in pairs)))
        ratios.append(r)
    report.summary["geometric mean gcx/stock, each collector alone in its process"] = \
        geometric_mean(ratios)


def alone_child(argv, cases, *, generation, warmup):
    """The child of each_alone: ``cases(size)`` yields (case, prepare) pairs,
    building what each needs before yielding it (and may let it go at the
    next); after both collectors settle what there is, each case is timed
    ``reps`` times (after ``warmup`` rounds) with the one collector, every
    call checked as in compare_collections.  Prints {"medians": {case:
    seconds}, "gcx_imported": bool, "gcx_file": ...}."""
    p = argparse.ArgumentParser()
    p.add_argument("--alone-child", choices=("stock", "gcx"), required=True)
    p.add_argument("--size", choices=SIZES, default="default")
    p.add_argument("--reps", type=int, required=True)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    a = p.parse_args(argv)
    clock = thread_time if a.clock == "cpu" else perf_counter
    STDLIB_DISABLE()
    if a.alone_child == "gcx":
        import gcx
        gcx.disable()
        collect, garbage = gcx.collect, gcx.garbage
    else:
        collect, garbage = STDLIB_COLLECT, STDLIB_GARBAGE
    args = () if generation == 2 else (generation,)
    medians = {}
    for case, prepare in cases(a.size):
        for _ in range(2):
            STDLIB_COLLECT()
            collect()
        samples = []
        for rnd in range(warmup + a.reps):
            expected = prepare(a.alone_child)
            t0 = clock()
            got = collect(*args)
            t1 = clock()
            if got != expected or garbage:
                raise SystemExit("%s: %s collect%r reported %d collected, expected %d"
                                 % (case, a.alone_child, args, got, expected))
            if rnd >= warmup:
                samples.append(t1 - t0)
        medians[case] = statistics.median(samples)
    out = {"medians": medians, "gcx_imported": "gcx" in sys.modules}
    if "gcx" in sys.modules:
        out["gcx_file"] = sys.modules["gcx"]._gcx.__file__
    print(json.dumps(out))


def check_same_gcx(child_result):
    """A child that imported gcx must have imported the one measured here."""
    ours = _gcx()._gcx.__file__
    theirs = child_result.get("gcx_file")
    if theirs is not None and os.path.realpath(theirs) != os.path.realpath(ours):
        raise BenchmarkError("a child imported gcx from %s, this process from %s"
                             % (theirs, ours))


def variant_rows(report, label, runs, metrics):
    """The rows of a run_variants benchmark: every metric (name, key, unit,
    scale) of every variant against the first one (the base), under
    "LABEL: VARIANT".  The runs must agree on their "checksum" (the same
    work done under every variant)."""
    if len({r["checksum"] for rs in runs.values() for r in rs}) != 1:
        raise BenchmarkError("%s: checksums differ between runs" % label)
    variants = list(runs)
    base = runs[variants[0]]
    for name, key, unit, scale in metrics:
        for variant in variants[1:]:
            report.add(Comparison("%s: %s" % (label, variant), name, unit, scale,
                                  [r[key] for r in base], [r[key] for r in runs[variant]]))


def run_variants(script, variants, reps, *args):
    """Run ``script --child VARIANT args...`` in fresh interpreters, ``reps``
    times per variant: the variants in the given order on even repetitions,
    in reverse order on odd ones, so that none always runs first or always
    after the same one.  Returns {variant: [its children's results]}; each
    child that imported gcx must have imported the one measured here."""
    runs = {v: [] for v in variants}
    for rep in range(reps):
        for variant in (variants if rep % 2 == 0 else variants[::-1]):
            progress("run %d of %d: %s" % (rep + 1, reps, variant))
            r = run_child(script, "--child", variant, *args)
            check_same_gcx(r)
            runs[variant].append(r)
    return runs


class CollectionLog:
    """In a child: each collection the process's collector runs, timed from
    its callbacks (``gc.callbacks``, gcx's once installed), and whether it
    began inside a span the program marks by setting ``inside`` (a request,
    an idle wait).  ``records``: (generation, seconds, collected, inside,
    started at) per collection, timed by ``clock`` (perf_counter unless
    given: thread_time for CPU time)."""

    def __init__(self, callbacks, clock=None):
        self.inside = False
        self.records = []
        self._clock = clock or perf_counter
        self._callbacks = callbacks
        self._start = 0.0
        self._start_inside = False
        callbacks.append(self._on)

    def _on(self, phase, info):
        if phase == "start":
            self._start_inside = self.inside
            self._start = self._clock()
        else:
            self.records.append((info["generation"], self._clock() - self._start,
                                 info["collected"], self._start_inside, self._start))

    def stop(self):
        self._callbacks.remove(self._on)

    def pauses(self, inside=None, generation=None):
        """The durations of the collections (inside a span or not, of one
        generation), in seconds."""
        return [r[1] for r in self.records
                if (inside is None or r[3] == inside)
                and (generation is None or r[0] == generation)]

    def collected(self):
        return sum(r[2] for r in self.records)


def percentile(samples, q):
    """The q-th percentile (0..100) of samples, nearest rank."""
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))] if s else 0.0


def peak_rss_bytes():
    import resource
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * (1 if sys.platform == "darwin" else 1024)


# ------------------------------------------------------------------------------
# Command line and reports.

def parser(description):
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=SIZES, default="default",
                   help="small: a CI smoke run of a few seconds; default: the real measurement")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="clock for in-process collector timings (both are recorded in --json)")
    p.add_argument("--reps", type=int, default=None,
                   help="repetitions per collector (at least %d; default: by --size)"
                   % MIN_REPS)
    return p


def progress(msg):
    print("  " + msg, file=sys.stderr, flush=True)


def fmt_num(x):
    if x is None:
        return "-"
    if not math.isfinite(x):
        return "inf"
    a = abs(x)
    if a >= 1000:
        return "%.0f" % x
    if a >= 100:
        return "%.1f" % x
    if a >= 10:
        return "%.2f" % x
    return "%.3f" % x


def fmt_cell(st, unit):
    """'median [min..max] unit' of an as_dict()ed Stats."""
    if st is None:
        return "-"
    return "%s [%s..%s] %s" % (fmt_num(st["median"]), fmt_num(st["min"]),
                               fmt_num(st["max"]), unit)


def fmt_ratio(c):
    """'ratio [min..max]' of an as_dict()ed Comparison."""
    if c["ratio"] is None:
        return "-"
    return "%.2f [%.2f..%.2f]" % (c["ratio"], c["ratio_min"], c["ratio_max"])


class Report:
    """What one benchmark script prints.  base_label names what gcx is
    compared with ("stdlib" in-process, "stock" or "bare" interpreters)."""

    def __init__(self, bench, args, gcx=None, base_label="stdlib"):
        self.bench, self.args, self.base_label = bench, args, base_label
        self.env = environment(gcx)
        self.rows = []
        self.summary = {}
        self.notes = []

    def add(self, comparison):
        self.rows.append(comparison)
        return comparison

    def as_dict(self):
        self.env["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        self.env["clock"] = CLOCK
        return {"bench": self.bench, "size": self.args.size, "env": self.env,
                "base": self.base_label,
                "results": [c.as_dict() for c in self.rows],
                "summary": self.summary, "notes": self.notes}

    def emit(self):
        if self.args.json:
            print(json.dumps(self.as_dict()))
            return
        print(render_text([self.as_dict()]))


def _rows(report):
    base = report.get("base", "stdlib")
    head = ["case", "metric", "%s median [min..max]" % base, "gcx median [min..max]",
            "gcx/%s [min..max]" % base]
    other = [c["detail"].get("other_clock") for c in report["results"]]
    if any(other):
        head.append("ratio by %s clock" % next(o for o in other if o)["clock"])
    extra = []
    for c in report["results"]:
        extra += [label for label in c.get("extra", {}) if label not in extra]
    head += ["%s median [min..max]" % label for label in extra]
    rows = []
    for c, o in zip(report["results"], other):
        row = [c["case"], c["metric"], fmt_cell(c["stdlib"], c["unit"]),
               fmt_cell(c["gcx"], c["unit"]), fmt_ratio(c)]
        if any(other):
            row.append("%.2f" % o["ratio"] if o else "-")
        row += [fmt_cell(c.get("extra", {}).get(label), c["unit"]) for label in extra]
        rows.append(row)
    return head, rows


def describe_env(e):
    return ("Python %s (%s); gcx %s, %s mode, %s build; %s CPUs, %s; %s; "
            "load average %s at start; clock: %s"
            % (e["python"], e["executable"], e.get("gcx_version"), e.get("gcx_mode"),
               e.get("gcx_build"), e["nproc"], e["cpu"], e["date"],
               e["loadavg_at_start"][0], e.get("clock", "wall")))


def render_text(reports):
    """Plain-text tables for a list of report dicts (Report.as_dict())."""
    out = []
    if reports:
        out.append(describe_env(reports[0]["env"]))
    for r in reports:
        out.append("")
        out.append("== %s (size=%s)" % (r["bench"], r["size"]))
        head, rows = _rows(r)
        rows = [head] + rows
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        for row in rows:
            out.append("  ".join(col.ljust(w) for col, w in zip(row, widths)).rstrip())
        for k, v in r["summary"].items():
            out.append("%s: %s" % (k, "%.2f" % v if isinstance(v, float) else v))
        for n in r["notes"]:
            out.append("note: " + n)
    return "\n".join(out)


def render_markdown(reports):
    """The same tables in Markdown."""
    out = []
    for r in reports:
        out.append("### %s (size=%s)" % (r["bench"], r["size"]))
        out.append("")
        head, rows = _rows(r)
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for row in rows:
            out.append("| " + " | ".join(row) + " |")
        out.append("")
        for k, v in r["summary"].items():
            out.append("%s: **%s**  " % (k, "%.2f" % v if isinstance(v, float) else v))
        for n in r["notes"]:
            out.append("- " + n)
        out.append("")
    return "\n".join(out)


def main(bench, description, run, configure_parser=None, base_label="stdlib"):
    """Entry point of a benchmark script: parse arguments, refuse non-release
    builds, run ``run(args, report)``, print the report."""
    p = parser(description)
    if configure_parser:
        configure_parser(p)
    args = p.parse_args()
    global CLOCK
    CLOCK = args.clock
    gcx = _gcx()
    refuse_unless_release(gcx)
    if args.reps is not None and args.reps < MIN_REPS:
        p.error("--reps must be at least %d" % MIN_REPS)
    report = Report(bench, args, gcx, base_label)
    progress("%s (size=%s): python %s, gcx %s mode, %s build"
             % (bench, args.size, report.env["python"], report.env["gcx_mode"],
                report.env["gcx_build"]))
    try:
        run(args, report)
    except BenchmarkError as e:
        print("%s: FAILED: %s" % (bench, e), file=sys.stderr)
        sys.exit(EXIT_FAILED)
    report.emit()


def main_variants(bench, description, run, configure_parser, child, base_label="stdlib"):
    """Entry point of a run_variants benchmark: as a child (``--child
    VARIANT``, which configure_parser must define), ``child(args)`` with
    the parsed arguments; otherwise main()."""
    if "--child" in sys.argv:
        p = parser(description)
        configure_parser(p)
        child(p.parse_args())
    else:
        main(bench, description, run, configure_parser, base_label)


def reps_for(args, small, default):
    if args.reps is not None:
        return args.reps
    return max(MIN_REPS, small if args.size == "small" else default)
