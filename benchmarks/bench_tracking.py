"""What gcx's tracking costs when no collector runs at all.

Time: the same allocation-heavy loop in fresh interpreters, alternately
without gcx imported ("bare") and with gcx imported (its reference tracer
active, recording every allocation and deallocation), the stdlib collector
disabled in both and gcx's automatic collection disabled, so the difference
is the cost of keeping gcx's table up to date.  A third variant ("hook")
imports gcx and then puts a reference tracer that does nothing in the slot
(gcx._gcx.noop_tracer()): what CPython's tracer hook costs by itself, a
call for every object created and freed, which any tracer-based tracking
pays.  A fourth ("lists") imports gcx in lists mode (GCX_MODE=lists: no
tracer; births read from CPython's generation lists, deaths seen by a
wrapper around the object allocator), where the interpreter offers it.
Two loops:

  containers   each iteration makes (and frees the previous) tuple, list,
               dict and class instance
  atoms        each iteration makes strings, bytes, floats and ints, none of
               them containers (the tracer still sees them)

Memory: gcx's bookkeeping per tracked container, on a heap of 1M containers
(--size default): gcx.info()["bookkeeping_bytes"] divided by the records it
holds (the per-generation "tracked" records plus "frozen"), and the increase in
bookkeeping bytes per container added.  For scale: the stdlib keeps a
16-byte PyGC_Head inside every container, which gcx does not replace.
"""
import argparse
import gc
import json
import sys

if __package__:
    from . import harness
else:
    import harness

LOOPS = {"small": 50_000, "default": 2_000_000}      # iterations per loop
HEAP = {"small": 50_000, "default": 1_000_000}       # containers for the memory figure


class Obj:
    pass


def containers(n):
    total = 0
    keep = None
    for i in range(n):
        t = (i, [i], {"k": i})
        o = Obj()
        o.t = t
        keep = o
        total += len(keep.t)
    return total


def atoms(n):
    total = 0
    for i in range(n):
        s = str(i) + "x"
        b = s.encode()
        f = i * 0.5
        total += len(b) + int(f)
    return total


LOOP_FUNCS = {"containers": containers, "atoms": atoms}


def child_loop(loop, variant, size):
    gc.disable()
    gcx_file = None
    if variant in ("gcx", "hook", "lists"):
        import os
        if variant == "lists":
            os.environ["GCX_MODE"] = "lists"
        import gcx
        gcx.disable()
        if variant == "hook":
            gcx._gcx.noop_tracer()
        expect_owner = variant == "gcx" and gcx.mode() != "lists"
        if gcx._gcx.info()["owner"] != expect_owner:
            raise SystemExit("gcx %s the reference tracer slot"
                             % ("does not hold" if expect_owner else "still holds"))
        gcx_file = gcx._gcx.__file__
    elif "gcx" in sys.modules:
        raise SystemExit("gcx imported in a bare run")
    n = LOOPS[size]
    c0, t0 = harness.time.process_time(), harness.perf_counter()
    checksum = LOOP_FUNCS[loop](n)
    t1, c1 = harness.perf_counter(), harness.time.process_time()
    print(json.dumps({"wall": t1 - t0, "cpu": c1 - c0, "checksum": checksum,
                      "gcx_file": gcx_file}))


def child_memory(size):
    import gcx
    gc.disable()
    gcx.disable()

    def records():
        info = gcx.info()
        return (sum(info["tracked"]) + info["frozen"],
                info["bookkeeping_bytes"], info["mode"])

    gcx.collect()
    r0, b0, _ = records()
    n = HEAP[size]
    heap = [[i] for i in range(n - 1)]          # n containers with the outer list
    gcx.collect()
    r1, b1, mode = records()
    untracked = sum(1 for x in heap if not gcx.is_tracked(x)) + (not gcx.is_tracked(heap))
    if untracked:
        raise SystemExit("gcx has no record of %d of the %d new containers" % (untracked, n))
    print(json.dumps({"records": r1, "bytes": b1, "per_record": b1 / r1,
                      "marginal": (b1 - b0) / (r1 - r0), "added": r1 - r0,
                      "heap": len(heap) + 1, "mode": mode, "gcx_file": gcx._gcx.__file__}))


def run(args, report):
    reps = harness.reps_for(args, small=5, default=7)
    key = harness.CLOCK if harness.CLOCK == "wall" else "cpu"
    for loop in LOOP_FUNCS:
        harness.progress("%s loop: %d fresh interpreters per variant" % (loop, reps))
        runs = {"bare": [], "gcx": [], "hook": [], "lists": []}
        for rep in range(reps):
            order = ("bare", "gcx", "hook", "lists")
            for variant in (order if rep % 2 == 0 else order[::-1]):
                r = harness.run_child(__file__, "--child", loop, "--variant", variant,
                                      "--size", args.size)
                harness.check_same_gcx(r)
                runs[variant].append(r)
        sums = {r["checksum"] for rs in runs.values() for r in rs}
        if len(sums) != 1:
            raise harness.BenchmarkError("%s loop: checksums differ: %s" % (loop, sums))
        report.add(harness.Comparison(
            "%s loop, %s iterations" % (loop, format(LOOPS[args.size], ",")),
            "loop time (%s)" % key, "ms", 1e3,
            [r[key] for r in runs["bare"]], [r[key] for r in runs["gcx"]]))
        report.add(harness.Comparison(
            "%s loop, the tracer hook alone" % loop,
            "loop time (%s)" % key, "ms", 1e3,
            [r[key] for r in runs["bare"]], [r[key] for r in runs["hook"]]))
        report.add(harness.Comparison(
            "%s loop, gcx in lists mode" % loop,
            "loop time (%s)" % key, "ms", 1e3,
            [r[key] for r in runs["bare"]], [r[key] for r in runs["lists"]]))
    harness.progress("bookkeeping memory on a %d-container heap" % HEAP[args.size])
    m = harness.run_child(__file__, "--child", "memory", "--size", args.size)
    harness.check_same_gcx(m)
    report.add(harness.Comparison(
        "bookkeeping, %s containers" % format(m["heap"], ","), "bytes/record (all)", "B", 1,
        None, [m["per_record"]], {k: m[k] for k in ("records", "bytes", "mode")}))
    report.add(harness.Comparison(
        "bookkeeping, %s containers" % format(m["heap"], ","), "bytes/added container",
        "B", 1, None, [m["marginal"]], {k: m[k] for k in ("added",)}))
    report.notes.append("bare: gcx not imported; 'the tracer hook alone' rows show, in "
                        "the gcx column, a reference tracer that does nothing; 'lists "
                        "mode' rows, gcx with GCX_MODE=lists (no tracer); the "
                        "bookkeeping rows are gcx's alone (the stdlib's PyGC_Head, "
                        "16 bytes per container, stays)")


def configure(p):
    """The hidden options a child run is started with."""
    p.add_argument("--child", choices=[*LOOP_FUNCS, "memory"], help=argparse.SUPPRESS)
    p.add_argument("--variant", choices=("bare", "gcx", "hook", "lists"), help=argparse.SUPPRESS)


if __name__ == "__main__":
    if "--child" in sys.argv:
        p = harness.parser(__doc__)
        configure(p)
        a = p.parse_args()
        if a.child == "memory":
            child_memory(a.size)
        else:
            child_loop(a.child, a.variant, a.size)
    else:
        harness.main("tracking", __doc__, run, configure, base_label="bare")
