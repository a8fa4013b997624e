"""Memory a collection makes private in a forked child (pre-fork servers).

A pre-fork server (gunicorn, uWSGI) builds its heap in a parent and forks
workers that share the parent's memory copy-on-write: a page stays shared
until some process writes to it.  A collector that writes into the objects
it scans (CPython's writes its GC header, in every object it examines)
makes those pages private in every worker that collects.

Each measurement is one fresh parent interpreter that builds the same heap
(about 1M containers at --size default, in groups of ten: an ordinary
instance and its list, a __slots__ object, a tuple holding the instance, a
tuple of atoms, a dict holding objects and one holding only atoms, an
instance whose __dict__ was made a dict object, a list of the group; the
groups chained and each holding a cycle), with one of three collectors:

  stdlib        the stdlib collector
  gcx           gcx installed (gcx.install()) before the heap is built
  gc.freeze()   the stdlib collector, and gc.freeze() just before forking
                (the usual pre-fork advice: the child's collections never
                look at what the parent made)
  gcx.warmup()  gcx installed, and gcx.warmup() just before forking (a full
                collection, then freeze: gcx's policy control for the same
                advice; issue 13)

The parent collects until its heap sits in the oldest generation, then
leaves some old garbage there (1% of the heap made garbage after it got
old), puts a middle generation on top (2% alive and 1% garbage, after a
young collection moved them to generation 1) and a young one (1,000 live
containers and 500 garbage), with automatic collection off.  It then forks
one child per kind of collection: collect(0), collect(1) and collect();
then it collects its garbage itself and forks a last child, whose
collect() finds everything alive (what a collector writes when it has
nothing to free).
Each child reads Private_Dirty from /proc/self/smaps_rollup, runs that one
collection, reads Private_Dirty again (the two reads into buffers made
beforehand, nothing else between them), and reports the difference: the
memory the collection made private, shared pages it wrote and memory it
allocated and kept, less what it returned.  The parent waits, doing
nothing, while each child runs.

The three collectors' parents alternate, the order flipping each
repetition.  Every child's collection count is checked: gcx's children
must collect what the stdlib's do, of each kind (the freeze children
collect nothing of the parent's: it is frozen).  The ratio is gcx / stdlib
per kind, with the spread of the per-repetition ratios.
"""
import gc
import json
import os
import sys

if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 50_000, "default": 1_000_000}   # containers in the live heap
COLLECTORS = ("stdlib", "gcx", "freeze", "warmup")
KINDS = (("young", 0, "collect(0)"), ("gen1", 1, "collect(1)"), ("full", 2, "collect()"),
         ("full, all alive", 2, "collect()"))
SMAPS = "/proc/self/smaps_rollup"
GROUP = 10           # containers per group (with the tuple of atoms; the atoms' dict is untracked)
YOUNG_LIVE, YOUNG_GARBAGE = 100, 50        # groups in generation 0 at the fork


class Plain:
    def __init__(self, i, prev):
        self.i = i
        self.prev = prev
        self.tags = [i]


class Slotted:
    __slots__ = ("a", "b", "c")


class WithDict:
    def __init__(self, i):
        self.i = i
        self.name = "w"


def group(i, prev):
    """Ten containers (nine tracked once old) and one cycle; the group's
    list, which the next group's instance refers to through prev."""
    p = Plain(i, prev)
    s = Slotted()
    s.a = p
    s.b = (i, p)
    s.c = (i, "atom")                     # untracked by the first collection
    d = {"id": i, "obj": s}
    atoms = {"id": i, "v": 1.5}           # untracked from birth (3.13)
    w = WithDict(i)
    vars(w)                               # a dict object from now on
    out = [p, s, d, atoms, w]
    w.back = out                          # the group's cycle
    return out


def chain(groups, prev=None):
    out = []
    for i in range(groups):
        prev = group(i, prev)
        out.append(prev)
    return out


def garbage(groups):
    """Chains whose only reference is a cycle: groups * GROUP + 1
    containers, all garbage once the caller drops what it got."""
    g = chain(groups)
    g.append(g)
    return g


# ------------------------------------------------------------------------------
# A child: one collection, measured.

def private_dirty(buf, n):
    for line in bytes(buf[:n]).decode().splitlines():
        if line.startswith("Private_Dirty:"):
            return int(line.split()[1]) * 1024
    raise harness.BenchmarkError("no Private_Dirty line in " + SMAPS)


def child(generation, collect, out):
    fd = os.open(SMAPS, os.O_RDONLY)
    before, after = bytearray(1 << 14), bytearray(1 << 14)
    b, a = [before], [after]
    preadv = os.preadv
    # nothing from here to the second read but the collection
    nb = preadv(fd, b, 0)
    if generation == 2:
        got = collect()
    else:
        got = collect(generation)
    na = preadv(fd, a, 0)
    os.close(fd)
    dirty = private_dirty(after, na) - private_dirty(before, nb)
    os.write(out, (json.dumps({"dirty": dirty, "collected": got}) + "\n").encode())


def fork_child(generation, collect):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(r)
            child(generation, collect, w)
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise harness.BenchmarkError("a forked child failed (status %d)" % status)
    return json.loads(data)


# ------------------------------------------------------------------------------
# A parent: the heap, then one child per kind of collection.

def parent(collector, n):
    if collector in ("gcx", "warmup"):
        import gcx
        gcx.install()
        refuse = harness.build_problems(gcx)
    else:
        refuse = harness.build_problems()
    if refuse:
        raise harness.BenchmarkError("; ".join(refuse))
    gc.disable()                         # gc.disable is gcx's once installed
    collect = gc.collect
    groups = n // GROUP
    live = chain(groups)
    old_garbage = garbage(groups // 100)
    for _ in range(2):
        collect()
    old_garbage = None                   # old, and garbage now
    middle = chain(groups // 50)
    middle_garbage = garbage(groups // 100)
    collect(0)                           # both into generation 1
    middle_garbage = None
    young = chain(YOUNG_LIVE)
    young_garbage = garbage(YOUNG_GARBAGE)
    young_garbage = None
    if collector == "freeze":
        gc.freeze()
    elif collector == "warmup":
        import gcx
        gcx.warmup()
    results = {}
    for name, generation, _ in KINDS:
        if name == "full, all alive":
            collect()                    # the garbage goes, in the parent
        results[name] = fork_child(generation, collect)
    extra = {}
    if collector in ("gcx", "warmup"):
        import gcx
        extra = {"gcx_file": gcx._gcx.__file__, "gcx_mode": gcx.info()["mode"]}
    del live, middle, young
    print(json.dumps(dict(results, collector=collector, **extra)))


# ------------------------------------------------------------------------------
# The driver.

def run(args, report):
    if not os.path.exists(SMAPS):
        raise harness.BenchmarkError("needs " + SMAPS + " (Linux 4.14+)")
    n = SIZES[args.size]
    reps = harness.reps_for(args, small=5, default=5)
    samples = {c: {k: [] for k, _, _ in KINDS} for c in COLLECTORS}
    for rnd in range(reps):
        order = COLLECTORS if rnd % 2 == 0 else COLLECTORS[::-1]
        for collector in order:
            harness.progress("repetition %d/%d: %s parent, %d containers"
                             % (rnd + 1, reps, collector, n))
            res = harness.run_child(os.path.abspath(__file__), "--parent", collector, str(n))
            harness.check_same_gcx(res)
            for kind, _, _ in KINDS:
                samples[collector][kind].append(res[kind])
    for kind, _, metric in KINDS:
        std = [r["collected"] for r in samples["stdlib"][kind]]
        mine = [r["collected"] for r in samples["gcx"][kind]]
        frozen = [r["collected"] for r in samples["freeze"][kind]]
        warm = [r["collected"] for r in samples["warmup"][kind]]
        if std != mine or len(set(std)) != 1 or any(frozen) or any(warm):
            raise harness.BenchmarkError(
                "%s: collected stdlib %s, gcx %s, after gc.freeze() %s, after gcx.warmup() %s"
                % (metric, std, mine, frozen, warm))
        dirty = {c: [r["dirty"] for r in samples[c][kind]] for c in COLLECTORS}
        report.add(harness.Comparison(
            kind, metric + " private dirty", "MB", 2**-20, dirty["stdlib"], dirty["gcx"],
            {"collected": std[0]},
            extra={"stdlib after gc.freeze()": dirty["freeze"],
                   "gcx after gcx.warmup()": dirty["warmup"]}))
    report.notes.append("live heap %d containers (%d groups of %d), old garbage %d groups, "
                        "middle %d live + %d garbage groups, young %d live + %d garbage groups"
                        % (n, n // GROUP, GROUP, n // GROUP // 100, n // GROUP // 50,
                           n // GROUP // 100, YOUNG_LIVE, YOUNG_GARBAGE))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--parent":
        parent(sys.argv[2], int(sys.argv[3]))
    else:
        harness.main("fork", __doc__, run)
