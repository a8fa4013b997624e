"""Whole programs under automatic collection: stock CPython against gcx.install().

Each program runs in a fresh interpreter, alternately stock (gcx never
imported, the stdlib collector on with its default thresholds) and with
gcx imported and installed (stdlib collector off, gcx's automatic
collection on); with --imported also with gcx imported and not installed
(the stdlib collector collects, gcx keeps its records for a gcx.collect()
that may come: what a program that only monitors or compares pays; rows
"PROGRAM, imported"); with --other-gcx PYTHON also with gcx installed in
that interpreter (a venv with another build of gcx: two builds compared in
one run).  Reported per program:

  wall         the program's run time, from just before gcx is imported
               (so gcx's import and install are charged to it)
  cpu time     the same span in process CPU time (all threads)
  peak RSS     the child's ru_maxrss
  total pause  sum of all collections' durations, timed from the collector's
               own callbacks ("start" to "stop"; gc.callbacks for the stdlib,
               gcx.callbacks for gcx)
  max pause    the longest single collection

Programs:
  alloc churn        batches of small dicts/lists/tuples built and dropped
                     (no cycles)
  objects            a JSON document parsed, instances, tuples of strings,
                     made and dropped (no cycles; from the allocator more
                     than from free lists)
  cycle churn        pairs of instances that reach each other, dropped at once
  long-lived + churn a long-lived heap of 1M containers, then cycle churn
  json               json.dumps / json.loads of a nested document, repeatedly

Checks: every run of a program must return the same checksum; in the
programs that make cyclic garbage, the collector's automatic collections
must have collected (as its callbacks report) at least half of it during the
run, and all of it once a final collect() (untimed) has run.  The share
collected during the run is reported.
"""
import argparse
import gc
import json
import sys

if __package__:
    from . import harness
else:
    import harness

# Program scale: multiplies every program's loop counts.
SCALES = {"small": 0.02, "default": 1.0}


class Pair:
    pass


class Item:
    __slots__ = ("key", "items")


def alloc_churn(scale):
    n = int(2_000_000 * scale)
    total = 0
    batch = []
    for i in range(n):
        batch.append({"id": i, "tags": [i % 7, i % 11], "pos": (i, str(i))})
        if len(batch) == 50_000:
            total += sum(len(r["tags"]) for r in batch)
            batch = []
    return total + len(batch), 0


def churn_cycles(n):
    total = 0
    for i in range(n):
        a = Pair()
        b = Pair()
        a.peer = b
        b.peer = a
        a.data = [i]
        total += a.data[0] & 7
    return total


def cycle_churn(scale):
    n = int(1_500_000 * scale)
    return churn_cycles(n), 3 * n


def long_lived_churn(scale):
    live = int(1_000_000 * scale)
    n = int(1_000_000 * scale)
    heap = []
    for i in range(live // 2):
        item = Item()
        item.key = i
        item.items = [i]
        heap.append(item)
    total = churn_cycles(n)
    return total + len(heap), 3 * n


def json_roundtrip(scale):
    rounds = max(2, int(30 * scale))
    doc = [{"id": i, "name": "item%d" % i, "tags": ["a", "b", str(i % 10)],
            "values": [i * 0.5, i, None, True], "nested": {"x": i, "y": [i, i + 1]}}
           for i in range(10_000)]
    total = 0
    kept = []
    for r in range(rounds):
        text = json.dumps(doc)
        back = json.loads(text)
        kept.append(back)
        if len(kept) > 3:
            kept.pop(0)
        total += len(text) + len(back)
    return total, 0


class Record:
    def __init__(self, x):
        self.x = x
        self.y = [x]


def objects(scale):
    """What a request handler makes and drops: a JSON document parsed,
    instances of a class, tuples of strings; no cycles.  Most of it comes
    from the allocator, not from free lists (strings, instances, their
    dicts' keys)."""
    rounds = max(2, int(3_000 * scale))
    text = json.dumps([{"id": i, "name": "n%d" % i, "tags": ["a", "b", i], "v": i * 1.5}
                       for i in range(200)])
    total = 0
    for _ in range(rounds):
        doc = json.loads(text)
        records = [Record(i) for i in range(300)]
        pairs = [(i, str(i)) for i in range(300)]
        total += len(doc) + len(records) + len(pairs)
    return total, 0


PROGRAMS = {
    "alloc churn": alloc_churn,
    "objects": objects,
    "cycle churn": cycle_churn,
    "long-lived + churn": long_lived_churn,
    "json": json_roundtrip,
}


def child(program, mode, size):
    """Run one program in this (fresh) interpreter; print one JSON line."""
    perf_counter = harness.perf_counter
    process_time = harness.time.process_time
    c0 = process_time()
    t0 = perf_counter()
    if mode == "gcx":
        import gcx
        gcx.install()
        callbacks = gcx.callbacks
        assert harness.installed_alone(gcx)
    else:
        if mode == "imported":
            import gcx
            assert not gcx.is_installed() and harness.STDLIB_ISENABLED()
        callbacks = gc.callbacks
    gcx_file = sys.modules["gcx"]._gcx.__file__ if mode != "stock" else None
    pauses = []
    collected = [0]
    started = [0.0]

    def on_collection(phase, info):
        if phase == "start":
            started[0] = perf_counter()
        else:
            pauses.append(perf_counter() - started[0])
            collected[0] += info["collected"]

    callbacks.append(on_collection)
    checksum, garbage_made = PROGRAMS[program](SCALES[size])
    wall = perf_counter() - t0
    cpu = process_time() - c0
    callbacks.remove(on_collection)
    harness.finish_program_child(
        mode, checksum=checksum, garbage_made=garbage_made, wall=wall, cpu=cpu,
        pauses=len(pauses), total_pause=sum(pauses), max_pause=max(pauses, default=0.0),
        collected=collected[0], gcx_file=gcx_file)


def run(args, report):
    reps = harness.reps_for(args, small=5, default=5)
    shares, others = {}, {}
    for program in PROGRAMS:
        harness.progress("%s: %d fresh interpreters per mode" % (program, reps))
        modes = (("stock", "gcx") + (("imported",) if args.imported else ())
                 + (("other",) if args.other_gcx else ()))
        runs = harness.run_modes(__file__, modes, reps, lambda mode: (
            "--child", program, "--mode", mode, "--size", args.size), args.other_gcx)
        check(program, runs)
        if args.other_gcx:
            others[program] = runs
        s, g = runs["stock"], runs["gcx"]
        if s[0]["garbage_made"]:
            shares[program] = share_collected(s), share_collected(g)
        detail = {"collections_stock": [r["pauses"] for r in s],
                  "collections_gcx": [r["pauses"] for r in g],
                  "collected_stock": [r["collected"] for r in s],
                  "collected_gcx": [r["collected"] for r in g]}
        for metric, key, unit, scale in (("wall", "wall", "ms", 1e3),
                                         ("cpu time", "cpu", "ms", 1e3),
                                         ("peak RSS", "rss", "MB", 1 / 2**20),
                                         ("total pause", "total_pause", "ms", 1e3),
                                         ("max pause", "max_pause", "ms", 1e3)):
            report.add(harness.Comparison(program, metric, unit, scale,
                                          [r[key] for r in s], [r[key] for r in g],
                                          detail if metric == "wall" else None))
        if args.imported:
            for metric, key, unit, scale in (("wall", "wall", "ms", 1e3),
                                             ("cpu time", "cpu", "ms", 1e3),
                                             ("peak RSS", "rss", "MB", 1 / 2**20)):
                report.add(harness.Comparison(program + ", imported", metric, unit, scale,
                                              [r[key] for r in s],
                                              [r[key] for r in runs["imported"]]))
    if args.other_gcx:
        harness.note_other(report, args.other_gcx, others,
                           [("wall", "wall"), ("cpu time", "cpu"), ("peak RSS", "rss")])
    report.notes.append("collections per run (stock/gcx, medians): " + ", ".join(
        "%s %d/%d" % (c.case, sorted(c.detail["collections_stock"])[reps // 2],
                      sorted(c.detail["collections_gcx"])[reps // 2])
        for c in report.rows if c.metric == "wall" and c.detail))
    report.notes.append("cyclic garbage collected during the run (stock/gcx, medians): "
                        + ", ".join("%s %.1f%%/%.1f%%" % (p, 100 * a, 100 * b)
                                    for p, (a, b) in shares.items()))


def check(program, runs):
    sums = {r["checksum"] for rs in runs.values() for r in rs}
    if len(sums) != 1:
        raise harness.BenchmarkError("%s: checksums differ between runs: %s" % (program, sums))
    for mode, rs in runs.items():
        for r in rs:
            made = r["garbage_made"]
            if r["collected"] + r["left_over"] < made or r["collected"] < made / 2:
                raise harness.BenchmarkError(
                    "%s (%s): %d cyclic objects made garbage, automatic collections "
                    "collected %d, a final collect() %d"
                    % (program, mode, made, r["collected"], r["left_over"]))


def share_collected(runs):
    """Median share of the cyclic garbage collected during the run."""
    shares = sorted(r["collected"] / r["garbage_made"] for r in runs)
    return shares[len(shares) // 2]


def configure(p):
    """The hidden options a child run is started with."""
    p.add_argument("--child", choices=PROGRAMS, help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=("stock", "gcx", "imported"), help=argparse.SUPPRESS)
    p.add_argument("--imported", action="store_true",
                   help="also run each program with gcx imported and not installed")
    harness.other_gcx_option(p)


if __name__ == "__main__":
    if "--child" in sys.argv:
        p = harness.parser(__doc__)
        configure(p)
        a = p.parse_args()
        child(a.child, a.mode, a.size)
    else:
        harness.main("programs", __doc__, run, configure, base_label="stock")
