"""Allocation-heavy programs under the adaptive young trigger,
Policy(adaptive=True), against the stdlib at its default thresholds and
tuned by hand with gc.set_threshold(50_000) (the 20-27% speed-ups users
report on programs like these come from that line).

Each run is a fresh interpreter running one program:

  few cycles      a loader: it reads records (a dict with a list and a
                  nested dict each) into per-file trees of nodes (a dict of
                  children, a list of records), keeping every tree (the
                  heap grows to about 1.4M containers, as a compiler's or
                  a data loader's does), making and dropping temporaries
                  (tuples, lists, dicts) on the way; a two-object cycle
                  every 5,000 records.  Young collections find nothing.
  steady cycles   the same, with a two-object cycle every 4 records (and
                  every record's temporaries): steady cyclic garbage, which
                  a raised threshold leaves lying longer.

Variants: stdlib (the base), stdlib 50k (gc.set_threshold(50_000)), gcx
(gcx.install(), the stdlib's rule), gcx adaptive
(gcx.install(policy=gcx.Policy(adaptive=True))).

Reported per program and variant, against the stdlib in the same run:

  wall time, cpu time   the program, from before gcx is imported
  collections           how many the collector ran (from its callbacks)
  time in collections   their total duration
  garbage held (peak)   the cycle objects dropped and not yet freed, read
                        as each collection starts and at the end: the most
                        cyclic garbage the program ever carried (the
                        program counts the objects it drops, their
                        __del__ those freed)
  peak RSS

Checked: every run returns the same checksum, and all the cyclic garbage is
freed by the end (automatic collections plus one final collect()).
"""
import argparse
import gc
import time

if __package__:
    from . import harness
else:
    import harness

RECORDS = {"small": 40_000, "default": 400_000}
PER_FILE = 2_000
PROGRAMS = {"few cycles": 5_000, "steady cycles": 4}     # a cycle every N records
VARIANTS = ("stdlib", "stdlib 50k", "gcx", "gcx adaptive")


class Pair:
    """Half of a two-object cycle; counts its own end (Freed.count)."""
    __slots__ = ("peer", "payload")

    def __del__(self):
        Freed.count += 1


class Freed:
    count = 0


class Node:
    __slots__ = ("name", "children", "records")

    def __init__(self, name):
        self.name = name
        self.children = {}
        self.records = []


def load(n_records, cycle_every, dropped):
    """The loader; dropped[0] counts the cycle objects made garbage."""
    files = []
    total = 0
    root = None
    for i in range(n_records):
        if i % PER_FILE == 0:
            root = Node("file%d" % (i // PER_FILE))
            files.append(root)
        # a record as a parser hands it over, and the temporaries of parsing it
        fields = ("k%d" % (i % 97), i, i * 0.5)
        tokens = [fields[0], str(fields[1]), "x"]
        record = {"key": fields[0], "id": i, "values": [i, i + 1, i + 2],
                  "meta": {"line": i % 500, "tokens": len(tokens)}}
        section = root.children.get(fields[0])
        if section is None:
            section = root.children[fields[0]] = Node(fields[0])
        section.records.append(record)
        total += len(tokens) + record["meta"]["tokens"]
        if i % cycle_every == 0:
            a, b = Pair(), Pair()
            a.peer, b.peer = b, a
            a.payload = [i]
            b.payload = None
            dropped[0] += 2
            del a, b
    return total + sum(len(f.children) for f in files), files


def child(program, variant, size):
    perf_counter, process_time = time.perf_counter, time.process_time
    c0, t0 = process_time(), perf_counter()
    gcx = None
    if variant.startswith("gcx"):
        import gcx
        gcx.install(policy=gcx.Policy(adaptive=True) if variant == "gcx adaptive" else None)
    elif variant == "stdlib 50k":
        gc.set_threshold(50_000)
    dropped = [0]
    collected = [0]
    held = [0]
    pauses = []
    started = [0.0]

    def on_collection(phase, info):
        if phase == "start":
            held[0] = max(held[0], dropped[0] - Freed.count)
            started[0] = perf_counter()
        else:
            pauses.append(perf_counter() - started[0])
            collected[0] += info["collected"]

    gc.callbacks.append(on_collection)
    checksum, files = load(RECORDS[size], PROGRAMS[program], dropped)
    wall, cpu = perf_counter() - t0, process_time() - c0
    gc.callbacks.remove(on_collection)
    held[0] = max(held[0], dropped[0] - Freed.count)
    result = {"checksum": checksum, "wall": wall, "cpu": cpu, "collections": len(pauses),
              "collect_time": sum(pauses), "held": held[0], "dropped": dropped[0],
              "collected": collected[0], "rss": harness.peak_rss_bytes(),
              "gcx_file": gcx._gcx.__file__ if gcx else None}
    if gcx is not None and gcx.get_policy() is not None:
        result["young_trigger"] = gcx.get_policy().state()["young_trigger"]
    del files
    gc.collect()
    if Freed.count != dropped[0] or gc.garbage:
        raise SystemExit("%d cycle objects dropped, %d freed after a final collect(), "
                         "%d in gc.garbage" % (dropped[0], Freed.count, len(gc.garbage)))
    harness.emit_child(result, without_gcx=gcx is None)


METRICS = (("wall time", "wall", "s", 1), ("cpu time", "cpu", "s", 1),
           ("collections", "collections", "", 1),
           ("time in collections", "collect_time", "ms", 1e3),
           ("garbage held (peak)", "held", "objects", 1),
           ("peak RSS", "rss", "MB", 1 / 2**20))


def run(args, report):
    reps = harness.reps_for(args, small=5, default=5)
    med = harness.statistics.median
    for program in PROGRAMS:
        harness.progress(program)
        runs = harness.run_variants(__file__, VARIANTS, reps, "--program", program,
                                    "--size", args.size)
        harness.variant_rows(report, program, runs, METRICS)
        report.notes.append(
            "%s: %d records, cycle objects dropped %d; gcx adaptive's young trigger at "
            "the end (median) %d" % (program, RECORDS[args.size], runs["stdlib"][0]["dropped"],
                                    med([r["young_trigger"] for r in runs["gcx adaptive"]])))


def configure(p):
    p.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--program", choices=PROGRAMS, help=argparse.SUPPRESS)


if __name__ == "__main__":
    harness.main_variants("policy_alloc", __doc__, run, configure,
                          lambda a: child(a.program, a.child, a.size))
