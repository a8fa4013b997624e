/* compat.h: which CPython gcx is built for, and the named differences
 * between the versions and patch levels it runs on.
 *
 * gcx supports GIL builds of CPython 3.12, 3.13, 3.14 (3.14.5 and later:
 * 3.14.0-3.14.4 shipped an incremental collector with other gc semantics,
 * refused at import by module.c) and 3.15.  setup.py does not build the extension
 * anywhere else, and gcx/__init__.py raises ImportError there; this header
 * stops a build that slipped past both.  The extension is built per minor
 * version (its headers), so what differs between minor versions is decided
 * here, at compile time, by GCX_PY312/GCX_PY314/GCX_PY315:
 *  - 3.12 has no reference tracer (GCX_HAS_REFTRACER): births are read
 *    from CPython's generation lists, deaths seen by the allocator wrapper
 *    (tracer.c), and a few functions 3.13 made public have older names;
 *  - the unraisable-error messages of weakref and gc callbacks (3.14+);
 *  - the TRACKER_REMOVED event of the reference tracer (3.15);
 *  - borrowed references on the value stack of suspended generators
 *    (3.14+, frames.c);
 *  - the keys of get_stats() and of the callbacks' info (3.15 adds
 *    "candidates" and "duration");
 *  - how deep a thread may still call (gcx_calls_left: C levels are
 *    counted on 3.12-3.13, bounded by the stack's address on 3.14+).
 *
 * Patch-level differences, and facts that a probe can establish, are
 * decided at run time, never by the headers (probe.c, tracer.c):
 *  - whether the tracer reports every deallocation: tracer.c's self-test
 *    (gh-130382, fixed in 3.13.3; tuple/str/bytes relocation, 3.13.1;
 *    trashcan-deferred objects, fixed in 3.14.8 and 3.15.1);
 *  - whether weakrefs created by finalizers are cleared after the
 *    resurrection check (GH-91636, backported to 3.13 in 2026), and whether
 *    weakrefs without callbacks are cleared only after finalizers
 *    (gh-135552, 3.15): probes of the stdlib collector (probe.c);
 *  - whether dicts are tracked lazily (3.13) or from birth (3.14+), which
 *    decides whether gcx may untrack dicts (probe.c).
 */
#ifndef GCX_COMPAT_H
#define GCX_COMPAT_H

#include <stdbool.h>

#if PY_VERSION_HEX < 0x030C0000 || PY_VERSION_HEX >= 0x03100000
#  error "gcx supports CPython 3.12, 3.13, 3.14 and 3.15 only"
#endif
#define GCX_PY312 (PY_VERSION_HEX < 0x030D0000)
#define GCX_PY314 (PY_VERSION_HEX >= 0x030E0000)
#define GCX_PY315 (PY_VERSION_HEX >= 0x030F0000)

/* 3.14.0-3.14.4 ran the incremental collector (its collect(1), thresholds
 * and get_count mean other things); 3.14.5 brought 3.13's back. */
#define GCX_REFUSED_FROM 0x030E0000
#define GCX_REFUSED_BELOW 0x030E0500

/* How CPython reports an exception raised by a weakref callback or a gc
 * callback during a collection: 3.14 names the callback in its own
 * message, 3.13 prints "Exception ignored in: <callback>". */
#if GCX_PY314
#  define gcx_unraisable_weakref_callback(cb) \
        PyErr_FormatUnraisable("Exception ignored on calling weakref callback %R", (cb))
#  define gcx_unraisable_gc_callback(cb) \
        PyErr_FormatUnraisable("Exception ignored while calling GC callback %R", (cb))
#else
#  define gcx_unraisable_weakref_callback(cb) PyErr_WriteUnraisable(cb)
#  define gcx_unraisable_gc_callback(cb) PyErr_WriteUnraisable(cb)
#endif

/* The collector's other unraisable errors: 3.13 formats its messages,
 * 3.12 writes "Exception ignored <msg>: <object>". */
#if GCX_PY312
#  define gcx_unraisable_in_collection() \
        _PyErr_WriteUnraisableMsg("in garbage collection", NULL)
#  define gcx_unraisable_tp_clear(tp) \
        _PyErr_WriteUnraisableMsg("in tp_clear of", (PyObject *)(tp))
#  define gcx_unraisable_callback_info() \
        _PyErr_WriteUnraisableMsg("on invoking gc callbacks", NULL)
#else
#  define gcx_unraisable_in_collection() \
        PyErr_FormatUnraisable("Exception ignored in garbage collection")
#  define gcx_unraisable_tp_clear(tp) \
        PyErr_FormatUnraisable("Exception ignored in tp_clear of %s", (tp)->tp_name)
#  define gcx_unraisable_callback_info() \
        PyErr_FormatUnraisable("Exception ignored on invoking gc callbacks")
#endif

/* Where the head of op's list of weak references is, for an object whose
 * type supports them: what PyObject_GET_WEAKREFS_LISTPTR answers, read
 * inline (CPython's is a function: 18 instructions a call on 3.15.2, made
 * for every member of the garbage): the type's tp_weaklistoffset, negative for
 * managed weakrefs (3.12+).  A type object asks CPython, since a static
 * builtin type keeps its list in the interpreter. */
static inline PyWeakReference **
gcx_weakrefs_listptr(PyObject *op)
{
    if (PyType_Check(op)) {
        return (PyWeakReference **)PyObject_GET_WEAKREFS_LISTPTR(op);
    }
    return (PyWeakReference **)((char *)op + Py_TYPE(op)->tp_weaklistoffset);
}

/* 3.12 names for what 3.13 made public. */
#if GCX_PY312
typedef _PyTime_t PyTime_t;
static inline int
PyTime_PerfCounterRaw(PyTime_t *t)
{
    *t = _PyTime_GetPerfCounter();
    return 0;
}
#  define PyTime_AsSecondsDouble _PyTime_AsSecondsDouble
#  define PyLong_AsInt _PyLong_AsInt
#  define PyThreadState_GetUnchecked _PyThreadState_UncheckedGet
/* PyModule_AddObjectRef, stealing value (3.13's PyModule_Add) */
static inline int
PyModule_Add(PyObject *m, const char *name, PyObject *value)
{
    int r = PyModule_AddObjectRef(m, name, value);
    Py_XDECREF(value);
    return r;
}
/* Clear op's weak references without calling their callbacks (3.13's
 * PyUnstable_Object_ClearWeakRefsNoCallbacks): each one unlinks itself. */
static inline void
PyUnstable_Object_ClearWeakRefsNoCallbacks(PyObject *op)
{
    PyWeakReference **list = gcx_weakrefs_listptr(op);
    while (list != NULL && *list != NULL) {
        _PyWeakref_ClearRef(*list);
    }
}
#endif
/* A reference tracer reports every object's creation and death (3.13+).
 * 3.12 has none: gcx learns of births from CPython's generation lists
 * (lists mode: tracer.c, lists.c) and of deaths from the allocator wrapper.  So
 * that the tracer's code compiles unchanged there, its API is declared
 * with a slot nobody ever holds; every decision that depends on the slot
 * asks GCX_HAS_REFTRACER. */
#define GCX_HAS_REFTRACER (!GCX_PY312)
#if !GCX_HAS_REFTRACER
typedef enum { PyRefTracer_CREATE = 0, PyRefTracer_DESTROY = 1 } PyRefTracerEvent;
typedef int (*PyRefTracer)(PyObject *, PyRefTracerEvent event, void *);
static inline PyRefTracer
PyRefTracer_GetTracer(void **data)
{
    if (data != NULL) {
        *data = NULL;
    }
    return NULL;
}
static inline int
PyRefTracer_SetTracer(PyRefTracer tracer, void *data)
{
    return 0;
}
#endif
#ifdef Py_GIL_DISABLED
#  error "gcx supports GIL builds only, not free-threaded CPython"
#endif

/* A pending call that whichever thread holds the GIL runs at its next
 * eval-breaker check (flags 0).  Exported by every 3.13 release
 * (Include/internal/pycore_ceval.h, unchanged from 3.13.0 to 3.13.x); the
 * public Py_AddPendingCall queues for the main thread only, which never
 * runs it while blocked in join() or sleep(). */
PyAPI_FUNC(int) _PyEval_AddPendingCall(PyInterpreterState *interp,
                                       int (*func)(void *), void *arg, int flags);
#define gcx_add_pending_call _PyEval_AddPendingCall

/* Immortal objects (PEP 683): 3.13's headers keep _Py_IsImmortal inline. */
#define gcx_is_immortal(op) _Py_IsImmortal(op)

/* Is watcher (an id from PyDict_AddWatcher) watching the dict op?  Bits 0-7
 * of the tag every dict carries (Include/cpython/dictobject.h: the
 * deprecated ma_version_tag on 3.12-3.13, _ma_watcher_tag on 3.14+) are its
 * watchers.  Read, never written: PyDict_Watch stores the word even when
 * the bit is set already, and in a child of fork() that store copies a
 * page the parent shared (benchmarks/bench_fork.py). */
static inline bool
gcx_dict_watched(PyObject *op, int watcher)
{
#if GCX_PY314
    uint64_t tag = ((PyDictObject *)op)->_ma_watcher_tag;
#else
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    uint64_t tag = ((PyDictObject *)op)->ma_version_tag;
#  pragma GCC diagnostic pop
#endif
    return (tag >> watcher) & 1;
}

/* Does op's type, through tp_is_gc, say that op is not collectable now?
 * Only types that define the slot are asked: a suspended greenlet answers
 * no (its C stack holds references nobody can traverse), as does a static
 * type object (it has no GC header at all).  CPython's collector asks this
 * (PyObject_IS_GC) of every edge's target before counting it and of every
 * object before marking it, so such an object keeps its whole reference
 * count as references from outside: it and all it reaches survive. */
static inline bool
gcx_type_refuses(PyTypeObject *tp, PyObject *op)
{
    return tp->tp_is_gc != NULL && !tp->tp_is_gc(op);
}

/* PyObject_IS_GC, inline (it is a function call in 3.13's API). */
static inline int
gcx_is_gc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    return PyType_IS_GC(tp) && !gcx_type_refuses(tp, op);
}

/* PyObject_GC_IsTracked, inline.  In the GIL builds of 3.13-3.15 the
 * collector's header (PyGC_Head, Include/internal/pycore_gc.h) is the two
 * words just before the object, and its first word (_gc_next) is nonzero
 * exactly while the object is tracked.  gcx only ever reads that word, and
 * only after gcx_header_check() confirmed the layout against the API at
 * import; otherwise it calls the API.
 *
 * An object with reference count 0 is never tracked for gcx's purposes: on
 * 3.14+ an object waiting in the trashcan (freed, its deallocation
 * deferred) keeps the chain in _gc_next, so both the header and the API
 * say "tracked", and its DESTROY comes only when the chain drains.  A live
 * object never has count 0, and CPython's lists never hold one. */
extern int gcx_header_readable;
int gcx_header_check(void);

/* ... of an object known to have the header (it has a record): is it in
 * one of CPython's generation lists?  That, and not PyObject_GC_IsTracked
 * (which also asks tp_is_gc), is what CPython's get_objects, get_count,
 * get_referrers and freeze go by. */
static inline int
gcx_is_tracked_gc(PyObject *op)
{
    if (Py_REFCNT(op) == 0) {
        return 0;
    }
    if (gcx_header_readable) {
        return ((const uintptr_t *)op)[-2] != 0;
    }
    return PyObject_GC_IsTracked(op);
}

static inline int
gcx_is_tracked(PyObject *op)
{
    return gcx_is_gc(op) && gcx_is_tracked_gc(op);
}

/* How many more nested calls the running thread may make before CPython
 * raises RecursionError: the Python frames left before its recursion limit
 * (PyThreadState's py_recursion_remaining, public in the non-limited
 * headers of 3.12-3.15), and on 3.12-3.13 the C levels left too
 * (c_recursion_remaining).  3.14+ bounds C recursion by the stack's
 * address instead, with a margin CPython keeps itself. */
static inline int
gcx_calls_left(void)
{
    PyThreadState *ts = PyThreadState_GET();
    int left = ts->py_recursion_remaining;
#if !GCX_PY314
    if (ts->c_recursion_remaining < left) {
        left = ts->c_recursion_remaining;
    }
#endif
    return left;
}

#endif
