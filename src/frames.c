/* frames.c: the references a suspended generator's frame reports but does
 * not own (CPython 3.14+).
 *
 * 3.14 compiles LOAD_FAST to LOAD_FAST_BORROW where the compiler proves the
 * local outlives the stack slot: the slot then holds a tagged reference
 * (bit 0 set) that owns nothing.  A generator, coroutine or async generator
 * runs in place in its own frame, so when it is suspended such slots stay
 * on its value stack, and its tp_traverse visits them like any other
 * reference.  CPython's collector skips them inside its own visitor
 * (_PyGC_VisitStackRef tests the tag when the visitor is its decref);
 * gcx's counting visitor cannot see the tag, so without help it subtracts
 * a reference that does not exist, and a live object can be counted as
 * garbage (a module-level object had its weakref cleared and its __del__
 * run: ../shared/design/cpython-314-315.md, section 8).  The help: after a
 * member of exactly those three types is traversed for counting, the
 * counter gives back one for every borrowed slot on its stack
 * (gcx_frames_each_borrowed).  Marking needs nothing: CPython follows those
 * edges too.
 *
 * This is the one file compiled with CPython's internal headers
 * (Py_BUILD_CORE), for the layout of PyGenObject and _PyInterpreterFrame.
 * It includes no other gcx header and calls no other gcx file.
 *
 * Invariants:
 *  FR1  The walk runs only when gcx_frames_init found the offsets compiled
 *       in equal to those the running interpreter publishes for debuggers
 *       (_PyRuntime.debug_offsets) and its self-test proved that visits
 *       minus borrowed slots equal the references a suspended generator
 *       owns.  Otherwise gcx_frames_mode() says GCX_FRAMES_CONSERVATIVE and
 *       callers treat every member of those types as referenced from
 *       outside (it and all it reaches survive: a leak, never a free).
 *  FR2  Only slots in [localsplus, stackpointer) are read, of a frame whose
 *       stackpointer lies inside it; NULL (bits == 1) and tagged ints
 *       (bits & 3 == 3) are skipped.  A cleared frame has stackpointer ==
 *       localsplus, and a debug build's NULL stackpointer means no slots.
 *  FR3  Before 3.14 there are no borrowed slots: gcx_frames_mode() is
 *       GCX_FRAMES_NONE and nothing is read.
 */
#define Py_BUILD_CORE_MODULE 1
#include "Python.h"
#include "frames.h"

#if PY_VERSION_HEX >= 0x030E0000
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include "internal/pycore_debug_offsets.h"
#include "internal/pycore_interpframe_structs.h"

static int mode = GCX_FRAMES_CONSERVATIVE;

/* FR2: the slots of op's frame that own no reference; op is one of the
 * three types. */
static Py_ssize_t
each_borrowed(PyObject *op, gcx_borrowed_fn fn, void *arg)
{
    _PyInterpreterFrame *f = &((PyGenObject *)op)->gi_iframe;
    _PyStackRef *sp = f->stackpointer;
    _PyStackRef *base = f->localsplus;
    if (sp == NULL || sp < base) {
        return 0;
    }
    Py_ssize_t n = 0;
    for (_PyStackRef *s = base; s < sp; s++) {
        uintptr_t bits = s->bits;
        if ((bits & 1) == 0 || bits == 1 || (bits & 3) == 3) {
            continue;
        }
        fn((PyObject *)(bits & ~(uintptr_t)3), arg);
        n++;
    }
    return n;
}

void
gcx_frames_each_borrowed(PyObject *op, gcx_borrowed_fn fn, void *arg)
{
    if (mode == GCX_FRAMES_COMPENSATED) {
        (void)each_borrowed(op, fn, arg);
    }
}

/* FR1, first half: the layout compiled in is the running one's. */
static bool
offsets_agree(void)
{
    const _Py_DebugOffsets *d = dlsym(RTLD_DEFAULT, "_PyRuntime");
    return d != NULL
           && memcmp(d->cookie, _Py_Debug_Cookie, sizeof(d->cookie)) == 0
           && d->version == (uint64_t)Py_Version
           && d->free_threaded == 0
           && d->gen_object.gi_iframe == offsetof(PyGenObject, gi_iframe)
           && d->interpreter_frame.localsplus == offsetof(_PyInterpreterFrame, localsplus)
           && d->interpreter_frame.stackpointer
              == offsetof(_PyInterpreterFrame, stackpointer);
}

typedef struct {
    PyObject *target;
    Py_ssize_t n;
} tally_t;

static int
tally_visit(PyObject *op, void *arg)
{
    tally_t *t = arg;
    t->n += op == t->target;
    return 0;
}

static void
tally_borrowed(PyObject *op, void *arg)
{
    (void)tally_visit(op, arg);
}

/* A generator suspended with the local x borrowed on its stack across the
 * yield; keep is referenced by the namespace and by the generator. */
static const char selftest_src[] =
    "def _use(a, b):\n"
    "    return a\n"
    "def _gen():\n"
    "    x = keep\n"
    "    _use(x, (yield))\n"
    "keep = ['kept']\n"
    "gen = _gen()\n"
    "next(gen)\n";

/* FR1, second half: visits - borrowed == owned, with a borrowed slot seen. */
static bool
selftest(void)
{
    PyObject *ns = PyDict_New();
    if (ns == NULL || PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0) {
        Py_XDECREF(ns);
        PyErr_Clear();
        return false;
    }
    PyObject *r = PyRun_String(selftest_src, Py_file_input, ns, ns);
    bool ok = false;
    if (r != NULL) {
        PyObject *keep = PyDict_GetItemString(ns, "keep");   /* borrowed */
        PyObject *gen = PyDict_GetItemString(ns, "gen");
        if (keep != NULL && gen != NULL && gcx_frames_may_borrow(Py_TYPE(gen))) {
            tally_t visits = {keep, 0}, borrowed = {keep, 0};
            (void)Py_TYPE(gen)->tp_traverse(gen, tally_visit, &visits);
            (void)each_borrowed(gen, tally_borrowed, &borrowed);
            Py_ssize_t v = visits.n, b = borrowed.n;
            Py_ssize_t owned = Py_REFCNT(keep) - 1;    /* all but the namespace's */
            ok = b >= 1 && v - b == owned;
        }
    }
    Py_XDECREF(r);
    PyErr_Clear();
    PyDict_Clear(ns);      /* the functions refer back to it */
    Py_DECREF(ns);
    return ok;
}

int
gcx_frames_init(void)
{
    mode = offsets_agree() && selftest() ? GCX_FRAMES_COMPENSATED : GCX_FRAMES_CONSERVATIVE;
    return 0;
}

int
gcx_frames_mode(void)
{
    return mode;
}

#else   /* 3.13: no borrowed slots (FR3) */

void
gcx_frames_each_borrowed(PyObject *op, gcx_borrowed_fn fn, void *arg)
{
    (void)op, (void)fn, (void)arg;
}

int
gcx_frames_init(void)
{
    return 0;
}

int
gcx_frames_mode(void)
{
    return GCX_FRAMES_NONE;
}

#endif
