/* stats.c: what collections did, and who is told.
 *
 * Start at gcx_stats_begin and gcx_stats_end, which bracket every
 * collection (collection.c), and gcx_stats_after, its last step.  This
 * file keeps the per-generation statistics (get_stats, metrics), the
 * pause histogram and the last collection of each generation, the ring of
 * the last GCX_PAUSE_RING pauses (recent_pauses), the debug flags and their
 * DEBUG_STATS output, the lists gc.garbage and gc.callbacks with the
 * "start"/"stop" calls, in CPython 3.13's order, and the slow-pause
 * signal (gcx.log_slow_pauses).  gcx_stats is written here alone; finalize.c
 * appends to the garbage list and reads the debug flags through the
 * pointers collection.c hands it.
 *
 * Recording a collection is a few additions and stores into static
 * memory with the GIL held: no lock, no allocation, no Python code, so
 * reading the figures (module.c's metrics) never waits for a collection
 * and a collection never waits for a reader.
 *
 * Invariants:
 *  S1  stats, the histogram and the pause ring are updated after the
 *      collection's work and before its "stop" callbacks, once per
 *      collection.
 *  S2  the garbage and callbacks lists are created once and never replaced:
 *      gcx.garbage and gcx.callbacks are the same objects for the process.
 *  S3  each generation's histogram counts add up to its collections.
 *  S4  a slow collection runs no Python code for the slow-pause log and
 *      takes no lock: gcx_stats_end notes that it was slow, and
 *      gcx_stats_after, once it is over, writes one byte to a non-blocking
 *      pipe (a full pipe already holds a wake-up).  gcx.monitor's thread
 *      reads the pipe and logs, as any thread logs, outside the collection
 *      and outside whatever code the collection interrupted.
 */
#include "gcx.h"
#ifdef _WIN32
#  include <io.h>
#  define write _write
#else
#  include <unistd.h>
#endif

gcx_stats_state_t gcx_stats;

const double gcx_pause_bounds[GCX_PAUSE_BUCKETS - 1] = {
    10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
    1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
    1.0, 2.5, 5.0, 10.0,
};

static PyTime_t debug_start;   /* DEBUG_STATS: when the heading was printed */

/* ---- callbacks ------------------------------------------------------------------- */

/* The info dict has the running interpreter's keys: 3.15 adds the
 * candidates examined and the duration ("start" says 0 and 0.0). */
static void
invoke_callbacks(const char *phase, int generation, const gcx_result_t *r,
                 double duration)
{
    PyObject *cbs = gcx_stats.callbacks;
    if (cbs == NULL || PyList_GET_SIZE(cbs) == 0) {
        return;
    }
#if GCX_PY315
    PyObject *info = Py_BuildValue("{sisnsnsnsd}", "generation", generation,
                                   "collected", r->collected,
                                   "uncollectable", r->uncollectable,
                                   "candidates", r->candidates, "duration", duration);
#else
    (void)duration;
    PyObject *info = Py_BuildValue("{sisnsn}", "generation", generation,
                                   "collected", r->collected,
                                   "uncollectable", r->uncollectable);
#endif
    PyObject *phase_obj = info ? PyUnicode_FromString(phase) : NULL;
    if (phase_obj == NULL) {
        Py_XDECREF(info);
        gcx_unraisable_callback_info();
        return;
    }
    PyObject *args[] = {phase_obj, info};
    /* the list may change under us: index it afresh each time */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cbs); i++) {
        PyObject *cb = Py_NewRef(PyList_GET_ITEM(cbs, i));
        PyObject *r = PyObject_Vectorcall(cb, args, 2, NULL);
        if (r == NULL) {
            gcx_unraisable_gc_callback(cb);
        }
        else {
            Py_DECREF(r);
        }
        Py_DECREF(cb);
    }
    Py_DECREF(phase_obj);
    Py_DECREF(info);
}

/* ---- a collection's bracket ---------------------------------------------------------- */

/* "start" callbacks, then the DEBUG_STATS heading (the generations' sizes
 * as CPython's lists would hold them). */
void
gcx_stats_begin(int generation)
{
    static const gcx_result_t nothing_yet;
    invoke_callbacks("start", generation, &nothing_yet, 0.0);
    if (gcx_stats.debug & GCX_DEBUG_STATS) {
        gcx_sync(true);
        PySys_WriteStderr("gc: collecting generation %d...\n", generation);
        PySys_FormatStderr("gc: objects in each generation: %zd %zd %zd\n"
                           "gc: objects in permanent generation: %zd\n",
                           gcx_heap_count(GCX_GEN0), gcx_heap_count(GCX_GEN1),
                           gcx_heap_count(GCX_GEN2), gcx_heap_count(GCX_FROZEN));
        (void)PyTime_PerfCounterRaw(&debug_start);
    }
}

/* The DEBUG_STATS summary, the statistics and the pause, then the "stop"
 * callbacks.  start and end bracket the collection's work. */
void
gcx_stats_end(int generation, const gcx_result_t *r, PyTime_t start, PyTime_t end,
              PyTime_t earlier)
{
    if (gcx_stats.debug & GCX_DEBUG_STATS) {
        PyTime_t now;
        (void)PyTime_PerfCounterRaw(&now);
        PySys_WriteStderr("gc: done, %zd unreachable, %zd uncollectable, %.4fs elapsed\n",
                          r->collected + r->uncollectable, r->uncollectable,
                          PyTime_AsSecondsDouble(now - debug_start));
    }
    double duration = PyTime_AsSecondsDouble(end - start);
    gcx_gen_stats_t *stats = &gcx_stats.gens[generation];
    stats->collections++;
    stats->candidates += r->candidates;
    stats->duration += duration + PyTime_AsSecondsDouble(earlier);
    stats->collected += r->collected;
    stats->uncollectable += r->uncollectable;
    int b = 0;
    while (b < GCX_PAUSE_BUCKETS - 1 && duration > gcx_pause_bounds[b]) {
        b++;
    }
    stats->pause_counts[b]++;
    stats->pause_seconds[b] += duration;
    gcx_pause_t pause = {PyTime_AsSecondsDouble(start), duration, generation,
                         r->collected, r->uncollectable, r->candidates};
    stats->last = pause;
    gcx_stats.pauses[gcx_stats.npauses++ % GCX_PAUSE_RING] = pause;
    if (gcx_stats.slow_fd >= 0 && duration >= gcx_stats.slow_threshold) {
        gcx_stats.slow_due = true;
    }
    invoke_callbacks("stop", generation, r, duration);
}

/* ---- the slow-pause signal (S4) ------------------------------------------------- */

void
gcx_stats_after(void)
{
    if (gcx_stats.slow_due) {
        gcx_stats.slow_due = false;
        if (gcx_stats.slow_fd >= 0) {
            /* EAGAIN: the pipe is full of wake-ups not read yet */
            (void)!write(gcx_stats.slow_fd, "", 1);
        }
    }
}

/* ---- the controls ---------------------------------------------------------------------- */

void
gcx_stats_set_debug(int flags)
{
    gcx_stats.debug = flags;
}

/* hook: a new reference, or NULL for none. */
void
gcx_stats_set_garbage_hook(PyObject *hook)
{
    Py_XSETREF(gcx_stats.garbage_hook, hook);
}

/* fd: the write end of a non-blocking pipe, or -1 for none; threshold in
 * seconds. */
void
gcx_stats_set_slow_fd(int fd, double threshold)
{
    gcx_stats.slow_fd = fd;
    gcx_stats.slow_threshold = threshold;
    gcx_stats.slow_due = false;
}

/* ---- set-up ------------------------------------------------------------------ */

int
gcx_stats_init(void)
{
    gcx_stats.slow_fd = -1;
    gcx_stats.garbage = PyList_New(0);
    gcx_stats.callbacks = PyList_New(0);
    if (gcx_stats.garbage == NULL || gcx_stats.callbacks == NULL) {
        return -1;
    }
    return 0;
}
