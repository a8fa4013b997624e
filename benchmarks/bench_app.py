"""An application-shaped heap: a B-tree, part of it rebuilt every round.

The gc-only shape of a btree workload: a B-tree of fanout 16 over integer
keys whose nodes (__slots__ instances with keys, values and children lists,
and a parent back-pointer, so every subtree is full of cycles) hold mixed
values: strings, ints, floats, tuples of atoms, small records (__slots__
instances) and small lists.  Containers and non-containers are mixed, as in
a real program.

Each round (untimed) replaces one random child subtree of the root (about
1/16 of the tree) by a freshly built one over the same keys.  The old
subtree is garbage (its parent pointers make it cyclic), and the timed full
collection must report exactly as many objects collected as that subtree
held tracked containers (counted, untimed, with the stdlib's own
gc.is_tracked before it was dropped).
"""
import gc
import random

if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 40_000, "default": 1_000_000}   # keys in the tree
FANOUT = 16
LEAF_KEYS = FANOUT - 1


class Node:
    __slots__ = ("keys", "values", "children", "parent")


class Record:
    __slots__ = ("key", "name", "score")

    def __init__(self, key, name, score):
        self.key, self.name, self.score = key, name, score


def make_value(key, generation):
    kind = key % 6
    if kind == 0:
        return "value-%d-%d" % (key, generation)
    if kind == 1:
        return key * 7 + generation
    if kind == 2:
        return key / 3.0
    if kind == 3:
        return (key, "t%d" % generation)        # atoms only: the stdlib untracks it
    if kind == 4:
        return Record(key, "r%d" % key, generation)
    return [key, generation]


def build(lo, hi, parent, generation):
    """A B-tree node over the keys lo..hi-1 (bulk-loaded, balanced)."""
    node = Node()
    node.parent = parent
    count = hi - lo
    if count <= LEAF_KEYS:
        node.keys = list(range(lo, hi))
        node.values = [make_value(k, generation) for k in node.keys]
        node.children = None
        return node
    # FANOUT children separated by FANOUT-1 keys
    per_child = (count - (FANOUT - 1)) // FANOUT
    extra = (count - (FANOUT - 1)) % FANOUT
    keys, children = [], []
    start = lo
    for i in range(FANOUT):
        size = per_child + (1 if i < extra else 0)
        children.append(build(start, start + size, node, generation))
        start += size
        if i < FANOUT - 1:
            keys.append(start)
            start += 1
    node.keys = keys
    node.values = [make_value(k, generation) for k in keys]
    node.children = children
    return node


def key_range(node):
    """(lowest key, one past the highest key) of a subtree."""
    lo_node = hi_node = node
    while lo_node.children:
        lo_node = lo_node.children[0]
    while hi_node.children:
        hi_node = hi_node.children[-1]
    return lo_node.keys[0], hi_node.keys[-1] + 1


def lookup(root, key):
    node = root
    while True:
        keys = node.keys
        # linear scan: nodes are small
        i = 0
        while i < len(keys) and keys[i] < key:
            i += 1
        if i < len(keys) and keys[i] == key:
            return node.values[i]
        if not node.children:
            raise KeyError(key)
        node = node.children[i]


def tracked_in(subtree):
    """Containers the stdlib tracks in a subtree: what collecting it must
    report."""
    count = 0
    stack = [subtree]
    is_tracked = gc.is_tracked
    while stack:
        node = stack.pop()
        count += 1 + is_tracked(node.keys) + is_tracked(node.values)
        count += sum(map(is_tracked, node.values))
        if node.children:
            count += is_tracked(node.children)
            stack.extend(node.children)
    return count


class Rebuild:
    """One round: replace a random child subtree of the root."""

    def __init__(self, root, seed):
        self.root = root
        self.rng = random.Random(seed)
        self.generation = 0

    def __call__(self, who):
        root = self.root
        self.generation += 1
        i = self.rng.randrange(len(root.children))
        old = root.children[i]
        lo, hi = key_range(old)
        expected = tracked_in(old)
        root.children[i] = build(lo, hi, root, self.generation)
        del old
        probe = self.rng.randrange(lo, hi)
        if probe not in root.keys and lookup(root, probe) is None:
            raise harness.BenchmarkError("b-tree lookup failed")
        return expected


def app_cases(size):
    """The case of an --alone-child (harness.each_alone)."""
    root = build(0, SIZES[size], None, 0)
    yield "b-tree, 1/16 rebuilt", Rebuild(root, 7)


def run(args, report):
    n = SIZES[args.size]
    reps = harness.reps_for(args, small=5, default=9)
    with harness.quiet_collectors():
        harness.progress("building a b-tree of %d keys" % n)
        root = build(0, n, None, 0)
        harness.settle()
        std, gcx = harness.tracked_counts()
        c = report.add(harness.compare_collections(
            "b-tree, 1/16 rebuilt", prepare=Rebuild(root, 7), reps=reps,
            detail={"keys": n, "tracked_stdlib": std, "tracked_gcx": gcx}))
        del root
        harness.settle()
    # the stdlib's collection frees the rebuilt part: each alone too
    harness.each_alone(report, [c], __file__, args, reps)


if __name__ == "__main__":
    import sys
    if "--alone-child" in sys.argv:
        harness.alone_child(sys.argv[1:], app_cases, generation=2, warmup=1)
    else:
        harness.main("app", __doc__, run)
