/* incremental.c: a full collection spread over slices (the pause budget,
 * gcx/_budget.py).
 *
 * A cycle has two parts.  Marking, in slices between which the program
 * runs: from roots the policy hands over (sys.modules, the locals of every
 * thread's frames), pop an object from the gray stack, mark in this file's
 * own bitmaps what it refers to that has a record in generation 0, 1 or 2,
 * push that, until the slice's time is used.  Then the end: one ordinary
 * atomic collection (collection.c, gcx_collect_except) whose region is
 * generations 0 and 1 and the records of generation 2 left unmarked.
 * What collections promote into generation 2 during the cycle is marked as
 * it arrives (on_promote): it was alive then, as the objects 3.14 and Go
 * allocate black are.
 *
 * Why the result is exact whatever the program did meanwhile: the end is a
 * trial deletion over its region with everything outside counted as
 * references from outside, exactly as old objects are for a young
 * collection.  A marked object that died since is merely not collected
 * before the next cycle; a reference the program moved from an unmarked
 * object to a marked one keeps its target, which sits in the region, alive
 * through the external count.  Marking only chooses what the end need not
 * examine: any set of marks, even a wrong one, gives a safe end.  So the
 * marks are kept apart from the generations (every reader of the
 * generations, get_objects to freeze to the checker, sees the table as it
 * is), and a mark left on an address whose object died and whose memory a
 * new object took is harmless: that object is young (in the region
 * anyway), or was promoted meanwhile and is kept one more cycle.
 *
 * The marks: per page of the table, 512 bits, in an array indexed by the
 * page's index in gcx_table.pages and stamped with its key and the cycle's
 * epoch.  A page that moved in the array (only full collections and
 * resyncs free pages) loses its marks: its objects go to the end's region.
 * A new cycle is a new epoch: nothing to clear.
 *
 * Invariants:
 *  I1  no object is dereferenced unless, at that moment, it has a record in
 *      generation 0, 1 or 2 (tracer, alloc or lists mode: exact records,
 *      R1 of tracer.c) and CPython tracks it with a positive refcount:
 *      what is on the gray stack may have died between slices.  A cycle
 *      never starts in safe mode, whose records may dangle.
 *  I2  marking runs no Python code and allocates only raw memory; an
 *      allocation failure leaves objects unmarked or untraversed, which
 *      only makes the end's region larger.
 *  I3  a full collection that is not this cycle's end (gc.collect(2), a
 *      fork's child resync) abandons the cycle at the next slice: the
 *      collection was stop-the-world and exact, and the cycle's marks are
 *      of a heap it has since changed.
 */
#include "gcx.h"
#include <string.h>

/* A gray entry: an object, and for a large exact list or dict the item
 * (or dict position) its traversal resumes at: one such object is
 * traversed CHUNK items at a time, so that no slice overruns by much. */
typedef struct {
    PyObject *op;
    Py_ssize_t next;
} gray_t;
#define CHUNK 2048

typedef struct {
    uintptr_t key;               /* the page these marks are of */
    uint32_t epoch;              /* the cycle that made them */
    uint64_t bits[GCX_WORDS];
} mark_block_t;

static struct {
    bool active;
    uint32_t epoch;
    gray_t *gray;                /* borrowed: checked against the table (I1) */
    Py_ssize_t gray_len, gray_cap;
    mark_block_t *marks;         /* indexed by page->index */
    Py_ssize_t marks_cap;
    Py_ssize_t marked;           /* marks set this cycle */
    Py_ssize_t traversed;        /* objects traversed this cycle */
    Py_ssize_t skipped;          /* gray entries found dead or moved (I1) */
    Py_ssize_t full_at_start;    /* gcx_stats.gens[2].collections (I3) */
    Py_ssize_t old_at_start;     /* records of generations 1 and 2 */
    Py_ssize_t kept;             /* at the end: marked records left out */
    Py_ssize_t abandoned;        /* cycles abandoned (I3), ever */
    bool failed;                 /* an allocation failed this cycle (I2) */
} cyc;

/* ---- the marks -------------------------------------------------------------------- */

static mark_block_t *
block_of(const gcx_page_t *p, bool make)
{
    Py_ssize_t i = (Py_ssize_t)p->index;
    if (i >= cyc.marks_cap) {
        if (!make) {
            return NULL;
        }
        Py_ssize_t cap = cyc.marks_cap ? cyc.marks_cap : 1024;
        while (cap <= i) {
            cap *= 2;
        }
        mark_block_t *m = PyMem_RawRealloc(cyc.marks, (size_t)cap * sizeof(*m));
        if (m == NULL) {
            cyc.failed = true;
            return NULL;
        }
        memset(m + cyc.marks_cap, 0, (size_t)(cap - cyc.marks_cap) * sizeof(*m));
        cyc.marks = m;
        cyc.marks_cap = cap;
    }
    mark_block_t *b = &cyc.marks[i];
    if (b->key != p->key || b->epoch != cyc.epoch) {
        if (!make) {
            return NULL;
        }
        b->key = p->key;
        b->epoch = cyc.epoch;
        memset(b->bits, 0, sizeof(b->bits));
    }
    return b;
}

/* For the end's numbering (region.c): the marked records of page p. */
static const uint64_t *
marked_on(const gcx_page_t *p)
{
    mark_block_t *b = block_of(p, false);
    if (b == NULL) {
        return NULL;
    }
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        cyc.kept += __builtin_popcountll(GCX_SET(p, GCX_GEN2, w) & b->bits[w]);
    }
    return b->bits;
}

/* Records a collection moved into generation 2 during the cycle: alive
 * when it ran (survivors), so the end leaves them out, as it leaves out what
 * marking reached ("allocated black"); what died since waits for the next
 * cycle.  Without this, the program's steady flow of promoted objects would
 * all land in the end's region, and the end would be the pause it avoids. */
static void
on_promote(const gcx_page_t *p, unsigned word, uint64_t bits)
{
    if (!cyc.active) {
        return;
    }
    mark_block_t *b = block_of(p, true);
    if (b != NULL) {
        b->bits[word] |= bits;
    }
}

/* ---- marking ----------------------------------------------------------------------- */

static void
gray_push(PyObject *op, Py_ssize_t next)
{
    if (cyc.gray_len == cyc.gray_cap) {
        Py_ssize_t cap = cyc.gray_cap ? cyc.gray_cap * 2 : 4096;
        gray_t *g = PyMem_RawRealloc(cyc.gray, (size_t)cap * sizeof(*g));
        if (g == NULL) {
            cyc.failed = true;   /* I2: marked, not traversed */
            return;
        }
        cyc.gray = g;
        cyc.gray_cap = cap;
    }
    cyc.gray[cyc.gray_len++] = (gray_t){op, next};
}

/* The page of op when it has a record in a generation, else NULL.  Reads
 * the table only, never op. */
static gcx_page_t *
generation_page(PyObject *op, unsigned *slot)
{
    uintptr_t a = (uintptr_t)op;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    if (p == NULL) {
        return NULL;
    }
    *slot = gcx_addr_slot(a);
    int s = gcx_set_of_slot(p, *slot);
    return s >= GCX_GEN0 && s <= GCX_GEN2 ? p : NULL;
}

/* An edge: mark its target and push it, if it is a recorded container not
 * marked yet.  Never reads the target. */
static int
visit_gray(PyObject *op, void *unused)
{
    (void)unused;
    unsigned slot;
    gcx_page_t *p = generation_page(op, &slot);
    if (p == NULL) {
        return 0;
    }
    mark_block_t *b = block_of(p, true);
    if (b == NULL || gcx_bit(b->bits, slot)) {
        return 0;
    }
    gcx_bit_set(b->bits, slot);
    cyc.marked++;
    gray_push(op, 0);
    return 0;
}

/* I1: may op, popped from the gray stack, be traversed now? */
static bool
still_there(PyObject *op)
{
    unsigned slot;
    return op != NULL && generation_page(op, &slot) != NULL && gcx_is_tracked_gc(op)
           && !gcx_is_immortal(op);
}

/* Traverse op from `next` on; the edges visited.  Lists and dicts of more
 * than CHUNK items go CHUNK at a time, the rest pushed back: their size is
 * read now, after the check (I1), since the program may have changed them
 * since the last slice (what moved behind `next` meanwhile is left to the
 * end, which is exact whatever marking missed). */
static Py_ssize_t
traverse(PyObject *op, Py_ssize_t next)
{
    PyTypeObject *tp = Py_TYPE(op);
    if (tp == &PyList_Type || tp == &PyTuple_Type) {
        PyObject **items = tp == &PyList_Type ? ((PyListObject *)op)->ob_item
                                              : ((PyTupleObject *)op)->ob_item;
        Py_ssize_t n = Py_SIZE(op);
        Py_ssize_t end = n - next > CHUNK ? next + CHUNK : n;
        if (end < n) {
            gray_push(op, end);   /* below the items: the stack stays short */
        }
        for (Py_ssize_t i = next; i < end; i++) {
            if (items[i] != NULL) {
                (void)visit_gray(items[i], NULL);
            }
        }
        return end - next;
    }
    if (tp == &PyDict_Type && (next > 0 || PyDict_GET_SIZE(op) > CHUNK)) {
        Py_ssize_t pos = next, k = 0;
        PyObject *key, *value;
        Py_ssize_t at = cyc.gray_len;
        gray_push(op, 0);        /* below the items; its position set below */
        while (k < CHUNK && PyDict_Next(op, &pos, &key, &value)) {
            (void)visit_gray(key, NULL);
            (void)visit_gray(value, NULL);
            k++;
        }
        if (at < cyc.gray_len && cyc.gray[at].op == op) {
            if (k == CHUNK) {
                cyc.gray[at].next = pos;
            }
            else {
                cyc.gray[at].op = NULL;   /* done: popped as skipped */
            }
        }
        return 2 * k;
    }
    if (tp->tp_traverse != NULL) {
        (void)tp->tp_traverse(op, visit_gray, NULL);
    }
    return 8;
}

/* I3: was there a full collection since the cycle started? */
static void
abandon_if_stale(void)
{
    if (cyc.active && gcx_stats.gens[GCX_NGENS - 1].collections != cyc.full_at_start) {
        cyc.active = false;
        cyc.gray_len = 0;
        cyc.abandoned++;
    }
}

/* ---- the cycle ----------------------------------------------------------------------- */

/* Start a cycle from the objects of `roots` (a list).  -1 with an error:
 * safe mode (records may dangle), or a cycle is running. */
int
gcx_incr_start(PyObject *roots)
{
    abandon_if_stale();
    if (gcx_tr.mode == GCX_MODE_SAFE) {
        PyErr_SetString(PyExc_RuntimeError,
                        "incremental cycles need exact records: gcx runs in safe mode");
        return -1;
    }
    if (cyc.active) {
        PyErr_SetString(PyExc_RuntimeError, "an incremental cycle is running");
        return -1;
    }
    gcx_sync(false);
    gcx_region_on_promote(on_promote);
    cyc.active = true;
    cyc.epoch++;
    if (cyc.epoch == 0) {   /* wrapped: stamps of 0 may be old */
        memset(cyc.marks, 0, (size_t)cyc.marks_cap * sizeof(*cyc.marks));
        cyc.epoch = 1;
    }
    cyc.gray_len = 0;
    cyc.marked = cyc.traversed = cyc.skipped = 0;
    cyc.failed = false;
    cyc.full_at_start = gcx_stats.gens[GCX_NGENS - 1].collections;
    cyc.old_at_start = gcx_table.total[GCX_GEN1] + gcx_table.total[GCX_GEN2];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(roots); i++) {
        (void)visit_gray(PyList_GET_ITEM(roots, i), NULL);
    }
    return 0;
}

/* Mark for up to `seconds` (at least one object; exactly one for 0, which
 * the tests use to interleave the program with marking).  Returns the gray
 * objects left: 0 when marking is done (or no cycle runs). */
Py_ssize_t
gcx_incr_slice(double seconds)
{
    abandon_if_stale();
    if (!cyc.active) {
        return 0;
    }
    gcx_sync(false);
    PyTime_t start, now;
    (void)PyTime_PerfCounterRaw(&start);
    PyTime_t budget = (PyTime_t)(seconds * 1e9);
    Py_ssize_t edges = 0;
    while (cyc.gray_len > 0) {
        gray_t g = cyc.gray[--cyc.gray_len];
        if (!still_there(g.op)) {
            cyc.skipped++;
            continue;
        }
        edges += traverse(g.op, g.next);
        cyc.traversed++;
        if (edges >= 1024 || budget <= 0) {   /* a clock read per ~1024 edges */
            edges = 0;
            (void)PyTime_PerfCounterRaw(&now);
            if (now - start >= budget) {
                break;
            }
        }
    }
    return cyc.gray_len;
}

/* The end: one collection of generations 0, 1 and what is unmarked of 2.
 * What it found (collected + uncollectable); -1 and nothing done when no
 * cycle runs. */
Py_ssize_t
gcx_incr_finish(void)
{
    abandon_if_stale();
    if (!cyc.active) {
        return -1;
    }
    cyc.kept = 0;
    Py_ssize_t found = gcx_collect_except(marked_on);
    if (gcx_stats.gens[GCX_NGENS - 1].collections == cyc.full_at_start) {
        /* refused (a collection was running): the cycle goes on */
        return 0;
    }
    /* the stdlib's long-lived rule counts what the end left out too */
    gcx_schedule_survived(GCX_NGENS - 1, gcx_sched.long_lived_total + cyc.kept);
    cyc.active = false;
    cyc.gray_len = 0;
    return found;
}

void
gcx_incr_abandon(void)
{
    if (cyc.active) {
        cyc.active = false;
        cyc.gray_len = 0;
        cyc.abandoned++;
    }
}

gcx_incr_state_t
gcx_incr_state(void)
{
    abandon_if_stale();
    gcx_incr_state_t s = {
        .active = cyc.active, .gray = cyc.gray_len, .marked = cyc.marked,
        .traversed = cyc.traversed, .skipped = cyc.skipped,
        .old_at_start = cyc.old_at_start, .kept = cyc.kept,
        .abandoned = cyc.abandoned, .failed = cyc.failed,
        .bytes = (size_t)cyc.gray_cap * sizeof(gray_t)
                 + (size_t)cyc.marks_cap * sizeof(mark_block_t),
    };
    return s;
}
