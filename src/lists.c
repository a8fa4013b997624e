/* lists.c: CPython's own collector state: what it tracked since a marker,
 * read from its generation lists (births without a reference tracer), and
 * its switches, set for its trigger to serve gcx (gcx_lists_trigger_*).
 *
 * CPython links every container it tracks at the tail of its youngest
 * list (generation 0), and its collector only ever appends whole lists to
 * the tail of older ones (a collection of generation k appends 0..k-1 to
 * k, then k's survivors to k+1; gc.freeze() appends them all to the
 * permanent generation).  So with a marker of gcx's own tracked at the
 * tail of generation 0, the containers tracked since are: those after the
 * marker in whatever list it is now in, and every container of the lists
 * younger than that one.  That is O(new containers), where
 * PyUnstable_GC_VisitObjects walks the whole tracked heap.
 *
 * The lists' heads live in the interpreter's collector state, whose layout
 * is CPython's internal struct _gc_runtime_state: this file is compiled
 * with CPython's internal headers (Py_BUILD_CORE), includes no other gcx
 * header and calls no other gcx file.  The state is found from the marker
 * (just tracked, its next link is generation 0's head).
 *
 * Invariants:
 *  L1  The walk runs only when gcx_lists_init proved the layout on the
 *      running interpreter: the four heads are consistent circular lists,
 *      the marker is generation 0's tail, the thresholds read through the
 *      state are the ones the stdlib's gc.set_threshold() just set (then
 *      restored), the enabled flag is gc.isenabled(), and the permanent
 *      list is as long as gc.get_freeze_count() says.  Otherwise
 *      gcx_lists_ok() is false and callers do without.  The collecting
 *      flag is handed out only if, besides, the state's garbage and
 *      callbacks (its neighbours) are the gc module's lists and it is 0.
 *  L2  Links are only read, never written (gcx tracks and untracks its
 *      marker through the public API); of the state, only the collecting
 *      flag (and on 3.15 the frame beside it) is written, by schedule.c's
 *      G1 bracket through gcx_lists_collecting, and the generations'
 *      counts: generation 0's by schedule.c while gcx counts as CPython
 *      does (G3, through gcx_lists_young_count), 1 and 2's at uninstall
 *      (gcx_lists_set_older_counts).  CPython's own trigger
 *      (gcx_lists_trigger_*) changes the rest only through the gc
 *      module's own functions, taken at init: thresholds, debug flags,
 *      on/off, and gc.freeze()/gc.unfreeze(), which move whole lists.  A walk starts at a tracked marker
 *      and stops at a head, so it only ever reads headers of containers
 *      CPython lists.  It must not run while the stdlib collector moves
 *      objects between lists; Python code runs during a stdlib collection
 *      only once the collected lists are merged back (finalizers and
 *      callbacks), and gcx's marker, never garbage, is then in a list.
 */
#define Py_BUILD_CORE_MODULE 1
#include "Python.h"
#include "lists.h"

#include <limits.h>
#include <stddef.h>
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interp_structs.h"
#else
#include "internal/pycore_gc.h"
#endif

#define NHEADS 4                        /* generations 0, 1, 2, permanent */

static PyGC_Head *heads[NHEADS];        /* youngest first */
static int *young_count;                /* generations[0].count */
static int *older_count[2];             /* generations[1].count, [2].count */
static struct _gc_runtime_state *flag_state;   /* the state, if its flag is ours to set */
static uintptr_t heads_low, heads_span; /* the state's bytes holding them */
static bool ok;

/* The gc module's own functions, taken at import, before install() points
 * the module's names at gcx's: what CPython's own trigger (below) calls;
 * all of them builtins (gcf_ok), or none used. */
static struct {
    PyObject *get_threshold, *set_threshold, *enable, *disable, *get_debug, *set_debug,
             *freeze, *unfreeze;
} gcf;
static bool gcf_ok;

static inline PyGC_Head *
as_gc(PyObject *op)
{
    return (PyGC_Head *)op - 1;
}

static inline PyGC_Head *
next_of(PyGC_Head *g)
{
    /* bit 0 marks unreachable objects during a collection */
    return (PyGC_Head *)(g->_gc_next & ~(uintptr_t)3);
}

static inline PyGC_Head *
prev_of(PyGC_Head *g)
{
    /* the two lowest bits are flags (3.12-3.15: _PyGC_PREV_SHIFT 2) */
    return (PyGC_Head *)(g->_gc_prev & ~(uintptr_t)3);
}

static inline int
head_index(PyGC_Head *g)
{
    if ((uintptr_t)g - heads_low > heads_span) {
        return -1;     /* the usual answer, in one comparison */
    }
    for (int i = 0; i < NHEADS; i++) {
        if (g == heads[i]) {
            return i;
        }
    }
    return -1;
}

/* A circular list around head, as far as its ends can tell. */
static bool
consistent(PyGC_Head *head)
{
    PyGC_Head *first = next_of(head), *last = prev_of(head);
    return first != NULL && last != NULL && prev_of(first) == head && next_of(last) == head;
}

/* gc.NAME(*args) (args NULL: none), or NULL with the error cleared: a
 * failed check is a "no", not an error. */
static PyObject *
call_gc(PyObject *gc, const char *name, PyObject *args)
{
    PyObject *fn = PyObject_GetAttrString(gc, name);
    PyObject *r = fn == NULL ? NULL : PyObject_CallObject(fn, args);
    Py_XDECREF(fn);
    if (r == NULL) {
        PyErr_Clear();
    }
    return r;
}

/* Is gc.NAME the object op? */
static bool
same_object(PyObject *op, PyObject *gc, const char *name)
{
    PyObject *attr = PyObject_GetAttrString(gc, name);
    if (attr == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(attr);
    return attr != NULL && attr == op;
}

/* An integer result (taken) as a C long; -1 if there is none. */
static long
long_of(PyObject *r)
{
    long v = r == NULL ? -1 : PyLong_AsLong(r);
    Py_XDECREF(r);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
    }
    return v;
}

/* Do the thresholds read through the state follow gc.set_threshold()? */
static bool
thresholds_follow(struct _gc_runtime_state *st, PyObject *gc)
{
    PyObject *was = call_gc(gc, "get_threshold", NULL);
    if (was == NULL || !PyTuple_Check(was) || PyTuple_GET_SIZE(was) != 3) {
        Py_XDECREF(was);
        return false;
    }
    PyObject *probe = Py_BuildValue("(iii)", 12347, 53, 31);
    PyObject *set = probe == NULL ? NULL : call_gc(gc, "set_threshold", probe);
    bool follow = set != NULL
                  && st->generations[0].threshold == 12347
                  && st->generations[1].threshold == 53
                  && st->generations[2].threshold == 31;
    Py_XDECREF(set);
    Py_XDECREF(probe);
    /* restore whatever was there, whether or not the probe worked */
    PyObject *back = call_gc(gc, "set_threshold", was);
    follow = follow && back != NULL
             && st->generations[0].threshold == long_of(Py_NewRef(PyTuple_GET_ITEM(was, 0)));
    Py_XDECREF(back);
    Py_DECREF(was);
    return follow;
}

int
gcx_lists_init(PyObject *marker, PyObject *gc)
{
    ok = false;
    flag_state = NULL;
    PyGC_Head *m = as_gc(marker);
    PyGC_Head *h0 = next_of(m);
    if (!PyObject_GC_IsTracked(marker) || h0 == NULL || prev_of(h0) != m) {
        return 0;
    }
    struct _gc_runtime_state *st = (struct _gc_runtime_state *)
        ((char *)h0 - offsetof(struct _gc_runtime_state, generations[0].head));
    /* first what lies in the state itself, next to h0 (if h0 were not
     * generation 0's head, its links could lead anywhere) ... */
#if PY_VERSION_HEX < 0x030E0000
    if (st->generation0 != h0) {
        return 0;
    }
#endif
    if (!thresholds_follow(st, gc) || st->enabled != long_of(call_gc(gc, "isenabled", NULL))) {
        return 0;
    }
    /* ... then the lists */
    for (int i = 0; i < 3; i++) {
        heads[i] = &st->generations[i].head;
    }
    heads[3] = &st->permanent_generation.head;
    young_count = &st->generations[0].count;
    older_count[0] = &st->generations[1].count;
    older_count[1] = &st->generations[2].count;
    heads_low = (uintptr_t)heads[0];
    heads_span = (uintptr_t)heads[3] - heads_low;
    for (int i = 0; i < NHEADS; i++) {
        if (!consistent(heads[i])) {
            return 0;
        }
    }
    long frozen = long_of(call_gc(gc, "get_freeze_count", NULL));
    long n = 0;
    for (PyGC_Head *g = next_of(heads[3]); g != heads[3] && n <= frozen; g = next_of(g)) {
        n++;
    }
    ok = n == frozen;
    flag_state = ok && same_object(st->garbage, gc, "garbage")
                 && same_object(st->callbacks, gc, "callbacks") && st->collecting == 0
                 ? st : NULL;
    if (flag_state != NULL && gcf.freeze == NULL) {
        PyObject **f[] = {&gcf.get_threshold, &gcf.set_threshold, &gcf.enable, &gcf.disable,
                          &gcf.get_debug, &gcf.set_debug, &gcf.freeze, &gcf.unfreeze};
        const char *names[] = {"get_threshold", "set_threshold", "enable", "disable",
                               "get_debug", "set_debug", "freeze", "unfreeze"};
        gcf_ok = true;
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            *f[i] = PyObject_GetAttrString(gc, names[i]);   /* kept for good */
            if (*f[i] == NULL) {
                PyErr_Clear();
            }
            /* not the gc module's own: another tool replaced it */
            gcf_ok = gcf_ok && *f[i] != NULL && PyCFunction_Check(*f[i]);
        }
    }
    return 0;
}

bool
gcx_lists_ok(void)
{
    return ok;
}

int *
gcx_lists_young_count(void)
{
    return ok ? young_count : NULL;
}

int64_t
gcx_lists_collections_mark(void)
{
    return ok ? (int64_t)(uint32_t)*older_count[0] << 32 | (uint32_t)*older_count[1] : -1;
}

void
gcx_lists_set_older_counts(int c1, int c2)
{
    if (ok) {
        *older_count[0] = c1;
        *older_count[1] = c2;
    }
}

bool
gcx_lists_can_flag(void)
{
    return flag_state != NULL;   /* set only where ok */
}

int
gcx_lists_collecting(int on)
{
    int was = flag_state->collecting;
    if (on >= 0) {
        flag_state->collecting = on;
#if PY_VERSION_HEX >= 0x030F0000
        /* what CPython's own collection notes: the frame running when it
         * began, under which the finalizers and callbacks it runs push
         * theirs */
        flag_state->frame = on ? PyThreadState_GET()->current_frame : NULL;
#endif
    }
    return was;
}

/* ---- CPython's own trigger -------------------------------------------------- */

/* While armed, CPython's collector is on, with gcx's threshold for
 * generation 0, threshold 1 at 0 (its count kept at 1:
 * gcx_lists_trigger_stopped), generation 2 out of reach, and debug flags
 * cleared: CPython then asks for a collection exactly when its rule
 * would, at no cost to any allocation, and its collection, of generation
 * 1, starts by calling gc.callbacks, where gcx collects and freezes every list (K3 of
 * tracer.c) so that the stdlib's collection finds them empty.  Only with
 * the permanent generation empty when armed: disarming thaws it whole
 * (gc.unfreeze), so anything the program froze before would be thawed
 * too.  Every change goes through the gc module's own functions. */
static struct {
    PyObject *thresholds;   /* as before arming: set_threshold's arguments */
    PyObject *debug;        /* ... set_debug's */
    int enabled;
    bool armed;
} before_arming;

/* fn(*args) (args a tuple, or NULL: none) with whatever exception is
 * pending kept aside; false (the error cleared) if it failed. */
static bool
call_kept(PyObject *fn, PyObject *args)
{
    PyObject *pending = PyErr_GetRaisedException();
    PyObject *r = fn == NULL ? NULL : args == NULL ? PyObject_CallNoArgs(fn)
                  : PyObject_CallObject(fn, args);
    bool done = r != NULL;
    Py_XDECREF(r);
    if (!done) {
        PyErr_Clear();
    }
    PyErr_SetRaisedException(pending);
    return done;
}

static bool
set_thresholds(int t0, int t1, int t2)
{
    PyObject *args = Py_BuildValue("(iii)", t0, t1, t2);
    bool done = args != NULL && call_kept(gcf.set_threshold, args);
    Py_XDECREF(args);
    if (args == NULL) {
        PyErr_Clear();
    }
    return done;
}

bool
gcx_lists_trigger_arm(int threshold0)
{
    if (!gcf_ok || flag_state == NULL || before_arming.armed || threshold0 <= 0
        || next_of(heads[NHEADS - 1]) != heads[NHEADS - 1] || flag_state->collecting) {
        return false;
    }
    int was_enabled = flag_state->enabled;
    PyObject *pending = PyErr_GetRaisedException();
    PyObject *thresholds = PyObject_CallNoArgs(gcf.get_threshold);
    PyObject *flags = thresholds == NULL ? NULL : PyObject_CallNoArgs(gcf.get_debug);
    PyObject *debug = flags == NULL ? NULL : PyTuple_Pack(1, flags);   /* set_debug's args */
    Py_XDECREF(flags);
    PyObject *zero = debug == NULL ? NULL : Py_BuildValue("(i)", 0);
    bool armed = zero != NULL && PyTuple_Check(thresholds) && PyTuple_GET_SIZE(thresholds) == 3
                 && call_kept(gcf.set_debug, zero);
    Py_XDECREF(zero);
    if (armed && !set_thresholds(threshold0, 0, INT_MAX)) {
        (void)call_kept(gcf.set_debug, debug);
        armed = false;
    }
    if (armed && !was_enabled && !call_kept(gcf.enable, NULL)) {
        (void)call_kept(gcf.set_threshold, thresholds);
        (void)call_kept(gcf.set_debug, debug);
        armed = false;
    }
    if (armed) {
        before_arming.thresholds = thresholds;
        before_arming.debug = debug;
        before_arming.enabled = was_enabled;
        before_arming.armed = true;
        gcx_lists_trigger_stopped();
    }
    else {
        Py_XDECREF(thresholds);
        Py_XDECREF(debug);
    }
    PyErr_Clear();
    PyErr_SetRaisedException(pending);
    return armed;
}

/* gcx's threshold for generation 0 changed while armed. */
void
gcx_lists_trigger_rearm(int threshold0)
{
    if (before_arming.armed) {
        (void)set_thresholds(threshold0, 0, INT_MAX);
    }
}

/* Armed, CPython's threshold 1 is 0 and its count of generation 1 kept
 * at 1: every collection CPython's trigger runs is one of generation 1,
 * whatever generation 0's count is by then.  CPython schedules a collection
 * when an allocation passes threshold 0 and picks the generation at the
 * next eval-breaker check; a C call that passes it and frees what it made
 * before it returns leaves the count under it, and with generation 1 out of
 * reach CPython would then collect nothing and call no callback, where the
 * stdlib's rule (which gcx applies inside the callback) takes generation 1
 * if its count is past threshold 1.  Set at arming and after each of its
 * collections (which zero it). */
void
gcx_lists_trigger_stopped(void)
{
    if (before_arming.armed && *older_count[0] < 1) {
        *older_count[0] = 1;
    }
}

/* Everything CPython lists goes to its permanent generation, in O(1)
 * (gc.freeze), and its counts to zero; gcx's marker with it, which the
 * caller tracks again at once. */
void
gcx_lists_trigger_freeze(void)
{
    if (before_arming.armed) {
        (void)call_kept(gcf.freeze, NULL);
    }
}

/* Back as before arming: what was frozen (all of it gcx's) thawed into
 * generation 2, CPython's thresholds, debug flags and on/off put back. */
void
gcx_lists_trigger_disarm(void)
{
    if (!before_arming.armed) {
        return;
    }
    before_arming.armed = false;
    (void)call_kept(gcf.unfreeze, NULL);
    (void)call_kept(gcf.set_threshold, before_arming.thresholds);
    (void)call_kept(gcf.set_debug, before_arming.debug);
    if (!before_arming.enabled) {
        (void)call_kept(gcf.disable, NULL);
    }
    Py_CLEAR(before_arming.thresholds);
    Py_CLEAR(before_arming.debug);
}

/* What gcx_lists_gather found, for gcx_lists_each_rest. */
static PyObject *gathered[GCX_LISTS_GATHER];
static struct {
    PyGC_Head *marker;
    PyGC_Head *last;     /* the last container gathered after the marker (or the marker) */
    int k;               /* the list the marker is in */
    int young;           /* the younger lists not gathered: young..k-1 */
    PyGC_Head *young_from;   /* list `young` from after this (its head: all of it) */
} rest;

/* How the containers after the marker in list k came there: tracked since
 * (the marker is still in generation 0), frozen with it, or, once a stdlib
 * collection has moved the marker on, perhaps only moved there: its scan
 * moves what it finds reachable late to the end of the list it keeps, and
 * so behind the marker, older containers too. */
static int
how_after_marker(int k)
{
    return k == NHEADS - 1 ? GCX_LISTED_FROZEN : k > 0 ? GCX_LISTED_MAYBE : GCX_LISTED_NEW;
}

Py_ssize_t
gcx_lists_gather(PyObject *marker, PyObject *const **items, int *how, int *items_how)
{
    PyGC_Head *m = as_gc(marker);
    PyGC_Head *g = next_of(m), *last = m;
    Py_ssize_t n = 0;
    int k;
    /* the marker's list: the head its successors lead to, and the first
     * of them on the way (the rest are walked again by each_rest) */
    while ((k = head_index(g)) < 0) {
        if (n < GCX_LISTS_GATHER) {
            gathered[n++] = (PyObject *)(g + 1);
            last = g;
        }
        g = next_of(g);
    }
    rest.marker = m;
    rest.last = last;
    rest.k = k;
    rest.young = 0;
    rest.young_from = heads[0];
    *items = gathered;
    *how = how_after_marker(k);
    if (items_how != NULL) {
        *items_how = *how;
        if (n == 0 && k > 0 && k < NHEADS - 1) {
            /* The marker ends an older list, where a stdlib collection
             * moved it (CPython's own trigger does so at each of its
             * collections): what was tracked since is the younger lists,
             * whole, all new (each_rest's last part), gathered here in
             * order instead. */
            *items_how = GCX_LISTED_NEW;
            for (int j = 0; j < k; j++) {
                PyGC_Head *h = heads[j], *taken = h;
                for (g = next_of(h); g != h; g = next_of(g)) {
                    if (n == GCX_LISTS_GATHER) {
                        rest.young = j;
                        rest.young_from = taken;
                        return n;
                    }
                    gathered[n++] = (PyObject *)(g + 1);
                    taken = g;
                }
            }
            rest.young = k;
        }
    }
    return n;
}

bool
gcx_lists_at_young_tail(PyObject *marker)
{
    return next_of(as_gc(marker)) == heads[0];
}

bool
gcx_lists_permanent_empty(void)
{
    return next_of(heads[NHEADS - 1]) == heads[NHEADS - 1];
}

bool
gcx_lists_each_rest(gcx_lists_fn fn, void *arg, bool before)
{
    int k = rest.k;
    bool frozen = k == NHEADS - 1;
    PyGC_Head *g, *m = rest.marker;
    /* After the marker in its own list: tracked since, in order, unless
     * gc.freeze() appended the generations to the permanent list (0 first,
     * then 1 and 2: no order), or a stdlib collection moved the marker on
     * (how_after_marker).  A collection of generation j appends the
     * younger lists to j's youngest first too (0, then 1, ...), so once the
     * marker is in an older list, containers tracked since may also lie
     * before it there: that part is walked as well, as MAYBE (O(that list):
     * the whole heap once the marker is in generation 2), unless the
     * caller knows that the marker was at generation 0's tail when each
     * collection since began (`before` false: then nothing was in a list
     * younger than the marker's, and nothing tracked since came before
     * it). */
    for (g = next_of(rest.last); g != heads[k]; g = next_of(g)) {
        fn((PyObject *)(g + 1), how_after_marker(k), arg);
    }
    if (k > 0 && !frozen && before) {
        for (g = next_of(heads[k]); g != m; g = next_of(g)) {
            fn((PyObject *)(g + 1), GCX_LISTED_MAYBE, arg);
        }
    }
    /* ... and every younger list whole (but what gcx_lists_gather took of them) */
    for (int j = rest.young; j < k; j++) {
        PyGC_Head *from = j == rest.young ? rest.young_from : heads[j];
        for (g = next_of(from); g != heads[j]; g = next_of(g)) {
            fn((PyObject *)(g + 1), GCX_LISTED_NEW, arg);
        }
    }
    return frozen;
}

void
gcx_lists_each_newest_first(gcx_rank_fn fn, void *arg, Py_ssize_t most)
{
    Py_ssize_t rank = 0;
    for (int j = 0; j < NHEADS; j++) {
        for (PyGC_Head *g = prev_of(heads[j]); g != heads[j]; g = prev_of(g)) {
            if (rank == -most || fn((PyObject *)(g + 1), rank--, arg)) {
                return;
            }
        }
    }
}

void
gcx_lists_each_frozen(gcx_lists_fn fn, void *arg)
{
    PyGC_Head *h = heads[NHEADS - 1];
    for (PyGC_Head *g = next_of(h); g != h; g = next_of(g)) {
        fn((PyObject *)(g + 1), GCX_LISTED_FROZEN, arg);
    }
}
