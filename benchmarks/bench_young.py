"""Young collections, collect(0), on top of a large live heap.

A large live heap (1M containers at --size default: __slots__ objects and
lists) is built once and collected untimed until it sits in both
collectors' oldest generation.  Before each timed collect(0), 2,000 new
containers are made (untimed), in one of two shapes:

  self-contained   1,000 lists that stay alive (held until the next round)
                   and 500 two-list cycles that are garbage (1,000
                   containers); no edge leaves the young objects but those
                   to ints
  into the heap    1,000 dicts that stay alive, each referring to two old
                   objects picked at random (none picked again for 100
                   rounds), and the same 500 garbage cycles: what young
                   objects in a program usually look like (new records
                   pointing at long-lived ones)

Each call must report exactly the 1,000 garbage containers collected.  A
young collection should cost what the young objects cost, whatever the size
of the old heap.
"""
import random

if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 50_000, "default": 1_000_000}   # live containers in the old heap
YOUNG_LIVE = 1_000
YOUNG_CYCLES = 500   # two lists each: 1,000 garbage containers
PICK_ROUNDS = 100    # rounds before the young dicts point at the same old objects


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


class YoungIntoHeap(YoungBatch):
    """Live young dicts with edges into the old heap, plus the cycles."""

    def __init__(self, heap):
        super().__init__()
        rng = random.Random(7)
        # each round points at objects no recent round touched
        self.picks = [heap[rng.randrange(len(heap))] for _ in range(PICK_ROUNDS * 2 * YOUNG_LIVE)]
        self.round = 0

    def __call__(self, who):
        self.live = None
        k = (self.round % PICK_ROUNDS) * 2 * YOUNG_LIVE
        self.round += 1
        picks = self.picks
        self.live = [{"a": picks[k + 2 * j], "b": picks[k + 2 * j + 1]}
                     for j in range(YOUNG_LIVE - 1)]
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
        ratios = []
        for shape, prepare in (("self-contained", YoungBatch()),
                               ("into the heap", YoungIntoHeap(heap))):
            c = report.add(harness.compare_collections(
                "2,000 young (%s) on %s old" % (shape, format(n, ",")), prepare=prepare,
                reps=reps, generation=0, unit="us", warmup=3,
                detail={"old_heap": n, "tracked_stdlib": std, "tracked_gcx": gcx}))
            ratios.append(c.ratio)
        report.summary["geometric mean gcx/stdlib"] = harness.geometric_mean(ratios)
        del heap
        harness.settle()


if __name__ == "__main__":
    harness.main("young", __doc__, run)
