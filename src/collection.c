/* collection.c: one collection, top to bottom.  Read this first.
 *
 * gcx_collect is the one way into a collection: gc.collect() (module.c)
 * and automatic collection (schedule.c, through the pointer registered at
 * init) both come here.  It reads as the algorithm, one call per phase, in
 * CPython 3.13's order; each phase is a function of the file named beside
 * it, whose opening comment says what it keeps true.
 *
 *   refuse re-entry        schedule.c   a nested request does nothing (G1)
 *   save the exception                  the caller's pending one (G3)
 *   "start" callbacks      stats.c      and the DEBUG_STATS heading
 *   counts                 schedule.c   count[g+1]++, count[0..g] = 0
 *   sync                   tracer.c     records trustworthy (R2)
 *   region                 region.c     generations 0..g, numbered (for
 *                                       gcx_collect_except, without the
 *                                       old records an incremental cycle
 *                                       marked)
 *   roots                  region.c     full collections: what sys.modules reaches
 *   count                  region.c     references from outside the region
 *   mark                   region.c     what those reach survives
 *   survivors              region.c     promoted (or kept where they are: see
 *                                       gcx_collect_unpromoted); tuples and
 *                                       dicts untracked
 *   split                  region.c     the garbage into U and F (C3 up to here)
 *   pin                    finalize.c   a reference to every member (C2)
 *   report                 finalize.c   the garbage hook, when one is set
 *   finalize               finalize.c   weakrefs, finalizers, resurrection,
 *                                       tp_clear, gc.garbage
 *   done                   region.c     the collection's large blocks of
 *                                       memory go back
 *   settle                 table.c      the page lists after promotion
 *   stats, "stop"          stats.c      statistics, the pause, callbacks
 *   restore                             the caller's exception
 *   end                    schedule.c   the next collection may start
 *   after                  stats.c      a slow collection signals the
 *                                       slow-pause log's thread (S4)
 *   check                  check.c      the debug build: every invariant
 *
 * Invariant:
 *  G3  the collector never raises to its caller: errors in callbacks and
 *      finalizers are reported as unraisable, and a pending exception is
 *      kept.
 */
#include "gcx.h"

static gcx_exclude_fn excluding;   /* gcx_collect_except's, while it runs */

/* The phases over the records: sync to settle.  On allocation failure
 * before the garbage is pinned, the collection gives up (C3 of region.c):
 * the result counts the candidates seen and nothing else. */
static gcx_result_t
collect_generation(int generation, bool promote)
{
    static gcx_garbage_t g;      /* its vectors' memory is reused */
    gcx_result_t result = {0, 0, 0};
    bool full = generation == GCX_NGENS - 1;
    int old_set = full || !promote ? generation : generation + 1;

    gcx_sync(full);
    /* after the sync: on 3.12 it reads the births that count towards the
     * collection about to run */
    gcx_schedule_counts_for(generation);
    int numbered = excluding != NULL ? gcx_region_number_except(excluding)
                                     : gcx_region_number(generation);
    if (numbered < 0
        || (full && gcx_region_mark_from_roots() < 0)) {
        goto give_up;
    }
    result.candidates = gcx_region_count();
    if (gcx_region_mark() < 0) {
        goto give_up;
    }
    gcx_survey_t survey = gcx_region_keep_survivors(generation, old_set);
    if (old_set != generation || full) {
        gcx_schedule_survived(generation, survey.tracked);
    }

    g.unreachable.len = g.legacy.len = 0;
    g.collected = g.uncollectable = 0;
    g.old_set = old_set;
    g.debug = &gcx_stats.debug;
    g.garbage_list = gcx_stats.garbage;
    if (gcx_region_split(&g, survey) < 0) {
        goto give_up;   /* garbage stays unpinned, in its generation */
    }
    gcx_pin_garbage(&g);
    if (gcx_stats.garbage_hook != NULL && (g.unreachable.len || g.legacy.len)) {
        gcx_report_garbage(&g, generation, gcx_stats.garbage_hook);
    }
    gcx_finalize_garbage(&g);
    result.collected = g.collected;
    result.uncollectable = g.uncollectable;
    gcx_region_done(&g);
    gcx_table_settle(generation);
    return result;

give_up:
    gcx_region_done(&g);
    return result;
}

static Py_ssize_t
collect(int generation, bool promote)
{
    if (gcx_tr.shut_down || !gcx_schedule_begin()) {
        return 0;    /* G1: like CPython, a nested request does nothing */
    }
    PyObject *exc = PyErr_GetRaisedException();   /* G3 */
    gcx_stats_begin(generation);

    PyTime_t start = 0, end = 0;
    (void)PyTime_PerfCounterRaw(&start);
    gcx_result_t r = collect_generation(generation, promote);
    (void)PyTime_PerfCounterRaw(&end);

    if (PyErr_Occurred()) {
        gcx_unraisable_in_collection();
    }
    gcx_stats_end(generation, &r, start, end);
    PyErr_SetRaisedException(exc);
    gcx_schedule_end(gcx_table.total[GCX_GEN0] + gcx_table.total[GCX_GEN1]
                     + gcx_table.total[GCX_GEN2]);
    gcx_stats_after();
    gcx_check_after_collection();
    return r.collected + r.uncollectable;
}

Py_ssize_t
gcx_collect(int generation)
{
    return collect(generation, true);
}

/* A collection of generations 0..generation whose survivors stay in
 * `generation` instead of moving on to the next: what it examined alive
 * will be examined again by the next such collection.  The pytest plugin
 * (gcx/testing.py SpanWatch) ends each phase of a test with one over
 * generations 0 and 1, so that every object the test made is examined at
 * every phase's end (unless a collection of generation 1 or 2 promoted it
 * meanwhile), and the garbage a phase finds is what died in that phase.  Scheduling, callbacks
 * and statistics see a collection of `generation`. */
Py_ssize_t
gcx_collect_unpromoted(int generation)
{
    return collect(generation, false);
}

/* A full collection whose region leaves out the generation-2 records that
 * out(page) names: the end of an incremental cycle (incremental.c), whose
 * marking found them alive.  They count as references from outside, as old
 * objects do for a young collection, so the result is exact for the
 * region whatever out() says; survivors are promoted as in any full
 * collection.  Scheduling, callbacks and statistics see a collection of
 * generation 2. */
Py_ssize_t
gcx_collect_except(gcx_exclude_fn out)
{
    excluding = out;
    Py_ssize_t n = collect(GCX_NGENS - 1, true);
    excluding = NULL;
    return n;
}
