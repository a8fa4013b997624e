/* lists.h: lists.c's interface (what CPython tracked since a marker, read
 * from its own generation lists).  Plain C types only: lists.c is compiled
 * with CPython's internal headers, the rest of gcx without. */
#ifndef GCX_LISTS_H
#define GCX_LISTS_H

#include <stdbool.h>

/* At import, with marker a container just tracked (so at the tail of
 * CPython's youngest list) and gc the stdlib's gc module: find the lists'
 * heads and check them (L1).  0, or -1 with an exception set; whether the
 * walk may be used is then gcx_lists_ok(). */
int gcx_lists_init(PyObject *marker, PyObject *gc);
bool gcx_lists_ok(void);

/* CPython's count of generation 0 (up at every container allocated, down
 * at every one freed), or NULL if !gcx_lists_ok(). */
int *gcx_lists_young_count(void);

/* How a container met in a walk came to be where it is. */
enum {
    GCX_LISTED_NEW,      /* tracked since the marker */
    GCX_LISTED_MAYBE,    /* perhaps (a stdlib collection reordered lists) */
    GCX_LISTED_FROZEN,   /* frozen with the marker by the stdlib, unordered */
};
typedef void (*gcx_lists_fn)(PyObject *op, int how, void *arg);

/* fn(op, how, arg) for every container CPython tracked since marker was
 * last tracked (L2), marker excluded, and for some it may have (MAYBE).
 * The result is true if the stdlib's gc.freeze() froze the marker since.
 * fn must not run Python code nor track or untrack anything.  Only if
 * gcx_lists_ok(). */
bool gcx_lists_each_new(PyObject *marker, gcx_lists_fn fn, void *arg);


/* fn(op, GCX_LISTED_FROZEN, arg) for every container in CPython's permanent generation
 * (what the stdlib's gc.freeze() froze).  Only if gcx_lists_ok(). */
void gcx_lists_each_frozen(gcx_lists_fn fn, void *arg);

#endif
