"""What keeping records costs per loop iteration, in exact instruction counts.

Timed runs on a shared 2-core machine are noisy; instruction counts are
not.  For each loop and variant this runs the whole process under
valgrind's cachegrind twice, with N = 0 and N = --iterations iterations,
and prints (difference) / N: the instructions one iteration costs, with
the interpreter's start-up and gcx's import cancelled out.  The stdlib
collector is disabled in every variant and gcx's automatic collection in
the gcx ones, so the difference between variants is tracking alone.

Variants: bare (gcx not imported), tracer (GCX_MODE=tracer) and lists
(GCX_MODE=lists), each where the interpreter offers it.  Loops:

  containers   a dict holding a list and a tuple, made and dropped
  atoms        a string and a float made from an int, and dropped
  instances    an instance holding a list and another instance (holding
               a list), made and dropped

--suite counts whole programs instead: each program of bench_suite.py run
once in a fresh interpreter under cachegrind, stock (gcx never imported)
and with gcx installed in each mode (GCX_MODE=tracer, GCX_MODE=lists), at
--scale times the suite's default size; the whole process is counted
(start-up, gcx's import, install and self-tests included).  Printed: each
program's stock count and the ratios gcx/stock, their geometric means over
the programs, and the child with no program (start-up) apart.

Usage:
  python benchmarks/tracking_counts.py [--iterations 50000]
  python benchmarks/tracking_counts.py --loop SHAPE --variant V N   (one child)
  python benchmarks/tracking_counts.py --suite [--scale 0.25] [--programs A,B]
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys

LOOPS = ("containers", "atoms", "instances")
VARIANTS = ("bare", "tracer", "lists")


class Node:
    def __init__(self, other: Node | None) -> None:
        self.items = [1]
        self.other = other


def containers(n: int) -> None:
    for i in range(n):
        d = {"a": [i], "b": (i, "x")}
        del d


def atoms(n: int) -> None:
    for i in range(n):
        s = str(i)
        f = float(i)
        del s, f


def instances(n: int) -> None:
    for i in range(n):
        x = Node(Node(None))
        del x


def child(loop: str, variant: str, n: int) -> None:
    gc.disable()
    if variant != "bare":
        import gcx
        gcx.disable()
    {"containers": containers, "atoms": atoms, "instances": instances}[loop](n)


def counted(variant: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `python ARGS` under cachegrind, gcx in mode `variant` (or stock
    for "bare")."""
    env = dict(os.environ)
    env.pop("GCX_MODE", None)
    if variant != "bare":
        env["GCX_MODE"] = variant
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
           "--cachegrind-out-file=/dev/null", sys.executable, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def refs(r: subprocess.CompletedProcess[str]) -> int | None:
    m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
    return int(m.group(1).replace(",", "")) if m else None


def instructions(loop: str, variant: str, n: int) -> int | None:
    r = counted(variant, [__file__, "--loop", loop, "--variant", variant, str(n)])
    if r.returncode != 0:
        return None     # e.g. lists mode refused on this interpreter
    return refs(r)


SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_suite.py")


def suite_instructions(program: str, variant: str, scale: float) -> int | None:
    """Instructions of one bench_suite child (the whole process)."""
    r = counted(variant, [SUITE, "--child", program,
                          "--mode", "stock" if variant == "bare" else "gcx",
                          "--scale", repr(scale)])
    if r.returncode != 0:
        print(f"  {program} ({variant}) failed: {r.stderr[-400:]}", file=sys.stderr)
        return None
    return refs(r)


def geomean(xs: list[float]) -> float:
    import math
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def suite(scale: float, programs: list[str] | None) -> None:
    sys.path.insert(0, os.path.dirname(SUITE))
    import bench_suite
    names = programs or list(bench_suite.PROGRAMS)
    print(f"Python {sys.version.split()[0]}: bench_suite programs at scale {scale}, "
          f"instructions of the whole process (cachegrind), gcx/stock")
    print(f"  {'program':16s} {'stock':>14s} {'tracer':>8s} {'lists':>8s}")
    ratios: dict[str, list[float]] = {v: [] for v in VARIANTS[1:]}
    for name in [bench_suite.STARTUP] + names:
        counts = {v: suite_instructions(name, v, scale) for v in VARIANTS}
        base = counts["bare"]
        cells = []
        for v in VARIANTS[1:]:
            c = counts[v]
            if c is None or base is None:
                cells.append(f"{'n/a':>8s}")
                continue
            cells.append(f"{c / base:8.4f}")
            if name != bench_suite.STARTUP:
                ratios[v].append(c / base)
        print(f"  {name:16s} {base or 0:>14,d} " + " ".join(cells), flush=True)
    print(f"  {'geometric mean':16s} {'':>14s} "
          + " ".join(f"{geomean(ratios[v]):8.4f}" for v in VARIANTS[1:]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=50_000)
    p.add_argument("--loop", choices=LOOPS)
    p.add_argument("--variant", choices=VARIANTS)
    p.add_argument("n", type=int, nargs="?")
    p.add_argument("--suite", action="store_true",
                   help="whole programs of bench_suite.py instead of loops")
    p.add_argument("--scale", type=float, default=0.25)
    p.add_argument("--programs", default=None, help="comma-separated (--suite)")
    args = p.parse_args()
    if args.suite:
        suite(args.scale, args.programs.split(",") if args.programs else None)
        return
    if args.loop is not None:
        if args.variant is None or args.n is None:
            p.error("--loop needs --variant and N")
        child(args.loop, args.variant, args.n)
        return
    n = args.iterations
    print(f"Python {sys.version.split()[0]}: instructions per iteration "
          f"(N = {n} minus N = 0), bare and what each mode adds")
    for loop in LOOPS:
        per: dict[str, float | None] = {}
        for variant in VARIANTS:
            lo, hi = instructions(loop, variant, 0), instructions(loop, variant, n)
            per[variant] = None if lo is None or hi is None else (hi - lo) / n
        bare = per["bare"]
        cells = [f"bare {bare:,.0f}" if bare is not None else "bare ?"]
        for variant in VARIANTS[1:]:
            v = per[variant]
            cells.append(f"{variant} " + ("n/a" if v is None or bare is None
                                          else f"{v - bare:+,.0f}"))
        print(f"  {loop:11s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
