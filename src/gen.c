/* gen.c: generations, thresholds, and when collections run.
 *
 * Start at gcx_collect (every collection goes through it) and
 * gcx_gen_on_alloc (how automatic collection is triggered).
 *
 * Counting mirrors CPython 3.13: count[0] rises with every container
 * created and falls with every container freed; past threshold[0] a
 * collection is due.  Collecting generation g adds one to count[g+1] and
 * zeroes count[0..g].  The oldest generation whose count exceeds its
 * threshold is collected, the oldest only when long_lived_pending exceeds a
 * quarter of long_lived_total (issue #4074).
 *
 * Where automatic collections run: the tracer never collects (R4 of
 * tracer.c).  Crossing the threshold schedules one pending call that
 * whichever thread holds the GIL runs at its next eval-breaker check: the
 * allocating thread, as in CPython, so a main thread blocked in join(),
 * sleep() or a C call does not hold collection up (Py_AddPendingCall would
 * wait for the main thread; see compat.h).  Finalizers and callbacks run on
 * that thread.
 *
 * Invariants:
 *  G1  at most one gcx collection at a time (collecting), and none while the
 *      stdlib collector runs (stdlib_collecting, set from gc.callbacks).
 *  G2  scheduled is set from the moment a collection is requested until one
 *      of the two runners takes the request.
 *  G3  the collector never raises to its caller: errors in callbacks are
 *      reported as unraisable and a pending exception is kept.
 */
#include "gcx.h"

gcx_gen_t gcx_gen;

/* ---- scheduling -------------------------------------------------------- */

static int
run_pending(void *arg)
{
    if (gcx_gen.scheduled) {
        gcx_gen.scheduled = 0;
        if (gcx_gen.enabled) {
            (void)gcx_collect_auto();
        }
    }
    return 0;
}

static Py_ssize_t
effective_threshold0(void)
{
    Py_ssize_t t = gcx_gen.threshold[0];
    if (gcx_tr.mode == GCX_MODE_SAFE) {
        /* Every safe-mode collection starts with an O(live heap) resync;
         * spacing them by a fraction of the heap that survived the last one
         * keeps the cost per allocation constant. */
        Py_ssize_t scaled = gcx_gen.survivors / GCX_SAFE_SPACING;
        if (scaled > t) {
            t = scaled;
        }
    }
    return t;
}

/* The slow path of gcx_gen_on_alloc (gcx.h): past the threshold. */
void
gcx_gen_schedule(void)
{
    if (gcx_gen.enabled && gcx_gen.threshold[0] && !gcx_gen.scheduled
        && !gcx_gen.collecting && !gcx_gen.stdlib_collecting
        && gcx_gen.count[0] > effective_threshold0()) {
        gcx_gen.scheduled = 1;
        if (gcx_add_pending_call(gcx_tr.interp, run_pending, NULL, 0) != 0) {
            gcx_gen.scheduled = 0;   /* queue full: ask again next time */
        }
    }
}

static int
select_generation(void)
{
    for (int i = GCX_NGENS - 1; i >= 0; i--) {
        Py_ssize_t threshold = i == 0 ? effective_threshold0() : gcx_gen.threshold[i];
        if (gcx_gen.count[i] > threshold) {
            if (i == GCX_NGENS - 1
                && gcx_gen.long_lived_pending < gcx_gen.long_lived_total / GCX_LONG_LIVED_RATIO) {
                continue;
            }
            return i;
        }
    }
    return -1;
}

Py_ssize_t
gcx_collect_auto(void)
{
    if (gcx_gen.collecting || gcx_gen.stdlib_collecting) {
        return 0;
    }
    int generation = select_generation();
    return generation < 0 ? 0 : gcx_collect(generation);
}

/* ---- callbacks and debug output -------------------------------------------- */

static void
invoke_callbacks(const char *phase, int generation, Py_ssize_t collected,
                 Py_ssize_t uncollectable)
{
    PyObject *cbs = gcx_gen.callbacks;
    if (cbs == NULL || PyList_GET_SIZE(cbs) == 0) {
        return;
    }
    PyObject *info = Py_BuildValue("{sisnsn}", "generation", generation,
                                   "collected", collected,
                                   "uncollectable", uncollectable);
    PyObject *phase_obj = info ? PyUnicode_FromString(phase) : NULL;
    if (phase_obj == NULL) {
        Py_XDECREF(info);
        PyErr_FormatUnraisable("Exception ignored on invoking gc callbacks");
        return;
    }
    PyObject *args[] = {phase_obj, info};
    /* the list may change under us: index it afresh each time */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cbs); i++) {
        PyObject *cb = Py_NewRef(PyList_GET_ITEM(cbs, i));
        PyObject *r = PyObject_Vectorcall(cb, args, 2, NULL);
        if (r == NULL) {
            PyErr_WriteUnraisable(cb);
        }
        else {
            Py_DECREF(r);
        }
        Py_DECREF(cb);
    }
    Py_DECREF(phase_obj);
    Py_DECREF(info);
}

static void
count_tracked(gcx_page_t *p, unsigned slot, int set, void *n)
{
    /* the stdlib's lists hold tracked objects only */
    *(Py_ssize_t *)n += gcx_is_tracked_gc(gcx_slot_object(p, slot));
}

Py_ssize_t
gcx_count_tracked(int set)
{
    Py_ssize_t n = 0;
    gcx_table_each(1u << set, count_tracked, &n);
    return n;
}


/* ---- one collection, as the caller sees it ---------------------------------- */

Py_ssize_t
gcx_collect(int generation)
{
    if (gcx_gen.collecting || gcx_gen.stdlib_collecting || gcx_tr.shut_down) {
        return 0;    /* G1: like CPython, a nested request does nothing */
    }
    gcx_gen.collecting = true;
    PyObject *exc = PyErr_GetRaisedException();   /* G3 */

    invoke_callbacks("start", generation, 0, 0);
    PyTime_t t1 = 0;
    if (gcx_gen.debug & GCX_DEBUG_STATS) {
        gcx_sync(true);
        PySys_WriteStderr("gc: collecting generation %d...\n", generation);
        PySys_FormatStderr("gc: objects in each generation: %zd %zd %zd\n"
                           "gc: objects in permanent generation: %zd\n",
                           gcx_count_tracked(GCX_GEN0), gcx_count_tracked(GCX_GEN1),
                           gcx_count_tracked(GCX_GEN2), gcx_count_tracked(GCX_FROZEN));
        (void)PyTime_PerfCounterRaw(&t1);
    }
    if (generation + 1 < GCX_NGENS) {
        gcx_gen.count[generation + 1]++;
    }
    for (int i = 0; i <= generation; i++) {
        gcx_gen.count[i] = 0;
    }

    PyTime_t start = 0, end = 0;
    (void)PyTime_PerfCounterRaw(&start);
    gcx_result_t r = gcx_collect_generation(generation);
    (void)PyTime_PerfCounterRaw(&end);
    double duration = PyTime_AsSecondsDouble(end - start);

    if (gcx_gen.debug & GCX_DEBUG_STATS) {
        PyTime_t t2;
        (void)PyTime_PerfCounterRaw(&t2);
        PySys_WriteStderr("gc: done, %zd unreachable, %zd uncollectable, %.4fs elapsed\n",
                          r.collected + r.uncollectable, r.uncollectable,
                          PyTime_AsSecondsDouble(t2 - t1));
    }
    if (PyErr_Occurred()) {
        PyErr_FormatUnraisable("Exception ignored in garbage collection");
    }
    gcx_stats_t *stats = &gcx_gen.stats[generation];
    stats->collections++;
    stats->candidates += r.candidates;
    stats->duration += duration;
    gcx_pause_t *pause = &gcx_gen.pauses[gcx_gen.npauses++ % GCX_PAUSE_RING];
    pause->start = PyTime_AsSecondsDouble(start);
    pause->duration = duration;
    pause->generation = generation;
    pause->collected = r.collected;
    pause->uncollectable = r.uncollectable;
    pause->candidates = r.candidates;
    gcx_gen.survivors = gcx_table.total[GCX_GEN0] + gcx_table.total[GCX_GEN1]
                        + gcx_table.total[GCX_GEN2];
    stats->collected += r.collected;
    stats->uncollectable += r.uncollectable;
    invoke_callbacks("stop", generation, r.collected, r.uncollectable);
    PyErr_SetRaisedException(exc);
    gcx_gen.collecting = false;
    return r.collected + r.uncollectable;
}

/* ---- set-up ------------------------------------------------------------------ */

int
gcx_gen_init(void)
{
    gcx_gen.threshold[0] = GCX_THRESHOLD0;
    gcx_gen.threshold[1] = GCX_THRESHOLD1;
    gcx_gen.threshold[2] = GCX_THRESHOLD2;
    gcx_gen.enabled = false;
    gcx_gen.garbage = PyList_New(0);
    gcx_gen.callbacks = PyList_New(0);
    if (gcx_gen.garbage == NULL || gcx_gen.callbacks == NULL) {
        return -1;
    }
    return 0;
}

void
gcx_gen_fini(void)
{
    gcx_gen.enabled = false;
}
