/* gcx._gcxtest: container types for differential tests of cycle collectors.
 *
 * The stdlib gc and gcx run the same scenarios on these types and must agree.
 * Each type is a GC container with one strong reference, `ref`, and differs
 * only in how it can be torn down:
 *
 *   Box          tp_traverse + tp_clear; the plain case.
 *   NoClear      no tp_clear: a cycle through it is broken only by the
 *                tp_clear of another member (a cycle of NoClear alone leaks).
 *   LegacyDel    a legacy tp_del (not tp_finalize): a cycle holding one is
 *                uncollectable and the object goes to gc.garbage.
 *   Resurrector  a C tp_finalize that appends self to the list returned by
 *                resurrected(), so every collected one comes back once.
 *   Refuser      a tp_is_gc answering its `collectable` attribute, as a
 *                suspended greenlet answers "not collectable now".
 *
 * Start reading at the section "The types".  Shared facts:
 *   - `ref` is NULL or a strong reference; NULL reads as None, so a Box
 *     made with ref=None visits nothing.
 *   - Every type supports weak references (tp_weaklistoffset) and none has a
 *     __dict__, so tp_traverse visits `ref` and nothing else.
 *   - The types are static and final, and the counters and the list live in
 *     this file: single-phase init, the GIL is the only lock.
 *   - Every tp_dealloc untracks first and runs inside the trashcan, so
 *     freeing a long chain of these objects does not overflow the C stack.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

/* ------------------------------------------------------------------------ */
/* Module-level state                                                        */
/* ------------------------------------------------------------------------ */

static Py_ssize_t legacy_del_calls;     /* LegacyDel tp_del runs */
static Py_ssize_t finalize_calls;       /* Resurrector tp_finalize runs */
static PyObject *resurrected_list;      /* the list resurrected() returns */

/* ------------------------------------------------------------------------ */
/* The layout and slots every type shares                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    PyObject *ref;              /* NULL or a strong reference */
    PyObject *weakreflist;      /* managed by PyObject_ClearWeakRefs */
} gcxtest_box_t;

#define BOX(op) ((gcxtest_box_t *)(op))

static int
box_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(BOX(op)->ref);
    return 0;
}

static int
box_clear(PyObject *op)
{
    Py_CLEAR(BOX(op)->ref);
    return 0;
}

/* Store a new `ref` (None becomes NULL).  The old value is released only
   after the slot is updated, because releasing it can run arbitrary code. */
static void
box_set_ref(PyObject *op, PyObject *value)
{
    if (value == Py_None) {
        value = NULL;
    }
    Py_XSETREF(BOX(op)->ref, Py_XNewRef(value));
}

static PyObject *
box_get_ref_attr(PyObject *op, void *Py_UNUSED(closure))
{
    PyObject *ref = BOX(op)->ref;
    return Py_NewRef(ref != NULL ? ref : Py_None);
}

/* `del obj.ref` is the same as `obj.ref = None`. */
static int
box_set_ref_attr(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    box_set_ref(op, value);
    return 0;
}

static PyGetSetDef box_getset[] = {
    {"ref", box_get_ref_attr, box_set_ref_attr,
     "The one strong reference (None when empty).", NULL},
    {NULL}
};

/* __init__(ref=None); `format` names the type in argument errors. */
static int
box_init_with(PyObject *op, PyObject *args, PyObject *kwds, const char *format)
{
    static char *kwlist[] = {"ref", NULL};
    PyObject *ref = Py_None;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, format, kwlist, &ref)) {
        return -1;
    }
    box_set_ref(op, ref);
    return 0;
}

/* The end of every tp_dealloc.  Before: self is untracked, dead, and past
   its finalizers.  After: its weakrefs are cleared and its memory is gone. */
static void
box_release(PyObject *op)
{
    if (BOX(op)->weakreflist != NULL) {
        PyObject_ClearWeakRefs(op);
    }
    Py_CLEAR(BOX(op)->ref);
    Py_TYPE(op)->tp_free(op);
}

#define GCXTEST_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC)

/* ------------------------------------------------------------------------ */
/* The types                                                                */
/* ------------------------------------------------------------------------ */

/* Box ---------------------------------------------------------------------- */

static int
box_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    return box_init_with(op, args, kwds, "|O:Box");
}

static void
box_dealloc(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    Py_TRASHCAN_BEGIN(op, box_dealloc)
    box_release(op);
    Py_TRASHCAN_END
}

static PyTypeObject Box_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gcx._gcxtest.Box",
    .tp_doc = "Box(ref=None)\n--\n\n"
              "GC container with one reference, with tp_traverse and tp_clear.",
    .tp_basicsize = sizeof(gcxtest_box_t),
    .tp_flags = GCXTEST_FLAGS,
    .tp_new = PyType_GenericNew,
    .tp_init = box_init,
    .tp_dealloc = box_dealloc,
    .tp_free = PyObject_GC_Del,
    .tp_traverse = box_traverse,
    .tp_clear = box_clear,
    .tp_weaklistoffset = offsetof(gcxtest_box_t, weakreflist),
    .tp_getset = box_getset,
};

/* NoClear ------------------------------------------------------------------ */

static int
noclear_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    return box_init_with(op, args, kwds, "|O:NoClear");
}

static void
noclear_dealloc(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    Py_TRASHCAN_BEGIN(op, noclear_dealloc)
    box_release(op);
    Py_TRASHCAN_END
}

static PyTypeObject NoClear_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gcx._gcxtest.NoClear",
    .tp_doc = "NoClear(ref=None)\n--\n\n"
              "Like Box but without tp_clear: a collector cannot break a "
              "cycle here.",
    .tp_basicsize = sizeof(gcxtest_box_t),
    .tp_flags = GCXTEST_FLAGS,
    .tp_new = PyType_GenericNew,
    .tp_init = noclear_init,
    .tp_dealloc = noclear_dealloc,
    .tp_free = PyObject_GC_Del,
    .tp_traverse = box_traverse,
    .tp_weaklistoffset = offsetof(gcxtest_box_t, weakreflist),
    .tp_getset = box_getset,
};

/* LegacyDel ----------------------------------------------------------------
 *
 * Nothing in CPython calls tp_del except a type's own tp_dealloc:
 * PyObject_CallFinalizerFromDealloc runs only tp_finalize, and the gc never
 * runs tp_del (it parks the cycle in gc.garbage instead, because it cannot
 * know in which order such finalizers may run).  So legacydel_dealloc calls
 * it itself, in the order subtype_dealloc uses: weakrefs cleared first, then
 * tp_del, then the fields.
 *
 * The usual contract lets tp_del resurrect self (it is entered with refcount
 * 0, bumps it to 1 while running code, and the caller checks the refcount
 * afterwards).  This tp_del only counts: it runs no Python code and nothing
 * can reach self, so self stays dead and needs no temporary resurrection. */

static int
legacydel_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    return box_init_with(op, args, kwds, "|O:LegacyDel");
}

static void
legacydel_del(PyObject *Py_UNUSED(op))
{
    legacy_del_calls++;
}

static void
legacydel_dealloc(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    Py_TRASHCAN_BEGIN(op, legacydel_dealloc)
    if (BOX(op)->weakreflist != NULL) {
        PyObject_ClearWeakRefs(op);
    }
    legacydel_del(op);
    assert(Py_REFCNT(op) == 0);
    box_release(op);
    Py_TRASHCAN_END
}

static PyTypeObject LegacyDel_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gcx._gcxtest.LegacyDel",
    .tp_doc = "LegacyDel(ref=None)\n--\n\n"
              "Like Box plus a legacy tp_del that counts its calls "
              "(legacy_del_calls()); a cycle through it is uncollectable.",
    .tp_basicsize = sizeof(gcxtest_box_t),
    .tp_flags = GCXTEST_FLAGS,
    .tp_new = PyType_GenericNew,
    .tp_init = legacydel_init,
    .tp_dealloc = legacydel_dealloc,
    .tp_free = PyObject_GC_Del,
    .tp_traverse = box_traverse,
    .tp_clear = box_clear,
    .tp_del = legacydel_del,
    .tp_weaklistoffset = offsetof(gcxtest_box_t, weakreflist),
    .tp_getset = box_getset,
};

/* Resurrector --------------------------------------------------------------
 *
 * tp_finalize (PEP 442) runs at most once per object: the collector, or
 * PyObject_CallFinalizerFromDealloc, sets the object's "finalized" flag.
 * The finalizer stores self in resurrected_list, so the first attempt to
 * destroy a Resurrector always resurrects it; it dies for good once it is
 * dropped from that list. */

static int
resurrector_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    return box_init_with(op, args, kwds, "|O:Resurrector");
}

/* A finalizer must not raise and must keep any pending exception. */
static void
resurrector_finalize(PyObject *op)
{
    PyObject *exc = PyErr_GetRaisedException();

    finalize_calls++;
    if (PyList_Append(resurrected_list, op) < 0) {
        PyErr_WriteUnraisable(op);
    }
    PyErr_SetRaisedException(exc);
}

/* As in subtype_dealloc: the object is tracked again while its finalizer
   runs, so that if it is resurrected it is a normal tracked object. */
static void
resurrector_dealloc(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    Py_TRASHCAN_BEGIN(op, resurrector_dealloc)
    PyObject_GC_Track(op);
    if (PyObject_CallFinalizerFromDealloc(op) < 0) {
        goto done;      /* resurrected: it is alive and tracked */
    }
    PyObject_GC_UnTrack(op);
    box_release(op);
  done:
    Py_TRASHCAN_END
}

static PyTypeObject Resurrector_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gcx._gcxtest.Resurrector",
    .tp_doc = "Resurrector(ref=None)\n--\n\n"
              "Like Box plus a C tp_finalize that appends self to "
              "resurrected() and counts its calls (finalize_calls()).",
    .tp_basicsize = sizeof(gcxtest_box_t),
    .tp_flags = GCXTEST_FLAGS,
    .tp_new = PyType_GenericNew,
    .tp_init = resurrector_init,
    .tp_dealloc = resurrector_dealloc,
    .tp_free = PyObject_GC_Del,
    .tp_traverse = box_traverse,
    .tp_clear = box_clear,
    .tp_finalize = resurrector_finalize,
    .tp_weaklistoffset = offsetof(gcxtest_box_t, weakreflist),
    .tp_getset = box_getset,
};

/* Refuser -----------------------------------------------------------------
 *
 * A type with tp_is_gc, as greenlet's: a suspended greenlet answers 0, "not
 * collectable now", because its C stack holds references no tp_traverse can
 * report.  Here the answer is the attribute `collectable` (True when made).
 * A collector must never count an edge to a refusing object nor collect it,
 * and whatever it reaches survives. */

typedef struct {
    gcxtest_box_t box;          /* first: BOX() and the box slots apply */
    int collectable;            /* what tp_is_gc answers */
} gcxtest_refuser_t;

#define REFUSER(op) ((gcxtest_refuser_t *)(op))

static int
refuser_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    return box_init_with(op, args, kwds, "|O:Refuser");
}

static int
refuser_is_gc(PyObject *op)
{
    return REFUSER(op)->collectable;
}

static PyObject *
refuser_get_collectable(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(REFUSER(op)->collectable);
}

static int
refuser_set_collectable(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete collectable");
        return -1;
    }
    int truth = PyObject_IsTrue(value);
    if (truth < 0) {
        return -1;
    }
    REFUSER(op)->collectable = truth;
    return 0;
}

static PyObject *
refuser_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *op = PyType_GenericNew(type, args, kwds);
    if (op != NULL) {
        REFUSER(op)->collectable = 1;
    }
    return op;
}

static PyGetSetDef refuser_getset[] = {
    {"ref", box_get_ref_attr, box_set_ref_attr,
     "The one strong reference (None when empty).", NULL},
    {"collectable", refuser_get_collectable, refuser_set_collectable,
     "What tp_is_gc answers: False says 'not collectable now'.", NULL},
    {NULL}
};

static PyTypeObject Refuser_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gcx._gcxtest.Refuser",
    .tp_doc = "Refuser(ref=None)\n--\n\n"
              "Like Box plus a tp_is_gc that answers the attribute "
              "`collectable` (as a suspended greenlet answers 0).",
    .tp_basicsize = sizeof(gcxtest_refuser_t),
    .tp_flags = GCXTEST_FLAGS,
    .tp_new = refuser_new,
    .tp_init = refuser_init,
    .tp_dealloc = box_dealloc,   /* torn down as a Box */
    .tp_free = PyObject_GC_Del,
    .tp_traverse = box_traverse,
    .tp_clear = box_clear,
    .tp_is_gc = refuser_is_gc,
    .tp_weaklistoffset = offsetof(gcxtest_box_t, weakreflist),
    .tp_getset = refuser_getset,
};

/* ------------------------------------------------------------------------ */
/* Module functions                                                          */
/* ------------------------------------------------------------------------ */

static PyObject *
gcxtest_legacy_del_calls(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    return PyLong_FromSsize_t(legacy_del_calls);
}

static PyObject *
gcxtest_finalize_calls(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    return PyLong_FromSsize_t(finalize_calls);
}

static PyObject *
gcxtest_resurrected(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    return Py_NewRef(resurrected_list);
}

/* Empty the list first: dropping its items can run deallocators, and the
   counters must read zero afterwards. */
static PyObject *
gcxtest_reset(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    if (PyList_SetSlice(resurrected_list, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        return NULL;
    }
    legacy_del_calls = 0;
    finalize_calls = 0;
    Py_RETURN_NONE;
}

static int
visit_count_one(PyObject *Py_UNUSED(obj), void *arg)
{
    (*(Py_ssize_t *)arg)++;
    return 0;
}

static PyObject *
gcxtest_visit_count(PyObject *Py_UNUSED(module), PyObject *obj)
{
    Py_ssize_t count = 0;

    if (!PyObject_IS_GC(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "visit_count() needs an object the gc can traverse, "
                     "not '%.200s'", Py_TYPE(obj)->tp_name);
        return NULL;
    }
    (void)Py_TYPE(obj)->tp_traverse(obj, visit_count_one, &count);
    return PyLong_FromSsize_t(count);
}

/* What C code can do to an object while a collector runs Python code:
   leave CPython's lists, and join them again. */
static PyObject *
gcxtest_untrack(PyObject *Py_UNUSED(module), PyObject *obj)
{
    if (!PyType_IS_GC(Py_TYPE(obj))) {
        PyErr_SetString(PyExc_TypeError, "untrack() needs a GC container");
        return NULL;
    }
    PyObject_GC_UnTrack(obj);
    Py_RETURN_NONE;
}

static PyObject *
gcxtest_track(PyObject *Py_UNUSED(module), PyObject *obj)
{
    if (!PyType_IS_GC(Py_TYPE(obj))) {
        PyErr_SetString(PyExc_TypeError, "track() needs a GC container");
        return NULL;
    }
    if (!PyObject_GC_IsTracked(obj)) {
        PyObject_GC_Track(obj);
    }
    Py_RETURN_NONE;
}

static PyMethodDef gcxtest_methods[] = {
    {"untrack", gcxtest_untrack, METH_O,
     "untrack(obj, /)\n--\n\nPyObject_GC_UnTrack(obj), as C code may do."},
    {"track", gcxtest_track, METH_O,
     "track(obj, /)\n--\n\nPyObject_GC_Track(obj) unless it is tracked."},
    {"legacy_del_calls", gcxtest_legacy_del_calls, METH_NOARGS,
     "legacy_del_calls()\n--\n\nHow many times LegacyDel's tp_del has run."},
    {"finalize_calls", gcxtest_finalize_calls, METH_NOARGS,
     "finalize_calls()\n--\n\nHow many times Resurrector's tp_finalize has run."},
    {"resurrected", gcxtest_resurrected, METH_NOARGS,
     "resurrected()\n--\n\n"
     "The list Resurrector's tp_finalize appends to (always the same list)."},
    {"reset", gcxtest_reset, METH_NOARGS,
     "reset()\n--\n\n"
     "Empty resurrected() in place, then zero both call counters."},
    {"visit_count", gcxtest_visit_count, METH_O,
     "visit_count(obj, /)\n--\n\n"
     "How many times type(obj).tp_traverse calls its visit function."},
    {NULL}
};

/* ------------------------------------------------------------------------ */
/* Module init                                                               */
/* ------------------------------------------------------------------------ */

static struct PyModuleDef gcxtest_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gcx._gcxtest",
    .m_doc = "Test-only GC container types for differential tests of cycle "
             "collectors (stdlib gc vs gcx).",
    .m_size = -1,       /* the state is process-global (see above) */
    .m_methods = gcxtest_methods,
};

static PyTypeObject *const gcxtest_types[] = {
    &Box_Type, &NoClear_Type, &LegacyDel_Type, &Resurrector_Type, &Refuser_Type,
};

PyMODINIT_FUNC
PyInit__gcxtest(void)
{
    PyObject *module = NULL;

    if (resurrected_list == NULL) {
        resurrected_list = PyList_New(0);
        if (resurrected_list == NULL) {
            goto fail;
        }
    }
    module = PyModule_Create(&gcxtest_module);
    if (module == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < Py_ARRAY_LENGTH(gcxtest_types); i++) {
        PyTypeObject *type = gcxtest_types[i];
        /* tp_name is "gcx._gcxtest.<Name>": export it as <Name>. */
        const char *name = strrchr(type->tp_name, '.') + 1;
        if (PyType_Ready(type) < 0
            || PyModule_AddObjectRef(module, name, (PyObject *)type) < 0) {
            goto fail;
        }
    }
    return module;

  fail:
    Py_XDECREF(module);
    return NULL;
}
