"""A worker thread churns garbage cycles while the main thread is blocked,
with gcx installed (run by tests/test_installed.py).

    python worker_churn.py HOW CYCLES BLOB

The main thread never reaches an eval-breaker check while the worker runs,
so gcx's pending call waits: some other thread must collect.  HOW is how
the main thread waits: ``join`` (worker.join()) or ``sleep`` (time.sleep()
in a loop).  The worker makes CYCLES garbage cycles of two Nodes with BLOB
bytes each.  Reports peak (most Nodes alive at once), collections (gcx's,
during the run), growth (peak RSS minus RSS before, bytes), main and worker
(whether a collection started on that thread) and others (on how many other
threads collections started).
"""
import gc
import sys
import threading
import time

import gcx
from churnlib import churn, collections, hwm, report, rss

gcx.install()
HOW, CYCLES, BLOB = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
threads = set()
gc.callbacks.append(
    lambda phase, info: threads.add(threading.get_ident()) if phase == "start" else None)
peak = [0]


def work():
    time.sleep(0.5)           # until the main thread is blocked
    peak[0] = churn(CYCLES, blob=BLOB)


before, rss_before = collections(), rss()
worker = threading.Thread(target=work)
worker.start()
if HOW == "join":
    worker.join()
else:
    while worker.is_alive():
        time.sleep(1.0)
report(peak=peak[0], collections=collections() - before,
       growth=hwm() - rss_before,
       main=threading.get_ident() in threads, worker=worker.ident in threads,
       others=len(threads - {threading.get_ident(), worker.ident}))
