/* heap.c: questions and moves over every record: what gc.get_objects,
 * get_referrers, is_tracked, freeze, unfreeze and the freeze count see.
 *
 * Start at gcx_heap_objects.  Every function here first makes the records
 * trustworthy (gcx_sync, R2 of tracer.c) and then goes by CPython's lists:
 * an object is in a generation when it has a record there and CPython
 * tracks it now (gcx_is_tracked_gc), whatever its tp_is_gc says, as
 * CPython's own get_objects, get_count and freeze go by their lists.
 *
 * Invariant:
 *  H1  no Python code runs between reading the records and taking a
 *      reference to every object found, so every object returned is alive.
 */
#include "gcx.h"

/* ---- objects ----------------------------------------------------------------- */

typedef struct {
    PyObject **found;
    Py_ssize_t n, cap;
    bool in_collection;
} found_state;

static void
find_tracked(gcx_page_t *p, unsigned slot, int set, void *arg)
{
    found_state *st = arg;
    PyObject *op = gcx_slot_object(p, slot);
    if (st->in_collection && gcx_region_index(op) >= 0) {
        return;   /* garbage being collected: in no generation */
    }
    if (gcx_is_tracked_gc(op) && st->n < st->cap) {
        st->found[st->n++] = op;
    }
}

/* The objects of the sets in set_mask that CPython tracks now, as a new
 * list.  While a collection runs (hide_garbage), its garbage is in no
 * generation. */
PyObject *
gcx_heap_objects(unsigned set_mask, bool hide_garbage)
{
    gcx_sync(true);
    found_state st = {NULL, 0, 0, hide_garbage};
    for (int s = 0; s < GCX_NSETS; s++) {
        if (set_mask & (1u << s)) {
            st.cap += gcx_table.total[s];
        }
    }
    st.found = PyMem_Malloc((size_t)(st.cap ? st.cap : 1) * sizeof(PyObject *));
    if (st.found == NULL) {
        return PyErr_NoMemory();
    }
    gcx_table_each(set_mask, find_tracked, &st);
    /* No Python code ran above, so every object found is alive. */
    PyObject *list = PyList_New(st.n);
    for (Py_ssize_t i = 0; list != NULL && i < st.n; i++) {
        PyList_SET_ITEM(list, i, Py_NewRef(st.found[i]));
    }
    PyMem_Free(st.found);
    return list;
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

/* ---- referrers ------------------------------------------------------------------ */

typedef struct {
    PyObject *objs;
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

/* The objects of the generations that refer to an item of the tuple objs,
 * as a new list, or NULL with an exception. */
PyObject *
gcx_heap_referrers(PyObject *objs, bool hide_garbage)
{
    PyObject *all = gcx_heap_objects(GCX_GENS_MASK, hide_garbage);
    if (all == NULL) {
        return NULL;
    }
    PyObject *result = PyList_New(0);
    if (result == NULL) {
        Py_DECREF(all);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(all); i++) {
        PyObject *op = PyList_GET_ITEM(all, i);
        if (op == objs || op == result) {
            continue;
        }
        referrer_state st = {objs, false};
        (void)Py_TYPE(op)->tp_traverse(op, visit_referrer, &st);
        if (st.hit && PyList_Append(result, op) < 0) {
            Py_DECREF(all);
            Py_DECREF(result);
            return NULL;
        }
    }
    Py_DECREF(all);
    return result;
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
