"""Counting a heap: gcx.census() and gcx.metrics() against what users do with
the stdlib.

A heap of about 1M containers (--size default: instances of three classes,
lists and dicts) is built once, in this process, with both automatic collectors off.
Each repetition times, alternating which side goes first:

  census            tracked objects by type.  stdlib: what objgraph's
                    typestats() does, collections.Counter(type(o).__name__
                    for o in gc.get_objects()); gcx: gcx.census(), counted
                    in C over gcx's table, no list of objects made
  generation sizes  stdlib: [len(gc.get_objects(g)) for g in range(3)], how
                    users read generation sizes; gcx: gcx.metrics(), which
                    has them (and every other figure) in O(1)

Checked inside the loop: both censuses count each of the three classes
exactly as built, and both size readings see at least the heap.
"""
import collections
import gc

if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 50_000, "default": 1_000_000}   # containers in the heap


class Alpha:
    pass


class Beta:
    __slots__ = ("items",)


class Gamma:
    def __init__(self, i):
        self.i = i
        self.d = {"k": [i]}


def build(n):
    """About n containers: a third each in Alpha instances, Beta instances
    with a list each, and Gamma instances with a dict holding a list each.
    Returns the heap, the instances of each class, and the containers."""
    k = n // 3
    heap = [Alpha() for _ in range(k)]
    for _ in range(k // 2):
        b = Beta()
        b.items = [1]
        heap.append(b)
    heap += [Gamma(i) for i in range(k // 3)]
    counts = {"Alpha": k, "Beta": k // 2, "Gamma": k // 3}
    return heap, counts, 1 + k + 2 * (k // 2) + 3 * (k // 3)


def run(args, report):
    gcx = harness._gcx()
    reps = harness.reps_for(args, small=5, default=7)
    n = SIZES[args.size]
    harness.progress("building a heap of about %s containers" % format(n, ","))
    with harness.quiet_collectors():
        heap, counts, containers = build(n)
        harness.settle()
        tracked, records = harness.tracked_counts()

        def stdlib_census():
            return collections.Counter(type(o).__name__ for o in gc.get_objects())

        def gcx_census():
            return gcx.census()

        def check_census(who, c):
            for name, k in counts.items():
                got = c[name] if who == "stdlib" else c["%s.%s" % (__name__, name)]
                if got != k:
                    raise harness.BenchmarkError("%s census counted %d %s, built %d"
                                                 % (who, got, name, k))

        def stdlib_sizes():
            return [len(gc.get_objects(g)) for g in range(3)]

        def gcx_sizes():
            return [g["objects"] for g in gcx.metrics()["generations"]]

        def check_sizes(who, sizes):
            if sum(sizes) < containers:
                raise harness.BenchmarkError("%s sees %d containers, the heap has %d"
                                             % (who, sum(sizes), containers))

        for case, metric, sides, check in (
                ("census, %s containers" % format(tracked, ","), "by type",
                 {"stdlib": stdlib_census, "gcx": gcx_census}, check_census),
                ("generation sizes, %s containers" % format(tracked, ","), "3 sizes",
                 {"stdlib": stdlib_sizes, "gcx": gcx_sizes}, check_sizes)):
            harness.progress(case)
            times = {"stdlib": [], "gcx": []}
            for rnd in range(1 + reps):
                for who in (("stdlib", "gcx") if rnd % 2 == 0 else ("gcx", "stdlib")):
                    t0 = harness.perf_counter()
                    result = sides[who]()
                    t1 = harness.perf_counter()
                    check(who, result)
                    del result
                    if rnd:
                        times[who].append(t1 - t0)
            report.add(harness.Comparison(case, metric, "ms", 1e3, times["stdlib"],
                                          times["gcx"], {"records": records}))
        del heap
    report.notes.append("stdlib census: collections.Counter(type(o).__name__ for o in "
                        "gc.get_objects()), as objgraph's typestats(); gcx: gcx.census(). "
                        "stdlib sizes: len(gc.get_objects(g)) for each generation; "
                        "gcx: gcx.metrics()")


if __name__ == "__main__":
    harness.main("census", __doc__, run)
