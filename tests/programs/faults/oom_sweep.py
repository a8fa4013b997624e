"""Out-of-memory sweep through one full collection (run by tests/test_faults.py).

    python oom_sweep.py COLLECTOR MODE START STOP STEP

COLLECTOR is ``gc`` (the stdlib collector) or ``gcx``; MODE is ``once``
(allocation number n fails) or ``every`` (every allocation from n on
fails), counted by gcx._gcxfault from the moment it is armed.  For each n
in range(START, STOP, STEP) the program builds the same heap, runs
``COLLECTOR.collect()`` with the fault armed, disarms, runs a second
collection, and prints one JSON line describing what it observed; it stops
after the first n whose armed collection made fewer than n + 1 allocations
(the fault never fired: the sweep went past the end of the collection).  A
first line (``"baseline": true``) is the same trial with nothing armed.

The heap (every part garbage, built by build() into fixed slots):
  plain     PLAIN pairs of instances pointing at each other (with a list)
  fin       FIN instances with __del__ in self-cycles through a list
  wr        WR instances in self-cycles, each with a weakref whose callback
            (alive, outside the garbage) records that it ran
  alloc     ALLOC instances with a __del__ that allocates (a list) after
            recording that it ran, and records when the allocation succeeded:
            out of memory there is a MemoryError inside __del__
  res       RES instances with a __del__ that stores self in KEEP
            (resurrection) in a self-cycle
  legacy    one gcx._gcxtest.LegacyDel in a cycle through a list:
            uncollectable, it goes to the collector's garbage list
  extra     a ring of `extra` lists; extra grows by one per trial up to
            EXTRA_MAX, so gcx's garbage vectors must grow (allocate) in the
            first trials, and LIVE grows by LIVE_STEP lists per trial so its
            work arrays must grow in every trial
Every instance has a weakref without callback (an observer) in OBS.

Recording stays away from allocation while the fault may be armed:
counters are small ints stored into preallocated lists, and the
unraisable hook stores types and messages into preallocated slots.
"""
import json
import sys
import weakref

COLLECTOR, MODE = sys.argv[1], sys.argv[2]
START, STOP, STEP = (int(a) for a in sys.argv[3:6])

import gc as stdgc       # noqa: E402
import gcx               # noqa: E402
from gcx import _gcx, _gcxfault, _gcxtest   # noqa: E402

col = stdgc if COLLECTOR == "gc" else gcx
stdgc.disable()
gcx.disable()

PLAIN, FIN, WR, ALLOC, RES = 3, 3, 3, 2, 2
EXTRA_MAX, LIVE_STEP = 40, 64
NOBS = 2 * PLAIN + FIN + WR + ALLOC + RES
FIN_RAN = [0] * (FIN + ALLOC + RES)  # finalizer bodies run, per finalizer
ALLOC_OK = [0] * ALLOC              # ALLOC finalizers whose list was made
CB_RAN = [0] * WR                    # callback bodies run, per weakref
KEEP = [None] * RES                  # where resurrected objects go
OBS = [None] * NOBS
WREFS = [None] * WR                  # the weakrefs with callbacks (alive)
UNR_N = [0]
UNR_T = [None] * 256                 # exc_type of each unraisable report
UNR_M = [None] * 256                 # err_msg
UNR_O = [None] * 256                 # type name of the object reported
LIVE = []                            # grows every trial


class Plain:
    pass


class Fin:
    def __del__(self):
        FIN_RAN[self.i] += 1


class Alloc:
    def __del__(self):
        FIN_RAN[self.i] += 1
        junk = [self] * 100
        ALLOC_OK[self.j] += 1
        junk.clear()


class Res:
    def __del__(self):
        FIN_RAN[self.i] += 1
        KEEP[self.k] = self


def _make_cb(i):
    def cb(wr):
        CB_RAN[i] += 1
    return cb


CALLBACKS = [_make_cb(i) for i in range(WR)]


def hook(args):
    i = UNR_N[0]
    if i < 256:
        UNR_T[i] = args.exc_type
        UNR_M[i] = args.err_msg
        UNR_O[i] = type(args.object).__name__
        UNR_N[0] = i + 1


def build(extra):
    o = 0
    for _ in range(PLAIN):
        a, b = Plain(), Plain()
        a.b, b.a = b, a
        a.l = [a]
        OBS[o] = weakref.ref(a)
        OBS[o + 1] = weakref.ref(b)
        o += 2
    for i in range(FIN):
        f = Fin()
        f.i = i
        f.l = [f]
        OBS[o] = weakref.ref(f)
        o += 1
    for i in range(WR):
        x = Plain()
        x.me = x
        WREFS[i] = weakref.ref(x, CALLBACKS[i])
        OBS[o] = weakref.ref(x)
        o += 1
    for j in range(ALLOC):
        a = Alloc()
        a.i, a.j = FIN + j, j
        a.me = a
        OBS[o] = weakref.ref(a)
        o += 1
    for k in range(RES):
        r = Res()
        r.i, r.k = FIN + ALLOC + k, k
        r.me = r
        r.payload = [k]
        OBS[o] = weakref.ref(r)
        o += 1
    lst = []
    leg = _gcxtest.LegacyDel(lst)
    lst.append(leg)
    legacy_ref = weakref.ref(leg)
    if extra:
        ring = [None]
        first = ring
        for _ in range(extra - 1):
            ring = [ring]
        first[0] = ring
    return legacy_ref


def reset():
    for i in range(len(FIN_RAN)):
        FIN_RAN[i] = 0
    for i in range(WR):
        CB_RAN[i] = 0
    for j in range(ALLOC):
        ALLOC_OK[j] = 0
    for k in range(RES):
        KEEP[k] = None
    UNR_N[0] = 0


def snapshot():
    return {
        "fin": list(FIN_RAN),
        "cb": list(CB_RAN),
        "alloc_ok": list(ALLOC_OK),
        "dead": [w() is None for w in OBS],
        "kept": [k is not None for k in KEEP],
        "unraisable": [[UNR_T[i].__name__, UNR_M[i], UNR_O[i]]
                       for i in range(UNR_N[0])],
    }


def check():
    if col is not gcx:
        return None
    try:
        _gcx.check()
        return None
    except AssertionError as e:
        return str(e)


def stats():
    s = col.get_stats()[2]
    return s["collected"], s["uncollectable"]


def trial(n, extra, arm=True):
    reset()
    LIVE.extend([] for _ in range(LIVE_STEP))
    legacy_ref = build(extra)
    garbage_before = len(col.garbage)
    old_hook = sys.unraisablehook
    sys.unraisablehook = hook
    s0 = stats()
    if arm:
        ok, value, allocs, failures, sites = _gcxfault.call(
            n, col.collect, every=(MODE == "every"))
    else:
        ok, value, allocs, failures, sites = True, col.collect(), 0, 0, ()
    armed = snapshot()
    s1 = stats()
    check_armed = check()
    UNR_N[0] = 0
    ret2 = col.collect()
    s2 = stats()
    sys.unraisablehook = old_hook
    after = snapshot()
    rec = {
        "n": n, "extra": extra, "ok": ok,
        "ret": value if ok else None,
        "exc": None if ok else type(value).__name__,
        "allocs": allocs, "failures": failures, "sites": list(sites),
        "armed": armed, "check_armed": check_armed,
        "ret2": ret2, "after": after, "check_after": check(),
        "count": list(col.get_count()),
        "stats_armed": [s1[0] - s0[0], s1[1] - s0[1]],
        "stats_after": [s2[0] - s1[0], s2[1] - s1[1]],
    }
    # the resurrected objects: alive, intact, and with no reference left
    # over from the collection (a leaked pin would show in the refcount
    # and keep them alive once KEEP lets go)
    rec["kept_refcnt"] = [sys.getrefcount(k) if k is not None else None for k in KEEP]
    rec["kept_payload_ok"] = [k is None or k.payload == [i] for i, k in enumerate(KEEP)]
    wrs = [weakref.ref(k) if k is not None else None for k in KEEP]
    for k in range(RES):
        KEEP[k] = None
    col.collect()     # they are in self-cycles
    rec["kept_freed"] = [w is None or w() is None for w in wrs]
    # the uncollectable cycle: in garbage exactly once, then freed when broken
    leg = legacy_ref()
    rec["legacy_in_garbage"] = sum(1 for g in col.garbage if g is leg) if leg is not None else -1
    rec["garbage_grew"] = len(col.garbage) - garbage_before
    calls = _gcxtest.legacy_del_calls()
    if leg is not None:
        leg.ref = None
        col.garbage[:] = [g for g in col.garbage if g is not leg]
        del leg
    rec["legacy_freed"] = legacy_ref() is None and _gcxtest.legacy_del_calls() == calls + 1
    rec["garbage_left"] = len(col.garbage)
    col.garbage.clear()
    rec["final_collect"] = col.collect()      # nothing left over
    rec["check_final"] = check()
    return rec


def main():
    col.collect()
    base = trial(0, 0, arm=False)
    base["baseline"] = True
    print(json.dumps(base), flush=True)
    for t, n in enumerate(range(START, STOP, STEP)):
        rec = trial(n, min(t + 1, EXTRA_MAX))
        print(json.dumps(rec), flush=True)
        if rec["failures"] == 0:
            break


main()
