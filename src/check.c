/* check.c: the invariant checker, and what a failed assertion does.
 *
 * gcx_check_all verifies every invariant that can be read off gcx's state
 * between collections:
 *   T1-T7  the table's (table.c, gcx_table_check);
 *   C2     no region outside a collection, and no large block of a
 *          collection's memory kept (region.c, gcx_region_check);
 *   R1     in tracer mode, while gcx owns the slot and nothing is stale,
 *          every record names a live object of a GC type (its refcount is
 *          positive), or on 3.14+ one waiting in the trashcan: a record
 *          that outlived its object would fail here, or under ASan,
 *          instead of in a later collection; in alloc mode too, while
 *          the allocator wrapper is in the chain (owning the slot or not),
 *          where a container parked on a free list may also have
 *          refcount 0;
 *   G1     no collection is marked running;
 *   S1     the pause ring counted every collection the statistics did;
 *   S3     each generation's pause histogram did too.
 * The debug build (GCX_DEBUG 3, debug.h) runs it after collections
 * (after every one while the table is small; amortised over their work on
 * a large one, gcx_check_after_collection) and aborts on the first broken
 * invariant; gcx._gcx.check() runs it at any
 * level and raises AssertionError.  C1 and C3 are about the middle of a
 * collection and are checked there (region.c's validators, level 2).
 */
#include "gcx.h"

void
gcx_assert_failed(const char *what, const char *file, int line)
{
    fprintf(stderr, "gcx: assertion failed: %s (%s:%d)\n", what, file, line);
    abort();
}

static int
fail(const char *what)
{
    PyErr_Format(PyExc_AssertionError, "gcx invariant broken: %s", what);
    return -1;
}

/* 3.14+: an object the trashcan deferred has count 0 and keeps the
 * trashcan's chain in _gc_next until its deallocation runs and DESTROY
 * drops the record (compat.h); 3.13 defers inside tp_dealloc, after
 * DESTROY, so no record names such an object there. */
static bool
waits_in_trashcan(PyObject *op)
{
    return GCX_PY314 && (!gcx_header_readable || ((const uintptr_t *)op)[-2] != 0);
}

static void
visit_record(gcx_page_t *p, unsigned slot, int set, void *bad)
{
    PyObject *op = gcx_slot_object(p, slot);
    Py_ssize_t rc = Py_REFCNT(op);
    /* alloc and lists modes: a container parked on a free list (its death
     * went unreported, its memory is still CPython's) has count 0 */
    bool parked = gcx_deaths_at_allocator();
    if (rc < 0 || (rc == 0 && !parked && !waits_in_trashcan(op)) || !PyType_IS_GC(Py_TYPE(op))) {
        (*(Py_ssize_t *)bad)++;
    }
}

/* R1: only where records are exact (tracer.c). */
static int
check_records(void)
{
    void *data = NULL;
    bool owner = PyRefTracer_GetTracer(&data) != NULL && data == (void *)&gcx_tr;
    /* deaths are reported by the tracer slot (tracer mode) or by the
     * allocator wrapper (alloc and lists modes) */
    bool deaths_seen = gcx_tr.mode == GCX_MODE_TRACER ? owner
                       : gcx_deaths_at_allocator() && gcx_alloc_hook_in_chain();
    if (!deaths_seen || gcx_tr.stale) {
        return 0;
    }
    Py_ssize_t bad = 0;
    gcx_table_each((1u << GCX_NSETS) - 1, visit_record, &bad);
    return bad ? fail("R1 a record names a dead object") : 0;
}

static int
check_stats(void)
{
    uint64_t collections = 0;
    for (int i = 0; i < GCX_NGENS; i++) {
        const gcx_gen_stats_t *s = &gcx_stats.gens[i];
        uint64_t counted = 0;
        for (int b = 0; b < GCX_PAUSE_BUCKETS; b++) {
            counted += s->pause_counts[b];
        }
        if (counted != (uint64_t)s->collections) {
            return fail("S3 the pause histogram and the statistics disagree");
        }
        collections += (uint64_t)s->collections;
    }
    return collections == gcx_stats.npauses ? 0 : fail("S1 pauses and statistics disagree");
}

/* 0, or -1 with AssertionError set.  Inside a collection (a finalizer
 * calling check()) only the table's own invariants hold. */
int
gcx_check_all(void)
{
    if (gcx_table_check() < 0) {
        return -1;
    }
    if (gcx_sched.collecting) {
        return 0;
    }
    if (gcx_region_check() < 0) {
        return fail("C2 a region, or a collection's large memory, outside a collection");
    }
    return check_records() < 0 || check_stats() < 0 ? -1 : 0;
}

/* Below this many records the table is checked after every collection. */
#define CHECK_EVERY_BELOW ((Py_ssize_t)1 << 16)

/* After a collection that examined `examined` records, at level 3: abort
 * on a broken invariant.  The check is O(table), so it is amortised: it
 * runs once the collections since the last check have examined a quarter
 * as many records as the table holds, and after every collection while
 * the table holds fewer than CHECK_EVERY_BELOW (most tests' heaps).  Its
 * cost stays within four times the collections' own work; after every
 * collection it made a test of a heap grown to millions of records,
 * collected young every 700 allocations, quadratic (164 s of one test
 * under ASan, 4 s in a release build). */
void
gcx_check_after_collection(Py_ssize_t examined)
{
    if (GCX_DEBUG < 3) {
        return;
    }
    static Py_ssize_t owed;
    Py_ssize_t records = gcx_table.total[GCX_GEN0] + gcx_table.total[GCX_GEN1]
                         + gcx_table.total[GCX_GEN2] + gcx_table.total[GCX_FROZEN];
    owed += examined;
    if (records >= CHECK_EVERY_BELOW && owed < records / 4) {
        return;
    }
    owed = 0;
    PyObject *exc = PyErr_GetRaisedException();
    if (gcx_check_all() < 0) {
        PyErr_Print();
        gcx_assert_failed("gcx_check_all() after a collection", __FILE__, __LINE__);
    }
    PyErr_SetRaisedException(exc);
}
