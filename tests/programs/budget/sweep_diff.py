"""Old cyclic garbage decided by an incremental cycle's sweep, against the
stdlib's full collection of the same heap.

    python sweep_diff.py MODE SEED

MODE: "stdlib" (gc.collect()), "gcx" (gcx installed, gcx.collect()) or
"sweep" (gcx installed; an incremental cycle run by hand: marking from
sys.modules and this frame, then the sweep one step at a time, each step
one unmarked object and what it reaches of the old generation, then the
end).  The heap is built alive, made old (two full collections), then
dropped at once: cycles of instances, finalizers (PEP 442: run once,
the object collected), a finalizer resurrecting its cycle, weakref
callbacks (on weakrefs that survive, which run, and on weakrefs that are
garbage themselves, which do not, whether the weakref is in its
referent's structure or held by another, or was taken out of garbage
once marking was over, and runs then), a cycle through a dict and a list of
many items, closures, bound methods, an exception holding its traceback,
a suspended generator in a cycle, and garbage that holds a live object.
Then the same with DEBUG_SAVEALL, where gc.garbage gets the garbage.

Prints one JSON line: what each phase found, which finalizers and
callbacks ran, which objects are alive after, gc.garbage's types; in
"sweep" mode also the number of sweep steps (more than one, or the test
proves nothing), and per cycle the garbage that waited for a later step
(a weakref to it undecided) and the passes over the table.
"""
import json
import random
import sys
import weakref

mode = sys.argv[1]
rng = random.Random(int(sys.argv[2]))

if mode == "stdlib":
    import gc as collector
else:
    import gcx as collector
    from gcx import _gcx
    collector.install()
collector.disable()

EVENTS = []
RESURRECTED = []
LIVE = {"anchor": object()}
WATCH = {}       # name -> weakref to a garbage object (or a resurrected one)
KEEP = []        # weakrefs with callbacks, alive
LATER = []       # what the program does once the heap is garbage (in sweep
                 # mode, once marking is over)


class Node:
    def __init__(self, name):
        self.name = name
        self.edges = []


class Fin(Node):
    def __del__(self):
        EVENTS.append("del " + self.name)


class Phoenix(Node):
    def __del__(self):
        EVENTS.append("del " + self.name)
        RESURRECTED.append(self)


def watch(name, obj):
    WATCH[name] = weakref.ref(obj)


def pair(a, b):
    """a and b in a cycle; a watched."""
    a.edges.append(b)
    b.edges.append(a)
    watch(a.name, a)
    return a, b


def build(tag):
    """The garbage shapes, in a shuffled order, held by one list."""
    holder = []
    shapes = []

    def pairs():
        for i in range(rng.randint(20, 60)):
            a, b = pair(Node(f"{tag}pair{i}a"), Node(f"{tag}pair{i}b"))
            holder.append(a)

    def finalizers():
        for i in range(rng.randint(3, 10)):
            a, b = pair(Fin(f"{tag}fin{i}a"), Node(f"{tag}fin{i}b"))
            holder.append(b)

    def phoenix():
        a, b = pair(Phoenix(f"{tag}phoenix"), Node(f"{tag}phoenix-partner"))
        watch(b.name, b)
        holder.append(a)

    def callbacks():
        a, b = pair(Node(f"{tag}cb-target"), Node(f"{tag}cb-partner"))
        KEEP.append(weakref.ref(a, lambda r, n=a.name: EVENTS.append("callback " + n)))
        # a weakref that is garbage with its referent: its callback never runs
        b.edges.append(weakref.ref(a, lambda r, n=a.name: EVENTS.append("dead callback " + n)))
        holder.append(a)

    def weakref_elsewhere():
        # the weakref held by another garbage structure, not by its
        # referent's: garbage too, its callback never runs
        a, b = pair(Node(f"{tag}cb-elsewhere-target"), Node(f"{tag}cb-elsewhere-partner"))
        c, d = pair(Node(f"{tag}cb-elsewhere-holder"), Node(f"{tag}cb-elsewhere-holder2"))
        c.edges.append(weakref.ref(a, lambda r, n=a.name: EVENTS.append("trash callback " + n)))
        holder.extend([a, c])

    def weakref_taken_out():
        # the same, but the program takes the weakref out of its garbage
        # holder (reached through a weakref to it) into a live place:
        # alive, its callback runs
        a, b = pair(Node(f"{tag}cb-taken-target"), Node(f"{tag}cb-taken-partner"))
        c, d = pair(Node(f"{tag}cb-taken-holder"), Node(f"{tag}cb-taken-holder2"))
        c.edges.append(weakref.ref(a, lambda r, n=a.name: EVENTS.append("callback " + n)))
        # (no closure: a cell of build's that marking reached through it
        # would wait for the next cycle, as anything marked that dies does)
        LATER.append(lambda key=f"{tag}taken", to_c=weakref.ref(c):
                     LIVE.__setitem__(key, to_c().edges.pop()))
        holder.extend([a, c])

    def containers():
        d = {"name": f"{tag}dict"}
        items = [Node(f"{tag}item{i}") for i in range(rng.randint(100, 3000))]
        for node in items:
            node.edges.append(d)
        d["items"] = items
        watch(f"{tag}item0", items[0])
        holder.append(d)

    def closures():
        n = Node(f"{tag}closure")

        def inner():
            return n
        n.edges.append(inner)
        n.method = n.__init__          # a bound method of its own object
        watch(n.name, n)
        holder.append(n)

    def exception():
        n = Node(f"{tag}exc")
        try:
            raise ValueError(n)
        except ValueError as e:
            n.edges.append(e)          # exception -> traceback -> frame -> e
        watch(n.name, n)
        holder.append(n)

    def generator():
        n = Fin(f"{tag}gen")

        def g(node):
            yield node
            yield node
        it = g(n)
        next(it)
        n.edges.append(it)
        watch(n.name, n)
        holder.append(n)

    def holds_live():
        a, b = pair(Node(f"{tag}holds-live-a"), Node(f"{tag}holds-live-b"))
        a.edges.append(LIVE["anchor"])
        holder.append(a)

    shapes = [pairs, finalizers, phoenix, callbacks, weakref_elsewhere,
              weakref_taken_out, containers, closures, exception, generator,
              holds_live]
    rng.shuffle(shapes)
    for shape in shapes:
        shape()
    return holder


SWEEPS = []      # sweep mode: (garbage that waited, passes) of each cycle


def later():
    while LATER:
        LATER.pop()()


def collect_full():
    """One full collection: the stdlib's or gcx's stop-the-world one, or an
    incremental cycle with the sweep in one-seed steps."""
    if mode != "sweep":
        later()
        return collector.collect(), 0
    _gcx.incr_start([sys.modules, sys._getframe()])
    while _gcx.incr_slice(0.001):
        pass
    later()
    steps = 0
    while _gcx.incr_sweep(0.0):
        steps += 1
    state = _gcx.incr_state()
    SWEEPS.append((state["waited"], state["passes"]))
    found = _gcx.incr_finish()
    assert found >= 0
    return found, steps


def phase(tag):
    holder = build(tag)
    collector.collect()
    collector.collect()            # all of it old, and alive
    before = len(EVENTS)
    del holder[:]
    found, steps = collect_full()
    return {
        "found": found,
        "events": sorted(EVENTS[before:]),
        "alive": sorted(name for name, ref in WATCH.items()
                        if name.startswith(tag) and ref() is not None),
        "resurrected": sorted(o.name for o in RESURRECTED if o.name.startswith(tag)),
    }, steps


out = {}
out["plain"], steps1 = phase("p-")
assert LIVE["anchor"] is not None
collector.set_debug(collector.DEBUG_SAVEALL)
out["saveall"], steps2 = phase("s-")
out["saveall"]["garbage"] = sorted(type(o).__name__ for o in collector.garbage)
collector.set_debug(0)
del collector.garbage[:]
if mode == "sweep":
    out["steps"] = steps1 + steps2
    out["waited"] = [waited for waited, passes in SWEEPS]
    out["passes"] = [passes for waited, passes in SWEEPS]
print(json.dumps(out, sort_keys=True))
