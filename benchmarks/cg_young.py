"""Instructions per young collection of each shape of bench_young, for
valgrind's callgrind: exact, so two builds (or gcx and the stdlib) compare
on a busy machine.

    python benchmarks/cg_young.py [--heap N] [--rounds R] [SHAPE...]

runs, for each shape (default: all of bench_young's, and the lists of its
"self-contained" case), one valgrind process per collector, each making an
old heap of N containers (default 50,000), then R + 2 rounds (default 8) of
that shape's young objects and one collect(0) each, and prints the median
instructions per collection of the last R, gcx's and the stdlib's, and
their ratio.  Only the collection counts: `--toggle-collect` on gcx's
m_collect and on the stdlib's gc_collect (gc.collect itself: the
collections CPython runs on its own go around it), one dump per collection
(`--dump-after`).  Both include freeing the garbage.

    valgrind --tool=callgrind --toggle-collect=m_collect \
        --dump-after=m_collect python benchmarks/cg_young.py --child gcx SHAPE

is what each child runs (gc_collect for the stdlib).
"""
import argparse
import gc
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FUNCTION = {"gcx": "m_collect", "stdlib": "gc_collect"}
# dumps before the child's counted collections: the two settling ones,
# and the stdlib's first collect(0) of the shape (YoungShape asks it)
SETUP = {"gcx": 2, "stdlib": 3}


def child(who, shape, heap_size, rounds):
    sys.path.insert(0, HERE)
    import gcx
    import bench_young as b
    gc.disable()
    gcx.disable()
    heap = b.old_heap(heap_size)
    for _ in range(2):
        gc.collect()
        gcx.collect()
    if shape == "lists":
        prepare = b.YoungBatch()
    else:
        shapes = dict(b.YOUNG_SHAPES, **{"a mix": b.shape_mix})
        release = dict(b.RELEASE, **{"a mix": b.release_mix})
        prepare = b.YoungShape(shapes[shape], heap, release.get(shape))
    collect = gcx.collect if who == "gcx" else gc.collect
    # the stdlib's collect(0) finds the expected garbage untimed, before
    # the first counted call: prepare() asks it once
    expected = prepare(who)
    for _ in range(rounds + 2):
        got = collect(0)
        if got != expected:
            raise SystemExit("%s: collect(0) found %d, expected %d" % (shape, got, expected))
        expected = prepare(who)


def totals(folder):
    """Instructions of each dump, in dump order."""
    out = []
    files = glob.glob(os.path.join(folder, "callgrind.out.*"))   # .1, .2, ...
    for f in sorted(files, key=lambda f: int(f.rsplit(".", 1)[1])):
        with open(f) as fh:
            for line in fh:
                if line.startswith("totals:") or line.startswith("summary:"):
                    out.append(int(line.split()[1]))
                    break
    return out


def measure(who, shape, heap, rounds):
    folder = tempfile.mkdtemp(prefix="cg_young.")
    try:
        fn = FUNCTION[who]
        cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=" + fn,
               "--dump-after=" + fn,
               "--callgrind-out-file=" + os.path.join(folder, "callgrind.out"),
               sys.executable, os.path.abspath(__file__), "--child", who,
               "--heap", str(heap), "--rounds", str(rounds), shape]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # a dump per call of the function, then the rest of the program's
        # (outside any call: 0); the two warm-up rounds are not kept
        start = SETUP[who] + 2
        kept = totals(folder)[start:start + rounds]
        assert len(kept) == rounds and all(kept), (who, shape)
        return statistics.median(kept), min(kept), max(kept)
    finally:
        shutil.rmtree(folder)


def main():
    sys.path.insert(0, HERE)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--child", choices=("gcx", "stdlib"))
    p.add_argument("--heap", type=int, default=50_000)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("shapes", nargs="*")
    a = p.parse_args()
    if a.child:
        child(a.child, a.shapes[0], a.heap, a.rounds)
        return
    import bench_young as b
    shapes = a.shapes or ["lists", *b.YOUNG_SHAPES, "a mix"]
    print("| young shape | stdlib instructions | gcx instructions | gcx/stdlib |")
    print("|---|---|---|---|")
    for shape in shapes:
        s = measure("stdlib", shape, a.heap, a.rounds)
        g = measure("gcx", shape, a.heap, a.rounds)
        print("| %s | %s [%s..%s] | %s [%s..%s] | %.2f |" % (
            shape, *("{:,}".format(int(x)) for x in s), *("{:,}".format(int(x)) for x in g),
            g[0] / s[0]), flush=True)


if __name__ == "__main__":
    main()
