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
m_collect and, for the stdlib, on a two-line C function that calls
gc.collect (compiled here with the running interpreter's headers: Debian's
3.14 and 3.15 binaries are stripped, so CPython's own gc_collect has no
symbol to toggle on; the call adds a few hundred instructions of ~10^6),
one dump per collection (`--dump-after`); the collections CPython runs on
its own go around both.  Both include freeing the garbage.

    valgrind --tool=callgrind --toggle-collect=m_collect \
        --dump-after=m_collect python benchmarks/cg_young.py --child gcx SHAPE

is what each child runs (cg_young_stdlib_collect for the stdlib; a
link-time-optimized build names gcx's m_collect.lto_priv.0, looked up with
nm: --dump-after takes no wildcard).
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
FUNCTION = {"gcx": "m_collect", "stdlib": "cg_young_stdlib_collect"}


def symbol(who):
    """The name callgrind knows the function by (harness.linked_name)."""
    if who != "gcx":
        return FUNCTION[who]
    import gcx._gcx
    import harness
    return harness.linked_name(gcx._gcx.__file__, FUNCTION[who]) or FUNCTION[who]


SHIM = r"""
#include <Python.h>
static PyObject *collect;
static PyObject *
cg_young_stdlib_collect(PyObject *module, PyObject *gen)
{
    return PyObject_CallOneArg(collect, gen);
}
static PyMethodDef methods[] = {
    {"call", cg_young_stdlib_collect, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "cg_young_shim", NULL, -1, methods};
PyMODINIT_FUNC
PyInit_cg_young_shim(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    collect = gc == NULL ? NULL : PyObject_GetAttrString(gc, "collect");
    Py_XDECREF(gc);
    return collect == NULL ? NULL : PyModule_Create(&def);
}
"""


def stdlib_collect(folder):
    """gc.collect through a C function callgrind can toggle on: the
    function of a module built here, which calls gc.collect (not ctypes:
    its calls make objects the young collection would find)."""
    import importlib
    import sysconfig
    src = os.path.join(folder, "shim.c")
    lib = os.path.join(folder, "cg_young_shim" + sysconfig.get_config_var("EXT_SUFFIX"))
    with open(src, "w") as f:
        f.write(SHIM)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"],
                    src, "-o", lib], check=True)
    sys.path.insert(0, folder)
    return importlib.import_module("cg_young_shim").call
# dumps before the child's counted collections: gcx's two settling ones
# (the stdlib's, and its first collect(0) of the shape that YoungShape
# asks, call gc.collect directly)
SETUP = {"gcx": 2, "stdlib": 0}


def child(who, shape, heap_size, rounds, folder):
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
    collect = gcx.collect if who == "gcx" else stdlib_collect(folder)
    # the stdlib's collect(0) finds the expected garbage untimed, before
    # the first counted call: prepare() asks it once
    expected = prepare(who)
    for _ in range(rounds + 2):
        if who == "stdlib":
            gcx.get_count()   # births gcx's hook would read at the start: not the stdlib's
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
        fn = symbol(who)
        cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=" + fn,
               "--dump-after=" + fn,
               "--callgrind-out-file=" + os.path.join(folder, "callgrind.out"),
               sys.executable, os.path.abspath(__file__), "--child", who,
               "--heap", str(heap), "--rounds", str(rounds), "--folder", folder, shape]
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
    p.add_argument("--folder", help=argparse.SUPPRESS)
    p.add_argument("shapes", nargs="*")
    a = p.parse_args()
    if a.child:
        child(a.child, a.shapes[0], a.heap, a.rounds, a.folder)
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
