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


def run(args, report):
    n = SIZES[args.size]
    reps = harness.reps_for(args, small=5, default=7)
    cases = [
        ("rings of 10 instances", lambda who: make_rings(n // RING)),
        ("pairs with dicts", lambda who: make_pairs(n // 4)),
    ]
    with harness.quiet_collectors():
        harness.settle()
        for name, prepare in cases:
            harness.progress("%s: %d garbage containers per collection" % (name, n))
            report.add(harness.compare_collections(name, prepare=prepare, reps=reps,
                                                   detail={"garbage_per_collection": n}))
            harness.settle()
    report.summary["geometric mean gcx/stdlib"] = harness.geometric_mean(
        [c.ratio for c in report.rows])


if __name__ == "__main__":
    harness.main("garbage", __doc__, run)
