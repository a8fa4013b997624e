"""Young collections, collect(0), on top of a large live heap.

A large live heap (1M containers at --size default: __slots__ objects and
lists) is built once and collected untimed until it sits in both
collectors' oldest generation.  Before each timed collect(0), 2,000 new
containers are made (untimed): 1,000 that stay alive (held until the next
round) and 500 two-list cycles that are garbage (1,000 containers).  Each
call must report exactly those 1,000 collected.  A young collection should
cost what the young objects cost, whatever the size of the old heap.
"""
if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 50_000, "default": 1_000_000}   # live containers in the old heap
YOUNG_LIVE = 1_000
YOUNG_CYCLES = 500   # two lists each: 1,000 garbage containers


class Old:
    __slots__ = ("items", "peer")


def old_heap(n):
    objs = [Old() for _ in range(n // 2)]
    for i, o in enumerate(objs):
        o.items = [i]
        o.peer = objs[i - 1]
    return objs


class YoungBatch:
    """The live half of each round's young objects, dropped (freed by
    reference counting, no garbage) when the next round makes its own."""

    def __init__(self):
        self.live = None

    def __call__(self, who):
        self.live = None
        self.live = [[i] for i in range(YOUNG_LIVE - 1)]   # + the outer list
        make_cycles(YOUNG_CYCLES)
        return 2 * YOUNG_CYCLES


def make_cycles(n):
    for _ in range(n):
        a = []
        b = [a]
        a.append(b)


def run(args, report):
    n = SIZES[args.size]
    reps = harness.reps_for(args, small=11, default=51)
    with harness.quiet_collectors():
        harness.progress("building an old heap of %d containers" % n)
        heap = old_heap(n)
        harness.settle()
        std, gcx = harness.tracked_counts()
        report.add(harness.compare_collections(
            "2,000 young on %s old" % format(n, ","), prepare=YoungBatch(), reps=reps,
            generation=0, unit="us", warmup=3,
            detail={"old_heap": n, "tracked_stdlib": std, "tracked_gcx": gcx}))
        del heap
        harness.settle()


if __name__ == "__main__":
    harness.main("young", __doc__, run)
