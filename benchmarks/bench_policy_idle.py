"""An idle process: garbage reclaimed while it waits, with the time
backstop, Policy(max_interval=...), against the stdlib, which never
collects while nothing allocates.

Each run is a fresh interpreter.  It does a burst of work: it builds a
document tree of BURST nodes with parent pointers (cycles; each node a
__slots__ instance with a child list and an attribute dict), works on it
while it makes enough other objects that the tree survives young
collections, and drops it.  Then it waits on I/O (select() on a pipe that
never has data) for IDLE seconds.  Every SAMPLE seconds it reads, through
weakrefs to every 16th node, how much of the tree is still alive, and the
process's CPU time.

Cases:
  small heap     nothing else alive
  1M live heap   the same burst and wait, over a live heap of about 1M
                 containers: what a periodic collection costs while idle
                 (the sglang finding: collecting on idle over a live heap
                 reclaims little and burns a core)

Variants:
  stdlib            default thresholds (the base)
  stdlib timer      a daemon thread calling gc.collect() every T seconds
                    (what services do by hand)
  gcx               gcx.install(), the stdlib's rule
  gcx max_interval  install(policy=Policy(max_interval=T)): each
                    generation collected at least every T seconds, from
                    gcx's backstop thread
  gcx max_interval+warmup  the same, and gcx.warmup() after building the
                    heap (before the burst): over the 1M live heap, the
                    periodic full collection no longer walks it; and the
                    backstop collects generation 2 only once it has been
                    collected at least once (warmup does), see RESULTS.md

Reported, against the stdlib in the same run: garbage left at the end of
the wait (the share of the sampled tree nodes still alive), time to
reclaim (the first sample with none alive; the whole wait if never),
collections during the wait, CPU time during the wait; gcx only: how much
memory_held() dropped during the wait.

Checked: the burst's checksum is the same in every run; a final collect()
frees the whole tree in every run.
"""
import argparse
import gc
import os
import select
import threading
import time
import weakref

if __package__:
    from . import harness
else:
    import harness

BURST = {"small": 20_000, "default": 100_000}       # tree nodes (3 containers each)
HEAP = {"small": 50_000, "default": 1_000_000}      # live containers (1M live heap)
IDLE = {"small": 0.4, "default": 2.0}               # seconds of waiting
T = {"small": 0.1, "default": 0.5}                  # the interval of timer and policy
SAMPLE = 0.02
CASES = ("small heap", "1M live heap")
VARIANTS = {"small heap": ("stdlib", "stdlib timer", "gcx", "gcx max_interval",
                          "gcx max_interval+warmup"),
            "1M live heap": ("stdlib", "stdlib timer", "gcx", "gcx max_interval",
                             "gcx max_interval+warmup")}


class Node:
    __slots__ = ("parent", "children", "attrs", "__weakref__")

    def __init__(self, parent, i):
        self.parent = parent
        self.children = []
        self.attrs = {"id": i}
        if parent is not None:
            parent.children.append(self)


def burst(n):
    """Build the tree, work on it (making other objects, so that it survives
    young collections), drop it; return weakrefs to every 16th node."""
    nodes = [Node(None, 0)]
    for i in range(1, n):
        nodes.append(Node(nodes[(i - 1) // 4], i))
    checksum = 0
    for rnd in range(3):
        scratch = [(node.attrs["id"], [rnd]) for node in nodes]
        checksum += sum(len(n.children) for n in nodes) + len(scratch)
    refs = [weakref.ref(node) for node in nodes[::16]]
    del nodes, scratch
    return checksum, refs


def live_heap(n):
    return [[i, {"k": i}, [i]] for i in range(n // 3)]


def child(case, variant, size):
    gcx = None
    if variant.startswith("gcx"):
        import gcx
        gcx.install(policy=gcx.Policy(max_interval=T[size])
                    if variant.startswith("gcx max_interval") else None)
    heap = live_heap(HEAP[size]) if case == "1M live heap" else []
    if variant == "gcx max_interval+warmup":
        gcx.warmup()
    if variant == "stdlib timer":
        def collect_every(interval):
            while True:
                time.sleep(interval)
                gc.collect()
        threading.Thread(target=collect_every, args=(T[size],), daemon=True).start()
    checksum, refs = burst(BURST[size])
    log = harness.CollectionLog(gc.callbacks)
    log.inside = True
    held0 = gcx.memory_held() if gcx else 0
    r, w = os.pipe()
    perf_counter, process_time = time.perf_counter, time.process_time
    c0, t0 = process_time(), perf_counter()
    reclaimed_at = None
    alive = len(refs)
    while True:
        now = perf_counter() - t0
        if now >= IDLE[size]:
            break
        select.select([r], [], [], min(SAMPLE, IDLE[size] - now))   # waits on I/O
        alive = sum(ref() is not None for ref in refs)
        if alive == 0 and reclaimed_at is None:
            reclaimed_at = perf_counter() - t0
    cpu = process_time() - c0
    log.inside = False
    log.stop()
    os.close(r)
    os.close(w)
    held_drop = held0 - gcx.memory_held() if gcx else 0
    result = {"checksum": checksum, "left": alive / len(refs),
              "reclaimed_at": reclaimed_at if reclaimed_at is not None else IDLE[size],
              "collections": len(log.pauses(inside=True)),
              "full": len(log.pauses(inside=True, generation=2)),
              "max_pause": max(log.pauses(inside=True), default=0.0),
              "cpu": cpu, "held_drop": held_drop,
              "gcx_file": gcx._gcx.__file__ if gcx else None}
    del heap
    gc.collect()
    if any(ref() is not None for ref in refs) or gc.garbage:
        raise SystemExit("the tree outlived a final collect()")
    harness.emit_child(result, without_gcx=gcx is None)


METRICS = (("garbage left at the end", "left", "%", 100),
           ("time to reclaim", "reclaimed_at", "s", 1),
           ("collections while idle", "collections", "", 1),
           ("CPU time while idle", "cpu", "ms", 1e3),
           ("longest collection while idle", "max_pause", "ms", 1e3))


def run(args, report):
    reps = harness.reps_for(args, small=5, default=5)
    for case in CASES:
        harness.progress(case)
        variants = VARIANTS[case]
        runs = harness.run_variants(__file__, variants, reps, "--case", case,
                                    "--size", args.size)
        harness.variant_rows(report, case, runs, METRICS)
        for variant in variants:
            if variant.startswith("gcx"):
                report.add(harness.Comparison(
                    "%s: %s" % (case, variant), "memory_held() drop while idle", "MB",
                    1 / 2**20, None, [r["held_drop"] for r in runs[variant]]))
    report.notes.append(
        "burst: a tree of %d nodes (3 containers each) dropped before the wait; wait "
        "%g s, sampled every %g s; timer and max_interval: %g s; live heap %d containers"
        % (BURST[args.size], IDLE[args.size], SAMPLE, T[args.size], HEAP[args.size]))


def configure(p):
    p.add_argument("--child", choices=sorted({v for vs in VARIANTS.values() for v in vs}),
                   help=argparse.SUPPRESS)
    p.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)


if __name__ == "__main__":
    harness.main_variants("policy_idle", __doc__, run, configure,
                          lambda a: child(a.case, a.child, a.size))
