"""Instructions of a program's automatic collections, gcx installed against
the stdlib collector, counted by valgrind's callgrind: exact, so two builds
(or the two collectors) compare on a busy machine.

    python benchmarks/cg_auto.py [--young-only] PROGRAM [ARG...]

runs PROGRAM (a Python file, with its ARGs) twice under callgrind, once
with the stdlib collector (gcx never imported) and once with gcx.install(),
counting only what runs inside a collection: ``--toggle-collect`` on
CPython's ``gc_collect_main`` and on gcx's ``gcx_collect`` (the one entry
of every gcx collection; its link-time name is looked up with nm).  Both
include freeing the garbage and whatever callbacks and finalizers run.
Prints the collections of each generation (from gc.callbacks) and the
instructions, in all and per collection, and their ratio.  --young-only
sets the thresholds to (2000, 10**6, 10**6) first, so that only young
collections run (the older generations grow unexamined: a measurement of
young collections, not of the program).

CPython's own collector must have symbols: the interpreter .ci/python313.sh
builds has them, Debian's 3.14 and 3.15 binaries do not (then this says so).

    python benchmarks/cg_auto.py --young-only benchmarks/http_client_loop.py \\
        --requests 1500 --live 300000

is the measurement of benchmarks/RESULTS.md's "Births read at once".
"""
import argparse
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile

if __package__:
    from . import harness
else:
    import harness


def child(collector, young_only, program, args):
    import gc
    if collector == "gcx":
        import gcx
        gcx.install()
        gcmod = gcx
    else:
        gcmod = gc
    if young_only:
        gcmod.set_threshold(2000, 10**6, 10**6)
    runs = [0, 0, 0]
    gcmod.callbacks.append(lambda phase, info: phase == "stop"
                           and runs.__setitem__(info["generation"], runs[info["generation"]] + 1))
    sys.argv = [program] + args
    try:
        runpy.run_path(program, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    print("CG_AUTO " + json.dumps(runs), file=sys.stderr)


def symbol(collector):
    """The name callgrind knows the collection's entry by, or None."""
    if collector == "stdlib":
        return harness.linked_name(os.path.realpath(sys.executable), "gc_collect_main")
    import gcx._gcx
    return harness.linked_name(gcx._gcx.__file__, "gcx_collect")


def measure(collector, young_only, program, args):
    fn = symbol(collector)
    if fn is None:
        raise SystemExit("cg_auto: %s has no symbol for %s's collection (a stripped build?)"
                         % (sys.executable, collector))
    folder = tempfile.mkdtemp(prefix="cg_auto.")
    try:
        out = os.path.join(folder, "callgrind.out")
        cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=" + fn,
               "--callgrind-out-file=" + out, sys.executable, os.path.abspath(__file__),
               "--child", collector] + (["--young-only"] if young_only else []) + [program] + args
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        runs = [json.loads(line.split(" ", 1)[1]) for line in proc.stderr.splitlines()
                if line.startswith("CG_AUTO ")]
        if proc.returncode != 0 or not runs:
            raise SystemExit("cg_auto: the %s run failed (status %d)" % (collector, proc.returncode))
        with open(out) as fh:
            total = next(int(line.split()[1]) for line in fh
                         if line.startswith(("totals:", "summary:")))
        return runs[0], total
    finally:
        shutil.rmtree(folder)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--child", choices=("gcx", "stdlib"), help=argparse.SUPPRESS)
    p.add_argument("--young-only", action="store_true",
                   help="only young collections: thresholds (2000, 10**6, 10**6)")
    p.add_argument("program")
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args()
    if a.child:
        child(a.child, a.young_only, a.program, a.args)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("cg_auto: valgrind is not installed")
    got = {c: measure(c, a.young_only, a.program, a.args) for c in ("stdlib", "gcx")}
    print("| collector | collections (gen 0 / 1 / 2) | instructions | per collection |")
    print("|---|---|---|---|")
    for c, (runs, total) in got.items():
        print("| %s | %s | {:,} | {:,} |".format(total, total // max(1, sum(runs)))
              % (c, " / ".join(map(str, runs))))
    print("gcx/stdlib instructions: %.2f" % (got["gcx"][1] / got["stdlib"][1]))


if __name__ == "__main__":
    main()
