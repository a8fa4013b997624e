/* lists.h: lists.c's interface (what CPython tracked since a marker, read
 * from its own generation lists).  Plain C types only: lists.c is compiled
 * with CPython's internal headers, the rest of gcx without. */
#ifndef GCX_LISTS_H
#define GCX_LISTS_H

#include <stdbool.h>
#include <stdint.h>

/* At import, with marker a container just tracked (so at the tail of
 * CPython's youngest list) and gc the stdlib's gc module: find the lists'
 * heads and check them (L1).  0, or -1 with an exception set; whether the
 * walk may be used is then gcx_lists_ok(). */
int gcx_lists_init(PyObject *marker, PyObject *gc);
bool gcx_lists_ok(void);

/* CPython's count of generation 0 (up at every container allocated, down
 * at every one freed), or NULL if !gcx_lists_ok(). */
int *gcx_lists_young_count(void);

/* CPython's counts of generations 1 and 2 in one number, or -1 if
 * !gcx_lists_ok(): its collector adds one to generation g + 1's at each
 * collection of g and zeroes those of g and younger, and nothing else
 * changes them, so any collection changes it, except one of generation
 * 2 when both were zero already. */
int64_t gcx_lists_collections_mark(void);

/* Set CPython's counts of generations 1 and 2 (gcx hands its schedule back
 * at uninstall), if gcx_lists_ok(). */
void gcx_lists_set_older_counts(int c1, int c2);

/* CPython's flag "a collection is running" (what its own collector sets,
 * what keeps it from starting one, what remote profilers read to show a
 * <GC> frame): with on < 0 read, else set to on (and on 3.15 the frame
 * the collection started in, beside it, which those profilers read too);
 * the flag's value before.  Only if gcx_lists_can_flag(): gcx_lists_ok(),
 * and the state's garbage and callbacks lists, beside the flag, are the gc
 * module's (L1). */
bool gcx_lists_can_flag(void);
int gcx_lists_collecting(int on);

/* CPython's own trigger (lists.c, above gcx_lists_trigger_rearm): arm
 * (CPython's collector on, at threshold0 for generation 0, threshold 1 at
 * 0 with its count kept at 1 so that each of its collections is one of
 * generation 1 (gcx_lists_trigger_stopped), generation 2 out of reach,
 * debug flags cleared; only with its permanent
 * generation empty: false, nothing changed, otherwise), follow a new
 * threshold, freeze every list (each time CPython's collection of
 * generation 0 starts, so that it finds them empty), disarm (thaw
 * everything into generation 2, and put back what arming changed).  Each
 * goes through the gc module's own functions, taken at gcx_lists_init;
 * only if gcx_lists_can_flag(). */
bool gcx_lists_trigger_arm(int threshold0);
void gcx_lists_trigger_stopped(void);   /* after each of its collections */
void gcx_lists_trigger_rearm(int threshold0);
void gcx_lists_trigger_freeze(void);
void gcx_lists_trigger_disarm(void);

/* How a container met in a walk came to be where it is. */
enum {
    GCX_LISTED_NEW,      /* tracked since the marker */
    GCX_LISTED_MAYBE,    /* perhaps (a stdlib collection reordered lists) */
    GCX_LISTED_FROZEN,   /* frozen with the marker by the stdlib, unordered */
};
typedef void (*gcx_lists_fn)(PyObject *op, int how, void *arg);

/* What CPython tracked since marker was last tracked (L2), marker
 * excluded, and some containers it may have (MAYBE), in two steps so that
 * a caller handles the usual case inline.  gcx_lists_gather walks the
 * marker's list once and returns the first GCX_LISTS_GATHER containers
 * after the marker there, in order, in *items (lists.c's buffer); *how
 * says how the containers after the marker in its list came there: NEW;
 * FROZEN if the stdlib's gc.freeze() froze the marker since; MAYBE if a
 * stdlib collection moved it on (its scan may have moved older containers
 * behind it).  With items_how (not NULL), when nothing follows the marker
 * in an older list it was moved to, the items are instead the first of
 * the younger lists (all NEW), and *items_how is the kind of the items
 * either way.  gcx_lists_each_rest(fn, arg, before) then
 * calls fn(op, how, arg) for the rest, and returns true if the marker was
 * frozen; with `before` false it leaves out the part of a MAYBE list before
 * the marker, which only a stdlib collection that began with the marker
 * elsewhere than at generation 0's tail can have put new containers in.  Between and
 * during the two nothing may run Python code, nor track or untrack
 * anything; each_rest may be called again after one gather.  Only if
 * gcx_lists_ok(). */
#define GCX_LISTS_GATHER 4096
Py_ssize_t gcx_lists_gather(PyObject *marker, PyObject *const **items, int *how,
                            int *items_how);
bool gcx_lists_each_rest(gcx_lists_fn fn, void *arg, bool before);

/* Is marker the last container of CPython's youngest list (nothing
 * tracked since it was)?  Only if gcx_lists_ok(). */
bool gcx_lists_at_young_tail(PyObject *marker);
/* Whether CPython's permanent generation (gc.freeze()'s) holds nothing. */
bool gcx_lists_permanent_empty(void);


/* fn(op, rank, arg) for the containers of CPython's generations 0, 1 and
 * 2, and then the permanent one (where CPython's own trigger keeps the
 * old ones: gcx_lists_trigger_arm), newest first: each list from its tail
 * to its head, youngest list first, with rank 0, -1, -2, ...; stops when
 * fn returns true, or after `most` containers.  Ascending rank is then the
 * order the stdlib's collector meets them in (it appends the younger lists
 * to the one it collects).
 * fn must not run Python code nor track or untrack anything.  Only if
 * gcx_lists_ok(). */
typedef bool (*gcx_rank_fn)(PyObject *op, Py_ssize_t rank, void *arg);
void gcx_lists_each_newest_first(gcx_rank_fn fn, void *arg, Py_ssize_t most);

/* fn(op, GCX_LISTED_FROZEN, arg) for every container in CPython's permanent generation
 * (what the stdlib's gc.freeze() froze).  Only if gcx_lists_ok(). */
void gcx_lists_each_frozen(gcx_lists_fn fn, void *arg);

#endif
