/* probe.c: what the running interpreter does, found out once at import.
 *
 * gcx is built against one set of 3.13 headers and runs on every 3.13
 * patch level, so whatever differs between them, or is private, is asked
 * of the running interpreter rather than assumed (compat.h lists the
 * differences).  gcx_probe_all runs every probe before the tracer is
 * installed; the answers are in gcx_probed (and gcx_header_readable), which
 * this file alone writes and the others only read:
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

/* Run src in a fresh namespace that has the builtins; the namespace, or
 * NULL with an exception.  The caller drops it with gcx_probe_done. */
PyObject *
gcx_probe_run(const char *src)
{
    PyObject *ns = PyDict_New();
    if (ns == NULL) {
        return NULL;
    }
    if (PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0) {
        Py_DECREF(ns);
        return NULL;
    }
    PyObject *r = PyRun_String(src, Py_file_input, ns, ns);
    if (r == NULL) {
        Py_DECREF(ns);
        return NULL;
    }
    Py_DECREF(r);
    return ns;
}

/* The classes probes defined, kept: a class is a cycle (its dict, its
 * mro, its descriptors), and dropped it would be garbage that the
 * program's first full collection finds (gc.collect() returning more than
 * the program made).  Never freed. */
static PyObject *kept_classes;

void
gcx_probe_keep(PyObject *cls)
{
    if (kept_classes == NULL) {
        kept_classes = PyList_New(0);
    }
    if (kept_classes == NULL || PyList_Append(kept_classes, cls) < 0) {
        PyErr_Clear();   /* then it is garbage: no harm but a count */
    }
}

/* Done with a namespace of gcx_probe_run (or NULL): its classes are kept,
 * the rest dropped (the namespace is emptied first: functions defined in
 * it refer back to it).  Keeps the caller's exception. */
void
gcx_probe_done(PyObject *ns)
{
    if (ns == NULL) {
        return;
    }
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(ns, &pos, &key, &value)) {
        if (PyType_Check(value)) {
            gcx_probe_keep(value);
        }
    }
    PyDict_Clear(ns);
    Py_DECREF(ns);
    PyErr_SetRaisedException(exc);
}

/* ---- classes defining __del__ (tracer.c) ------------------------------------------------ */

/* The tp_finalize that CPython gives classes defining __del__. */
static int
find_py_del_slot(void)
{
    PyObject *ns = gcx_probe_run("class _P:\n    def __del__(self): pass\n");
    if (ns == NULL) {
        return -1;
    }
    PyObject *cls = PyDict_GetItemString(ns, "_P");
    gcx_probed.py_del_slot = cls ? ((PyTypeObject *)cls)->tp_finalize : NULL;
    gcx_probe_done(ns);
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
    cls = PyObject_CallFunction((PyObject *)&PyType_Type, "s(){}", "_gcx_probe");
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
    if (cls != NULL) {
        gcx_probe_keep(cls);
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

/* The probes below ask the stdlib collector for a young collection: with
 * the program's gc callbacks and debug flags set aside for it (no
 * callback runs, nothing is printed or saved in gc.garbage for it).  Its
 * statistics count it, and the program's young garbage goes with it. */
#define QUIET_YOUNG_COLLECTION                                      \
    "import gc, _weakref\n"                                         \
    "def _collect_young():\n"                                       \
    "    callbacks, debug = gc.callbacks[:], gc.get_debug()\n"      \
    "    gc.callbacks.clear()\n"                                    \
    "    gc.set_debug(0)\n"                                         \
    "    try:\n"                                                    \
    "        gc.collect(0)\n"                                       \
    "    finally:\n"                                                \
    "        gc.callbacks[:] = callbacks\n"                         \
    "        gc.set_debug(debug)\n"

/* Ask the stdlib collector, once, what it does with a weakref that a
 * finalizer creates to garbage (GH-91636): before the fix the weakref
 * survives until the object is freed, and its callback runs then; after
 * it, the collector clears it first and the callback never runs.  Uses a
 * young collection of a tiny cycle made for the purpose. */
static int
probe_late_weakref_clear(void)
{
    static const char src[] =
        QUIET_YOUNG_COLLECTION
        "_calls = []\n"
        "class _Probe:\n"
        "    def __del__(self):\n"
        "        _refs.append(_weakref.ref(self, _calls.append))\n"
        "_refs = []\n"
        "_a = _Probe(); _b = _Probe(); _a.other = _b; _b.other = _a\n"
        "del _a, _b\n"
        "_collect_young()\n"
        "late = len(_refs) == 2 and not _calls\n"
        "_refs.clear()\n";
    PyObject *ns = gcx_probe_run(src);
    if (ns == NULL) {
        return -1;
    }
    PyObject *late = PyDict_GetItemString(ns, "late");
    int result = late != NULL && PyObject_IsTrue(late) == 1;
    gcx_probe_done(ns);
    return result;
}

/* Ask the stdlib collector whether a weakref without a callback to a
 * garbage object is still alive inside that object's __del__: before
 * gh-135552 every weakref to garbage is cleared before finalizers run;
 * after it, only those with callbacks are, the rest after the
 * resurrection check. */
static int
probe_weakrefs_after_finalizers(void)
{
    static const char src[] =
        QUIET_YOUNG_COLLECTION
        "_seen = []\n"
        "class _Probe:\n"
        "    def __del__(self):\n"
        "        _seen.append(_ref() is self)\n"
        "_a = _Probe(); _a.self = _a\n"
        "_ref = _weakref.ref(_a)\n"
        "del _a\n"
        "_collect_young()\n"
        "after = _seen == [True]\n"
        "del _ref\n";
    PyObject *ns = gcx_probe_run(src);
    if (ns == NULL) {
        return -1;
    }
    PyObject *after = PyDict_GetItemString(ns, "after");
    int result = after != NULL && PyObject_IsTrue(after) == 1;
    gcx_probe_done(ns);
    return result;
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
