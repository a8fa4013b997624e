/* collection.c: one collection, top to bottom.  Read this first.
 *
 * gcx_collect is the one way into a collection: gc.collect() (module.c)
 * and automatic collection (schedule.c, through the pointer registered at
 * init) both come here; an incremental cycle's steps and end
 * (incremental.c) come through gcx_collect_within and gcx_collect_except,
 * which run the same phases over another region.  It reads as the algorithm, one call per phase, in
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
 *                                       marked or swept; for
 *                                       gcx_collect_within, a sweep step's
 *                                       set of old records)
 *   roots                  region.c     full collections: what sys.modules reaches
 *   count                  region.c     references from outside the region
 *   mark                   region.c     what those reach survives
 *   survivors              region.c     promoted (or kept where they are: see
 *                                       gcx_collect_unpromoted); tuples and
 *                                       dicts untracked
 *   split                  region.c     the garbage into U and F (C3 up to here)
 *   wait                   finalize.c   a sweep step: the part of U a weakref
 *                                       that may be garbage too ties to
 *                                       waits (S3 of incremental.c)
 *   hold                   finalize.c   a reference to every member, or
 *                                       a watch over their deaths (C2, W1)
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
static bool swept_end;             /* ... and its region is empty (a whole sweep) */
static gcx_garbage_t g;            /* its vectors' memory is reused */

/* What sweeps (gcx_collect_within) found since the last full collection,
 * and their time: the next full collection's statistics include them. */
static gcx_result_t swept;
static PyTime_t swept_time;

static void
add_result(gcx_result_t *to, gcx_result_t r)
{
    to->collected += r.collected;
    to->uncollectable += r.uncollectable;
    to->candidates += r.candidates;
}

/* gcx's own markers among the region's members (lists mode): the stdlib
 * would not examine them, so they are no candidates (3.15's statistic). */
static Py_ssize_t
own_members(void)
{
    PyObject *markers[3];
    int n = gcx_tracer_markers(markers);
    Py_ssize_t members = 0;
    for (int i = 0; i < n; i++) {
        members += gcx_region_index(markers[i]) >= 0;
    }
    return members;
}

/* From the count to the end of the region's garbage (C3 of region.c:
 * on allocation failure before the garbage is pinned, give up; the result
 * counts the candidates seen and nothing else).  wait: a sweep step's
 * (gcx_collect_within), or NULL. */
static gcx_result_t
decide_region(int generation, int old_set, bool sweep, const gcx_wait_t *wait,
              bool *decided)
{
    gcx_result_t result = {0, 0, 0};
    bool full = generation == GCX_NGENS - 1;
    *decided = false;
    result.candidates = gcx_region_count() - own_members();
    if (gcx_region_mark() < 0) {
        goto give_up;
    }
    gcx_survey_t survey = gcx_region_keep_survivors(generation, old_set);
    if (!sweep && (old_set != generation || full)) {
        gcx_schedule_survived(generation, survey.tracked);
    }

    g.unreachable.len = g.legacy.len = 0;
    g.collected = g.uncollectable = 0;
    g.old_set = old_set;
    g.generation = generation;
    g.candidates = result.candidates;
    g.debug = &gcx_stats.debug;
    g.garbage_list = gcx_stats.garbage;
    g.hook = gcx_stats.garbage_hook != NULL;
    if (gcx_region_split(&g, survey) < 0) {
        goto give_up;   /* garbage stays unpinned, in its generation */
    }
    if (wait != NULL) {
        (void)gcx_garbage_wait(&g, wait);
    }
    gcx_hold_garbage(&g);
    if (gcx_stats.garbage_hook != NULL && (g.unreachable.len || g.legacy.len)) {
        gcx_report_garbage(&g, generation, gcx_stats.garbage_hook);
    }
    gcx_finalize_garbage(&g);
    result.collected = g.collected;
    result.uncollectable = g.uncollectable;
    *decided = true;
give_up:
    gcx_region_done(&g);
    return result;
}

/* The phases over the records: sync to settle. */
static gcx_result_t
collect_generation(int generation, bool promote)
{
    gcx_result_t result = {0, 0, 0};
    bool full = generation == GCX_NGENS - 1;
    int old_set = full || !promote ? generation : generation + 1;

    gcx_sync(full);
    /* after the sync: on 3.12 it reads the births that count towards the
     * collection about to run */
    if (swept_end) {
        gcx_schedule_counts_for_cycle();
    }
    else {
        gcx_schedule_counts_for(generation);
    }
    int numbered = swept_end ? gcx_region_number_within(NULL, 0, NULL)
                   : excluding != NULL ? gcx_region_number_except(excluding)
                   : gcx_region_number(generation);
    if (numbered < 0
        || (full && !swept_end && gcx_region_mark_from_roots() < 0)) {
        gcx_region_done(&g);
        return result;
    }
    bool decided;
    result = decide_region(generation, old_set, false, NULL, &decided);
    if (decided && !swept_end) {
        gcx_table_settle(generation);
    }
    if (full) {
        add_result(&result, swept);
        swept = (gcx_result_t){0, 0, 0};
    }
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
    PyTime_t earlier = 0;
    if (generation == GCX_NGENS - 1) {
        earlier = swept_time;   /* the sweep's time is this collection's */
        swept_time = 0;
    }

    if (PyErr_Occurred()) {
        gcx_unraisable_in_collection();
    }
    gcx_stats_end(generation, &r, start, end, earlier);
    PyErr_SetRaisedException(exc);
    gcx_schedule_end(gcx_table.total[GCX_GEN0] + gcx_table.total[GCX_GEN1]
                     + gcx_table.total[GCX_GEN2]);
    gcx_stats_after();
    gcx_check_after_collection(r.candidates);
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

/* The end of an incremental cycle (incremental.c).  Cut short: a full
 * collection whose region leaves out the generation-2 records that
 * out(page) names (marking found them alive, or the sweep decided them).
 * They count as references from outside, as old objects do for a young
 * collection, so the result is exact for the region whatever out() says;
 * survivors are promoted as in any full collection.  After a whole sweep
 * (`swept`), which decided every record of generation 2: nothing more to
 * examine; the young generations wait for their own collections and keep
 * their counts.  Either way scheduling, callbacks and statistics see a
 * collection of generation 2, which includes what the sweep found
 * (gcx_collect_within) and its time. */
Py_ssize_t
gcx_collect_except(gcx_exclude_fn out, bool swept)
{
    excluding = out;
    swept_end = swept;
    Py_ssize_t n = collect(GCX_NGENS - 1, true);
    excluding = NULL;
    swept_end = false;
    return n;
}

/* A sweep step of an incremental cycle (incremental.c): a collection whose
 * region is the generation-2 records in(page) names on pages[0..n), a set
 * closed under the references between the old records the cycle's marking
 * did not reach.  Everything outside counts as references from outside, so
 * the result is exact for the region, as a young collection's is for its
 * own; survivors stay in generation 2.  It is part of the next full
 * collection (the cycle's end): no callbacks, no counts, and that
 * collection's statistics include what it found and its time.
 *
 * A weakref outside the region counts as alive, so its callback would run
 * when its referent is garbage here; the stdlib's full collection never
 * runs it if the weakref is garbage too (bpo-38006), and whether it is
 * only a later step can tell.  With `wait` (not NULL), the part of the
 * garbage such a weakref's referent is connected to waits, untouched
 * (finalize.c, gcx_garbage_wait); the rest is collected.
 *
 * What it found (collected + uncollectable), or -1: refused (a collection
 * is running). */
Py_ssize_t
gcx_collect_within(gcx_page_t *const *pages, Py_ssize_t n, gcx_exclude_fn in,
                   const gcx_wait_t *wait)
{
    if (gcx_tr.shut_down || !gcx_schedule_begin()) {
        return -1;   /* G1 */
    }
    PyObject *exc = PyErr_GetRaisedException();   /* G3 */
    PyTime_t start = 0, end = 0;
    (void)PyTime_PerfCounterRaw(&start);
    gcx_result_t r = {0, 0, 0};
    int young = gcx_schedule_young();   /* what it frees is not the program's */
    gcx_sync(false);
    if (gcx_region_number_within(pages, n, in) < 0) {
        gcx_region_done(&g);
    }
    else {
        bool decided;
        r = decide_region(GCX_NGENS - 1, GCX_GEN2, true, wait, &decided);
    }
    (void)PyTime_PerfCounterRaw(&end);
    add_result(&swept, r);
    swept_time += end - start;
    if (PyErr_Occurred()) {
        gcx_unraisable_in_collection();
    }
    PyErr_SetRaisedException(exc);
    gcx_schedule_set_young(young);
    gcx_schedule_end(gcx_table.total[GCX_GEN0] + gcx_table.total[GCX_GEN1]
                     + gcx_table.total[GCX_GEN2]);
    gcx_check_after_collection(r.candidates);
    return r.collected + r.uncollectable;
}
