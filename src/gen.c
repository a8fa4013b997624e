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
 * tracer.c).  Crossing the threshold schedules one pending call, which runs
 * on the main thread at its next eval-breaker check.  A main thread blocked
 * in join(), sleep() or a C call never gets there, so a helper thread also
 * wakes, waits GCX_HELPER_GRACE_MS for the pending call to happen, and if it
 * has not, takes the GIL and collects itself.  Finalizers therefore run on
 * the main thread, or on the helper thread when the main thread is blocked.
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
#include <pthread.h>
#include <errno.h>
#include <time.h>

gcx_gen_t gcx_gen;

#define GCX_HELPER_GRACE_MS 2

/* ---- the helper thread ------------------------------------------------------ */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running;
    bool requested;
    bool stop;
} helper = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static int run_pending(void *arg);

static void
sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void *
helper_main(void *arg)
{
    pthread_mutex_lock(&helper.lock);
    while (!helper.stop) {
        if (!helper.requested) {
            pthread_cond_wait(&helper.wake, &helper.lock);
            continue;
        }
        helper.requested = false;
        pthread_mutex_unlock(&helper.lock);
        sleep_ms(GCX_HELPER_GRACE_MS);
        if (gcx_gen.scheduled && !helper.stop && !Py_IsFinalizing()) {
            PyGILState_STATE st = PyGILState_Ensure();
            if (!helper.stop) {
                (void)run_pending(NULL);
            }
            PyGILState_Release(st);
        }
        pthread_mutex_lock(&helper.lock);
    }
    pthread_mutex_unlock(&helper.lock);
    return NULL;
}

static void
helper_request(void)
{
    pthread_mutex_lock(&helper.lock);
    if (!helper.running && !helper.stop) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1 << 20);
        helper.running = pthread_create(&helper.thread, &attr, helper_main, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    helper.requested = true;
    pthread_cond_signal(&helper.wake);
    pthread_mutex_unlock(&helper.lock);
}

/* Stop the helper (at exit); called with the GIL held, releases it while
 * waiting so that a helper blocked on the GIL can finish. */
static void
helper_stop(void)
{
    pthread_mutex_lock(&helper.lock);
    bool running = helper.running;
    helper.stop = true;
    pthread_cond_signal(&helper.wake);
    pthread_mutex_unlock(&helper.lock);
    if (running) {
        Py_BEGIN_ALLOW_THREADS
        pthread_join(helper.thread, NULL);
        Py_END_ALLOW_THREADS
        helper.running = false;
    }
}

void
gcx_gen_after_fork(void)
{
    /* The child has no helper thread; its locks may be held by a thread
     * that no longer exists. */
    pthread_mutex_init(&helper.lock, NULL);
    pthread_cond_init(&helper.wake, NULL);
    helper.running = false;
    helper.requested = false;
    gcx_gen.scheduled = 0;
}

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
         * spacing them by a fraction of the heap keeps the cost per
         * allocation constant. */
        Py_ssize_t scaled = gcx_tr.live_at_resync / 2;
        if (scaled > t) {
            t = scaled;
        }
    }
    return t;
}

void
gcx_gen_on_alloc(void)
{
    gcx_gen.count[0]++;
    if (gcx_gen.enabled && gcx_gen.threshold[0] && !gcx_gen.scheduled
        && !gcx_gen.collecting && !gcx_gen.stdlib_collecting
        && gcx_gen.count[0] > effective_threshold0()) {
        gcx_gen.scheduled = 1;
        (void)Py_AddPendingCall(run_pending, NULL);
        helper_request();
    }
}

void
gcx_gen_on_free(void)
{
    if (gcx_gen.count[0] > 0) {
        gcx_gen.count[0]--;
    }
}

static int
select_generation(void)
{
    for (int i = GCX_NGENS - 1; i >= 0; i--) {
        Py_ssize_t threshold = i == 0 ? effective_threshold0() : gcx_gen.threshold[i];
        if (gcx_gen.count[i] > threshold) {
            if (i == GCX_NGENS - 1
                && gcx_gen.long_lived_pending < gcx_gen.long_lived_total / 4) {
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

static Py_ssize_t
tracked_in(int set)
{
    /* the stdlib's lists hold tracked objects only */
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < gcx_table.pages.len; i++) {
        gcx_page_t *p = gcx_table.pages.items[i];
        for (unsigned w = 0; w < GCX_WORDS && p->count[set]; w++) {
            for (uint64_t bits = p->set[set][w]; bits; bits &= bits - 1) {
                unsigned slot = w * 64 + (unsigned)__builtin_ctzll(bits);
                n += PyObject_GC_IsTracked(gcx_slot_object(p, slot));
            }
        }
    }
    return n;
}

Py_ssize_t
gcx_count_tracked(int set)
{
    return tracked_in(set);
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
    if (gcx_gen.debug & 1) {   /* DEBUG_STATS */
        gcx_sync(true);
        PySys_WriteStderr("gc: collecting generation %d...\n", generation);
        PySys_FormatStderr("gc: objects in each generation: %zd %zd %zd\n"
                           "gc: objects in permanent generation: %zd\n",
                           tracked_in(GCX_GEN0), tracked_in(GCX_GEN1),
                           tracked_in(GCX_GEN2), tracked_in(GCX_FROZEN));
        (void)PyTime_PerfCounterRaw(&t1);
    }
    if (generation + 1 < GCX_NGENS) {
        gcx_gen.count[generation + 1]++;
    }
    for (int i = 0; i <= generation; i++) {
        gcx_gen.count[i] = 0;
    }

    gcx_result_t r = gcx_collect_generation(generation);

    if (gcx_gen.debug & 1) {
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
    gcx_gen.threshold[0] = 2000;
    gcx_gen.threshold[1] = 10;
    gcx_gen.threshold[2] = 10;
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
    helper_stop();
}
