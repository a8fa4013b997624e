"""Full collections of a large live heap with no garbage.

Each shape is built on its own (about 1M containers at --size default),
collected untimed by both collectors until everything sits in their oldest
generation, then timed: gc.collect() against gcx.collect(), alternating,
each call checked to report 0 objects collected.  Prints the ratio
gcx/stdlib per shape and their geometric mean.  After each shape, untimed,
a 1% copy of it that has reached the oldest generation is made garbage once
per collector, and both must collect it, reporting the same count (a full
collection that skipped the old heap would also return 0 on a live heap).

Shapes:
  linked instances   a 1M-long chain of ordinary class instances (attributes
                     inline, no dict objects)
  tree of lists      lists of 8 lists, leaves of 4 ints
  dict of lists and tuples
                     one dict; each value a list holding a tuple of atoms
                     (which the stdlib untracks) and a tuple holding a list
  random graph       __slots__ objects, three random edges each (cycles
                     everywhere), held by one list
"""
import random

if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 20_000, "default": 1_000_000}   # containers per shape


class Link:
    def __init__(self, nxt, payload):
        self.next = nxt
        self.payload = payload


class Vertex:
    __slots__ = ("a", "b", "c", "label")


def linked_instances(n):
    head = None
    for i in range(n):
        head = Link(head, i)
    return head


def tree_of_lists(n):
    nodes = [[i, i + 1, i + 2, i + 3] for i in range(n * 7 // 8)]
    while len(nodes) > 1:
        nodes = [nodes[i:i + 8] for i in range(0, len(nodes), 8)]
    return nodes[0]


def dict_of_lists_and_tuples(n):
    return {i: [(i, "atom"), (i, [i])] for i in range(n // 4)}


def random_graph(n):
    rng = random.Random(20240613)
    vertices = [Vertex() for _ in range(n)]
    for i, v in enumerate(vertices):
        v.a = vertices[rng.randrange(n)]
        v.b = vertices[rng.randrange(n)]
        v.c = vertices[rng.randrange(n)]
        v.label = i
    return vertices


SHAPES = [
    ("linked instances", linked_instances),
    ("tree of lists", tree_of_lists),
    ("dict of lists and tuples", dict_of_lists_and_tuples),
    ("random graph of __slots__", random_graph),
]


def nothing_to_collect(who):
    return 0


def canary(build, n):
    """Untimed, after the timed rounds: two copies of the shape (n containers
    each) are settled into both collectors' oldest generation, then made
    garbage, one per collector; both must collect theirs, and the same
    number of objects.  A full collection that skipped the old heap would
    also return 0 on a live heap; it cannot pass this."""
    holders = {"stdlib": [build(n)], "gcx": [build(n)]}
    harness.settle()
    counts = {}
    for who, collect in (("stdlib", harness.STDLIB_COLLECT), ("gcx", harness.gcx_collect)):
        holder = holders.pop(who)
        holder.append(holder)          # the holder's cycle is all that keeps the copy
        del holder
        counts[who] = collect()
    # at least half: the stdlib untracks tuples of atoms once they are old
    if counts["stdlib"] < n // 2 or counts["stdlib"] != counts["gcx"]:
        raise harness.BenchmarkError("%d old containers made garbage: stdlib collected %d, "
                                     "gcx %d" % (n, counts["stdlib"], counts["gcx"]))


def live_cases(size):
    """The cases of an --alone-child (harness.each_alone): each shape's heap
    built when its turn comes, the last one let go."""
    n = SIZES[size]
    for name, build in SHAPES:
        heap = build(n)
        yield name, nothing_to_collect
        del heap


def run(args, report):
    n = SIZES[args.size]
    reps = harness.reps_for(args, small=5, default=7)
    measured = []
    with harness.quiet_collectors():
        harness.settle()
        base_std, base_gcx = harness.tracked_counts()
        for name, build in SHAPES:
            harness.progress("%s: building %d containers" % (name, n))
            heap = build(n)
            harness.settle()
            std, gcx = harness.tracked_counts()
            detail = {"tracked_stdlib": std - base_std, "tracked_gcx": gcx - base_gcx,
                      "heap_stdlib": std, "heap_gcx": gcx}
            measured.append(report.add(harness.compare_collections(
                name, prepare=nothing_to_collect, reps=reps, detail=detail)))
            del heap
            harness.settle()
            canary(build, max(1000, n // 100))
    report.summary["geometric mean gcx/stdlib"] = harness.geometric_mean(
        [c.ratio for c in measured])
    report.notes.append("containers built per shape: %d; tracked by stdlib/gcx, and ns per "
                        "tracked container (whole heap) stdlib/gcx: %s" % (n, "; ".join(
                            "%s %d/%d, %.0f/%.0f ns" % (
                                c.case, c.detail["tracked_stdlib"], c.detail["tracked_gcx"],
                                c.base.median / c.detail["heap_stdlib"] * 1e9,
                                c.gcx.median / c.detail["heap_gcx"] * 1e9)
                            for c in measured)))
    harness.each_alone(report, measured, __file__, args, reps)


if __name__ == "__main__":
    import sys
    if "--alone-child" in sys.argv:
        harness.alone_child(sys.argv[1:], live_cases, generation=2, warmup=1)
    else:
        harness.main("live_heap", __doc__, run)
