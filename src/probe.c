/* probe.c: what the running interpreter does, found out once at import.
 *
 * gcx is built against one set of 3.13 headers and runs on every 3.13
 * patch level, so whatever differs between them, or is private, is asked
 * of the running interpreter rather than assumed (compat.h lists the
 * differences).  gcx_probe_all runs every probe before the tracer is
 * installed; the answers are in gcx_probed (and gcx_header_readable), which
 * this file alone writes and the others only read.  What a probe runs in
 * Python is in gcx/_probes.py (gcx_probe_get), as are the self-tests of
 * tracer.c and frames.c:
 *
 *   py_del_slot          the tp_finalize CPython gives classes defining
 *                        __del__ (tracer.c: may such an object resurrect?)
 *   interp_head          where the runtime's list of interpreters begins,
 *                        from the offsets CPython publishes for debuggers
 *                        (tracer.c: is the main interpreter alone?)
 *   gcx_header_readable  whether the GC header's first word says "tracked"
 *                        as PyObject_GC_IsTracked does (compat.h)
 *   late_weakref_clear   whether the stdlib collector clears weakrefs that
 *                        finalizers made (GH-91636; finalize.c)
 *   weakrefs_after_finalizers
 *                        whether it leaves weakrefs without callbacks to
 *                        garbage alive while finalizers run, clearing them
 *                        after the resurrection check (gh-135552, 3.15;
 *                        finalize.c)
 *   dicts_lazy           whether a new empty dict is untracked: CPython
 *                        tracks dicts lazily and may untrack them (3.13),
 *                        or tracks every dict from birth (3.14+; tracer.c,
 *                        region.c)
 *
 * Invariant:
 *  P1  a probe that cannot tell answers the conservative way: no header
 *      read, no interpreter-list read, no late clearing assumed.
 */
#include "gcx.h"
#include <dlfcn.h>
#include <string.h>

gcx_probes_t gcx_probed;

/* gcx._probes (gcx/_probes.py), imported at the first call and kept: the
 * probes' Python code, whose bytecode the import system caches, where
 * source strings compiled at every import cost a quarter of it.  Its
 * classes live as long as the process: a class is a cycle (its dict, its
 * mro, its descriptors), and one dropped would be garbage the program's
 * first full collection finds. */
static PyObject *probes_module;

PyObject *
gcx_probe_get(const char *name)
{
    if (probes_module == NULL) {
        probes_module = PyImport_ImportModule("gcx._probes");
        if (probes_module == NULL) {
            return NULL;
        }
    }
    return PyObject_GetAttrString(probes_module, name);
}

/* The truth of gcx._probes.name(): 1 or 0, or -1 with an exception. */
static int
probe_call(const char *name)
{
    PyObject *fn = gcx_probe_get(name);
    PyObject *r = fn == NULL ? NULL : PyObject_CallNoArgs(fn);
    Py_XDECREF(fn);
    if (r == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(r);
    Py_DECREF(r);
    return truth;
}

/* ---- classes defining __del__ (tracer.c) ------------------------------------------------ */

/* The tp_finalize that CPython gives classes defining __del__. */
static int
find_py_del_slot(void)
{
    PyObject *cls = gcx_probe_get("DelProbe");
    if (cls == NULL) {
        return -1;
    }
    gcx_probed.py_del_slot = PyType_Check(cls) ? ((PyTypeObject *)cls)->tp_finalize : NULL;
    Py_DECREF(cls);
    return 0;
}

/* ---- reading CPython's GC header (compat.h) ------------------------------------ */

int gcx_header_readable = 0;

static bool
header_agrees(PyObject *op)
{
    return (((const uintptr_t *)op)[-2] != 0) == (PyObject_GC_IsTracked(op) == 1);
}

/* Trust the inline read only if it agrees with the API on objects tracked
 * and untracked, with and without a pre-header (an instance's managed
 * dict and weakref pointers sit before the GC header). */
int
gcx_header_check(void)
{
    gcx_header_readable = 0;
    PyObject *objs[3] = {PyList_New(0), PyDict_New(), NULL};
    PyObject *cls = NULL;
    if (objs[0] == NULL || objs[1] == NULL) {
        goto done;
    }
    cls = gcx_probe_get("Plain");
    if (cls == NULL || (objs[2] = PyObject_CallNoArgs(cls)) == NULL) {
        goto done;
    }
    bool ok = true;
    for (int i = 0; i < 3; i++) {
        PyObject *op = objs[i];
        if (!gcx_is_gc(op)) {
            ok = false;   /* no header to compare: not what gcx expects */
            continue;
        }
        int was = PyObject_GC_IsTracked(op);
        ok &= header_agrees(op);
        if (was) {
            PyObject_GC_UnTrack(op);
            ok &= header_agrees(op) && !PyObject_GC_IsTracked(op);
            PyObject_GC_Track(op);
        }
        else {
            PyObject_GC_Track(op);
            ok &= header_agrees(op) && PyObject_GC_IsTracked(op);
            PyObject_GC_UnTrack(op);
        }
        ok &= header_agrees(op);
    }
    gcx_header_readable = ok;
done:
    for (int i = 0; i < 3; i++) {
        Py_XDECREF(objs[i]);
    }
    Py_XDECREF(cls);
    return PyErr_Occurred() ? -1 : 0;
}

/* ---- the list of interpreters (tracer.c's foreign_interp) --------------------------- */

/* The first field of _PyRuntime is _Py_DebugOffsets, the offsets CPython
 * publishes for out-of-process debuggers; 3.13's begins with these (the
 * same in every 3.13.x).  The running interpreter wrote them, so they hold
 * for it whatever headers gcx was built with. */
typedef struct {
    char cookie[8];                  /* "xdebugpy" */
    uint64_t version;                /* PY_VERSION_HEX */
    uint64_t free_threaded;
    uint64_t runtime_size;
    uint64_t runtime_finalizing;
    uint64_t runtime_interpreters_head;
} debug_offsets_t;

static void
find_interp_head(void)
{
    gcx_probed.interp_head = NULL;
    const unsigned char *rt = dlsym(RTLD_DEFAULT, "_PyRuntime");
    if (rt == NULL) {
        return;
    }
    debug_offsets_t d;
    memcpy(&d, rt, sizeof(d));
    if (memcmp(d.cookie, "xdebugpy", 8) != 0
        || (d.version >> 16) != (PY_VERSION_HEX >> 16)   /* 3.13 */
        || d.free_threaded != 0
        || d.runtime_interpreters_head < sizeof(d)
        || d.runtime_interpreters_head % sizeof(void *) != 0
        || d.runtime_interpreters_head + sizeof(void *) > d.runtime_size) {
        return;
    }
    PyInterpreterState **head = (PyInterpreterState **)(rt + d.runtime_interpreters_head);
    if (*head == PyInterpreterState_Head()) {
        gcx_probed.interp_head = head;
    }
}

/* ---- weakrefs made by finalizers (finalize.c) --------------------------------------- */

/* Ask the stdlib collector, once, what it does with a weakref that a
 * finalizer creates to garbage (GH-91636): before the fix the weakref
 * survives until the object is freed, and its callback runs then; after
 * it, the collector clears it first and the callback never runs.  The
 * probe (gcx/_probes.py) runs a quiet young collection of a tiny cycle
 * made for the purpose. */
static int
probe_late_weakref_clear(void)
{
    return probe_call("late_weakref_clear");
}

/* Ask the stdlib collector whether a weakref without a callback to a
 * garbage object is still alive inside that object's __del__: before
 * gh-135552 every weakref to garbage is cleared before finalizers run;
 * after it, only those with callbacks are, the rest after the
 * resurrection check. */
static int
probe_weakrefs_after_finalizers(void)
{
    return probe_call("weakrefs_after_finalizers");
}

/* ---- dicts ------------------------------------------------------------------------------ */

static int
probe_dicts_lazy(void)
{
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return -1;
    }
    int lazy = !PyObject_GC_IsTracked(d);
    Py_DECREF(d);
    return lazy;
}

/* ---- all of them ------------------------------------------------------------------------- */

int
gcx_probe_all(void)
{
    int late = probe_late_weakref_clear();
    int after = late < 0 ? -1 : probe_weakrefs_after_finalizers();
    int lazy = after < 0 ? -1 : probe_dicts_lazy();
    if (lazy < 0) {
        return -1;
    }
    gcx_probed.late_weakref_clear = late == 1;
    gcx_probed.weakrefs_after_finalizers = after == 1;
    gcx_probed.dicts_lazy = lazy == 1;
    find_interp_head();
    if (gcx_header_check() < 0 || find_py_del_slot() < 0) {
        return -1;
    }
    return 0;
}
