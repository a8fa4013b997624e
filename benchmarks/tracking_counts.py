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

Usage:
  python benchmarks/tracking_counts.py [--iterations 50000]
  python benchmarks/tracking_counts.py --loop SHAPE --variant V N   (one child)
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


def instructions(loop: str, variant: str, n: int) -> int | None:
    env = dict(os.environ)
    env.pop("GCX_MODE", None)
    if variant != "bare":
        env["GCX_MODE"] = variant
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
           "--cachegrind-out-file=/dev/null", sys.executable, __file__,
           "--loop", loop, "--variant", variant, str(n)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        return None     # e.g. lists mode refused on this interpreter
    m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
    return int(m.group(1).replace(",", "")) if m else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=50_000)
    p.add_argument("--loop", choices=LOOPS)
    p.add_argument("--variant", choices=VARIANTS)
    p.add_argument("n", type=int, nargs="?")
    args = p.parse_args()
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
