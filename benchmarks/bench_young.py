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

and, at about the same size, the young objects programs make (each shape
half alive until the next round, half cyclic garbage):

  instances        pairs of instances of an ordinary class (managed dicts)
                   that refer to each other, one pair in two also to an
                   old object
  slots            the same with a __slots__ class
  dicts            dicts holding a list and an old object, and dict cycles
  tuples           tuples of a list and an old object (the list refers back
                   to the tuple in the garbage half)
  closures         nested functions with their cells, the garbage ones
                   referring to themselves through a cell
  bound methods    bound methods of new instances stored on the instance
                   (the garbage half: the method kept on its own instance)
  exceptions       caught exceptions with their tracebacks and frames (the
                   garbage half: each exception stored in a local of its own
                   frame)
  generators       suspended generators and coroutines holding new objects
                   (the garbage half: holding themselves)
  a mix            every shape above, in equal parts

Each call must report exactly the garbage containers made collected.  A
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


class Plain:
    pass


class Slotted:
    __slots__ = ("peer", "old", "__weakref__")


# Each shape: a live half that is acyclic (freed by reference counting
# when the next round drops it) and a garbage half of cycles.

def _pairs(cls, n, old):
    """Pairs of cls instances: live ones point one way (one in two also at
    an old object), garbage ones at each other."""
    live = []
    for i in range(n // 4):
        a, b = cls(), cls()
        a.peer = b
        if i % 2:
            a.old = old[i % len(old)]
        live.append(a)
    for _ in range(n // 4):
        a, b = cls(), cls()
        a.peer, b.peer = b, a
    return live


def shape_instances(n, old):
    return _pairs(Plain, n, old)


def shape_slots(n, old):
    return _pairs(Slotted, n, old)


def shape_dicts(n, old):
    live = []
    for i in range(n // 4):
        live.append({"items": [i], "old": old[i % len(old)]})
    for _ in range(n // 4):
        a, b = {}, {}
        a["b"], b["a"] = b, a
    return live


def shape_tuples(n, old):
    live = []
    for i in range(n // 4):
        live.append(([i], old[i % len(old)]))
    for i in range(n // 4):
        items = [i]
        t = (items, old[i % len(old)])
        items.append(t)
    return live


def _closure_live(x):
    def f():
        return x
    return f


def _closure_cycle(x):
    def f():
        return x, f          # f's cell holds f
    return f


def shape_closures(n, old):
    live = [_closure_live(old[i % len(old)]) for i in range(n // 4)]
    for i in range(n // 4):
        _closure_cycle(i)
    return live


class Owner:
    def method(self):
        return self


def shape_bound_methods(n, old):
    live = []
    for i in range(n // 4):
        o = Owner()
        o.old = old[i % len(old)]
        live.append(o.method)    # bound method -> instance
    for _ in range(n // 4):
        o = Owner()
        o.m = o.method           # instance -> bound method -> instance
    return live


def _raise(i):
    raise ValueError(i)


def _caught(i):
    try:
        _raise(i)
    except ValueError as e:
        return e                 # with its traceback and both frames


def _exceptions_in(n, out):
    # In a thread of its own: each traceback's first frame links back,
    # through f_back, to the frames that called it, and in the caller's
    # thread those hold the list the live half goes to (a cycle).  Here
    # they hold nothing of it once this returns.
    for i in range(n):
        out.append(_caught(i))
    for i in range(n):
        e = _caught(i)
        e.self = e               # the exception holds itself
    del out, e


def shape_exceptions(n, old):
    import threading
    live = []
    t = threading.Thread(target=_exceptions_in, args=(n // 10, live))
    t.start()
    t.join()
    return live


def release_exceptions(live):
    for e in live:
        e.__traceback__ = None


def _gen(x):
    while True:
        x = yield x


class _Suspend:
    def __await__(self):
        yield


async def _coro(box):
    await _Suspend()
    return box


def _started(box):
    c = _coro(box)
    c.send(None)                 # suspended at its await
    return c


def shape_generators(n, old):
    live = []
    for i in range(n // 8):
        g = _gen([old[i % len(old)]])
        next(g)
        live.append((g, _started([i])))
    for i in range(n // 16):
        g = _gen(None)
        next(g)
        g.send(g)                # the suspended generator holds itself
        box = []
        box.append(_started(box))   # the suspended coroutine holds itself
    return live


def release_generators(live):
    for g, c in live:
        c.close()


YOUNG_SHAPES = {"instances": shape_instances, "slots": shape_slots, "dicts": shape_dicts,
                "tuples": shape_tuples, "closures": shape_closures,
                "bound methods": shape_bound_methods, "exceptions": shape_exceptions,
                "generators": shape_generators}


def shape_mix(n, old):
    live = []
    for fn in YOUNG_SHAPES.values():
        live.append(fn(n // len(YOUNG_SHAPES), old))
    return live


RELEASE = {"exceptions": release_exceptions, "generators": release_generators}


def release_mix(live):
    for name, part in zip(YOUNG_SHAPES, live):
        RELEASE.get(name, lambda _: None)(part)


class YoungShape:
    """One shape's young objects, remade before every timed collection (the
    previous round's live half released first: freed by reference
    counting); the garbage expected is what the stdlib's own first
    collection found."""

    def __init__(self, fn, heap, release=None, n=2_000):
        self.fn, self.heap, self.n = fn, heap, n
        self.release = release or (lambda live: None)
        self.live = None
        self.garbage = None

    def __call__(self, who):
        if self.live is not None:
            self.release(self.live)
        self.live = None
        import gc as stdlib
        if self.garbage is None:
            # how much garbage the shape makes: the stdlib's word, once
            self.live = self.fn(self.n, self.heap)
            self.garbage = stdlib.collect(0)
            self.release(self.live)
            self.live = None
        self.live = self.fn(self.n, self.heap)
        return self.garbage


def make_cycles(n):
    for _ in range(n):
        a = []
        b = [a]
        a.append(b)


def cases(heap, n):
    """(case, prepare) of every young case, in the order they are measured."""
    label = format(n, ",")
    yield "2,000 young (self-contained) on %s old" % label, YoungBatch()
    yield "2,000 young (into the heap) on %s old" % label, YoungIntoHeap(heap)
    release = dict(RELEASE, **{"a mix": release_mix})
    for name, fn in dict(YOUNG_SHAPES, **{"a mix": shape_mix}).items():
        yield "young %s on %s old" % (name, label), YoungShape(fn, heap, release.get(name))


def run(args, report):
    n = SIZES[args.size]
    reps = harness.reps_for(args, small=11, default=51)
    measured = []
    with harness.quiet_collectors():
        harness.progress("building an old heap of %d containers" % n)
        heap = old_heap(n)
        harness.settle()
        std, gcx = harness.tracked_counts()
        for k, (case, prepare) in enumerate(cases(heap, n)):
            detail = {"old_heap": n}
            if k < 2:
                detail.update({"tracked_stdlib": std, "tracked_gcx": gcx})
            measured.append(report.add(harness.compare_collections(
                case, prepare=prepare, reps=reps, generation=0, unit="us", warmup=3,
                detail=detail)))
        report.summary["geometric mean gcx/stdlib"] = harness.geometric_mean(
            [c.ratio for c in measured])
        del heap
        harness.settle()
    # gcx imported slows the stdlib's young collections: each alone too
    harness.each_alone(report, measured, __file__, args, reps)


def alone_cases(size):
    """The cases of an --alone-child (harness.each_alone), on one old heap."""
    n = SIZES[size]
    yield from cases(old_heap(n), n)


if __name__ == "__main__":
    import sys
    if "--alone-child" in sys.argv:
        harness.alone_child(sys.argv[1:], alone_cases, generation=0, warmup=3)
    else:
        harness.main("young", __doc__, run)
