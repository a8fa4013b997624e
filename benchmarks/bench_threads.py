"""Collections while other threads allocate: worker threads make cyclic
garbage with finalizers (a request-like object holding a bound method of
itself and a caught exception with its traceback, and a __del__), while
the main thread calls gc.collect(GEN) every INTERVAL seconds, as a service
does between requests.

Each run is a fresh interpreter; variants:

  stdlib   the stdlib collector at its defaults (the base)
  gcx      gcx.install(), the stdlib's rule
  budget   gcx.install(policy=gcx.PauseBudget(ms=1.0))

Cases: the main thread's gc.collect(0) and gc.collect() (full), each with
THREADS workers.  Reported against the stdlib in the same run: the
longest and the total time of the main thread's collect() calls (a
collect() that another thread's collection makes wait returns 0 at once
under both collectors), the longest collection by the collecting
thread's CPU time (gc.callbacks, gcx's once installed), the process's CPU
time, and how many objects the workers made (their progress).

Checked: every finalizer ran once by the end, and nothing is left in
gc.garbage after a final collect().
"""
import argparse
import gc
import sys
import threading
import time

if __package__:
    from . import harness
else:
    import harness

CASES = ("collect(0)", "collect()")
VARIANTS = ("stdlib", "gcx", "budget")
RUN = {"small": 0.6, "default": 3.0}         # seconds the workers run
THREADS = {"small": 2, "default": 2}
INTERVAL = 0.1                               # between the main thread's collect() calls
BATCH = 500                                  # objects a worker makes between clock reads


class Request:
    """Cyclic through a bound method of itself and through the traceback of
    the exception it keeps (whose frame holds it); a finalizer too."""
    made = 0
    finalized = 0

    def __init__(self, i):
        self.on_done = self.done
        self.payload = [i] * 4
        try:
            {}[i]
        except KeyError as exc:
            self.error = exc

    def done(self):
        pass

    def __del__(self):
        Request.finalized += 1


def worker(stop, made):
    n = 0
    while not stop.is_set():
        for i in range(BATCH):
            Request(i)
        n += BATCH
    made.append(n)


def child(case, variant, size):
    gcx = None
    if variant != "stdlib":
        import gcx
        gcx.install(policy=gcx.PauseBudget(ms=1.0) if variant == "budget" else None)
    generation = 0 if case == "collect(0)" else 2
    longest_cpu, total_cpu, collections = [0.0], [0.0], [0]
    started = threading.local()

    def timed(phase, info):
        if phase == "start":
            started.cpu = time.thread_time()
        elif getattr(started, "cpu", None) is not None:
            took = time.thread_time() - started.cpu
            longest_cpu[0] = max(longest_cpu[0], took)
            total_cpu[0] += took
            collections[0] += 1
            started.cpu = None

    gc.callbacks.append(timed)
    stop, made = threading.Event(), []
    workers = [threading.Thread(target=worker, args=(stop, made))
               for _ in range(THREADS[size])]
    cpu0 = time.process_time()
    for t in workers:
        t.start()
    calls = []
    end = time.perf_counter() + RUN[size]
    while time.perf_counter() < end:
        time.sleep(INTERVAL)
        t0 = time.perf_counter()
        gc.collect(generation)
        calls.append(time.perf_counter() - t0)
    stop.set()
    for t in workers:
        t.join()
    cpu = time.process_time() - cpu0
    gc.callbacks.remove(timed)
    gc.collect()
    objects = sum(made)
    if Request.finalized != objects or gc.garbage:
        raise SystemExit("%d of %d finalized, %d in gc.garbage"
                         % (Request.finalized, objects, len(gc.garbage)))
    harness.emit_child({"checksum": 0, "longest_call": max(calls), "calls_total": sum(calls),
                        "longest_cpu": longest_cpu[0], "total_cpu": total_cpu[0],
                        "collections": collections[0], "cpu": cpu, "objects": objects,
                        "gcx_file": gcx._gcx.__file__ if gcx else None},
                       without_gcx=gcx is None)


METRICS = (("longest collect() call", "longest_call", "ms", 1e3),
           ("collect() calls, total", "calls_total", "ms", 1e3),
           ("longest collection (CPU)", "longest_cpu", "ms", 1e3),
           ("time in collections (CPU)", "total_cpu", "s", 1.0),
           ("collections", "collections", "", 1.0),
           ("process CPU time", "cpu", "s", 1.0),
           ("objects the workers made", "objects", "k", 1e-3))


def run(args, report):
    reps = harness.reps_for(args, small=3, default=5)
    for case in CASES:
        harness.progress(case)
        runs = harness.run_variants(__file__, list(VARIANTS), reps, "--case", case,
                                    "--size", args.size)
        harness.variant_rows(report, case, runs, METRICS)
    report.notes.append(
        "%d worker threads for %g s making Request objects (cyclic: a bound method of "
        "themselves, a caught exception's traceback; __del__); the main thread calls "
        "gc.collect(GEN) every %g s" % (THREADS[args.size], RUN[args.size], INTERVAL))


def configure(p):
    p.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)


if __name__ == "__main__":
    harness.main_variants("threads", __doc__, run, configure,
                          lambda a: child(a.case, a.child, a.size))
