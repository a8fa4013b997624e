/* heap.c: questions and moves over every record: what gc.get_objects,
 * get_referrers, is_tracked, freeze, unfreeze, the freeze count and
 * gcx.census see; and aging, the young generations moved into the old one.
 *
 * Start at gcx_heap_objects.  Every function here first makes the records
 * trustworthy (gcx_sync, R2 of tracer.c) and then goes by CPython's lists:
 * an object is in a generation when it has a record there and CPython
 * tracks it now (gcx_is_tracked_gc), whatever its tp_is_gc says, as
 * CPython's own get_objects, get_count and freeze go by their lists.
 *
 * Invariant:
 *  H1  no Python code runs between reading the records and taking a
 *      reference to every object found (every type, for a census), so
 *      every object returned is alive.
 */
#include "gcx.h"

/* ---- objects ----------------------------------------------------------------- */

typedef struct {
    PyObject **found;
    Py_ssize_t n, cap;
    bool in_collection;
} found_state;

/* Is op one of the objects asked for: tracked by CPython now, not garbage
 * being collected (in no generation), and there is room for it? */
static inline bool
takes(const found_state *st, PyObject *op)
{
    return !(st->in_collection && gcx_garbage_hides(op))
           && gcx_is_tracked_gc(op) && st->n < st->cap;
}

static void
find_tracked(gcx_page_t *p, unsigned slot, int set, void *arg)
{
    found_state *st = arg;
    PyObject *op = gcx_slot_object(p, slot);
    if (takes(st, op)) {
        st->found[st->n++] = op;
    }
}

/* fn(record, st) for the records of the sets in set_mask, with room in st
 * for each, then what fn put in st as a new list (or NULL with an
 * exception).  st->in_collection is the caller's; fn's arg is st (a
 * state that begins with it). */
static PyObject *
found_list(unsigned set_mask, gcx_record_fn fn, found_state *st)
{
    gcx_sync(true);
    st->n = st->cap = 0;
    for (int s = 0; s < GCX_NSETS; s++) {
        if (set_mask & (1u << s)) {
            st->cap += gcx_table.total[s];
        }
    }
    /* room for every record: a vector that grew would allocate while the
     * table is walked */
    st->found = gcx_mem_malloc((size_t)(st->cap ? st->cap : 1) * sizeof(PyObject *));
    if (st->found == NULL) {
        return PyErr_NoMemory();
    }
    gcx_table_each(set_mask, fn, st);
    /* No Python code ran above, so every object found is alive (H1). */
    PyObject *list = PyList_New(st->n);
    for (Py_ssize_t i = 0; list != NULL && i < st->n; i++) {
        PyList_SET_ITEM(list, i, Py_NewRef(st->found[i]));
    }
    gcx_mem_free(st->found);
    st->found = NULL;
    return list;
}

/* The objects of the sets in set_mask that CPython tracks now, as a new
 * list.  While a collection runs (hide_garbage), its garbage is in no
 * generation. */
PyObject *
gcx_heap_objects(unsigned set_mask, bool hide_garbage)
{
    found_state st = {NULL, 0, 0, hide_garbage};
    return found_list(set_mask, find_tracked, &st);
}

static void
count_tracked(gcx_page_t *p, unsigned slot, int set, void *n)
{
    *(Py_ssize_t *)n += gcx_is_tracked_gc(gcx_slot_object(p, slot));
}

/* How many records of set CPython tracks now: the size of its list. */
Py_ssize_t
gcx_heap_count(int set)
{
    Py_ssize_t n = 0;
    gcx_table_each(1u << set, count_tracked, &n);
    return n;
}

/* gc.is_tracked(op); a live tracked container gcx has no record of is
 * adopted on the way (R3 of tracer.c). */
bool
gcx_heap_is_tracked(PyObject *op)
{
    if (!PyObject_IS_GC(op)) {
        return false;
    }
    if (gcx_table_set_of(op) < 0) {
        if (!PyObject_GC_IsTracked(op)) {
            return false;
        }
        gcx_adopt(op);
        return true;
    }
    return PyObject_GC_IsTracked(op);
}

/* ---- census: tracked objects by type ------------------------------------------ */

/* Counts per type, in an open-addressing table keyed by the type's
 * address (types are not dereferenced while counting).  Its memory is
 * kept between censuses. */
typedef struct {
    PyTypeObject *type;          /* NULL: empty */
    Py_ssize_t n;
} census_slot;

typedef struct {
    census_slot *slots;
    size_t mask;                 /* capacity - 1 */
    size_t used;
    census_slot *last;           /* the last type's slot: neighbours share types */
    bool in_collection;
    bool failed;                 /* out of memory */
} census_state;

static census_slot *census_slots;
static size_t census_capacity;

static inline size_t
census_hash(PyTypeObject *tp, size_t mask)
{
    return (size_t)(((uintptr_t)tp >> 4) * (uint64_t)0x9E3779B97F4A7C15ULL >> 32) & mask;
}

static census_slot *
census_find(census_state *st, PyTypeObject *tp)
{
    size_t i = census_hash(tp, st->mask);
    while (st->slots[i].type != NULL && st->slots[i].type != tp) {
        i = (i + 1) & st->mask;
    }
    return &st->slots[i];
}

/* Double the table (load stays at most 1/2); false on allocation failure. */
static bool
census_grow(census_state *st)
{
    size_t cap = (st->mask + 1) * 2;
    census_slot *slots = gcx_mem_calloc(cap, sizeof(census_slot));
    if (slots == NULL) {
        return false;
    }
    census_state next = {slots, cap - 1, st->used, NULL, st->in_collection, false};
    for (size_t i = 0; i <= st->mask; i++) {
        if (st->slots[i].type != NULL) {
            *census_find(&next, st->slots[i].type) = st->slots[i];
        }
    }
    gcx_mem_free(st->slots);
    census_slots = slots;
    census_capacity = cap;
    *st = next;
    return true;
}

static void
count_type(gcx_page_t *p, unsigned slot, int set, void *arg)
{
    census_state *st = arg;
    PyObject *op = gcx_slot_object(p, slot);
    if (st->failed || !gcx_is_tracked_gc(op)
        || (st->in_collection && gcx_garbage_hides(op))) {
        return;
    }
    PyTypeObject *tp = Py_TYPE(op);
    if (st->last != NULL && st->last->type == tp) {
        st->last->n++;
        return;
    }
    census_slot *s = census_find(st, tp);
    if (s->type == NULL) {
        if (2 * (st->used + 1) > st->mask + 1) {
            if (!census_grow(st)) {
                st->failed = true;
                return;
            }
            s = census_find(st, tp);
        }
        s->type = tp;
        st->used++;
    }
    s->n++;
    st->last = s;
}

/* The objects of the sets in set_mask that CPython tracks now, counted by
 * type: a new list of (type, count) pairs, in no order, or NULL with an
 * exception.  O(records), and no object list is built.  While a
 * collection runs (hide_garbage), its garbage is in no generation. */
PyObject *
gcx_heap_census(unsigned set_mask, bool hide_garbage)
{
    gcx_sync(true);
    if (census_slots == NULL) {
        census_slots = gcx_mem_calloc(256, sizeof(census_slot));
        if (census_slots == NULL) {
            return PyErr_NoMemory();
        }
        census_capacity = 256;
    }
    census_state st = {census_slots, census_capacity - 1, 0, NULL, hide_garbage, false};
    gcx_table_each(set_mask, count_type, &st);
    /* Every type counted is the type of an object tracked above, so it is
     * alive; no Python code runs until each has its reference (H1:
     * allocation runs no collection, which waits for an eval-breaker
     * check in 3.13). */
    PyObject *list = st.failed ? NULL : PyList_New((Py_ssize_t)st.used);
    Py_ssize_t k = 0;
    for (size_t i = 0; i <= st.mask; i++) {
        census_slot *s = &st.slots[i];
        if (s->type != NULL && list != NULL) {
            PyObject *pair = Py_BuildValue("(On)", (PyObject *)s->type, s->n);
            if (pair == NULL) {
                Py_CLEAR(list);
            }
            else {
                PyList_SET_ITEM(list, k++, pair);
            }
        }
        *s = (census_slot){NULL, 0};   /* empty for the next census */
    }
    if (list == NULL && !PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    return list;
}

/* ---- referrers ------------------------------------------------------------------ */

typedef struct {
    found_state found;
    PyObject *objs;              /* the tuple of objects referred to */
    bool hit;
} referrer_state;

static int
visit_referrer(PyObject *op, void *arg)
{
    referrer_state *st = arg;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(st->objs); i++) {
        if (PyTuple_GET_ITEM(st->objs, i) == op) {
            st->hit = true;
            return 1;
        }
    }
    return 0;
}

/* Each object find_tracked would take is traversed where it is found
 * (tp_traverse runs no Python code), and kept if it refers to an item of
 * objs: no list of every object is built first. */
static void
find_referrer(gcx_page_t *p, unsigned slot, int set, void *arg)
{
    referrer_state *st = arg;    /* found_list's st is its first member */
    PyObject *op = gcx_slot_object(p, slot);
    if (op == st->objs || !takes(&st->found, op)) {
        return;
    }
    st->hit = false;
    (void)Py_TYPE(op)->tp_traverse(op, visit_referrer, st);
    if (st->hit) {
        st->found.found[st->found.n++] = op;
    }
}

/* The objects of the generations that refer to an item of the tuple objs,
 * as a new list, or NULL with an exception. */
PyObject *
gcx_heap_referrers(PyObject *objs, bool hide_garbage)
{
    referrer_state st = {{NULL, 0, 0, hide_garbage}, objs, false};
    return found_list(GCX_GENS_MASK, find_referrer, &st.found);
}

/* ---- the frozen set ---------------------------------------------------------------- */

/* Like CPython's, freeze() moves what is tracked now into the frozen set;
 * an untracked container stays where it is, and a dict among them goes to
 * generation 0 when CPython tracks it (R5 of tracer.c). */
static void
freeze_one(gcx_page_t *p, unsigned slot, int set, void *arg)
{
    PyObject *op = gcx_slot_object(p, slot);
    if (gcx_is_tracked_gc(op)) {
        gcx_table_move(p, slot, set, GCX_FROZEN);
    }
    else {
        gcx_watch_untracked(op);
    }
}

void
gcx_heap_freeze(void)
{
    gcx_sync(true);
    gcx_table_each(GCX_GENS_MASK, freeze_one, NULL);
}

void
gcx_heap_unfreeze(void)
{
    gcx_table_move_all(GCX_FROZEN, GCX_GEN2);
}

/* ---- aging ------------------------------------------------------------------------ */

/* Generations 0 and 1 become part of generation 2, unexamined, as if they
 * had survived young collections: a policy that collects the old
 * generation in slices (gcx/_budget.py) takes over what the young ones
 * hold, which one young collection could not examine within its budget.
 * Returns the records moved.  Not while a collection runs (its region
 * is generations 0..g). */
Py_ssize_t
gcx_heap_age(void)
{
    gcx_sync(true);
    Py_ssize_t moved = gcx_table.total[GCX_GEN0] + gcx_table.total[GCX_GEN1];
    gcx_table_move_all(GCX_GEN0, GCX_GEN2);
    gcx_table_move_all(GCX_GEN1, GCX_GEN2);
    gcx_table_rebuild_lists();   /* the young and middle lists: empty (T4) */
    return moved;
}
