/* finalize.c: what happens to the garbage of one collection, in the
 * running CPython's order.
 *
 * Start at gcx_finalize_garbage.  On entry region.c has split the garbage
 * into U (collectable, the current region) and F (unreachable objects with
 * a legacy tp_del and all they reach), and gcx_hold_garbage has pinned
 * every member of F and either watched or pinned U (W1).  (Before that, a
 * sweep step may take out of U the parts that must wait for a later step:
 * gcx_garbage_wait.)  Then:
 *
 *   handle_weakrefs      weakrefs that are themselves in U are cleared;
 *                        every weakref to a member of U is cleared; the
 *                        callbacks of cleared weakrefs that are not in U
 *                        run after all clearing.  The room to remember
 *                        those is had first; without it the collection
 *                        gives up (give_up), nothing cleared.  On 3.15
 *                        (gh-135552) only the weakrefs with callbacks are
 *                        cleared here; clear_weakrefs does the rest.
 *   finalize             tp_finalize (__del__) once per object, ever: the
 *                        FINALIZED bit is CPython's own, so neither
 *                        collector nor refcount death runs it twice.
 *   find_resurrected     trial deletion again, over U (minus gcx's pins):
 *                        members a finalizer made reachable, and all they
 *                        reach, survive and move to the old generation.
 *   clear_weakrefs       where the interpreter does it (GH-91636), weakrefs
 *                        that finalizers created to what is left are
 *                        cleared without callbacks; on 3.15 every weakref
 *                        still to or in what is left.
 *   delete_garbage       tp_clear each remaining member (DEBUG_SAVEALL:
 *   (delete_watched)     append it to garbage instead), then drop the pin
 *                        (watched: held while it is cleared, W3).
 *   handle_legacy        F's tp_del objects (all of F with SAVEALL) go to
 *                        garbage; F moves to the old generation.
 *
 * What Python code can see happens in CPython's order: U is in region
 * (address) order, CPython's garbage in the order of its lists, and where
 * lists.c can read them the callbacks, finalizers and tp_clear go by that
 * order instead (stdlib_order).
 *
 * Invariants:
 *  F1  a member of U or F is never freed while gcx holds its pin; every pin
 *      is dropped exactly once before gcx_finalize_garbage returns.
 *  W1  Where deaths are seen (tracer.c: every mode but safe), U is watched
 *      instead of pinned, as CPython holds no reference to its garbage:
 *      while Python code may run, a member that dies, or whose address a
 *      new container takes, is struck out of U (its entry NULL) by what
 *      sees it (the allocator wrapper's free, the tracer's DESTROY or
 *      CREATE, lists mode's look at what CPython tracked since), and
 *      member() strikes one that is parked on a free list or waits in the
 *      trashcan (count 0) or that CPython no longer tracks.  An object a
 *      finalizer frees by dropping its last reference then dies inside
 *      that finalizer, its own finalizer running there, and is not
 *      collected, as under the stdlib's collector.  U keeps the region's
 *      numbering until the end (its entry is the region index), and is
 *      read only through member() after a look.
 *  W2  After every call gcx makes into Python code, the look asks whether
 *      the watch still sees every death (the tracer's slot and the
 *      wrapper in place); where it does not, all of U is struck: what is
 *      left is neither finalized nor cleared now, and stays garbage, in its
 *      generation, for a later collection.
 *  W3  U is watched only where Python code runs before tp_clear (a member
 *      with a tp_finalize, a weakref callback due, the garbage hook), and
 *      then through tp_clear too: each member is held while it is cleared,
 *      as CPython's collector holds it, and what that frees dies there and
 *      then, whatever runs as it dies (a weakref callback a finalizer set
 *      up, the __del__ of an old object only the garbage held).  Elsewhere
 *      U is pinned (no strike per death): no Python code ran that could
 *      have set up such a callback, and only an old object's __del__ could
 *      show when a member died.
 *  F2  Python code runs only here (callbacks, finalizers, tp_clear); errors
 *      it raises are reported as unraisable, never propagated.
 *  F3  collected = |final U| + weakrefs freed by their callbacks;
 *      uncollectable = |F|, as in CPython.
 *  F4  no weakref callback that CPython would run is lost: the only
 *      allocation that could lose one comes before any weakref is cleared.
 */
#include "gcx.h"
#include "lists.h"

/* ---- holding U: pins or the watch (W1) ----------------------------------------- */

static gcx_workvec_t *watched;   /* U while it is watched, else NULL */

/* What the watch hears of (tracer.c): a container at op died, or one was
 * made there; a member of U there is struck. */
static void
strike(PyObject *op)
{
    Py_ssize_t i = gcx_region_index(op);
    if (i >= 0 && i < watched->len && watched->items[i] == op) {
        watched->items[i] = NULL;
    }
}

static void
watch_end(void)
{
    if (watched != NULL) {
        gcx_watch_end();
        watched = NULL;
    }
}

/* Member i of U, or NULL: struck (W1), or to be struck now, being parked
 * on a free list or waiting in the trashcan (count 0; its memory is still
 * CPython's, or the wrapper would have struck it) or no longer tracked by
 * CPython (C code untracked it, as greenlet does, or a new object that is
 * not tracked has its address).  Pinned, every entry is a member. */
static inline PyObject *
member_of(gcx_workvec_t *u, Py_ssize_t i, bool pinned)
{
    PyObject *op = u->items[i];
    if (pinned || op == NULL) {
        return op;
    }
    if (Py_REFCNT(op) == 0 || !gcx_is_tracked_gc(op)) {
        u->items[i] = NULL;
        return NULL;
    }
    return op;
}

static inline PyObject *
member(gcx_garbage_t *g, Py_ssize_t i)
{
    return member_of(&g->unreachable, i, g->pinned);
}

static void
strike_all(gcx_garbage_t *g)
{
    for (Py_ssize_t i = 0; i < g->unreachable.len; i++) {
        g->unreachable.items[i] = NULL;
    }
}

/* Python code may have run: before U is read again, the watch looks
 * (sources: after a call gcx made, W2).  Once it has struck all of U,
 * nothing is left to look for: U stays empty (only strikes write it), and
 * the loops that look once per member stay linear. */
static inline void
look(gcx_garbage_t *g, bool sources)
{
    if (!g->pinned && !g->lost && !gcx_watch_look(sources)) {
        strike_all(g);
        g->lost = true;
    }
}

/* Is any member left in U? */
static bool
any_member_left(gcx_garbage_t *g)
{
    for (Py_ssize_t i = 0; i < g->unreachable.len; i++) {
        if (member(g, i) != NULL) {
            return true;
        }
    }
    return false;
}

bool
gcx_garbage_hides(PyObject *op)
{
    Py_ssize_t i = gcx_region_index(op);
    if (i < 0) {
        return false;
    }
    return watched == NULL || (i < watched->len && watched->items[i] == op);
}

/* ---- the stdlib's order -------------------------------------------------------- */

/* CPython's collector meets its garbage in the order of its lists: a
 * collection of generation g appends generations 0, 1, ..., g-1 in turn
 * to g's list, each list in the order its objects came to it (tracked,
 * for generation 0), and runs weakref callbacks, finalizers and tp_clear,
 * and fills gc.garbage, in that order.  U is in region order (by
 * address).  Where the order can be seen (weakref callbacks or more than
 * one finalizer to run, DEBUG_SAVEALL or DEBUG_COLLECTABLE) and lists.c
 * reads CPython's lists, each member of U is ranked by its generation, in
 * that order of lists, then by its place in CPython's lists, found by
 * walking them newest first until every member is met, for at most twice
 * the region's size: for a young collection about its own new objects.
 * (Installed, CPython's lists keep the order objects were tracked in; the
 * stdlib's own collections would have moved survivors it met before what
 * keeps them alive behind it.)  perm is U's indices in that order (members
 * the walk did not meet last in their list, in region order); NULL where
 * the order cannot be seen, or out of memory: region order. */
typedef struct {
    Py_ssize_t *perm;      /* U's indices in CPython's order, or NULL */
    Py_ssize_t *list;      /* per member: its list (below), then while
                              find_resurrected compacts U its new index */
    Py_ssize_t *met;       /* members in the order the walk met them */
    Py_ssize_t nmet, n;    /* how many it met, of U's n */
    bool moved;            /* list holds new indices */
} order_t;

/* The place of generation `set`'s list among those a collection of
 * `generation` appends: its own, then 0, 1, ...; others (none) last.  A
 * member the walk has met has MET added. */
#define NLISTS (GCX_NGENS + 1)
#define MET NLISTS

static inline Py_ssize_t
list_of_generation(int set, int generation)
{
    return set == generation ? 0 : set >= 0 && set < generation ? set + 1 : NLISTS - 1;
}

static bool
rank_member(PyObject *op, Py_ssize_t newest_first, void *arg)
{
    order_t *o = arg;
    Py_ssize_t i = gcx_region_index(op);
    if (i >= 0 && o->list[i] < MET) {
        o->list[i] += MET;
        o->met[o->nmet++] = i;
        return o->nmet == o->n;   /* all of U met */
    }
    return false;
}

/* Before any Python code runs: U is still the region (C1). */
static void
stdlib_order(order_t *o, gcx_garbage_t *g)
{
    gcx_workvec_t *u = &g->unreachable;
    Py_ssize_t n = u->len;
    *o = (order_t){NULL, NULL, NULL, 0, n, false};
    bool seen = (*g->debug & (GCX_DEBUG_SAVEALL | GCX_DEBUG_COLLECTABLE))
                || g->finalizers || g->due_callbacks != 0;
    if (n < 2 || !seen || !gcx_lists_ok()) {
        return;
    }
    Py_ssize_t *block = gcx_mem_malloc(3 * (size_t)n * sizeof(Py_ssize_t));
    if (block == NULL) {
        return;
    }
    o->list = block;
    o->perm = block + n;
    o->met = block + 2 * n;
    unsigned lists = 1;   /* a young collection's members are all of generation 0 */
    for (Py_ssize_t i = 0; i < n; i++) {
        /* (the garbage hook ran: a member it let go of is struck) */
        o->list[i] = g->generation == 0 ? 0
                     : u->items[i] == NULL ? NLISTS - 1
                     : list_of_generation(gcx_table_set_of(u->items[i]), g->generation);
        lists |= 1u << o->list[i];
    }
    /* At most twice the region's size: a young collection's members are
     * the newest containers, met within about that many; members that
     * lie deeper (an incremental cycle's slice of the old heap, whose
     * walk would be O(heap) in a step meant to be short) keep region
     * order. */
    gcx_lists_each_newest_first(rank_member, o, 2 * g->candidates + 1024);
    /* each list in turn: what the walk met, oldest first, then the rest
     * in region order */
    Py_ssize_t k = 0;
    for (Py_ssize_t l = 0; l < NLISTS; l++) {
        if (!(lists & (1u << l))) {
            continue;
        }
        for (Py_ssize_t m = o->nmet - 1; m >= 0; m--) {
            if (o->list[o->met[m]] == l + MET) {
                o->perm[k++] = o->met[m];
            }
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if (o->list[i] == l) {
                o->perm[k++] = i;
            }
        }
    }
    GCX_ASSERT(k == n);
}

/* The index in u of the k-th member in CPython's order. */
static inline Py_ssize_t
nth(const order_t *o, Py_ssize_t k)
{
    return o != NULL && o->perm != NULL ? o->perm[k] : k;
}

/* find_resurrected keeps member i of U as member `to` (-1: it goes). */
static inline void
order_moves(order_t *o, Py_ssize_t i, Py_ssize_t to)
{
    if (o->perm != NULL) {
        o->list[i] = to;
        o->moved = true;
    }
}

/* After the resurrection check (the region's numbering is no longer
 * needed): u itself in CPython's order, for clearing. */
static void
reorder(order_t *o, gcx_workvec_t *u)
{
    if (o->perm == NULL || u->len < 2) {
        return;
    }
    Py_ssize_t n = u->len;
    if (o->moved) {
        /* what is left, in the order it had (compaction kept it), at its
         * new indices; perm had more entries than are left */
        Py_ssize_t k = 0;
        for (Py_ssize_t m = 0; k < n; m++) {
            Py_ssize_t to = o->list[o->perm[m]];
            if (to >= 0) {
                o->perm[k++] = to;
            }
        }
    }
    PyObject **moved = (PyObject **)o->met;   /* the walk is over */
    for (Py_ssize_t k = 0; k < n; k++) {
        moved[k] = u->items[o->perm[k]];
    }
    memcpy(u->items, moved, (size_t)n * sizeof(PyObject *));
}

static void
order_done(order_t *o)
{
    gcx_mem_free(o->list);
    *o = (order_t){NULL, NULL, NULL, 0, 0, false};
}

/* One line per object of v (U, watched, with g: a custom sys.stderr may
 * run Python code, so each line looks first). */
static void
debug_print(const char *what, gcx_workvec_t *v, const order_t *o, gcx_garbage_t *g)
{
    for (Py_ssize_t k = 0; k < v->len; k++) {
        PyObject *op = v->items[nth(o, k)];
        if (g != NULL) {
            look(g, true);
            op = member(g, nth(o, k));
            if (op == NULL) {
                continue;
            }
        }
        PySys_FormatStderr("gc: %s <%s %p>\n", what, Py_TYPE(op)->tp_name, (void *)op);
    }
}

/* ---- weak references ----------------------------------------------------------- */

/* What a member's type says about weak references: is the member one, and
 * can others refer to it weakly.  PyWeakref_Check costs two
 * PyType_IsSubtype calls and PyType_SUPPORTS_WEAKREFS a call, and garbage
 * comes in runs of a few types: a pass over U remembers the answers per
 * type.  No Python code runs during such a pass, and every member holds its
 * type, so no remembered type is freed and replaced at the same address. */
enum { WR_IS_WEAKREF = 1, WR_REFERABLE = 2 };

typedef struct {
    PyTypeObject *tp[16];
    uint8_t flags[16];
} wr_memo;

static inline int
weakref_flags(wr_memo *m, PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    unsigned h = (unsigned)((uintptr_t)tp >> 4) & 15;
    if (m->tp[h] != tp) {
        m->tp[h] = tp;
        m->flags[h] = (PyWeakref_Check(op) ? WR_IS_WEAKREF : 0)
                      | (PyType_SUPPORTS_WEAKREFS(tp) ? WR_REFERABLE : 0);
    }
    return m->flags[h];
}

/* Does wr, a weakref to a member of U, have a callback to run?  Not if wr
 * is garbage itself (its callback must never run, bpo-38006). */
static inline bool
callback_due(PyWeakReference *wr)
{
    return wr->wr_callback != NULL && gcx_region_index((PyObject *)wr) < 0;
}

/* The weakrefs to op, a member of U, whose callbacks are due.  They are
 * counted before anything is cleared, so that the room to remember them is
 * had first: CPython keeps them on a list that needs no memory, and a
 * callback must not be lost to an allocation failure.  The pinning pass
 * counts them (it reads each member anyway); the garbage hook, which runs
 * Python code after it, makes handle_weakrefs count again. */
static inline Py_ssize_t
due_callbacks_of(PyObject *op)
{
    Py_ssize_t n = 0;
    PyWeakReference *wr = *gcx_weakrefs_listptr(op);
    for (; wr != NULL; wr = wr->wr_next) {
        n += callback_due(wr);
    }
    return n;
}

/* ---- a sweep step's garbage that waits (S3 of incremental.c) ---------------- */

/* Has op, a member of U, a weakref with a callback, outside the region,
 * that may be garbage a later step decides? */
static bool
waits_for_weakref(wr_memo *memo, PyObject *op, const gcx_wait_t *wait)
{
    if (!(weakref_flags(memo, op) & WR_REFERABLE)) {
        return false;
    }
    PyWeakReference *wr = *gcx_weakrefs_listptr(op);
    for (; wr != NULL; wr = wr->wr_next) {
        if (callback_due(wr) && wait->undecided((PyObject *)wr)) {
            return true;
        }
    }
    return false;
}

/* U's parts: union-find over U's indices (the region's, after the split),
 * joined along U's edges. */
typedef struct {
    int32_t *parent;
    int32_t at;         /* the member being traversed */
    bool *held;         /* per part's root: it waits */
    const gcx_wait_t *wait;
    Py_ssize_t waiting;
} parts_t;

static int32_t
part_of(int32_t *parent, int32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static int
visit_part(PyObject *op, void *arg)
{
    parts_t *pt = arg;
    Py_ssize_t r = gcx_region_index(op);
    if (r >= 0) {
        int32_t a = part_of(pt->parent, pt->at), b = part_of(pt->parent, (int32_t)r);
        if (a != b) {
            pt->parent[a > b ? a : b] = a > b ? b : a;
        }
    }
    return 0;
}

static bool
not_held(PyObject *op, Py_ssize_t i, void *arg)
{
    parts_t *pt = arg;
    if (pt->held == NULL || pt->held[part_of(pt->parent, (int32_t)i)]) {
        pt->wait->waits(op);
        pt->waiting++;
        return false;
    }
    return true;
}

/* For a sweep step (collection.c, gcx_collect_within), between the split
 * and the pins: the parts of U (connected by references, either way) that
 * hold a member with a weakref wait->undecided says may be garbage leave
 * U and the region, untouched, and each of their members is handed to
 * wait->waits.  No reference joins such a part to the rest of U, nor to
 * F (which holds all it reaches) or a survivor (it would reach U), so the
 * rest is garbage on its own and collected as it would have been.  Reads
 * U's members, their weakref lists and their traversals; runs no Python
 * code.  Without memory for the parts, all of U waits.  How many wait. */
Py_ssize_t
gcx_garbage_wait(gcx_garbage_t *g, const gcx_wait_t *wait)
{
    gcx_workvec_t *u = &g->unreachable;
    wr_memo memo = {{NULL}, {0}};
    Py_ssize_t first = 0;
    while (first < u->len && !waits_for_weakref(&memo, u->items[first], wait)) {
        first++;
    }
    if (first == u->len) {
        return 0;
    }
    Py_ssize_t n = u->len;
    parts_t pt = {NULL, 0, NULL, wait, 0};
    if (n <= INT32_MAX) {
        pt.parent = gcx_mem_malloc((size_t)n * sizeof(int32_t));
        pt.held = gcx_mem_calloc((size_t)n, sizeof(bool));
    }
    if (pt.parent != NULL && pt.held != NULL) {
        for (Py_ssize_t i = 0; i < n; i++) {
            pt.parent[i] = (int32_t)i;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *op = u->items[i];
            traverseproc trav = Py_TYPE(op)->tp_traverse;
            pt.at = (int32_t)i;
            if (trav != NULL) {
                (void)trav(op, visit_part, &pt);
            }
        }
        for (Py_ssize_t i = first; i < n; i++) {
            if (i == first || waits_for_weakref(&memo, u->items[i], wait)) {
                pt.held[part_of(pt.parent, (int32_t)i)] = true;
            }
        }
    }
    else {
        gcx_mem_free(pt.held);
        pt.held = NULL;
    }
    gcx_region_keep(u, not_held, &pt);
    gcx_mem_free(pt.parent);
    gcx_mem_free(pt.held);
    return pt.waiting;
}

static Py_ssize_t
count_due_callbacks(gcx_garbage_t *g)
{
    Py_ssize_t n = 0;
    wr_memo memo = {{NULL}, {0}};
    for (Py_ssize_t i = 0; i < g->unreachable.len; i++) {
        PyObject *op = member(g, i);
        if (op != NULL && (weakref_flags(&memo, op) & WR_REFERABLE)) {
            n += due_callbacks_of(op);
        }
    }
    return n;
}

/* Clear every weakref that is garbage and every weakref to garbage, then
 * run the due callbacks, after all clearing.  Returns how many of those
 * weakrefs died then (CPython counts them as collected), or -1 when there
 * is no room to remember the callbacks: then nothing has been cleared. */
static Py_ssize_t
handle_weakrefs(gcx_garbage_t *g, Py_ssize_t due, const order_t *o)
{
    gcx_workvec_t *u = &g->unreachable;
    /* strong references to the weakrefs whose callbacks are due */
    PyObject **to_call = NULL;
    if (due > 0 && (to_call = gcx_mem_malloc((size_t)due * sizeof(PyObject *))) == NULL) {
        return -1;
    }
    /* gh-135552 (3.15): only weakrefs with callbacks now; the rest, and
     * the trash weakrefs, after the resurrection check (clear_weakrefs) */
    bool with_callbacks_only = gcx_probed.weakrefs_after_finalizers;
    Py_ssize_t n = 0;
    wr_memo memo = {{NULL}, {0}};
    const bool pinned = g->pinned;
    for (Py_ssize_t k = 0; k < u->len; k++) {
        PyObject *op = member_of(u, nth(o, k), pinned);
        if (op == NULL) {
            continue;
        }
        int flags = weakref_flags(&memo, op);
        if ((flags & WR_IS_WEAKREF) && !with_callbacks_only) {
            /* a trash weakref's callback must never run (bpo-38006) */
            _PyWeakref_ClearRef((PyWeakReference *)op);
        }
        if (!(flags & WR_REFERABLE)) {
            continue;
        }
        PyWeakReference **list = gcx_weakrefs_listptr(op);
        PyWeakReference *next;
        for (PyWeakReference *wr = *list; wr != NULL; wr = next) {
            next = wr->wr_next;
            if (with_callbacks_only && wr->wr_callback == NULL) {
                continue;
            }
            _PyWeakref_ClearRef(wr);   /* unlinks wr, keeps wr_callback */
            /* n < due always (nothing ran since the count); the test
             * keeps a miscount from writing past the array */
            if (callback_due(wr) && n < due) {
                to_call[n++] = Py_NewRef((PyObject *)wr);
            }
        }
    }
    GCX_ASSERT(n == due);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyWeakReference *wr = (PyWeakReference *)to_call[i];
        PyObject *callback = wr->wr_callback;
        if (callback == NULL) {
            continue;
        }
        PyObject *r = PyObject_CallOneArg(callback, (PyObject *)wr);
        if (r == NULL) {
            gcx_unraisable_weakref_callback(callback);
        }
        else {
            Py_DECREF(r);
        }
    }
    /* A weakref whose only reference left is ours dies now: CPython counts
     * it as collected. */
    Py_ssize_t freed = 0;
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        freed += Py_REFCNT(to_call[i]) == 1;
        Py_DECREF(to_call[i]);
    }
    gcx_mem_free(to_call);
    if (n > 0) {
        look(g, true);
    }
    return freed;
}

/* ---- pins, or the watch ---------------------------------------------------------- */

/* F1: a reference to every member of F, and of U unless the watch can
 * start (W1).  The same pass notes whether any member of U is a weakref
 * or has weakrefs, or has a finalizer: young garbage is mostly lists,
 * dicts, tuples and instances nothing refers to weakly, which have
 * neither, and then the passes over U for weakrefs and finalizers are
 * skipped (no weakref to a member can appear before Python code runs). */
void
gcx_hold_garbage(gcx_garbage_t *g)
{
    wr_memo memo = {{NULL}, {0}};
    bool weakrefs = false, finalizers = false;
    Py_ssize_t due = 0;
    gcx_workvec_t *u = &g->unreachable;
    for (Py_ssize_t i = 0; i < u->len; i++) {
        PyObject *op = u->items[i];
        Py_INCREF(op);   /* undone below if U is watched */
        int f = weakref_flags(&memo, op);
        if ((f & WR_REFERABLE) && *gcx_weakrefs_listptr(op) != NULL) {
            due += due_callbacks_of(op);
            weakrefs = true;
        }
        weakrefs |= (f & WR_IS_WEAKREF) != 0;
        finalizers |= Py_TYPE(op)->tp_finalize != NULL;
    }
    g->due_callbacks = due;
    g->weakrefs = weakrefs;
    g->finalizers = finalizers;
    for (Py_ssize_t i = 0; i < g->legacy.len; i++) {
        Py_INCREF(g->legacy.items[i]);
    }
    /* Python code may run before tp_clear: watched (W1), else pinned */
    bool python = finalizers || due > 0 || g->hook;
    g->pinned = !(python && u->len > 0 && gcx_watch_begin(strike));
    g->lost = false;
    if (!g->pinned) {
        for (Py_ssize_t i = 0; i < u->len; i++) {
            Py_DECREF(u->items[i]);   /* not the last: the garbage holds it */
        }
        watched = u;
    }
}

/* ---- finalizers and resurrection -------------------------------------------------- */

/* Has a member of U left CPython's list of garbage while Python code ran?
 * C code may untrack an object (greenlet does); CPython then neither
 * finalizes, recounts nor clears it.  Exact tuples and dicts are untracked
 * only by a collector, as an optimisation (the stdlib's, when it runs
 * beside gcx during finalizers): nothing a tuple or dict of atoms holds can
 * be in a cycle, and such a one is still garbage. */
static bool
left_list(PyObject *op)
{
    return !gcx_is_tracked_gc(op) && !PyTuple_CheckExact(op) && !PyDict_CheckExact(op);
}

/* The object whose tp_finalize gcx is running, or NULL.  CPython's
 * collector sets an object's FINALIZED bit before calling its finalizer, so
 * gc.is_finalized(self) is True inside __del__; PyObject_CallFinalizer, the
 * only public way to call it once, sets the bit after.  gcx never writes
 * the header, so its is_finalized answers True for this object too. */
static PyObject *finalizing;

bool
gcx_is_finalizing(PyObject *op)
{
    return op == finalizing;
}

/* Returns how many finalizers ran.  Watched, each finalizer runs with a
 * reference of gcx's to its object, as CPython's collector holds one; what
 * dies meanwhile is struck (W1), and a member is read only after a look. */
static Py_ssize_t
finalize(gcx_garbage_t *g, const order_t *o)
{
    gcx_workvec_t *u = &g->unreachable;
    Py_ssize_t ran = 0;
    for (Py_ssize_t k = 0; k < u->len; k++) {
        PyObject *op = member(g, nth(o, k));
        if (op == NULL) {
            continue;
        }
        destructor fin = Py_TYPE(op)->tp_finalize;
        if (fin != NULL && !PyObject_GC_IsFinalized(op) && !left_list(op)) {
            if (!g->pinned) {
                Py_INCREF(op);
            }
            /* PyObject_CallFinalizer sets CPython's FINALIZED bit */
            finalizing = op;
            PyObject_CallFinalizer(op);
            finalizing = NULL;
            if (PyErr_Occurred()) {
                PyErr_WriteUnraisable(op);
            }
            if (!g->pinned) {
                Py_DECREF(op);   /* op may die here: struck */
            }
            look(g, true);
            ran++;
        }
    }
    return ran;
}

/* CPython holds no reference to its garbage, so an object whose last
 * reference goes away while Python code runs (a finalizer breaking its own
 * cycle) is freed on the spot and drops out of the collection, uncounted.
 * Where a pin kept it alive (safe mode, and F always), dropping the pins of
 * members nobody else refers to, until none is left, frees the same
 * objects, later (watched, it died on the spot: W1).  Their entries
 * become NULL, in place: v keeps its numbering (for U, the region's),
 * until compact() closes the gaps. */
static Py_ssize_t
release_unreferenced(gcx_workvec_t *v)
{
    Py_ssize_t released = 0;
    bool again = true;
    while (again) {
        again = false;
        for (Py_ssize_t i = 0; i < v->len; i++) {
            PyObject *op = v->items[i];
            if (op != NULL && Py_REFCNT(op) == 1) {
                v->items[i] = NULL;
                Py_DECREF(op);   /* may bring others of v down to their pin */
                released++;
                again = true;
            }
        }
    }
    return v->len - released;   /* what is left */
}

static void
compact(gcx_workvec_t *v)
{
    Py_ssize_t keep = 0;
    for (Py_ssize_t i = 0; i < v->len; i++) {
        if (v->items[i] != NULL) {
            v->items[keep++] = v->items[i];
        }
    }
    v->len = keep;
}

/* A suspended generator's borrowed slot owns no reference (frames.c):
 * added before the traversals subtract it, so no count is held at its
 * floor by a subtraction that is then undone. */
static void
give_back_u(PyObject *target, void *arg)
{
    gcx_refs_t *refs = arg;
    Py_ssize_t i = gcx_region_index(target);
    if (i >= 0 && refs[i] >= 0) {
        refs[i]++;
    }
}

/* Split U into what a finalizer resurrected (moved to old_set, pins
 * dropped) and what is still garbage (kept in U); pinned, NULL entries
 * (released) go, watched, the resurrected become NULL too.  U is still the
 * region, numbered as the split left it: the recount uses the region's
 * counts and membership test, a released or struck member counts as no
 * member (GCX_W_EXCLUDED: edges to its address, which a new object may
 * have taken, change nothing, and it is never traversed).  On allocation
 * failure everything counts as resurrected: nothing is freed (C3 of
 * region.c). */
static void
find_resurrected(gcx_garbage_t *g, order_t *o)
{
    gcx_workvec_t *u = &g->unreachable;
    gcx_refs_t *refs = gcx_region_refs();   /* u's counts, in its order */
    Py_ssize_t pin = g->pinned ? 1 : 0;
    for (Py_ssize_t i = 0; i < u->len; i++) {
        PyObject *op = member(g, i);
        /* our pin is not a reference from outside; a member out of
         * CPython's recount (untracked, or refused by its tp_is_gc: see
         * compat.h) survives with all it reaches */
        refs[i] = op == NULL ? GCX_W_EXCLUDED
                  : !left_list(op) && !gcx_type_refuses(Py_TYPE(op), op)
                  ? gcx_refs_of(Py_REFCNT(op) - pin) : GCX_W_REACHABLE;
    }
    for (Py_ssize_t i = 0; i < u->len; i++) {
        PyObject *op = u->items[i];   /* member() just said */
        if (op != NULL && gcx_frames_may_borrow(Py_TYPE(op))) {
            if (gcx_frames_mode() != GCX_FRAMES_COMPENSATED) {
                refs[i] = GCX_W_REACHABLE;      /* FR1: it and all it reaches */
            }
            gcx_frames_each_borrowed(op, give_back_u, refs);
        }
    }
    gcx_region_subtract();
    if (gcx_traverse_closure(refs, GCX_W_REACHABLE) < 0) {
        for (Py_ssize_t i = 0; i < u->len; i++) {
            refs[i] = GCX_W_REACHABLE;
        }
    }
    if (!g->pinned) {
        /* watched: U keeps its numbering (W1) */
        for (Py_ssize_t i = 0; i < u->len; i++) {
            if (u->items[i] != NULL && refs[i] == GCX_W_REACHABLE) {
                gcx_table_promote(u->items[i], g->old_set);
                u->items[i] = NULL;
            }
        }
        return;
    }
    Py_ssize_t keep = 0;
    for (Py_ssize_t i = 0; i < u->len; i++) {
        PyObject *op = u->items[i];
        if (op == NULL) {
            order_moves(o, i, -1);
            continue;
        }
        if (refs[i] == GCX_W_REACHABLE) {
            gcx_table_promote(op, g->old_set);
            Py_DECREF(op);
            order_moves(o, i, -1);
        }
        else {
            order_moves(o, i, keep);
            u->items[keep++] = op;
        }
    }
    u->len = keep;
}

/* Clear the weakrefs that are garbage and every weakref to what is still
 * garbage, without callbacks: on 3.15 (gh-135552) the weakrefs that
 * handle_weakrefs left, where GH-91636 is in the interpreter those that
 * finalizers made. */
static void
clear_weakrefs(gcx_garbage_t *g)
{
    wr_memo memo = {{NULL}, {0}};
    for (Py_ssize_t i = 0; i < g->unreachable.len; i++) {
        PyObject *op = member(g, i);
        if (op == NULL) {
            continue;
        }
        int flags = weakref_flags(&memo, op);
        if (flags & WR_IS_WEAKREF) {
            _PyWeakref_ClearRef((PyWeakReference *)op);
        }
        if ((flags & WR_REFERABLE) && *gcx_weakrefs_listptr(op) != NULL) {
            PyUnstable_Object_ClearWeakRefsNoCallbacks(op);
        }
    }
}

/* ---- breaking cycles ---------------------------------------------------------- */

/* One member of U: to gc.garbage with DEBUG_SAVEALL, else its tp_clear
 * (an error it raises reported as unraisable). */
static void
save_or_clear(gcx_garbage_t *g, PyObject *op, bool saveall)
{
    if (saveall) {
        if (PyList_Append(g->garbage_list, op) < 0) {
            PyErr_Clear();
        }
        return;
    }
    inquiry clear = Py_TYPE(op)->tp_clear;
    if (clear != NULL) {
        (void)clear(op);
        if (PyErr_Occurred()) {
            gcx_unraisable_tp_clear(Py_TYPE(op));
        }
    }
}

/* Watched: as CPython's collector does it, in CPython's order, each member
 * that is still one held by gcx while its tp_clear runs (or while it goes
 * to gc.garbage with DEBUG_SAVEALL), and moved to the old generation if it
 * outlives that; what its clearing frees dies there and then (W3). */
static void
delete_watched(gcx_garbage_t *g, const order_t *o)
{
    gcx_workvec_t *u = &g->unreachable;
    bool saveall = *g->debug & GCX_DEBUG_SAVEALL;
    for (Py_ssize_t k = 0; k < u->len; k++) {
        Py_ssize_t i = nth(o, k);
        look(g, false);
        PyObject *op = member(g, i);
        if (op == NULL) {
            continue;
        }
        Py_INCREF(op);
        save_or_clear(g, op, saveall);
        if (Py_REFCNT(op) > 1) {
            /* still alive: it may die later, from an older generation */
            gcx_table_promote(op, g->old_set);
        }
        Py_DECREF(op);
        u->items[i] = NULL;   /* done with (struck already if it died) */
    }
    u->len = 0;
    watch_end();
}

/* The members left in U. */
static Py_ssize_t
members_left(gcx_garbage_t *g)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < g->unreachable.len; i++) {
        n += member(g, i) != NULL;
    }
    return n;
}

static void
delete_garbage(gcx_garbage_t *g)
{
    gcx_workvec_t *u = &g->unreachable;
    int old_set = g->old_set;
    bool saveall = *g->debug & GCX_DEBUG_SAVEALL;
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < u->len; i++) {
        PyObject *op = u->items[i];
        /* (Held by the pin alone, it is freed by dropping the pin below, as
         * CPython frees it when clearing its last referrer.) */
        if (saveall || (Py_REFCNT(op) > 1 && !left_list(op))) {
            save_or_clear(g, op, saveall);
        }
        if (Py_REFCNT(op) > 1) {
            /* Referred to still: mostly by garbage later in u, which frees
             * it when it dies.  Keep the pin, and decide after the loop. */
            u->items[kept++] = op;
            continue;
        }
        Py_DECREF(op);   /* F1: the pin */
    }
    for (Py_ssize_t i = 0; i < kept; i++) {
        PyObject *op = u->items[i];
        if (Py_REFCNT(op) > 1) {
            /* still alive: it may die later, from an older generation */
            gcx_table_promote(op, old_set);
        }
        Py_DECREF(op);   /* F1: the pin */
    }
    u->len = 0;
}

static void
handle_legacy(gcx_garbage_t *g)
{
    gcx_workvec_t *f = &g->legacy;
    int old_set = g->old_set;
    bool saveall = *g->debug & GCX_DEBUG_SAVEALL;
    bool append = true;
    for (Py_ssize_t i = 0; i < f->len; i++) {
        PyObject *op = f->items[i];
        if (append && (saveall || Py_TYPE(op)->tp_del != NULL)) {
            if (PyList_Append(g->garbage_list, op) < 0) {
                PyErr_Clear();
                append = false;
            }
        }
        gcx_table_promote(op, old_set);
    }
    for (Py_ssize_t i = 0; i < f->len; i++) {
        Py_DECREF(f->items[i]);
    }
}

/* ---- the garbage hook (cycle reports) -------------------------------------------- */

/* With a hook set (gcx.set_garbage_hook), it is called once per collection
 * that found garbage, before anything is done to it: hook(generation,
 * collectable, uncollectable) with two lists of the objects.  Both lists are
 * emptied as soon as it returns, so the report cannot keep the garbage alive
 * unless the hook stores the objects themselves; an error it raises is
 * reported as unraisable. */
static PyObject *
list_of(gcx_workvec_t *v)
{
    PyObject *list = PyList_New(v->len);
    for (Py_ssize_t i = 0; list != NULL && i < v->len; i++) {
        PyList_SET_ITEM(list, i, Py_NewRef(v->items[i]));   /* none struck yet */
    }
    return list;
}

void
gcx_report_garbage(gcx_garbage_t *g, int generation, PyObject *hook)
{
    hook = Py_NewRef(hook);
    PyObject *u = list_of(&g->unreachable);
    PyObject *f = u ? list_of(&g->legacy) : NULL;
    if (f != NULL) {
        PyObject *r = PyObject_CallFunction(hook, "iOO", generation, u, f);
        if (r == NULL) {
            PyErr_WriteUnraisable(hook);
        }
        Py_XDECREF(r);
    }
    else {
        PyErr_WriteUnraisable(hook);
    }
    /* the hook may have made weakrefs to the garbage, or changed a
     * member's class to one with a finalizer */
    g->weakrefs = g->finalizers = true;
    g->due_callbacks = -1;   /* handle_weakrefs counts again */
    if (u != NULL && PyList_SetSlice(u, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        PyErr_Clear();
    }
    if (f != NULL && PyList_SetSlice(f, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        PyErr_Clear();
    }
    Py_XDECREF(u);
    Py_XDECREF(f);
    Py_DECREF(hook);
    look(g, true);
}

/* ---- the entry point -------------------------------------------------------------- */

/* Out of memory before anything was done to the garbage: as C3 of
 * region.c, the collection gives up.  Every record is where it was (the
 * garbage's records never left their generation); dropping the pins frees
 * nothing that something else does not hold, except what Python code run
 * by the garbage hook let go of, which refcounting then frees as usual. */
static void
give_up(gcx_garbage_t *g)
{
    for (Py_ssize_t i = 0; g->pinned && i < g->unreachable.len; i++) {
        Py_DECREF(g->unreachable.items[i]);
    }
    watch_end();
    for (Py_ssize_t i = 0; i < g->legacy.len; i++) {
        Py_DECREF(g->legacy.items[i]);
    }
    g->unreachable.len = g->legacy.len = 0;
    g->collected = g->uncollectable = 0;
}

void
gcx_finalize_garbage(gcx_garbage_t *g)
{
    order_t order;
    stdlib_order(&order, g);
    if (*g->debug & GCX_DEBUG_COLLECTABLE) {
        debug_print("collectable", &g->unreachable, &order, g);
    }
    /* Python code that could reach the garbage ran: finalizers, and on
     * 3.15 weakref callbacks too, since the weakrefs without callbacks to
     * the garbage are still alive while they run */
    bool reached = false;
    if (g->weakrefs) {
        Py_ssize_t due = g->due_callbacks >= 0 ? g->due_callbacks
                                               : count_due_callbacks(g);
        Py_ssize_t freed = handle_weakrefs(g, due, &order);
        if (freed < 0) {
            order_done(&order);
            give_up(g);
            return;
        }
        g->collected += freed;
        reached = due > 0 && gcx_probed.weakrefs_after_finalizers;
    }
    if (g->finalizers && finalize(g, &order) > 0) {
        reached = true;
    }
    if (reached) {
        /* Only that code can reach the garbage (before 3.15 callbacks
         * cannot: every weakref into it is cleared, and get_objects()
         * hides it), so only it can free or resurrect any of it. */
        if (!g->pinned) {
            if (any_member_left(g)) {
                find_resurrected(g, &order);
            }
        }
        else if (release_unreferenced(&g->unreachable) > 0) {
            find_resurrected(g, &order);
        }
        else {
            g->unreachable.len = 0;   /* all of it was released */
        }
    }
    /* weakrefs Python code may have made to what is left (GH-91636: that
     * code, or the garbage hook before it), and on 3.15 those
     * handle_weakrefs left; else there are none */
    if ((gcx_probed.weakrefs_after_finalizers && g->weakrefs)
        || ((reached || g->hook)
            && (gcx_probed.late_weakref_clear || gcx_probed.weakrefs_after_finalizers))) {
        clear_weakrefs(g);
    }
    if (g->pinned) {
        reorder(&order, &g->unreachable);
        g->collected += g->unreachable.len;
        delete_garbage(g);
    }
    else {
        look(g, true);
        g->collected += members_left(g);
        delete_watched(g, &order);
    }
    order_done(&order);
    (void)release_unreferenced(&g->legacy);
    compact(&g->legacy);
    g->uncollectable = g->legacy.len;
    if (*g->debug & GCX_DEBUG_UNCOLLECTABLE) {
        debug_print("uncollectable", &g->legacy, NULL, NULL);
    }
    handle_legacy(g);
}
