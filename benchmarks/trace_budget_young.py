"""PauseBudget's young collections on the HTTP loop, traced: for each, the
generation it chose, the pages of generations 0 and 1, the cost it
predicted for generation 1's collection and the CPU time the collection
took; printed: the six longest collections of generation 1 and the three
longest of generation 0.

    python benchmarks/trace_budget_young.py

(benchmarks/RESULTS.md, "The allocator wrapper's fast paths": what made
the longest pauses of the HTTP loop under the budget.)"""
import os
import runpy
import sys
import time

import gcx
from gcx import _budget, _gcx
pol = gcx.PauseBudget(ms=1.0)
gcx.install(policy=pol)
log = []
orig = _budget.PauseBudget._collect_young
def traced(self, due_young, core):
    young, middle = core["young_pages"], core["middle_pages"]
    est = self._per_page
    gen_pred = self._young(due_young, young, middle)
    before = gcx.get_count()
    c0 = time.thread_time(); w0 = time.perf_counter()
    orig(self, due_young, core)
    c = time.thread_time() - c0; w = time.perf_counter() - w0
    log.append((w0, gen_pred, due_young, young, middle, est, c, w, _gcx.info()["tracked"][:2]))
_budget.PauseBudget._collect_young = traced
sys.argv = ["http_client_loop.py", "--requests", "8000", "--live", "300000"]
try:
    runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_client_loop.py"), run_name="__main__")
except SystemExit as e:
    assert not e.code
t0 = log[0][0]
g1 = [r for r in log if r[1] == 1]
print("young collections", len(log), "gen1", len(g1))
for r in sorted(g1, key=lambda r: -r[6])[:6]:
    print("t=%.2f due=%d young=%d middle=%d est/page=%.2fus est=%.2fms cpu=%.2fms wall=%.2fms tracked=%s" % (
        r[0]-t0, r[2], r[3], r[4], r[5]*1e6, (r[3]+r[4])*r[5]*1e3, r[6]*1e3, r[7]*1e3, r[8]))
g0 = sorted((r for r in log if r[1] == 0), key=lambda r: -r[6])[:3]
for r in g0:
    print("gen0 t=%.2f young=%d middle=%d cpu=%.2fms" % (r[0]-t0, r[3], r[4], r[6]*1e3))
