"""Pauses of a large live heap with steady cycle churn: the stdlib collector,
gcx's default policy and gcx.PauseBudget(ms=1.0), each in fresh
interpreters, alternating, --reps runs each.

    python benchmarks/bench_pause.py [--size small|default] [--reps N] [--live N]

The program: a live heap of LIVE containers (linked instances, half held by a
module global, half by a local of main()) and churn: pairs of instances in a
cycle with a list each, 2,000 per round, kept in a rolling buffer of 60,000
(so they reach generation 2 before dying: full collections are due).  The
pause the program sees is the longest gap between two consecutive churn
steps (each step allocates one pair: about 1-2 us without a collection), so
young collections, slices and cycles' ends all count.  Prints per
configuration the median and the min-max over runs of: max pause, p99 pause
(of the steps that took over 50 us), peak RSS, whole-program time, and time
in collections (gc.callbacks for the stdlib; gcx's stats plus the slices).
Not wired into run_all.py yet (it prints its own table).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

if __package__:
    from . import harness
else:
    import harness

SIZES = {"small": 200_000, "default": 3_000_000}
ROUNDS = {"small": 150, "default": 600}
CONFIGS = ("stdlib", "gcx", "budget")


class N:
    pass


def child(config, live, rounds):
    import gc
    import resource
    seconds_in = [0.0]
    if config == "stdlib":
        starts = []

        def cb(phase, info):
            if phase == "start":
                starts.append(time.perf_counter())
            else:
                seconds_in[0] += time.perf_counter() - starts.pop()
        gc.callbacks.append(cb)
    else:
        import gcx
        gcx.install(policy=gcx.PauseBudget(ms=1.0) if config == "budget" else None)
    global HEAP
    HEAP = [N() for _ in range(live // 2)]
    local = [N() for _ in range(live // 2)]
    for a, b in zip(HEAP, local):
        a.peer = b
    buf = []
    gaps = []
    t_start = time.perf_counter()
    last = time.perf_counter()
    worst = 0.0
    for r in range(rounds):
        for i in range(2000):
            a, b = N(), N()
            a.o, b.o = b, a
            a.p = [i]
            buf.append(a)
            now = time.perf_counter()
            gap = now - last
            last = now
            if gap > 50e-6:
                gaps.append(gap)
            if gap > worst:
                worst = gap
        if len(buf) > 60_000:
            del buf[:30_000]
    total = time.perf_counter() - t_start
    out = {"config": config, "max_pause": worst, "total": total,
           "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    gaps.sort()
    out["p99_pause"] = gaps[int(0.99 * len(gaps))] if gaps else 0.0
    if config != "stdlib":
        import gcx
        seconds_in[0] = gcx._gcx.schedule_state()["seconds"]   # collections (not slices)
        if config == "budget":
            st = gcx.get_policy().state()
            out["budget"] = {k: st[k] for k in ("slices", "slice_max", "slice_p99", "cycles",
                                                 "fallbacks", "end_max", "last_unmarked",
                                                 "last_marked", "garbage_found")}
    out["in_collections"] = seconds_in[0]
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", choices=tuple(SIZES), default="default")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--live", type=int, default=None)
    p.add_argument("--child", nargs=3)
    args = p.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    harness.refuse_unless_release()
    live = args.live or SIZES[args.size]
    rounds = ROUNDS[args.size]
    results = {c: [] for c in CONFIGS}
    for rep in range(args.reps):
        order = CONFIGS if rep % 2 == 0 else CONFIGS[::-1]
        for c in order:
            proc = subprocess.run([sys.executable, __file__, "--child", c, str(live), str(rounds)],
                                  capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0:
                sys.exit(proc.stderr[-3000:])
            results[c].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print("live=%d rounds=%d reps=%d (median [min-max])" % (live, rounds, args.reps))
    for key, unit, scale in (("max_pause", "ms", 1e3), ("p99_pause", "ms", 1e3),
                             ("rss", "MB", 1 / 2**20), ("total", "s", 1),
                             ("in_collections", "s", 1)):
        row = [key + " (" + unit + ")"]
        for c in CONFIGS:
            v = [r[key] * scale for r in results[c]]
            row.append("%s %.2f [%.2f-%.2f]" % (c, statistics.median(v), min(v), max(v)))
        print("  ".join(row))
    for r in results["budget"]:
        print("budget state:", r.get("budget"))


if __name__ == "__main__":
    main()
