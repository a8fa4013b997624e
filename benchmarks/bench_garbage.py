"""Full collections that free a lot of cyclic garbage.

The shape of pyperformance's gc_collect (rings of instances linked both
ways), scaled up, plus pairs of instances that reach each other through
dicts.  Before each timed call the garbage is rebuilt (untimed) and dropped,
so every call finds a fresh batch; the call must report exactly that many
objects collected.

Cases:
  rings            rings of 10 instances, each with next/prev attributes
                   (no dict objects: 10 containers per ring)
  pairs with dicts two instances, each holding a dict that holds the other
                   (4 containers per pair)
"""
if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 20_000, "default": 500_000}   # garbage containers per collection
RING = 10


class Node:
    def __init__(self):
        self.next = None
        self.prev = None


class Peer:
    pass


def make_rings(n_rings):
    """n_rings rings of RING nodes, unreachable when this returns."""
    rings = []
    for _ in range(n_rings):
        first = last = Node()
        for _ in range(RING - 1):
            node = Node()
            node.prev = last
            last.next = node
            last = node
        last.next = first
        first.prev = last
        rings.append(first)
    return n_rings * RING


def make_pairs(n_pairs):
    """n_pairs pairs of Peer instances linked through dicts, unreachable when
    this returns."""
    for _ in range(n_pairs):
        a = Peer()
        b = Peer()
        a.links = {"peer": b}
        b.links = {"peer": a}
    return 4 * n_pairs


def garbage_cases(size):
    n = SIZES[size]
    return [("rings of 10 instances", lambda who: make_rings(n // RING)),
            ("pairs with dicts", lambda who: make_pairs(n // 4))]


def run(args, report):
    n = SIZES[args.size]
    reps = harness.reps_for(args, small=5, default=7)
    measured = []
    with harness.quiet_collectors():
        harness.settle()
        for name, prepare in garbage_cases(args.size):
            harness.progress("%s: %d garbage containers per collection" % (name, n))
            measured.append(report.add(harness.compare_collections(
                name, prepare=prepare, reps=reps, detail={"garbage_per_collection": n})))
            harness.settle()
    report.summary["geometric mean gcx/stdlib"] = harness.geometric_mean(
        [c.ratio for c in measured])
    # what the stdlib's collections free, gcx imported drops the records
    # of on their time: each collector alone too
    harness.each_alone(report, measured, __file__, args, reps)


if __name__ == "__main__":
    import sys
    if "--alone-child" in sys.argv:
        harness.alone_child(sys.argv[1:], garbage_cases, generation=2, warmup=1)
    else:
        harness.main("garbage", __doc__, run)
