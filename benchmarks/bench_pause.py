"""Pauses and memory of three programs under the stdlib collector, gcx's
default policy and gcx.PauseBudget(ms=1.0) (issue 14): each run a fresh
interpreter, the configurations alternating, --reps runs each.

    python benchmarks/bench_pause.py [--size small|default] [--reps N]
        [--programs heap graph demo http] [--save FILE.json] [--plot DIR]
    python benchmarks/plot_pause.py FILE.json DIR     (the plots again)

Configurations:

  stdlib   the stdlib collector at its defaults (gcx never imported)
  gcx      gcx.install(): gcx's collector, the stdlib's rule
  budget   gcx.install(policy=gcx.PauseBudget(ms=1.0))

Programs:

  heap  a live heap of LIVE containers (linked instances, half held by a
        module global, half by a local) and churn: pairs of instances in a
        cycle with a list each, 2,000 per round, kept in a rolling buffer
        of 60,000, so that they die in generation 2 (3M containers, 600
        rounds; small: 100,000 and 80)
  graph a random graph of LIVE __slots__ nodes, each with a list of three
        random nodes, edges rewired as it runs, and churn: 2,000 new nodes
        a round, a random graph of their own with edges into the live one,
        kept in a rolling buffer of 60,000 (2M containers, 300 rounds;
        small: 50,000 and 40)
  demo  the bundled demo, run as a file: ``gcx/_demo.py --scale F`` (1.0;
        small 0.1)
  http  benchmarks/http_client_loop.py: a real http.server on localhost in
        a thread and an http.client session over keep-alive fetching JSON,
        with requests-like cyclic Request/Response objects, response hooks
        (bound methods), HTTPErrors kept with their tracebacks, and a
        rolling cache of responses, over a live catalogue (8,000 requests
        and 300,000 products, about 0.9M containers; small: 500 and 10,000)

A pause is one stop of the program by its collector: a collection, timed
from the collector's callbacks (gc.callbacks; gcx's once installed) by the
wall clock (--clock cpu: by the CPU time of the thread collecting, which
other processes on a busy machine disturb less), and under PauseBudget one
call of the scheduler's hook (the young collection it runs, the slice of
marking, or a cycle's end: the callbacks of the collections inside it are
not counted again).  Per program and configuration: max pause, p99
pause, pauses over 2 ms, time in collections (the sum of the pauses),
whole-program time (the program's run, after the collector is set up, by
the wall clock), peak RSS (ru_maxrss); the heap and graph programs also report the
longest gap between two of its churn steps (what its loop saw, whatever
stopped it), the HTTP loop the most garbage responses it held at once.
Memory over time: a thread samples every 25 ms the RSS
(/proc/self/statm), under gcx the records gcx tracks (live and garbage
not yet collected: the garbage held is the sawtooth above the live floor),
and in the HTTP loop, under every collector, the responses that are
garbage and not yet freed (its garbage_held()); every collection's garbage
found is kept too.  --save writes every run's pauses and samples as JSON;
--plot DIR (or plot_pause.py) draws them.

Checked: each program's own exit status (the demo's, the http loop's check
of every body); nothing left in gc.garbage after a final collect().
"""
import argparse
import gc
import importlib.util
import json
import os
import runpy
import sys
import threading
import time

if __package__:
    from . import harness
else:
    import harness

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = ("stdlib", "gcx", "budget")
PROGRAMS = ("heap", "graph", "demo", "http")
ARGS = {  # per program and size: the program's own parameters
    "heap": {"small": (100_000, 80), "default": (3_000_000, 600)},
    "graph": {"small": (50_000, 40), "default": (1_000_000, 300)},
    "demo": {"small": ("--scale", "0.1"), "default": ("--scale", "1.0")},
    "http": {"small": ("--requests", "500", "--live", "10000"),
             "default": ("--requests", "8000", "--live", "300000")},
}
SAMPLE_EVERY = 0.025
LONG = 2e-3            # pauses over this are counted


class N:
    pass


def heap_program(live, rounds):
    """The 3M-container heap with cycle churn; returns (a checksum, the
    longest gap between two churn steps)."""
    global HEAP
    HEAP = [N() for _ in range(live // 2)]
    local = [N() for _ in range(live // 2)]
    for a, b in zip(HEAP, local):
        a.peer = b
    buf = []
    last = time.perf_counter()
    worst = 0.0
    for r in range(rounds):
        for i in range(2000):
            a, b = N(), N()
            a.o, b.o = b, a
            a.p = [i]
            buf.append(a)
            now = time.perf_counter()
            if now - last > worst:
                worst = now - last
            last = now
        if len(buf) > 60_000:
            del buf[:30_000]
    HEAP = None
    return len(local) + len(buf), worst


class Node:
    __slots__ = ("near", "tag")


def graph_program(live, rounds):
    """A random graph of LIVE __slots__ nodes, each holding a list of three
    random nodes (2*LIVE containers), held by a module global; each round
    2,000 new nodes, each with a list of two random new nodes of the round
    and one live node, join a rolling buffer of 60,000 (so that they die
    in generation 2, as random cyclic garbage), and 2,000 edges of the live
    graph are rewired.  Returns (a checksum, the longest gap between two
    steps)."""
    global GRAPH
    import random
    rnd = random.Random(7)
    GRAPH = [Node() for _ in range(live)]
    for n in GRAPH:
        n.near = [GRAPH[rnd.randrange(live)] for _ in range(3)]
        n.tag = 0
    buf = []
    last = time.perf_counter()
    worst = 0.0
    for r in range(rounds):
        fresh = [Node() for _ in range(2000)]
        for i, n in enumerate(fresh):
            n.near = [fresh[rnd.randrange(2000)], fresh[rnd.randrange(2000)],
                      GRAPH[rnd.randrange(live)]]
            n.tag = r
            GRAPH[rnd.randrange(live)].near[i % 3] = GRAPH[rnd.randrange(live)]
            now = time.perf_counter()
            if now - last > worst:
                worst = now - last
            last = now
        buf.extend(fresh)
        if len(buf) > 60_000:
            del buf[:30_000]
    checksum = len(buf) + sum(len(n.near) for n in GRAPH)
    GRAPH = None
    return checksum, worst


def run_file(path, args):
    """Run a program file as python runs it (as __main__); its exit status."""
    saved = sys.argv
    sys.argv = [path, *args]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def demo_path():
    """gcx/_demo.py of the installed gcx, found without importing gcx."""
    spec = importlib.util.find_spec("gcx")
    return os.path.join(os.path.dirname(spec.origin), "_demo.py")


class Sampler:
    """A thread that samples, every SAMPLE_EVERY seconds, the time since
    ``t0``, the RSS, (with gcx) the records gcx tracks, and what the
    program running as __main__ says its garbage is, if it defines
    ``garbage_held()`` (http_client_loop.py does)."""

    def __init__(self, t0, gcx):
        self.t0, self.gcx = t0, gcx
        self.samples = []
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self):
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * self.page
        tracked = sum(self.gcx.info()["tracked"]) if self.gcx else None
        held = getattr(sys.modules.get("__main__"), "garbage_held", None)
        self.samples.append((time.perf_counter() - self.t0, rss, tracked,
                             held() if held is not None else None))

    def run(self):
        while not self.stop.wait(SAMPLE_EVERY):
            self.sample()

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.samples


def time_hook(gcx, log, pauses, clock):
    """Under a policy, time each call of the scheduler's hook as one pause;
    the collections inside it (log.inside) are part of it."""
    from gcx import policy
    inner = policy._on_due

    def timed(due, due_young):
        n = len(log.records)
        log.inside = True
        t0 = clock()
        try:
            inner(due, due_young)
        finally:
            took = clock() - t0
            log.inside = False
            gen = max((r[0] for r in log.records[n:]), default=-1)
            pauses.append((t0, took, gen))
    gcx._gcx.set_policy_hook(timed)


def child(config, program, size, clock_name):
    gcx = None
    if config != "stdlib":
        import gcx
        gcx.install(policy=gcx.PauseBudget(ms=1.0) if config == "budget" else None)
    # pauses by the wall clock, or by the CPU time of the thread that
    # collects (--clock cpu: what other processes on a busy machine take
    # from it is left out)
    clock = harness.thread_time if clock_name == "cpu" else time.perf_counter
    log = harness.CollectionLog(gc.callbacks, clock)
    hook_pauses = []
    if config == "budget":
        time_hook(gcx, log, hook_pauses, clock)
    t0 = time.perf_counter()
    c0 = clock()
    sampler = Sampler(t0, gcx)
    extra = {}
    if program in ("heap", "graph"):
        run_program = heap_program if program == "heap" else graph_program
        checksum, extra["max_gap"] = run_program(*ARGS[program][size])
    else:
        path = demo_path() if program == "demo" else os.path.join(HERE, "http_client_loop.py")
        status = run_file(path, ARGS[program][size])
        if status != 0:
            raise SystemExit("%s exited %s" % (program, status))
        checksum = program
    total = time.perf_counter() - t0
    samples = sampler.finish()
    log.stop()
    if gcx is not None:
        gcx._gcx.set_policy_hook(None)
    # (start since c0 by the clock, seconds, generation (-1: a slice only),
    # collected)
    pauses = [(r[4] - c0, r[1], r[0], r[2]) for r in log.records if not r[3]]
    pauses += [(s - c0, d, g, 0) for s, d, g in hook_pauses]
    pauses.sort()
    durations = [p[1] for p in pauses]
    held = [s[3] for s in samples if s[3] is not None]
    if held:
        extra["held_peak"] = max(held)
    result = dict(
        extra, config=config, program=program, checksum=checksum, total=total,
        rss=harness.peak_rss_bytes(), max_pause=max(durations, default=0.0),
        p99_pause=harness.percentile(durations, 99), long_pauses=sum(d > LONG for d in durations),
        in_collections=sum(durations), pauses=pauses, samples=samples,
        garbage_found=[(r[4] - c0, r[2]) for r in log.records if r[2]],
        gcx_file=gcx._gcx.__file__ if gcx else None)
    if config == "budget":
        st = gcx.get_policy().state()
        result["budget"] = {k: st.get(k) for k in (
            "slices", "slice_max", "slice_p99", "cycles", "fallbacks", "end_max",
            "last_unmarked", "last_marked", "garbage_found", "steps_deferred")}
    harness.collect_leftovers()
    harness.emit_child(result, without_gcx=gcx is None)


# ---- the parent ----------------------------------------------------------------------

METRICS = (("max pause", "max_pause", "ms", 1e3),
           ("p99 pause", "p99_pause", "ms", 1e3),
           ("pauses > 2 ms", "long_pauses", "", 1),
           ("time in collections", "in_collections", "s", 1),
           ("whole program", "total", "s", 1),
           ("peak RSS", "rss", "MB", 1 / 2**20))


def describe(program, size):
    if program in ("heap", "graph"):
        return "live=%d rounds=%d" % ARGS[program][size]
    return " ".join(ARGS[program][size])


def run(args, report):
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        print("bench_pause.py: --plot needs matplotlib (pip install matplotlib)", file=sys.stderr)
        sys.exit(2)
    reps = harness.reps_for(args, small=5, default=5)
    saved = {"env": report.env, "size": args.size, "clock": args.clock, "runs": {},
             "args": {p: describe(p, args.size) for p in args.programs}}
    med = harness.statistics.median
    report.notes.append("pauses and time in collections by the %s clock; whole program "
                        "by the wall clock" % args.clock)
    for program in args.programs:
        runs = harness.run_variants(__file__, CONFIGS, reps, "--program", program,
                                    "--size", args.size, "--clock", args.clock)
        metrics = METRICS + {
            "heap": (("max gap between steps", "max_gap", "ms", 1e3),),
            "graph": (("max gap between steps", "max_gap", "ms", 1e3),),
            "http": (("garbage responses held, peak", "held_peak", "", 1),)}.get(program, ())
        harness.variant_rows(report, program, runs, metrics)
        saved["runs"][program] = runs
        b = [r["budget"] for r in runs["budget"]]
        report.notes.append(
            "%s %s: PauseBudget per run (its own figures, by the wall clock): slices %s "
            "(longest %.2f ms), cycles %s, fallbacks %s, cycles' ends up to %.1f ms; "
            "pauses per run (medians): %s" % (
                program, describe(program, args.size),
                "-".join(str(x) for x in sorted({s["slices"] or 0 for s in b})),
                1e3 * max(s["slice_max"] or 0 for s in b),
                "-".join(str(x) for x in sorted({s["cycles"] or 0 for s in b})),
                sum(s["fallbacks"] or 0 for s in b), 1e3 * max(s["end_max"] or 0 for s in b),
                ", ".join("%s %d" % (c, med([len(r["pauses"]) for r in runs[c]]))
                          for c in CONFIGS)))
    if args.save:
        with open(args.save, "w") as f:
            json.dump(saved, f)
        harness.progress("runs saved to %s" % args.save)
    if args.plot:
        if __package__:
            from . import plot_pause
        else:
            import plot_pause
        for path in plot_pause.plot(saved, args.plot):
            harness.progress("wrote %s" % path)


def configure(p):
    p.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    p.add_argument("--program", choices=PROGRAMS, help=argparse.SUPPRESS)
    p.add_argument("--programs", nargs="+", choices=PROGRAMS, default=list(PROGRAMS))
    p.add_argument("--save", metavar="FILE.json", help="write every run's pauses and samples")
    p.add_argument("--plot", metavar="DIR", help="draw the pause and memory plots into DIR "
                   "(needs matplotlib)")


if __name__ == "__main__":
    harness.main_variants("pause", __doc__, run, configure,
                          lambda a: child(a.child, a.program, a.size, a.clock))
