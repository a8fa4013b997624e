"""PauseBudget's young collections on the HTTP loop (or the demo), traced:
for each, the generation it chose, the pages and records of generations 0
and 1, the cost per page its choice went by, what that predicted for
generation 1's collection and the CPU time the collection took; printed:
the six longest collections of generation 1 and the three longest of
generation 0.

    python benchmarks/trace_budget_young.py [--program http|demo]

(benchmarks/RESULTS.md, "The allocator wrapper's fast paths": what made
the longest pauses of the HTTP loop under the budget.)"""
import argparse
import os
import runpy
import sys
import time

import gcx
from gcx import _budget

from bench_pause import ARGS, demo_path

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", choices=("http", "demo"), default="http")
    args = parser.parse_args()
    gcx.install(policy=gcx.PauseBudget(ms=1.0))
    log = []   # (start, generation, due_young, young pages, middle pages, records, s/page, cpu s)
    collect_young = _budget.PauseBudget._collect_young

    def traced(self, due_young, core):
        young, middle = core["young_pages"], core["middle_pages"]
        records = core["young_records"] + core["middle_records"]
        per_page = self._per_page       # what the choice of generation went by
        start, cpu = time.perf_counter(), time.thread_time()
        collect_young(self, due_young, core)
        cpu = time.thread_time() - cpu
        generation = gcx._gcx.recent_pauses()[-1][2]
        log.append((start, generation, due_young, young, middle, records, per_page, cpu))

    _budget.PauseBudget._collect_young = traced
    path = demo_path() if args.program == "demo" else os.path.join(HERE, "http_client_loop.py")
    sys.argv = [path, *ARGS[args.program]["default"]]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        if e.code:
            raise
    t0 = log[0][0]
    gen1 = [r for r in log if r[1] == 1]
    print("young collections", len(log), "of generation 1", len(gen1))
    for start, _, due, young, middle, records, per_page, cpu in sorted(
            gen1, key=lambda r: -r[7])[:6]:
        weight = _budget._weight(young + middle, records)
        print("gen1 t=%.2f due=%d young=%d middle=%d records=%d est/page=%.2fus est=%.2fms "
              "cpu=%.2fms" % (start - t0, due, young, middle, records, per_page * 1e6,
                              weight * per_page * 1e3, cpu * 1e3))
    gen0 = sorted((r for r in log if r[1] == 0), key=lambda r: -r[7])[:3]
    for start, _, _, young, middle, _, _, cpu in gen0:
        print("gen0 t=%.2f young=%d middle=%d cpu=%.2fms" % (start - t0, young, middle, cpu * 1e3))

if __name__ == "__main__":
    main()
