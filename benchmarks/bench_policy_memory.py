"""Native memory behind small objects in cycles: the soft memory limit,
Policy(memory_limit=...), with gcx.add_memory_pressure(), and the CPU cap.

Each run is a fresh interpreter running a training-loop-shaped program
over a live heap of 200,000 containers (a model's Python objects).  Each
step makes a Tensor that owns TENSOR bytes of native memory (an anonymous
mmap, written through so its pages are resident: memory no Python allocator
sees, as a numpy or torch buffer) and hangs it in a small graph of Modules
with parent pointers (about ten containers, all in cycles), then drops the
graph: cyclic garbage whose few containers hide a megabyte each.  The
stdlib's trigger counts containers, so it waits about 200 steps, and the
native memory piles up.  A Tensor's __del__ unmaps its buffer and, where
declared, gives back its pressure.

Cases:
  garbage       the graph of every step is garbage at the next one
  live > limit  the same, with LIVE_OVER tensors kept alive from the start:
                the live heap alone exceeds the limit, where a limit alone
                would collect again and again for nothing, and the CPU cap
                is for

Variants:
  stdlib            default thresholds (the base)
  stdlib manual     gc.collect() every MANUAL_EVERY steps (the training
                    loops' gc_freq)
  gcx               gcx.install(), the stdlib's rule
  gcx limit         install(policy=Policy(memory_limit=LIMIT)), each
                    Tensor declared with gcx.add_memory_pressure
  gcx limit undeclared  the same policy, the tensors not declared: the
                    limit sees only the Python allocators
  gcx limit+cap     (live > limit only) Policy(memory_limit=LIMIT,
                    cpu_cap=CAP), declared

Reported, against the stdlib in the same run: peak native (the most tensor
memory alive at once, counted by the program: live and garbage), peak RSS,
wall time, collections, time in collections; gcx only (no base): peak
memory_held() (the Python allocators plus declared pressure), CPU-cap waits
and whether the cap was binding at the end (in the notes).

Checked: every run computes the same checksum; at the end every Tensor
made garbage has been freed (automatic collections and a final collect()).
"""
import argparse
import gc
import mmap
import time

if __package__:
    from . import harness
else:
    import harness

TENSOR = {"small": 256 << 10, "default": 1 << 20}
STEPS = {"small": 400, "default": 1_500}
HEAP = {"small": 20_000, "default": 200_000}       # live containers
LIMIT = {"small": 16 << 20, "default": 64 << 20}   # + the heap's own bytes, see limit()
LIVE_OVER = 96                                     # tensors kept alive: 1.5 x LIMIT
MANUAL_EVERY = 50
CAP = 0.2
CASES = ("garbage", "live > limit")
VARIANTS = {"garbage": ("stdlib", "stdlib manual", "gcx", "gcx limit",
                        "gcx limit undeclared"),
            "live > limit": ("stdlib", "stdlib manual", "gcx", "gcx limit",
                             "gcx limit+cap")}


class Counts:
    native = 0          # tensor bytes alive
    peak = 0
    freed = 0           # tensors freed
    declare = None      # gcx.add_memory_pressure, where declared


class Tensor:
    __slots__ = ("buf", "nbytes")

    def __init__(self, nbytes, fill):
        self.buf = mmap.mmap(-1, nbytes)
        self.buf.write(fill)              # every page resident
        self.nbytes = nbytes
        Counts.native += nbytes
        if Counts.native > Counts.peak:
            Counts.peak = Counts.native
        if Counts.declare is not None:
            Counts.declare(nbytes)

    def __del__(self):
        self.buf.close()
        Counts.native -= self.nbytes
        Counts.freed += 1
        if Counts.declare is not None:
            Counts.declare(-self.nbytes)


class Module:
    __slots__ = ("name", "parent", "children", "tensor", "stats")

    def __init__(self, name, parent, tensor=None):
        self.name = name
        self.parent = parent
        self.children = []
        self.tensor = tensor
        self.stats = {"calls": 0}
        if parent is not None:
            parent.children.append(self)


def step(i, nbytes, fill):
    """One step's graph: a root, a layer holding the tensor, an activation."""
    root = Module("step%d" % i, None)
    layer = Module("layer", root, Tensor(nbytes, fill))
    Module("act", layer)
    layer.stats["calls"] += 1
    return root


def limit(size, heap_bytes):
    """The limit on memory_held(): what the program holds before the loop
    plus LIMIT (so that "limit" means the same room in every run)."""
    return heap_bytes + LIMIT[size]


def child(case, variant, size):
    perf_counter, process_time = time.perf_counter, time.process_time
    nbytes, steps = TENSOR[size], STEPS[size]
    fill = b"\1" * nbytes
    gcx = None
    if variant.startswith("gcx"):
        import gcx
        gcx.install()
    heap = [[i, (i, str(i))] for i in range(HEAP[size] // 2)]
    kept = [step(-1 - k, nbytes, fill) for k in range(LIVE_OVER)] if case != "garbage" else []
    if gcx is not None:
        if variant != "gcx limit undeclared":
            Counts.declare = gcx.add_memory_pressure
            gcx.add_memory_pressure(Counts.native)        # the kept tensors
        if variant.startswith("gcx limit"):
            gcx.collect()
            base = gcx.memory_held() - (Counts.native if Counts.declare else 0)
            policy = gcx.Policy(memory_limit=limit(size, base),
                                cpu_cap=CAP if variant == "gcx limit+cap" else None)
            gcx.set_policy(policy)
    log = harness.CollectionLog(gc.callbacks)
    peak_held = 0
    c0, t0 = process_time(), perf_counter()
    checksum = 0
    for i in range(steps):
        graph = step(i, nbytes, fill)
        checksum += len(graph.children[0].children) + graph.children[0].stats["calls"]
        del graph
        if variant == "stdlib manual" and (i + 1) % MANUAL_EVERY == 0:
            gc.collect()
        if gcx is not None:
            peak_held = max(peak_held, gcx.memory_held())
    wall, cpu = perf_counter() - t0, process_time() - c0
    log.stop()
    result = {"checksum": checksum + len(heap) + len(kept), "wall": wall, "cpu": cpu,
              "peak_native": Counts.peak, "rss": harness.peak_rss_bytes(),
              "collections": len(log.records), "full": len(log.pauses(generation=2)),
              "collect_time": sum(log.pauses()), "peak_held": peak_held,
              "gcx_file": gcx._gcx.__file__ if gcx else None}
    if gcx is not None and gcx.get_policy() is not None:
        policy = gcx.get_policy()
        state = policy.state()
        result.update(limit=policy.memory_limit, cap_waits=state["cpu_cap_waits"],
                      cap_binding=state["cpu_cap_binding"], causes=state["collections"])
    made = steps + len(kept)
    del heap, kept
    gc.collect()
    if Counts.freed != made or gc.garbage:
        raise SystemExit("%d tensors made, %d freed; %d objects in gc.garbage"
                         % (made, Counts.freed, len(gc.garbage)))
    harness.emit_child(result, without_gcx=gcx is None)


METRICS = (("peak native", "peak_native", "MB", 1 / 2**20),
           ("peak RSS", "rss", "MB", 1 / 2**20),
           ("wall time", "wall", "s", 1),
           ("collections", "collections", "", 1),
           ("time in collections", "collect_time", "ms", 1e3))


def run(args, report):
    reps = harness.reps_for(args, small=5, default=5)
    med = harness.statistics.median
    for case in CASES:
        harness.progress(case)
        variants = VARIANTS[case]
        runs = harness.run_variants(__file__, variants, reps, "--case", case,
                                    "--size", args.size)
        harness.variant_rows(report, case, runs, METRICS)
        for variant in variants:
            if variant.startswith("gcx"):
                report.add(harness.Comparison(
                    "%s: %s" % (case, variant), "peak memory_held", "MB", 1 / 2**20,
                    None, [r["peak_held"] for r in runs[variant]]))
        for variant in variants:
            if "limit" in variant:
                rs = runs[variant]
                report.notes.append(
                    "%s, %s: limit %.0f MB; full collections %s; CPU-cap waits %s, cap "
                    "binding at the end %s; share of the loop in collections %.0f%% "
                    "(median); collections by cause (first run) %s" % (
                        case, variant, rs[0]["limit"] / 2**20, [r["full"] for r in rs],
                        [r["cap_waits"] for r in rs], [r["cap_binding"] for r in rs],
                        100 * med([r["collect_time"] / r["wall"] for r in rs]),
                        rs[0]["causes"]))
    report.notes.append(
        "tensor %d KB, %d steps, %d live containers, %d tensors kept alive in 'live > "
        "limit'; stdlib manual: gc.collect() every %d steps; CPU cap %g over 1 s"
        % (TENSOR[args.size] >> 10, STEPS[args.size], HEAP[args.size], LIVE_OVER,
           MANUAL_EVERY, CAP))


def configure(p):
    p.add_argument("--child", choices=sorted({v for vs in VARIANTS.values() for v in vs}),
                   help=argparse.SUPPRESS)
    p.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)


if __name__ == "__main__":
    harness.main_variants("policy_memory", __doc__, run, configure,
                          lambda a: child(a.case, a.child, a.size))
